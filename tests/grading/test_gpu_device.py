"""On a machine with a CUDA GPU and CuPy: the hw4 GPU items graded on the real device.

Marked gpu: where CuPy cannot compute on a GPU these tests skip and say why
(tests/grading/test_hw4_grading.py covers the same paths on the CuPy stand-in).
"""
import pytest

from helpers import REPO, assert_loses, copied, grade_class, grade_folder
from mutants_hw4 import MUTANTS, mutant_source

pytestmark = pytest.mark.gpu
NO_STAND_IN = {"AUTOGRADER_CUPY_STAND_IN": ""}
ON_THE_GPU = ["kernel_formula_wrong", "order_indexed_on_the_host", "cost_read_back_every_step",
              "loop_over_examples", "step_upcasts_with_a_numpy_float64", "feedforward_returns_a_host_array",
              "backprop_accumulates_in_numpy_zeros", "bias_gradient_through_numpy_ones",
              "epoch_deferred_behind_empty_first_reads"]


def test_the_probe_names_a_real_device():
    from autograder import gpu
    from autograder.limits import Limits
    status = gpu.probe(Limits(gpu=True))
    assert status["available"] and not status["stand_in"] and status["device"], status


def test_reference_scores_full_on_the_gpu(tmp_path):
    result, report = grade_folder("hw4_gpu", copied(tmp_path, REPO / "solutions" / "hw4_gpu"), env=NO_STAND_IN)
    assert result.returncode == 0, result.stderr
    assert report["score"] == report["max_score"] == 19, [i for i in report["items"] if i["score"] < i["max_score"]]
    speed = next(i["feedback"] for i in report["items"] if i["name"] == "gpu_speedup")
    print(speed)  # the measured times, in the test log


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return grade_class("hw4_gpu", tmp_path_factory.mktemp("hw4_gpu_device"), (),
                       {name: MUTANTS[name] for name in ON_THE_GPU}, mutant_source, env=NO_STAND_IN)


@pytest.mark.parametrize("name", ON_THE_GPU)
def test_gpu_mutants_lose_their_items_on_the_gpu(reports, name):
    must, may, _ = MUTANTS[name]
    assert_loses(reports[name], must, may, name)

"""The hw4 hidden suite gives the right grade, with and without a GPU.

On the CuPy stand-in (the GPU path, computed with NumPy) the reference
scores full, the stub zero, and every mutant loses the items it breaks,
including those only a GPU check can see. Without any GPU the three GPU
items are NOT GRADED, with the reason, for every submission: never
awarded, never zeroed in silence.
"""
import pytest

from helpers import GPU_STAND_IN, REPO, assert_loses, grade_class, grade_folder, lost, write_submission
from mutants_hw4 import MUTANTS, REFERENCE, mutant_source
from mutation import apply_edits

ASSIGNMENT = "hw4_gpu"
GPU_ITEMS = ["gpu_correctness", "no_host_transfers", "gpu_speedup"]


@pytest.fixture(scope="session")
def reports(tmp_path_factory):
    return grade_class(ASSIGNMENT, tmp_path_factory.mktemp("hw4_submissions"), (), MUTANTS, mutant_source,
                       env=GPU_STAND_IN)


def test_reference_scores_full_on_the_stand_in(reports):
    report = reports["reference"]
    assert report["score"] == report["max_score"] == 19, lost(report)
    assert all(i["checks_passed"] == i["checks_total"] > 0 for i in report["items"])
    assert any("stand-in" in w for w in report["warnings"]), "grading on the stand-in must be flagged"


def test_released_stub_scores_zero(reports):
    assert reports["stub"]["score"] == 0


def test_there_are_enough_mutants():
    assert len(MUTANTS) >= 8


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_the_items_it_breaks(reports, name):
    must, may, _ = MUTANTS[name]
    assert_loses(reports[name], must, may, name)


def test_transfer_feedback_says_what_was_copied(reports):
    items = {i["name"]: i["feedback"] for i in reports["cost_read_back_every_step"]["items"]}
    assert "copied from the GPU to the host 20 times" in items["no_host_transfers"]
    items = {i["name"]: i["feedback"] for i in reports["order_indexed_on_the_host"]["items"]}
    assert "1 to the host, 20 to the device" in items["no_host_transfers"]


def feedback(report, item):
    return next(i["feedback"] for i in report["items"] if i["name"] == item)


def test_a_host_result_on_the_gpu_is_named(reports):
    text = feedback(reports["feedforward_returns_a_host_array"], "gpu_correctness")
    assert "feedforward on a float64 [4, 4, 4] network: expected a CuPy array (on the GPU)" in text, text


def test_host_arrays_mixed_into_device_code_fail_as_on_a_gpu(reports):
    for name in ("backprop_accumulates_in_numpy_zeros", "train_epoch_accumulates_in_numpy_zeros",
                 "bias_gradient_through_numpy_ones"):
        text = feedback(reports[name], "gpu_correctness")
        assert "raised TypeError: Unsupported type <class 'numpy.ndarray'>" in text, (name, text)


def test_a_timed_epoch_must_leave_every_array_in_place(reports):
    for name in ("train_epoch_empties_the_weights", "epoch_deferred_behind_empty_first_reads"):
        text = feedback(reports[name], "gpu_speedup")
        assert "weights and biases held 0 arrays after the epoch, expected 6" in text, (name, text)


def test_speed_feedback_gives_the_times(reports):
    text = next(i["feedback"] for i in reports["loop_over_examples"]["items"] if i["name"] == "gpu_speedup")
    assert "yours" in text and "course CuPy form" in text and "ms" in text


@pytest.mark.parametrize("folder", ["solutions", "assignments"])
def test_without_a_gpu_the_gpu_items_are_not_graded(folder, tmp_path):
    source = (REPO / folder / ASSIGNMENT / "gpu_network.py").read_text()
    result, report = grade_folder(ASSIGNMENT, write_submission(tmp_path, folder, {"gpu_network.py": source}),
                                  env={"AUTOGRADER_CUPY_STAND_IN": ""})
    assert result.returncode == 0, result.stderr
    items = {i["name"]: i for i in report["items"]}
    assert report["not_graded"] == GPU_ITEMS
    for name in GPU_ITEMS:
        assert items[name]["status"] == "not graded" and items[name]["score"] == 0
        assert "no usable CUDA GPU" in items[name]["feedback"]
    assert any("NOT GRADED" in w for w in report["warnings"])
    assert "NOT GRADED" in result.stdout + result.stderr
    cpu_score = sum(i["score"] for i in report["items"] if i["name"] not in GPU_ITEMS)
    assert cpu_score == (12 if folder == "solutions" else 0)


HOST_ONLY = ("class ndarray:\n    get = set = sum = None\nasarray = array = None\n"
             "def get_array_module(*arrays):\n    import numpy\n    return numpy\n")  # needs no device
BROKEN_CUPY = {
    # As CuPy 13/14 behave on a machine without a driver: the import works, the first CUDA call fails.
    "no_driver": HOST_ONLY +
                 "class _Runtime:\n    @staticmethod\n    def getDeviceCount():\n"
                 "        raise RuntimeError('cudaErrorInsufficientDriver: CUDA driver version is insufficient')\n"
                 "class cuda:\n    runtime = _Runtime\n",
    "no_device": HOST_ONLY +
                 "class _Runtime:\n    @staticmethod\n    def getDeviceCount():\n        return 0\n"
                 "class cuda:\n    runtime = _Runtime\n",
    "import_fails": "raise OSError('libcuda.so.1: cannot open shared object file')\n",
}


@pytest.mark.parametrize("kind", sorted(BROKEN_CUPY))
def test_a_cupy_that_cannot_compute_means_not_graded(kind, tmp_path):
    (tmp_path / "cupy").mkdir()
    (tmp_path / "cupy" / "__init__.py").write_text(BROKEN_CUPY[kind])
    folder = write_submission(tmp_path, "reference", {"gpu_network.py": REFERENCE.read_text()})
    result, report = grade_folder(ASSIGNMENT, folder, env={"AUTOGRADER_CUPY_STAND_IN": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert report["not_graded"] == GPU_ITEMS and report["score"] == 12  # the CPU items are unaffected
    item = next(i for i in report["items"] if i["name"] == "gpu_correctness")
    assert item["status"] == "not graded" and item["score"] == 0
    expected = {"no_driver": "cudaErrorInsufficientDriver", "no_device": "no CUDA device",
                "import_fails": "CuPy could not be imported: OSError"}[kind]
    assert expected in item["feedback"], item["feedback"]


def test_replacing_the_copy_counters_is_caught(tmp_path):
    evading = apply_edits(mutant_source("cost_read_back_every_step"), [(
        "_kernels = {}\n", "_kernels = {}\nif cupy is not None:  # copy without being counted (the stand-in's memory)\n"
        "    cupy.ndarray.get = lambda self, *args, **kwargs: numpy.array(self._data)\n")], "evading")
    item = grade_one_item(tmp_path, "evading", evading, "no_host_transfers")
    assert item["score"] == 0 and "replaced CuPy's copy functions" in item["feedback"], item["feedback"]


def test_gpu_timings_of_parallel_gradings_take_turns():
    import threading
    import time

    from autograder import gpu
    inside, overlaps = [], []

    def timing():
        with gpu.exclusive_timing():
            inside.append(1)
            overlaps.append(len(inside))
            time.sleep(0.2)
            inside.pop()
    threads = [threading.Thread(target=timing) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [1, 1, 1]


def grade_one_item(tmp_path, name, source, item):
    """Grade one item of a gpu_network.py with this source, on the stand-in; returns that item's report."""
    folder = write_submission(tmp_path, name, {"gpu_network.py": source})
    result, report = grade_folder(ASSIGNMENT, folder, "--item", item, env=GPU_STAND_IN)
    assert result.returncode == 0, result.stderr
    return report["items"][0]


REFERENCE_SOURCE = REFERENCE.read_text()


def test_gpu_workers_still_have_a_memory_limit(tmp_path):
    # GPU workers trade the address-space limit (CUDA reserves far more than it uses) for a data limit.
    # The limit is the student's share plus what CUDA and CuPy take themselves (limits.py): 1 GiB above it.
    from autograder.limits import Limits
    too_much = Limits(gpu=True).worker_memory_bytes + 1024 ** 3
    hog = apply_edits(REFERENCE_SOURCE, [("_kernels = {}\n", f"_kernels = {{}}\n_hog = numpy.ones({too_much} // 8)\n")],
                      "a module over the limit")
    item = grade_one_item(tmp_path, "hog", hog, "feedforward")
    assert item["score"] == 0 and "MemoryError" in item["feedback"]


def test_a_module_that_replaces_sum_cannot_fake_the_timed_epoch(tmp_path):
    faking = apply_edits(REFERENCE_SOURCE, [("_kernels = {}\n", "_kernels = {}\nif cupy is not None:\n"
                                             "    cupy.ndarray.sum = lambda self, *a, **k: 0.0\n")], "fake sums")
    item = grade_one_item(tmp_path, "faking", faking, "gpu_speedup")
    caught = ("with CuPy's own sum", "did not compute the same update", "do not match the weights read back")
    assert item["score"] == 0 and any(text in item["feedback"] for text in caught), item["feedback"]

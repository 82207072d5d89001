"""The hidden suites' toolkit (autograder/checks.py, network_checks.py, suite_tools.py), called directly.

Every check is given a value it must accept and values it must refuse, and the refusal's sentence (the
student's feedback) is compared word for word where the hidden suites' tests rely on it. Calls go to a
small stand-in for a worker proxy; the baseline modules run here with NumPy, against the course's rule.
"""
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograder.checks import (array_result, array_results, assert_changes_close, assert_lists_close, assert_number,
                               central_gradient, cost_result, float_results, list_result, pair_result, paired)
from autograder.hidden.reference_sgd import replay_sgd
from autograder.network_checks import fetch_parameters, parameters_result, random_net
from autograder.proxy import MissingNameError, Result
from autograder.suite_tools import call_for_float, call_keeping_inputs, call_method, read_shared, require_gpu
from autograder.wire import DeviceArray, Ref, WireError

REPO = Path(__file__).resolve().parents[2]
HIDDEN = REPO / "autograder" / "hidden"


def refused(call, *args, **kwargs):
    """The feedback sentence of a check that must fail."""
    with pytest.raises(AssertionError) as failure:
        call(*args, **kwargs)
    return str(failure.value)


class Target:
    """Stands in for a Student or RemoteObject: runs ``functions`` on copies of the arguments, as the worker does."""

    def __init__(self, **functions):
        self.functions = functions

    def call(self, name, *args, return_args=False, **kwargs):
        if name not in self.functions:
            raise MissingNameError(f"{name}(...) raised AttributeError: no attribute {name!r}", name)
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        value = self.functions[name](*copies, **kwargs)
        return Result(value, copies if return_args else None, [])

    def get(self, attr):
        return self.functions[attr]()


# ---------------------------------------------------------------- arrays and lists of arrays
def test_array_result_keeps_the_dtype_and_checks_the_device():
    a = np.ones((2, 3), dtype=np.float32)
    assert array_result(a, "numpy", (2, 3), "out").dtype == np.float32
    assert array_result(DeviceArray(a, "cupy"), "cupy", (2, 3), "out") is a
    assert refused(array_result, a, "cupy", (2, 3), "out") == ("out: expected a CuPy array (on the GPU), got an "
                                                                 "array of shape (2, 3) and dtype float32")
    assert refused(array_result, DeviceArray(a, "cupy"), "numpy", (2, 3), "out") == \
        "out: with xp=numpy expected a NumPy array, got a cupy array"
    assert refused(array_result, a, "numpy", (3, 2), "out") == "out: expected shape (3, 2), got (2, 3)"
    assert refused(array_result, a.astype(int), "numpy", (2, 3), "out") == \
        "out: expected a floating-point array, got dtype int64"


def test_list_result_names_the_length_or_the_type():
    assert list_result((1, 2), 2, "w") == [1, 2]
    assert refused(list_result, [1.0], 2, "w") == "w: expected a list of 2 arrays, got a list of length 1"
    assert refused(list_result, np.ones(2), 2, "w", of="arrays (one per layer)") == \
        "w: expected a list of 2 arrays (one per layer), got an array of shape (2,) and dtype float64"
    assert refused(list_result, Ref(3, "Network"), 1, "w") == \
        "w: expected a list of 1 arrays, got an object of type Network"


def test_float_results_checks_every_entry_against_its_model():
    like = [np.zeros((2, 2)), np.zeros((3, 1))]
    got = float_results([np.ones((2, 2)), np.full((3, 1), 2.0)], like, "after")
    assert [g.dtype for g in got] == [np.float64, np.float64] and got[1][0, 0] == 2.0
    assert refused(float_results, [np.ones((2, 2)), np.ones((1, 3))], like, "after") == \
        "after[1]: expected shape (3, 1), got shape (1, 3)"
    assert refused(float_results, [np.ones((2, 2), np.float32), np.ones((3, 1))], like, "after") == \
        "after[0]: float64 input must give a float64 result, got float32"
    assert refused(float_results, [np.ones((2, 2)), 1.0], like, "g", label=lambda k: f"g, layer {k + 1}") == \
        "g, layer 2: expected a NumPy array of shape (3, 1), got a float"


def test_array_results_on_a_device():
    like = [np.zeros((2, 2), np.float32)]
    assert array_results([DeviceArray(np.ones((2, 2), np.float32), "cupy")], "cupy", like, "w")[0].shape == (2, 2)
    assert refused(array_results, [np.ones((2, 2))], "cupy", like, "w").startswith(
        "w[0]: expected a CuPy array (on the GPU)")
    assert refused(array_results, [], "cupy", like, "w") == "w: expected a list of 1 arrays, got a list of length 0"


def test_pair_result():
    assert pair_result([1, 2], ("nabla_b", "nabla_w"), "backprop") == (1, 2)
    assert refused(pair_result, [1, 2, 3], ("nabla_b", "nabla_w"), "backprop") == \
        "backprop: expected a pair (nabla_b, nabla_w), got a list"
    assert refused(pair_result, [1, 2], ("s", "ds"), "kernel", tuple_only=True) == \
        "kernel: expected a pair (s, ds), got a list"


def test_pair_result_without_names():
    assert pair_result((3, 4), None, "backprop(X, Y)") == (3, 4)
    assert refused(pair_result, np.zeros(2), None, "backprop(X, Y)") == \
        "backprop(X, Y): expected a pair, got an array of shape (2,) and dtype float64"
    assert refused(pair_result, (1, 2, 3), None, "fused_sigmoid_prime(z)") == \
        "fused_sigmoid_prime(z): expected a pair, got a tuple"


def test_cost_result_is_one_python_float():
    for value in (1.5, np.float64(1.5), np.array(1.5), 3):
        got = cost_result(value, "bce")
        assert type(got) is float and got == float(value)
    assert refused(cost_result, np.array([1.5]), "bce") == \
        "bce (a cost is one number): for a scalar input expected a number, got an array of shape (1,) and dtype float64"
    assert refused(cost_result, True, "bce") == "bce (a cost is one number): for a scalar input expected a number, got a bool"
    assert refused(cost_result, "x", "cce").endswith("got a str")


def test_paired_refuses_sequences_of_different_lengths():
    assert list(paired("w", [1, 2], [3, 4])) == [(1, 3), (2, 4)]
    assert refused(paired, "w", [1], [2, 3], [4, 5]) == "w: 1 arrays where 2 were expected"


# ---------------------------------------------------------------- comparisons
def test_assert_lists_close_names_the_entry():
    expected = [np.ones(3), np.full(2, 2.0)]
    assert_lists_close([e * (1 + 1e-12) for e in expected], expected, "nabla_w, layer", 1e-10)
    assert refused(assert_lists_close, [expected[0], expected[1] * 1.01], expected, "nabla_w, layer", 1e-10) == \
        "nabla_w, layer[1]: relative error 9.9e-03 (allowed 1e-10)"
    assert refused(assert_lists_close, [expected[0] + 1], expected, "w", 1e-10, label=lambda i: f"p[{i}] now") \
        .startswith("w: 1 arrays where 2 were expected")


def test_assert_changes_close_compares_the_step_not_the_values():
    start = [np.full(4, 1000.0)]
    expected = [start[0] - 1e-6]
    wrong = [start[0] - 1.1e-6]  # 1e-10 of the values, 10% of the step
    assert_lists_close(wrong, expected, "values", 1e-9)  # the values alone would pass
    assert_changes_close([start[0] - 1e-6 * (1 + 1e-12)], expected, start, "step", 1e-9)
    text = refused(assert_changes_close, wrong, expected, start, "p", 1e-9,
                   label=lambda i: f"p: params[{i}] after step 3")
    assert text.startswith("p: params[0] after step 3: relative error")


def test_assert_number():
    assert_number(0.25 + 1e-16, 0.25, "sigmoid_prime(0.0)", tol=1e-15)
    assert refused(assert_number, 0.2500001, 0.25, "sigmoid_prime(0.0)", tol=1e-15) == \
        "sigmoid_prime(0.0) should be 0.25, got 0.2500001"
    assert refused(assert_number, float("nan"), 0.0, "relu_prime(0.0)").endswith("got nan")


def test_central_gradient_of_a_scalar_function():
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    expected = np.cos(x) * x[0, 0]  # of sum(sin(x)) * x[0, 0]
    expected[0, 0] += np.sum(np.sin(x))
    got = central_gradient(lambda v: float(np.sum(np.sin(v)) * v[0, 0]), x)
    assert got.shape == x.shape and np.allclose(got, expected, rtol=1e-9, atol=1e-10)
    # Central, not one-sided: for a cubic the error is h^2 per entry, where a forward step's is 3 x h.
    cubic = central_gradient(lambda v: float(np.sum(v ** 3)), x, h=1e-3)
    assert np.allclose(cubic, 3 * x ** 2 + 1e-6, rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------- a network's parameters
def test_fetch_parameters_reads_weights_then_biases():
    weights, biases = random_net(np.random.default_rng(0), [3, 4, 2])
    net = Target(weights=lambda: [w + 1 for w in weights], biases=lambda: biases)
    got_w, got_b = fetch_parameters(net, weights, biases, "after")
    assert np.array_equal(got_w[1], weights[1] + 1) and np.array_equal(got_b[0], biases[0])
    net = Target(weights=lambda: weights, biases=lambda: biases[:1])
    assert refused(fetch_parameters, net, weights, biases, "after") == \
        "after: biases: expected a list of 2 arrays, got a list of length 1"
    on_device = Target(weights=lambda: [DeviceArray(w.astype(np.float32), "cupy") for w in weights],
                       biases=lambda: [DeviceArray(b.astype(np.float32), "cupy") for b in biases])
    assert fetch_parameters(on_device, weights, biases, "after", xp="cupy")[0][0].dtype == np.float32
    assert refused(fetch_parameters, on_device, weights, biases, "after").startswith(
        "after: weights[0]: expected a NumPy array of shape (4, 3), got a DeviceArray")


def test_parameters_result_checks_what_was_already_fetched():
    weights, biases = random_net(np.random.default_rng(1), [2, 2])
    assert refused(parameters_result, (weights, [np.ones((2, 2))]), weights, biases, "step") == \
        "step: biases[0]: expected shape (2, 1), got shape (2, 2)"


# ---------------------------------------------------------------- calls
def test_call_method_turns_a_missing_name_into_feedback():
    net = Target(backprop=lambda x, y: (x, y))
    assert call_method(net, "backprop", 1, 2, missing="unused").value == (1, 2)
    assert refused(call_method, net, "backprop_batch", 1, missing="Network has no method {name}: write it") == \
        "Network has no method backprop_batch: write it"


def test_call_keeping_inputs_refuses_an_input_changed_in_place():
    def scale_in_place(z, factor):
        z *= factor
        return z
    target = Target(scale=scale_in_place, double=lambda z, factor: z * factor)
    z = np.arange(4.0)
    assert np.array_equal(call_keeping_inputs(target, "double", (z, 2.0), "double").value, 2 * z)
    assert refused(call_keeping_inputs, target, "scale", (z, 2.0), "scale(z)") == \
        "scale(z): the input array was modified; leave it as it was"


def test_call_for_float_checks_the_result_like_a_model():
    target = Target(relu=lambda z: np.maximum(z, 0.0), as_list=lambda z: list(z))
    z = np.array([-1.0, 2.0])
    got, result = call_for_float(target, "relu", (z,), z, "relu")
    assert np.array_equal(got, [0.0, 2.0]) and result.args is not None
    assert refused(call_for_float, target, "as_list", (z,), z, "f") == \
        "f: expected a NumPy array of shape (2,), got a list"


class Shared:
    """Stands in for a wire.SharedArray: what the grader reads back."""

    def __init__(self, value):
        self.value = value

    def read(self):
        if self.value is None:
            raise WireError("resized")
        return self.value


def test_read_shared_refuses_a_rebound_or_resized_array():
    like = [np.zeros(3), np.zeros((2, 2))]
    got = read_shared([Shared(np.ones(3)), Shared(np.ones((2, 2)))], like, "SGD")
    assert got[1].shape == (2, 2)
    assert refused(read_shared, [Shared(np.ones(3)), Shared(np.ones(4))], like, "SGD") == \
        "SGD: params[1] is now an array of shape (4,) and dtype float64; it must stay a float64 array of " \
        "shape (2, 2), updated in place"
    assert refused(read_shared, [Shared(None), Shared(np.ones((2, 2)))], like, "SGD") == \
        "SGD: a parameter's memory was resized; update each parameter in place"


# ---------------------------------------------------------------- the GPU
NO_GPU = {"available": False, "reason": "CuPy finds no CUDA device", "device": "", "stand_in": False}
H200 = {"available": True, "reason": "", "device": "NVIDIA H200", "stand_in": False}
STAND_IN = {"available": True, "reason": "", "device": "stand-in", "stand_in": True}


def test_require_gpu_skips_without_a_gpu_and_says_why():
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_gpu(NO_GPU, note=lambda text: pytest.fail(f"noted {text!r} for a check that did not run"))
    assert str(skipped.value.msg) == ("no usable CUDA GPU on this grading machine (CuPy finds no CUDA device); "
                                      "it will be graded where one is")


def test_require_gpu_notes_the_device_only_when_asked():
    notes = []
    assert require_gpu(H200) is H200 and notes == []
    assert require_gpu(H200, notes.append) is H200
    assert require_gpu(STAND_IN, notes.append) is STAND_IN
    assert notes == ["graded on NVIDIA H200",
                     "graded on a CuPy stand-in that computes with NumPy (course tests only), not on a GPU"]


SUITE_WITH_GPU_FIXTURES = """
    import pytest

    from autograder import gpu
    from autograder.suite_tools import gpu_status, on_gpu  # imported by name: registered as this module's fixtures

    PROBES = []
    gpu.probe = lambda limits: PROBES.append(limits) or {STATUS!r}


    @pytest.fixture(scope="module")
    def worker_limits():  # the grading plugin's fixture, in the real suites
        return "limits"


    def test_needs_the_gpu(on_gpu):
        assert on_gpu["available"]


    def test_needs_it_again(on_gpu):
        assert on_gpu["available"]


    def test_probed_once_per_suite(gpu_status):
        assert PROBES == ["limits"]
"""


@pytest.mark.parametrize("status,outcome", [(H200, "3 passed"), (NO_GPU, "2 skipped")], ids=["gpu", "no_gpu"])
def test_the_gpu_fixtures_register_where_imported(tmp_path, status, outcome):
    suite = tmp_path / "test_gpu_suite.py"
    suite.write_text(textwrap.dedent(SUITE_WITH_GPU_FIXTURES).replace("{STATUS!r}", repr(status)))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(suite)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert outcome in done.stdout, done.stdout + done.stderr
    if status is NO_GPU:
        assert "no usable CUDA GPU on this grading machine (CuPy finds no CUDA device)" in done.stdout


# ---------------------------------------------------------------- the baseline workers' code
def load(name):
    spec = importlib.util.spec_from_file_location(f"course_{name}", HIDDEN / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FixedOrder:
    def __init__(self, order):
        self.order = order

    def permutation(self, n):
        assert n == len(self.order)
        return self.order


def test_hw4_baseline_epoch_is_plain_sgd_in_the_given_order():
    baselines = load("baselines_hw4")
    rng = np.random.default_rng(4)
    weights, biases = random_net(rng, [5, 4, 3])
    X, Y = rng.uniform(size=(5, 10)), rng.uniform(size=(3, 10))
    order = rng.permutation(10)
    net = baselines.MatrixNetwork([5, 4, 3], np)
    net.weights, net.biases = [w.copy() for w in weights], [b.copy() for b in biases]
    net.train_epoch(X, Y, 4, 0.5, FixedOrder(order))
    expected_w, expected_b = replay_sgd(weights, biases, X, Y, [order[k:k + 4] for k in range(0, 10, 4)], [0.5] * 3)
    for got, expected in zip(net.weights + net.biases, expected_w + expected_b):
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_hw2_baselines_give_the_same_step():
    baselines = load("baselines_hw2")
    rng = np.random.default_rng(2)
    weights, biases = random_net(rng, [4, 5, 3])
    X, Y = rng.uniform(size=(4, 6)), rng.uniform(size=(3, 6))
    pairs = [(X[:, i:i + 1], Y[:, i:i + 1]) for i in range(6)]
    expected_w, expected_b = replay_sgd(weights, biases, X, Y, [np.arange(6)], [0.7])
    for kind in ("LoopNetwork", "MatrixNetwork"):
        net = getattr(baselines, kind)([w.copy() for w in weights], [b.copy() for b in biases])
        net.update_mini_batch(pairs, 0.7)
        for got, expected in zip(net.weights + net.biases, expected_w + expected_b):
            assert np.allclose(got, expected, rtol=1e-12, atol=1e-15), kind


def test_the_suites_send_the_baseline_files():
    """What a worker is sent is the file's bytes (the suites read them at import, as integrity.py hashes them)."""
    for suite, baseline in (("test_hw2_backprop", "baselines_hw2"), ("test_hw4_gpu", "baselines_hw4")):
        assert load(suite).BASELINES == (HIDDEN / f"{baseline}.py").read_bytes()

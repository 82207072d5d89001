"""Public checks for hw4_gpu: what ``python -m autograder check hw4_gpu`` runs.

Numbers you can follow by hand, a gradient check against central finite
differences, one small epoch, and the dtype rule. Where CuPy finds a GPU,
the kernel, feedforward and an epoch also run on it, with the copies
between host and device counted. The hidden tests that give the grade check much more (more
shapes and depths, float32 and float64, extreme inputs, larger epochs on
both devices, and the speed of an epoch against NumPy on a GPU).
"""
import numpy as np
import pytest

from autograder.checks import assert_close, describe, host_array, list_result, pair_result
from autograder.network_checks import finite_differences, forward
from autograder.suite_tools import gpu_status, on_gpu  # noqa: F401 (fixtures: importing them registers them here)
from autograder.wire import ArrayModule, OnDevice
from autograder.wire_datasets import FixedShuffles

# A [2, 2, 2] network (square: a forgotten transpose shows up) with numbers chosen by hand.
WEIGHTS = [np.array([[0.5, -1.0], [2.0, 0.25]]), np.array([[1.0, -0.5], [-1.5, 0.75]])]
BIASES = [np.array([[0.1], [-0.2]]), np.array([[0.0], [0.3]])]
X = np.array([[1.0, 0.0, -1.0, 0.5], [0.5, 1.0, 2.0, -0.5]])
Y = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])


def arrays_like(value, xp, like, what):
    """A list of arrays with the shapes of ``like``, on the device of ``xp``, as NumPy copies in any dtype
    (checks.array_results also wants floating point, and words a wrong shape differently)."""
    arrays = [host_array(v, xp, f"{what}[{i}]") for i, v in enumerate(list_result(value, len(like), what))]
    for i, (array, ref) in enumerate(zip(arrays, like)):
        assert array.shape == ref.shape, f"{what}[{i}] has shape {array.shape}, expected {ref.shape}"
    return arrays


def network(student, dtype="float64", xp="numpy"):
    net = student.new("MatrixNetwork", [2, 2, 2], xp=ArrayModule(xp), dtype=dtype, seed=0)
    net.set("weights", OnDevice([w.astype(dtype) for w in WEIGHTS], xp))
    net.set("biases", OnDevice([b.astype(dtype) for b in BIASES], xp))
    return net


def one_epoch(student, xp, dtype="float64"):
    """Four examples in mini-batches of two, in the order 2, 0, 3, 1; returns (weights, biases, result)."""
    net = network(student, dtype, xp)
    order = np.array([2, 0, 3, 1])
    result = net.call("train_epoch", OnDevice(X.astype(dtype), xp), OnDevice(Y.astype(dtype), xp), 2, 0.5,
                      FixedShuffles(xp, [order]), count_transfers=(xp == "cupy"))
    weights = arrays_like(net.get("weights"), xp, WEIGHTS, "weights after one epoch")
    biases = arrays_like(net.get("biases"), xp, BIASES, "biases after one epoch")
    expected_w, expected_b = [w.copy() for w in WEIGHTS], [b.copy() for b in BIASES]
    for batch in (order[:2], order[2:]):  # each step: eta / 2 times the gradient of the batch's cost
        fd_b, fd_w = finite_differences(expected_w, expected_b, X[:, batch], Y[:, batch])
        expected_w = [w - 0.25 * g for w, g in zip(expected_w, fd_w)]
        expected_b = [b - 0.25 * g for b, g in zip(expected_b, fd_b)]
    for i in range(2):
        assert_close(weights[i], expected_w[i], f"weights[{i}] after one epoch", 1e-5 if dtype == "float32" else 1e-8)
        assert_close(biases[i], expected_b[i], f"biases[{i}] after one epoch", 1e-5 if dtype == "float32" else 1e-8)
    return weights, biases, result


@pytest.mark.item("sigmoid_kernel")
def test_kernel_at_zero_and_two(student):
    s, ds = pair_result(student.fused_sigmoid_prime(np.array([0.0, 2.0])), None, "fused_sigmoid_prime(z)")
    s, ds = host_array(s, "numpy", "s"), host_array(ds, "numpy", "ds")
    sig2 = 1 / (1 + np.exp(-2.0))
    assert_close(s, [0.5, sig2], "the sigmoid at z = 0 and 2 (0.5 and 0.8808)", 1e-12)
    assert_close(ds, [0.25, sig2 * (1 - sig2)], "its derivative at z = 0 and 2 (0.25 and 0.1050)", 1e-12)


@pytest.mark.item("sigmoid_kernel")
def test_kernel_does_not_overflow(student):
    result = student.call("fused_sigmoid_prime", np.array([-100.0, 100.0], dtype=np.float32))
    numeric = [w for w in result.warnings if w.startswith("RuntimeWarning")]
    assert not numeric, f"fused_sigmoid_prime at z = -100 (float32) warned: {numeric[0]}"


@pytest.mark.item("feedforward")
def test_feedforward_of_four_examples(student):
    out = host_array(network(student).feedforward(X), "numpy", "feedforward(X)")
    assert out.shape == (2, 4), f"feedforward(X) for X of shape (2, 4) should have shape (2, 4), got {out.shape}"
    assert_close(out, forward(WEIGHTS, BIASES, X)[0][-1], "feedforward(X)", 1e-12)


@pytest.mark.item("backprop")
def test_backprop_matches_finite_differences(student):
    nabla_b, nabla_w = pair_result(network(student).backprop(X, Y), None, "backprop(X, Y)")
    nabla_b = arrays_like(nabla_b, "numpy", BIASES, "nabla_b")
    nabla_w = arrays_like(nabla_w, "numpy", WEIGHTS, "nabla_w")
    fd_b, fd_w = finite_differences([w.copy() for w in WEIGHTS], [b.copy() for b in BIASES], X, Y)
    for i in range(2):
        for name, got, fd in (("nabla_w", nabla_w, fd_w), ("nabla_b", nabla_b, fd_b)):
            assert_close(got[i], fd[i], f"{name}[{i}] vs finite differences", 1e-7, 1e-10)


@pytest.mark.item("train_epoch")
def test_one_epoch_of_two_mini_batches(student):
    one_epoch(student, "numpy")


@pytest.mark.item("dtype")
def test_float32_stays_float32(student):
    weights, biases, _ = one_epoch(student, "numpy", "float32")
    for name, arrays in (("weights", weights), ("biases", biases)):
        for i, a in enumerate(arrays):
            assert a.dtype == np.float32, f"{name}[{i}] of a float32 network became {a.dtype} after train_epoch"


@pytest.mark.item("gpu_correctness")
def test_the_kernel_on_the_gpu(student, on_gpu):
    s, ds = pair_result(student.fused_sigmoid_prime(OnDevice(np.array([0.0, 2.0], dtype=np.float32), "cupy")),
                        None, "fused_sigmoid_prime(z) on the GPU")
    s, ds = host_array(s, "cupy", "s"), host_array(ds, "cupy", "ds")
    assert s.dtype == ds.dtype == np.float32, f"float32 input gave {s.dtype} and {ds.dtype}"
    sig2 = 1 / (1 + np.exp(-2.0))
    assert_close(ds, [0.25, sig2 * (1 - sig2)], "ds on the GPU at z = 0 and 2", 1e-5)


@pytest.mark.item("gpu_correctness")
def test_feedforward_on_the_gpu(student, on_gpu):
    out = host_array(network(student, "float32", "cupy").feedforward(OnDevice(X.astype(np.float32), "cupy")), "cupy",
                     "feedforward(X) on the GPU")
    assert out.shape == (2, 4) and out.dtype == np.float32, (
        f"feedforward(X) of a float32 network on the GPU should be float32 of shape (2, 4), got {describe(out)}")
    assert_close(out, forward(WEIGHTS, BIASES, X)[0][-1], "feedforward(X) on the GPU", 1e-5)


@pytest.mark.item("no_host_transfers")
def test_an_epoch_on_the_gpu_stays_there(student, on_gpu):
    _, _, result = one_epoch(student, "cupy")
    assert result.transfers == {"to_host": 0, "to_device": 0}, (
        f"train_epoch copied between host and GPU: {result.transfers['to_host']} times to the host, "
        f"{result.transfers['to_device']} times to the device")


@pytest.mark.item("gpu_speedup")
def test_speed_is_timed_by_the_grader():
    pytest.skip("timed only when graded: an epoch of [784, 1024, 1024, 10] against NumPy and the course's CuPy form")

"""Hidden suite for hw4_gpu. Instructors only: never released to students.

The CPU items run everywhere with ``xp=numpy``. The GPU items run the same
checks with ``xp=cupy`` (and time an epoch) only where a worker can compute on
a CUDA GPU (``autograder.gpu.probe``); elsewhere they are NOT GRADED, with the
reason, never silently awarded or zeroed.

Everything expected is computed here in float64 from the very numbers the
student's network holds (float32 weights are cast, then the reference runs
in float64): float64 networks must agree to 1e-9, float32 networks to what
float32 rounding allows (a wrong formula is off by far more). Mini-batch
orders come from the grader (``FixedShuffles``), so an epoch can be replayed.
"""
import math
import os
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from autograder import baselines as class_timing, gpu
from autograder.checks import (PASS, UNSURE, array_result, array_results, assert_close, describe, host_array,
                               measure_once, pair_result, paired, speed_verdicts, too_busy)
from autograder.hidden.reference_sgd import batch_gradients as reference_gradients
from autograder.hidden.reference_sgd import replay_sgd
from autograder.network_checks import fetch_parameters, forward, random_net
from autograder.suite_tools import baseline_worker, call_method, require_gpu
from autograder.suite_tools import gpu_status  # noqa: F401 (a fixture: importing it registers it here)
from autograder.wire import ArrayModule, OnDevice
from autograder.wire_datasets import FixedShuffles

KERNEL_CASES = [("float32", (50,), 8.0), ("float32", (7, 13), 30.0), ("float64", (6, 9), 30.0), ("float64", (40,), 8.0)]
KERNEL_EXTREMES = {"float32": [-100.0, -50.0, 0.0, 50.0, 100.0], "float64": [-1000.0, -100.0, 0.0, 100.0, 1000.0]}
FEEDFORWARD_CASES = [([3, 4, 2], 5, "float64"), ([4, 4, 4], 4, "float64"), ([784, 30, 10], 20, "float32"),
                     ([5, 6, 6, 3], 1, "float32")]
# Square layers (4, 4) and a batch as wide as a layer catch a missing transpose or a wrong axis.
BACKPROP_CASES = [([3, 4, 2], 1, "float64"), ([4, 4, 4], 4, "float64"), ([5, 6, 6, 3], 7, "float64"),
                  ([3, 5, 5, 5, 2], 5, "float64"), ([784, 30, 10], 32, "float32"), ([4, 4, 4], 4, "float32")]
# (sizes, examples, mini-batch size, eta, dtype); 23 examples in fives leave a last mini-batch of 3.
EPOCH_CASES = [([4, 4, 4], 12, 4, 0.5, "float64"), ([5, 6, 6, 3], 23, 5, 1.0, "float64"),
               ([3, 5, 5, 5, 2], 10, 10, 2.0, "float64"), ([784, 30, 10], 200, 20, 3.0, "float32")]

TRANSFER_NET, TRANSFER_EXAMPLES, TRANSFER_BATCH = [784, 100, 10], 1000, 50

SPEED_NET, SPEED_EXAMPLES, SPEED_BATCH, SPEED_ETA = [784, 1024, 1024, 10], 8192, 512, 0.1
STAND_IN_SPEED = ([784, 64, 64, 10], 2048, 256)  # the CuPy stand-in computes with NumPy: plumbing only
SPEED_ROUNDS = 5            # timed epochs (after one warm-up epoch); the median counts
NUMPY_ROUNDS = 3            # the NumPy reference is slow: median of 3
SPEED_FULL, SPEED_HALF = 20.0, 5.0   # times faster than the NumPy reference (all CPU cores)
SPEED_SLACK_FULL, SPEED_SLACK_HALF = 1.5, 3.0  # ...or at most this much slower than the course's CuPy form


# ---------------------------------------------------------------- talking to the submission
call = partial(call_method, missing="{name} is missing from gpu_network.py: write it (see its docstring)")


def assert_matches(got, expected, dtype, what):
    """float64 to 1e-9; float32 to rounding (1e-3 relative, or 1e-4 of the largest expected value)."""
    if dtype == "float64":
        assert_close(got, expected, what, 1e-9, 1e-12)
    else:
        assert_close(got, expected, what, 1e-3, 1e-4 * (float(np.max(np.abs(expected))) or 1.0))


def assert_dtype(arrays, dtype, what):
    for i, array in enumerate(arrays):
        if array.dtype != np.dtype(dtype):
            raise AssertionError(f"{what}[{i}] is {array.dtype} for a {dtype} network: keep the network's dtype "
                                 f"(a float64 array or NumPy float64 scalar promotes float32 to float64)")


class Case:
    """A network of the grader's (cast to ``dtype``) and its float64 twin for the reference."""

    def __init__(self, rng, sizes, dtype):
        self.sizes, self.dtype = list(sizes), dtype
        weights, biases = random_net(rng, sizes)
        weights = [w / np.sqrt(w.shape[1]) for w in weights]  # lecture 3's scale: sigmoids not saturated
        self.weights = [w.astype(dtype) for w in weights]
        self.biases = [b.astype(dtype) for b in biases]
        self.weights64 = [w.astype(np.float64) for w in self.weights]
        self.biases64 = [b.astype(np.float64) for b in self.biases]

    def data(self, rng, m):
        X = rng.uniform(0.0, 1.0, (self.sizes[0], m)).astype(self.dtype)
        Y = rng.uniform(0.0, 1.0, (self.sizes[-1], m)).astype(self.dtype)
        return X, Y

    def network(self, student, xp):
        return self.load_into(student.new("MatrixNetwork", self.sizes, xp=ArrayModule(xp), dtype=self.dtype, seed=0),
                              xp)

    def load_into(self, net, xp):
        """Give ``net`` (a network in the worker) this case's weights and biases, on the device of ``xp``."""
        net.set("weights", OnDevice([w.copy() for w in self.weights], xp))
        net.set("biases", OnDevice([b.copy() for b in self.biases], xp))
        return net

    def text(self):
        return f"a {self.dtype} {self.sizes} network"

    def fetch(self, net, xp, what):
        """The weights and biases of ``net`` (built from this case), read from the device of ``xp`` and checked."""
        return fetch_parameters(net, self.weights, self.biases, what, xp=xp)


# ---------------------------------------------------------------- the checks, for either device
def reference_kernel(z):
    z = z.astype(np.float64)
    e = np.exp(-np.abs(z))
    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return s, e / (1 + e) ** 2  # sigmoid'(z) without the cancellation in s * (1 - s)


def run_kernel(student, z, xp, what):
    result = call(student, "fused_sigmoid_prime", OnDevice(z, xp), return_args=True)
    s, ds = pair_result(result.value, ("s", "ds"), what, tuple_only=True)
    s, ds = array_result(s, xp, z.shape, f"{what}: s"), array_result(ds, xp, z.shape, f"{what}: ds")
    changed = host_array(result.args[0], xp, f"{what}: z")
    if not np.array_equal(changed, z):
        raise AssertionError(f"{what}: z was modified; leave the input as it was")
    return s, ds, result.warnings


def assert_kernel_values(s, ds, z, what):
    """To float32 or float64 rounding of s (ds = s * (1 - s) loses its last digits where s is near 1)."""
    expected_s, expected_ds = reference_kernel(z)
    rtol, atol = (1e-5, 2e-7) if z.dtype == np.float32 else (1e-12, 1e-15)
    assert_close(s, expected_s, f"{what}: s = sigmoid(z)", rtol, atol)
    assert_close(ds, expected_ds, f"{what}: ds = sigmoid'(z)", rtol, atol)


def check_kernel(student, rng, xp, dtype, shape, spread):
    z = rng.uniform(-spread, spread, shape).astype(dtype)
    what = f"fused_sigmoid_prime on a {dtype} {shape} array"
    s, ds, _ = run_kernel(student, z, xp, what)
    assert_kernel_values(s, ds, z, what)


def check_kernel_extremes(student, xp, dtype):
    z = np.array(KERNEL_EXTREMES[dtype], dtype=dtype)
    what = f"fused_sigmoid_prime at z = {KERNEL_EXTREMES[dtype]} ({dtype})"
    s, ds, warnings = run_kernel(student, z, xp, what)
    assert_kernel_values(s, ds, z, what)
    numeric = [w for w in warnings if w.startswith("RuntimeWarning")]
    if numeric:
        raise AssertionError(f"{what}: NumPy warned ({numeric[0]}); compute exp only of -|z|")


def check_feedforward(student, rng, xp, sizes, m, dtype):
    case = Case(rng, sizes, dtype)
    X, _ = case.data(rng, m)
    out = array_result(call(case.network(student, xp), "feedforward", OnDevice(X, xp)).value, xp,
                       (sizes[-1], m), f"feedforward on {case.text()}")
    expected = forward(case.weights64, case.biases64, X.astype(np.float64))[0][-1]
    assert_matches(out, expected, dtype, f"feedforward on {case.text()} with a batch of {m}")
    return out


def check_backprop(student, rng, xp, sizes, m, dtype):
    case = Case(rng, sizes, dtype)
    X, Y = case.data(rng, m)
    what = f"backprop on {case.text()} with a batch of {m}"
    value = call(case.network(student, xp), "backprop", OnDevice(X, xp), OnDevice(Y, xp)).value
    nabla_b, nabla_w = gradient_pair(value, case, xp, what)
    expected_b, expected_w = reference_gradients(case.weights64, case.biases64, X.astype(np.float64),
                                                 Y.astype(np.float64))
    for i, (got, expected) in enumerate(paired(f"{what}: nabla_w", nabla_w, expected_w)):
        assert_matches(got, expected, dtype, f"{what}: nabla_w[{i}] (summed over the batch)")
    for i, (got, expected) in enumerate(paired(f"{what}: nabla_b", nabla_b, expected_b)):
        assert_matches(got, expected, dtype, f"{what}: nabla_b[{i}] (summed over the batch)")
    return nabla_b, nabla_w


def epoch_order(rng, n, mini_batch_size):
    order = rng.permutation(n)
    return order, [order[k:k + mini_batch_size] for k in range(0, n, mini_batch_size)]


def assert_epoch(case, weights, biases, X, Y, batches, eta, what):
    """The displacement of every array after the epoch matches plain SGD replayed in float64."""
    expected_w, expected_b = replay_sgd(case.weights64, case.biases64, X.astype(np.float64), Y.astype(np.float64),
                                        batches, [eta] * len(batches))
    for name, got, start, expected in (("weights", weights, case.weights64, expected_w),
                                       ("biases", biases, case.biases64, expected_b)):
        for i, (g, s, e) in enumerate(paired(f"{what}: {name}", got, start, expected)):
            if np.array_equal(g, s):
                raise AssertionError(f"{what}: {name}[{i}] did not change")
            if case.dtype == "float64":
                assert_close(g - s, e - s, f"{what}: the change in {name}[{i}]", 1e-9, 1e-13)
            else:
                assert_close(g - s, e - s, f"{what}: the change in {name}[{i}]", 1e-2,
                             2e-3 * float(np.max(np.abs(e - s))))


def run_epoch(student, rng, xp, sizes, n, mini_batch_size, eta, dtype, count_transfers=False):
    case = Case(rng, sizes, dtype)
    X, Y = case.data(rng, n)
    order, batches = epoch_order(rng, n, mini_batch_size)
    net = case.network(student, xp)
    what = (f"train_epoch on {case.text()}, {n} examples, mini-batches of {mini_batch_size}, eta {eta:g}")
    result = call(net, "train_epoch", OnDevice(X, xp), OnDevice(Y, xp), mini_batch_size, eta,
                  FixedShuffles(xp, [order]), count_transfers=count_transfers)
    weights, biases = case.fetch(net, xp, f"after {what}")
    assert_epoch(case, weights, biases, X, Y, batches, eta, what)
    return weights, biases, result.transfers


# ---------------------------------------------------------------- sigmoid_kernel (CPU)
@pytest.mark.item("sigmoid_kernel")
@pytest.mark.parametrize("dtype,shape,spread", KERNEL_CASES, ids=lambda v: str(v))
def test_fused_sigmoid_prime_values(student, rng, dtype, shape, spread):
    check_kernel(student, rng, "numpy", dtype, shape, spread)


@pytest.mark.item("sigmoid_kernel")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_sigmoid_prime_extremes_without_overflow(student, dtype):
    check_kernel_extremes(student, "numpy", dtype)


# ---------------------------------------------------------------- feedforward, backprop, train_epoch (CPU)
@pytest.mark.item("feedforward")
@pytest.mark.parametrize("sizes,m,dtype", FEEDFORWARD_CASES, ids=lambda v: "-".join(map(str, v)) if isinstance(v, list) else str(v))
def test_feedforward(student, rng, sizes, m, dtype):
    check_feedforward(student, rng, "numpy", sizes, m, dtype)


@pytest.mark.item("backprop")
@pytest.mark.parametrize("sizes,m,dtype", BACKPROP_CASES, ids=lambda v: "-".join(map(str, v)) if isinstance(v, list) else str(v))
def test_backprop_matches_the_reference(student, rng, sizes, m, dtype):
    check_backprop(student, rng, "numpy", sizes, m, dtype)


@pytest.mark.item("train_epoch")
@pytest.mark.parametrize("sizes,n,mini_batch_size,eta,dtype", EPOCH_CASES,
                         ids=lambda v: "-".join(map(str, v)) if isinstance(v, list) else str(v))
def test_train_epoch_is_sgd_in_the_given_order(student, rng, sizes, n, mini_batch_size, eta, dtype):
    run_epoch(student, rng, "numpy", sizes, n, mini_batch_size, eta, dtype)


# ---------------------------------------------------------------- dtype (CPU)
def gradient_pair(value, case, xp, what):
    """(nabla_b, nabla_w) from backprop's pair, each a list of arrays on the device of ``xp`` shaped like the case's."""
    nabla_b, nabla_w = pair_result(value, ("nabla_b", "nabla_w"), what)
    return (array_results(nabla_b, xp, case.biases, f"{what}: nabla_b"),
            array_results(nabla_w, xp, case.weights, f"{what}: nabla_w"))


def dtype_of_each(student, rng, what):
    """What a float32 (or float64) network gives back: (arrays, the dtype they should have, a description)."""
    if what == "kernel":
        z = rng.uniform(-3, 3, (4, 5)).astype(np.float32)
        s, ds, _ = run_kernel(student, z, "numpy", "fused_sigmoid_prime on float32")
        return [s, ds], "float32", "fused_sigmoid_prime(z) for float32 z"
    case = Case(rng, [5, 4, 3], "float64" if what == "epoch64" else "float32")
    X, Y = case.data(rng, 6)
    net = case.network(student, "numpy")
    if what == "feedforward":
        out = array_result(call(net, "feedforward", X).value, "numpy", (3, 6), "feedforward")
        return [out], "float32", "feedforward(X)"
    if what == "backprop":
        nabla_b, nabla_w = gradient_pair(call(net, "backprop", X, Y).value, case, "numpy", "backprop")
        return nabla_b + nabla_w, "float32", "the gradients from backprop"
    call(net, "train_epoch", X, Y, 3, 0.5, FixedShuffles("numpy", [rng.permutation(6)]))
    weights, biases = case.fetch(net, "numpy", "after train_epoch")
    return weights + biases, case.dtype, f"weights and biases of a {case.dtype} network after train_epoch"


@pytest.mark.item("dtype")
@pytest.mark.parametrize("what", ["kernel", "feedforward", "backprop", "epoch32", "epoch64"])
def test_results_keep_the_network_dtype(student, rng, what):
    arrays, dtype, text = dtype_of_each(student, rng, what)
    assert_dtype(arrays, dtype, text)


# ---------------------------------------------------------------- the GPU items
@pytest.fixture
def on_gpu(gpu_status, note):
    """Skip (NOT GRADED, with the reason) without a usable GPU; otherwise say which device graded."""
    return require_gpu(gpu_status, note)


def check_accuracy(student, rng, xp):
    """accuracy(X, labels) with labels on the device: the fraction right, one Python float back on the host."""
    case = Case(rng, [5, 6, 6, 3], "float64")
    X, _ = case.data(rng, 40)
    labels = np.argmax(forward(case.weights64, case.biases64, X)[0][-1], axis=0)
    wrong = rng.choice(40, 15, replace=False)
    labels[wrong] = (labels[wrong] + 1) % 3
    what = f"accuracy on {case.text()} with 40 labels, 25 of them right"
    value = call(case.network(student, xp), "accuracy", OnDevice(X, xp), OnDevice(labels, xp)).value
    if type(value) is not float:
        raise AssertionError(f"{what}: expected a Python float, got {describe(value)}")
    if value != 25 / 40:
        raise AssertionError(f"{what}: got {value:.4g}, expected 0.625")


def feedforward_on_device(student, rng, sizes, m, dtype):
    out = check_feedforward(student, rng, "cupy", sizes, m, dtype)
    assert_dtype([out], dtype, f"on the GPU, feedforward of a {dtype} network")


def backprop_on_device(student, rng, sizes, m, dtype):
    nabla_b, nabla_w = check_backprop(student, rng, "cupy", sizes, m, dtype)
    assert_dtype(nabla_b + nabla_w, dtype, f"on the GPU, the gradients of a {dtype} network")


def epoch_on_device(student, rng, sizes, n, mini_batch_size, eta, dtype):
    weights, biases, _ = run_epoch(student, rng, "cupy", sizes, n, mini_batch_size, eta, dtype)
    assert_dtype(weights + biases, dtype, f"on the GPU, weights and biases of a {dtype} network after train_epoch")


def kernel_extremes_on_device(student, rng):
    check_kernel_extremes(student, "cupy", "float32")
    check_kernel_extremes(student, "cupy", "float64")


# Everything the assignment asks for runs on the device too, and must give device arrays back
# (accuracy, given, is run as well: it calls feedforward with labels on the device).
GPU_CHECKS = {
    "kernel-float32": lambda student, rng: check_kernel(student, rng, "cupy", "float32", (64, 33), 8.0),
    "kernel-extremes": kernel_extremes_on_device,
    "feedforward-float64": lambda student, rng: feedforward_on_device(student, rng, [4, 4, 4], 4, "float64"),
    "feedforward-float32": lambda student, rng: feedforward_on_device(student, rng, [784, 30, 10], 20, "float32"),
    "backprop-float64": lambda student, rng: backprop_on_device(student, rng, [4, 4, 4], 4, "float64"),
    "backprop-float32": lambda student, rng: backprop_on_device(student, rng, [784, 30, 10], 32, "float32"),
    "epoch-float64": lambda student, rng: epoch_on_device(student, rng, [5, 6, 6, 3], 23, 5, 1.0, "float64"),
    "epoch-float32": lambda student, rng: epoch_on_device(student, rng, [784, 30, 10], 200, 20, 3.0, "float32"),
    "accuracy": lambda student, rng: check_accuracy(student, rng, "cupy"),
}


@pytest.mark.item("gpu_correctness")
@pytest.mark.parametrize("case", list(GPU_CHECKS))
def test_the_same_code_is_right_on_the_gpu(student, rng, on_gpu, case):
    GPU_CHECKS[case](student, rng)


@pytest.fixture(scope="module")
def measured():
    return {}  # one measurement per grading run, shared by the checks of an item


def count_transfers(student, rng):
    """Copies during a correct epoch on the GPU; an epoch that is wrong earns nothing here."""
    _, _, transfers = run_epoch(student, rng, "cupy", TRANSFER_NET, TRANSFER_EXAMPLES, TRANSFER_BATCH, 1.0,
                                "float32", count_transfers=True)
    return transfers


@pytest.mark.item("no_host_transfers")
@pytest.mark.parametrize("direction", ["to_host", "to_device"])
def test_train_epoch_stays_on_the_device(student, rng, on_gpu, measured, note, direction):
    transfers = measure_once(measured, "transfers", lambda: count_transfers(student, rng))
    note(f"copies inside train_epoch ({TRANSFER_EXAMPLES // TRANSFER_BATCH} mini-batches): "
         f"{transfers['to_host']} to the host, {transfers['to_device']} to the device")
    if direction == "to_host":
        assert transfers["to_host"] == 0, (
            f"train_epoch copied from the GPU to the host {transfers['to_host']} times (.get(), cupy.asnumpy, "
            f"float(), .item() or .tolist() of a CuPy array); each copy waits for the GPU. Keep everything on "
            f"the device until the epoch is over")
    else:
        assert transfers["to_device"] == 0, (
            f"train_epoch copied from the host to the GPU {transfers['to_device']} times (cupy.asarray or "
            f"cupy.array of a NumPy array or list); shuffle with the rng you are given, on the device")


# What the student's epoch is timed against (the course's matrix form, the same code on both devices):
# trusted course code, sent as bytes to workers of their own with no student code.
BASELINES = Path(__file__).with_name("baselines_hw4.py").read_bytes()


def speed_setup(rng, stand_in):
    sizes, n, batch = STAND_IN_SPEED if stand_in else (SPEED_NET, SPEED_EXAMPLES, SPEED_BATCH)
    case = Case(rng, sizes, "float32")
    X = rng.uniform(0.0, 1.0, (sizes[0], n)).astype(np.float32)
    Y = np.eye(sizes[-1], dtype=np.float32)[:, rng.integers(0, sizes[-1], n)]
    orders = [rng.permutation(n) for _ in range(SPEED_ROUNDS + 1)]
    return case, X, Y, batch, orders


def timed_epoch(net, data, batch, order, xp):
    """Seconds for one epoch plus a digest of the weights read back from the device.

    The clock is the grader's, outside the student's process: the digest (sums
    of the new weights) cannot be sent before the device has finished the
    epoch, so asynchronous work is inside the timed region; it is later
    compared with the weights themselves.
    """
    start = time.perf_counter()
    result = net.call("train_epoch", data[0], data[1], batch, SPEED_ETA, FixedShuffles(xp, [order]),
                      digest=["weights", "biases"])
    return time.perf_counter() - start, result.digest


def digest_of(weights, biases):
    return [float(np.sum(a, dtype=np.float64)) for a in list(weights) + list(biases)]


def checked_digest(digest, count, what):
    """One finite sum per array the network must hold, checked before any comparison."""
    if not isinstance(digest, list) or len(digest) != count:
        held = len(digest) if isinstance(digest, list) else "no"
        raise AssertionError(f"{what}: weights and biases held {held} arrays after the epoch, expected {count} "
                             f"(one weight matrix and one bias vector per layer)")
    if not all(math.isfinite(x) for x in digest):
        raise AssertionError(f"{what}: the weights contain nan or inf after the epoch")
    return digest


def assert_same_epoch(got, expected, start, what):
    """Digests (sums of each array) after an epoch: the change must match the course's epoch on the same order."""
    for i, (g, e, s) in enumerate(paired(what, got, expected, start)):
        if not abs((g - s) - (e - s)) <= 2e-2 * abs(e - s) + 1e-3:
            raise AssertionError(f"{what}: the timed epoch did not compute the same update as the course's "
                                 f"(array {i}: sum changed by {g - s:.4g}, expected {e - s:.4g})")


def measure_speed(student, rng, stop_student_code, worker_limits, stand_in):
    case, X, Y, batch, orders = speed_setup(rng, stand_in)
    start_digest = digest_of(case.weights, case.biases)
    arrays = len(start_digest)
    times = {"student": [], "cupy": [], "numpy": []}
    what = f"train_epoch on {case.text()} with {X.shape[1]} examples in mini-batches of {batch}"
    # NumPy on every core is the CPU the port competes with; the course's CuPy form runs under exactly the
    # student's limits (same BLAS threads), so that on a loaded machine the two are timed alike.
    workers, baselines = {}, {}
    try:
        for xp, limits in (("numpy", replace(worker_limits, blas_threads=os.cpu_count() or 1)),
                           ("cupy", worker_limits)):
            workers[xp], baselines[xp] = baseline_worker(BASELINES, limits)
        data = {xp: (baselines[xp].store(OnDevice(X, xp)), baselines[xp].store(OnDevice(Y, xp)))
                for xp in ("numpy", "cupy")}
        for round_number, order in enumerate(orders):  # round 0 warms up (kernels compile) and is not counted
            stop_student_code()  # no student process runs while the references are timed
            expected = None
            for xp in ("cupy", "numpy"):
                if xp == "numpy" and round_number > NUMPY_ROUNDS:
                    continue
                reference = case.load_into(baselines[xp].new("MatrixNetwork", case.sizes, ArrayModule(xp)), xp)
                seconds, digest = timed_epoch(reference, data[xp], batch, order, xp)
                times[xp].append(seconds)
                if xp == "cupy":
                    expected = checked_digest(digest, arrays, f"the course's {what}")
            student_data = (student.store(OnDevice(X, "cupy")), student.store(OnDevice(Y, "cupy")))
            net = case.network(student, "cupy")
            # A fresh process warms up (kernels compile) on another order, so that the timed
            # epoch cannot replay a result computed during the warm-up.
            warm_up = FixedShuffles("cupy", [rng.permutation(X.shape[1])])
            call(net, "train_epoch", student_data[0], student_data[1], batch, SPEED_ETA, warm_up)
            case.load_into(net, "cupy")  # back to the start
            seconds, digest = timed_epoch(net, student_data, batch, order, "cupy")
            times["student"].append(seconds)
            assert_same_epoch(checked_digest(digest, arrays, what), expected, start_digest, what)
            if round_number == 0:  # once: the whole result, not just its digest
                weights, biases = case.fetch(net, "cupy", f"after {what}")
                assert_dtype(weights + biases, case.dtype, f"after {what}: weights and biases")
                assert_digest_is_honest(digest, weights, biases, what)
                batches = [order[k:k + batch] for k in range(0, X.shape[1], batch)]
                assert_epoch(case, weights, biases, X, Y, batches, SPEED_ETA, what)
    finally:
        for worker in workers.values():
            worker.close()
    return {xp: t[1:] for xp, t in times.items()}


def fast_enough(needed):
    """``needed`` times faster than NumPy, or, on a GPU where even the course's CuPy form cannot reach that,
    about as fast as it (the slack of that part)."""
    slack = SPEED_SLACK_FULL if needed == SPEED_FULL else SPEED_SLACK_HALF

    def rule(student_seconds, baseline):
        return baseline["numpy"] / student_seconds >= needed or student_seconds <= slack * baseline["cupy"]
    return rule


def assert_digest_is_honest(digest, weights, biases, what):
    actual = digest_of(weights, biases)
    for i, (d, a) in enumerate(paired(what, digest, actual)):
        if not abs(d - a) <= 1e-6 * max(abs(a), 1.0):
            raise AssertionError(f"{what}: the sums reported after the epoch do not match the weights read back")


@pytest.mark.item("gpu_speedup")
@pytest.mark.parametrize("needed", [SPEED_HALF, SPEED_FULL], ids=["half", "full"])
def test_an_epoch_on_the_gpu_is_much_faster(student, rng, on_gpu, measured, note, stop_student_code,
                                            worker_limits, budget_paused, needed):
    stand_in = bool(on_gpu.get("stand_in"))

    def measure():
        asked = time.perf_counter()
        with gpu.exclusive_timing(budget_paused):  # one grading at a time times the GPU
            held = time.perf_counter()
            try:
                return measure_speed(student, rng, stop_student_code, worker_limits, stand_in)
            finally:  # what a class's gradings queue for: the seconds each one holds the GPU's timing lock
                class_timing.add_timing("gpu_speedup", lock_wait_s=held - asked,
                                        lock_held_s=time.perf_counter() - held)
    verdicts, t, rounds = measure_once(measured, "speed",
                                       lambda: speed_verdicts(measure, fast_enough, (SPEED_HALF, SPEED_FULL)))
    ratio, course = t["numpy"] / t["student"], t["numpy"] / t["cupy"]
    sizes = STAND_IN_SPEED[0] if stand_in else SPEED_NET
    note(f"one epoch (median of {rounds}): yours {t['student'] * 1e3:.1f} ms, NumPy on "
         f"{os.cpu_count()} CPU cores {t['numpy'] * 1e3:.1f} ms ({ratio:.2g}x), course CuPy form "
         f"{t['cupy'] * 1e3:.1f} ms ({course:.2g}x)")
    if UNSURE in verdicts.values():  # both parts, or neither: half an item is never awarded in silence
        too_busy("an epoch", "grade this submission again when the machine (and its GPU) is quieter")
    slack = SPEED_SLACK_FULL if needed == SPEED_FULL else SPEED_SLACK_HALF
    assert verdicts[needed] == PASS, (
        f"an epoch of {sizes} float32 with mini-batches of {SPEED_BATCH if not stand_in else STAND_IN_SPEED[2]} "
        f"took {t['student'] * 1e3:.1f} ms on the GPU, {ratio:.2g}x the speed of NumPy; this part needs "
        f"{needed:g}x or at most {slack:g}x the course's CuPy time ({t['cupy'] * 1e3:.1f} ms). Keep every step "
        f"on the device, with no Python loop over examples and no copies to the host")

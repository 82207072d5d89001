"""Hidden suite for hw5_cross_entropy. Instructors only: never released to students.

Expected values are computed here, in the grader, in float64, from the
definitions written out below and from central finite differences. Inputs are
drawn at grading time from the ``rng`` fixture (seeded per grading run).

Every check's answer depends on its input: outputs, logits and targets are
random, batches hold several examples (so a sum instead of a mean fails), and
square batches catch a wrong axis. A function that returns zeros, a constant
or its input fails every check of its item.

"Stable" is decided by value where a value shows it (log_softmax at z = -1000
is about -2000, where log(softmax(z)) gives -inf; a cost with an output of
exactly 0 or 1 whose target agrees is finite) and by NumPy's warnings where
only a warning can (np.log(0) in a term that np.nan_to_num later hides).
"""
import numbers

import numpy as np
import pytest

from autograder.checks import (assert_close, assert_exact, assert_no_runtime_warning, assert_unchanged,
                               central_gradient, cost_result, describe, float_result, float_results)
from autograder.suite_tools import call_for_float, call_keeping_inputs

VALUE_RTOL = 1e-10      # sums of logarithms written in another order differ by ~1e-15 relative
DERIVATIVE_RTOL = 1e-7  # a forward difference (error ~1e-6) must fail
FD_ATOL = 1e-8          # central differences of a sum of many terms are off by ~1e-9 in absolute terms
EXACT_RTOL = 1e-12      # rules that are one or two floating-point operations per entry

# Square batches catch a wrong axis; (n,) is one example; (1, m) a single sigmoid output.
BATCH_SHAPES = [(4, 7), (5, 5), (10, 3), (6,)]


# ---------------------------------------------------------------- trusted definitions
def examples(a):
    return a.shape[1] if a.ndim == 2 else 1


def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def log_softmax(z):
    shifted = z - z.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))


def xlogy(x, y):
    """x * log(y), with 0 where x == 0 (whatever y is)."""
    safe = np.where(x == 0, 1.0, y)
    return np.where(x == 0, 0.0, x * np.log(safe))


def binary_cross_entropy(a, y):
    return -float(np.sum(xlogy(y, a) + xlogy(1.0 - y, 1.0 - a))) / examples(a)


def categorical_cross_entropy(a, y):
    return -float(np.sum(xlogy(y, a))) / examples(a)


def softmax_cross_entropy(z, y):
    return -float(np.sum(y * log_softmax(z))) / examples(z)


def one_hot_columns(rng, n, m):
    y = np.zeros((n, m))
    y[rng.integers(0, n, size=m), np.arange(m)] = 1.0
    return y


def soft_columns(rng, n, m):
    """Target columns of probabilities (each sums to 1, none is one-hot)."""
    w = rng.uniform(0.1, 1.0, size=(n, m))
    return w / w.sum(axis=0, keepdims=True)


def targets(rng, shape, soft=False):
    n, m = (shape[0], shape[1]) if len(shape) == 2 else (shape[0], 1)
    y = soft_columns(rng, n, m) if soft else one_hot_columns(rng, n, m)
    return y if len(shape) == 2 else y[:, 0]


def shape_id(shape):
    return "x".join(map(str, shape))


def assert_cost(got, expected, what, rtol=VALUE_RTOL):
    if not np.isfinite(got):
        raise AssertionError(f"{what}: the cost is {got}, expected {expected:.6g}")
    if abs(got - expected) > rtol * max(abs(got), abs(expected)) + 1e-300:
        raise AssertionError(f"{what}: expected {expected:.10g}, got {got:.10g}"
                             + (" (the mean over the examples, not the sum?)" if examples_ratio(got, expected) else ""))


def examples_ratio(got, expected):
    """True when got is a whole multiple (above 1) of expected, or the other way round: a sum for a mean."""
    if expected == 0 or got == 0:
        return False
    ratio = max(got / expected, expected / got)
    return ratio > 1.5 and abs(ratio - round(ratio)) < 1e-9


def call_cost(student, name, args, what):
    """Call a cost function, check that its arrays came back unchanged, return (float, result)."""
    result = call_keeping_inputs(student, name, args, what)
    return cost_result(result.value, what), result


# ---------------------------------------------------------------- binary_cross_entropy
@pytest.mark.item("binary_cross_entropy")
@pytest.mark.parametrize("shape", [(1, 9), (4, 4), (3, 6), (5,)], ids=shape_id)
def test_binary_cross_entropy_values(student, rng, shape):
    a = rng.uniform(0.02, 0.98, size=shape)
    y = (rng.uniform(size=shape) < 0.5).astype(float)
    y.flat[0], y.flat[-1] = 1.0, 0.0  # both kinds of target, always
    what = f"binary_cross_entropy on a {shape} batch with 0/1 targets"
    got, _ = call_cost(student, "binary_cross_entropy", (a, y), what)
    assert_cost(got, binary_cross_entropy(a, y), what)


@pytest.mark.item("binary_cross_entropy")
def test_binary_cross_entropy_soft_targets(student, rng):
    # Targets between 0 and 1 weigh both logarithms: a form that picks one by y > 0.5 fails.
    a = rng.uniform(0.05, 0.95, size=(3, 8))
    y = rng.uniform(0.1, 0.9, size=(3, 8))
    what = "binary_cross_entropy with targets between 0 and 1"
    got, _ = call_cost(student, "binary_cross_entropy", (a, y), what)
    assert_cost(got, binary_cross_entropy(a, y), what)


@pytest.mark.item("binary_cross_entropy")
def test_binary_cross_entropy_saturated_outputs(student, rng):
    # Outputs of exactly 0 and 1 where the target agrees cost 0; np.log(0) must not be taken (it warns,
    # and 0 * -inf is nan). Tiny outputs with target 1 give large, exact costs.
    a = rng.uniform(0.1, 0.9, size=(2, 6))
    y = (rng.uniform(size=(2, 6)) < 0.5).astype(float)
    a[0, :3], y[0, :3] = [1.0, 0.0, 1.0], [1.0, 0.0, 1.0]
    a[1, :2], y[1, :2] = [1e-300, 1.0 - 2.0 ** -52], [1.0, 0.0]
    what = "binary_cross_entropy with outputs of exactly 0 and 1 (and 1e-300)"
    got, result = call_cost(student, "binary_cross_entropy", (a, y), what)
    assert_cost(got, binary_cross_entropy(a, y), what)
    assert_no_runtime_warning(result, what)


# ---------------------------------------------------------------- categorical_cross_entropy
@pytest.mark.item("categorical_cross_entropy")
@pytest.mark.parametrize("shape", BATCH_SHAPES, ids=shape_id)
def test_categorical_cross_entropy_values(student, rng, shape):
    a = softmax(rng.normal(0.0, 2.0, size=shape))
    for soft in (False, True):
        y = targets(rng, shape, soft)
        what = f"categorical_cross_entropy on a {shape} batch with {'soft' if soft else 'one-hot'} targets"
        got, _ = call_cost(student, "categorical_cross_entropy", (a, y), what)
        assert_cost(got, categorical_cross_entropy(a, y), what)


@pytest.mark.item("categorical_cross_entropy")
def test_categorical_cross_entropy_zero_probabilities(student, rng):
    # Zeros in a where y is 0 contribute nothing: no nan and no warning.
    a = softmax(rng.normal(0.0, 2.0, size=(5, 5)))
    y = one_hot_columns(rng, 5, 5)
    a[(y == 0) & (rng.uniform(size=(5, 5)) < 0.5)] = 0.0
    what = "categorical_cross_entropy where some outputs with target 0 are exactly 0"
    got, result = call_cost(student, "categorical_cross_entropy", (a, y), what)
    assert_cost(got, categorical_cross_entropy(a, y), what)
    assert_no_runtime_warning(result, what)


# ---------------------------------------------------------------- log_softmax
LOGITS_EXTREME = np.array([[1000.0, -1000.0, 0.0, 709.0, 720.0],
                           [999.0, -1000.0, 1000.0, 709.0, 0.0],
                           [280.0, -999.0, -1000.0, 709.0, 0.0],
                           [-1000.0, -1000.0, 5.0, 0.0, -1.0],
                           [0.0, -998.0, 2.0, 1.0, -720.0]])


def check_array(student, name, args, expected, what, rtol, atol=0.0, **kwargs):
    """Call the student's function (its array arguments left alone) and compare its array with ``expected``."""
    got, result = call_for_float(student, name, args, expected, what, **kwargs)
    assert_close(got, expected, what, rtol, atol)
    return got, result


@pytest.mark.item("log_softmax")
@pytest.mark.parametrize("shape", BATCH_SHAPES, ids=shape_id)
def test_log_softmax_values(student, rng, shape):
    z = rng.normal(0.0, 3.0, size=shape)
    check_array(student, "log_softmax", (z,), log_softmax(z), f"log_softmax on a {shape} array (columns are examples)",
                VALUE_RTOL, atol=1e-13)


@pytest.mark.item("log_softmax")
def test_log_softmax_exponentiates_to_probabilities(student, rng):
    # Shifting every column by its own constant changes nothing: a shift of the whole batch at once still
    # gives each column the right log-probabilities only if the right axis is used.
    z = rng.normal(0.0, 3.0, size=(6, 6)) + rng.uniform(-50, 50, size=(1, 6))
    got, _ = check_array(student, "log_softmax", (z,), log_softmax(z), "log_softmax of a 6x6 batch",
                         VALUE_RTOL, atol=1e-12)
    sums = np.exp(got).sum(axis=0)
    assert np.all(np.abs(sums - 1.0) < 1e-12), f"exp(log_softmax(z)) columns should sum to 1, got {sums}"


@pytest.mark.item("log_softmax")
def test_log_softmax_extreme_logits(student):
    z = LOGITS_EXTREME.copy()
    what = "log_softmax at |z| up to 1000 (exact values such as -2000, not -inf)"
    _, result = check_array(student, "log_softmax", (z,), log_softmax(z), what, 1e-13, atol=1e-12)
    assert_no_runtime_warning(result, what)


# ---------------------------------------------------------------- softmax_cross_entropy
@pytest.mark.item("softmax_cross_entropy")
@pytest.mark.parametrize("shape", BATCH_SHAPES, ids=shape_id)
def test_softmax_cross_entropy_values(student, rng, shape):
    z = rng.normal(0.0, 3.0, size=shape)
    for soft in (False, True):
        y = targets(rng, shape, soft)
        what = f"softmax_cross_entropy on a {shape} batch with {'soft' if soft else 'one-hot'} targets"
        got, _ = call_cost(student, "softmax_cross_entropy", (z, y), what)
        assert_cost(got, softmax_cross_entropy(z, y), what)


@pytest.mark.item("softmax_cross_entropy")
def test_softmax_cross_entropy_extreme_logits(student, rng):
    # The right class far below the others costs about 2000: finite, exact, no warning.
    z = LOGITS_EXTREME.copy()
    y = np.zeros_like(z)
    y[np.argmin(z, axis=0), np.arange(5)] = 1.0
    y[:, 4] = soft_columns(rng, 5, 1)[:, 0]
    what = "softmax_cross_entropy at |z| up to 1000 (the right class far below the others)"
    got, result = call_cost(student, "softmax_cross_entropy", (z, y), what)
    assert_cost(got, softmax_cross_entropy(z, y), what, rtol=1e-12)
    assert_no_runtime_warning(result, what)


# ---------------------------------------------------------------- softmax_cross_entropy_delta
@pytest.mark.item("softmax_cross_entropy_delta")
@pytest.mark.parametrize("shape", [(4, 3), (5, 5), (6,)], ids=shape_id)
def test_delta_matches_central_differences(student, rng, shape):
    # The delta of each example is dC_x/dz: the gradient of the sum of the per-example costs.
    z = rng.normal(0.0, 2.0, size=shape)
    y = targets(rng, shape, soft=shape == (5, 5))
    m = examples(z)
    numeric = central_gradient(lambda v: m * softmax_cross_entropy(v, y), z)
    check_array(student, "softmax_cross_entropy_delta", (z, y), numeric,
                f"softmax_cross_entropy_delta on a {shape} batch vs central differences", DERIVATIVE_RTOL, atol=FD_ATOL)


@pytest.mark.item("softmax_cross_entropy_delta")
@pytest.mark.parametrize("shape", [(10, 8), (7, 7)], ids=shape_id)
def test_delta_is_a_minus_y(student, rng, shape):
    z = rng.normal(0.0, 3.0, size=shape)
    y = targets(rng, shape, soft=shape == (7, 7))
    check_array(student, "softmax_cross_entropy_delta", (z, y), softmax(z) - y,
                f"softmax_cross_entropy_delta on a {shape} batch (a - y for each example)", EXACT_RTOL, atol=1e-15)


@pytest.mark.item("softmax_cross_entropy_delta")
def test_delta_extreme_logits(student, rng):
    z = LOGITS_EXTREME.copy()
    y = one_hot_columns(rng, 5, 5)
    what = "softmax_cross_entropy_delta at |z| up to 1000"
    _, result = check_array(student, "softmax_cross_entropy_delta", (z, y), softmax(z) - y, what,
                            EXACT_RTOL, atol=1e-15)
    assert_no_runtime_warning(result, what)


# ---------------------------------------------------------------- l2
def random_weights(rng):
    # A square layer catches a missing transpose; several layers catch using only the first or the last.
    sizes = [int(rng.integers(3, 6)), int(rng.integers(3, 6))]
    sizes = [sizes[0], sizes[1], sizes[1], int(rng.integers(2, 4))]
    return [rng.normal(0.0, 1.0, size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:])]


@pytest.mark.item("l2")
def test_l2_cost_values(student, rng):
    weights = random_weights(rng)
    data_cost, lmbda, n = float(rng.uniform(0.1, 3.0)), float(rng.uniform(0.5, 5.0)), int(rng.integers(50, 5000))
    expected = data_cost + lmbda / (2 * n) * sum(float(np.sum(w ** 2)) for w in weights)
    what = f"l2_cost(C0={data_cost:.4g}, weights of {len(weights)} layers, lmbda={lmbda:.4g}, n={n})"
    result = student.call("l2_cost", data_cost, weights, lmbda, n, return_args=True)
    for before, after in zip(weights, result.args[1]):
        assert_unchanged(before, after, what)
    assert_cost(cost_result(result.value, what), expected, what)


@pytest.mark.item("l2")
def test_l2_gradient_matches_central_differences(student, rng):
    # C0(w) = sum of sin(w) over every layer, so dC0/dw = cos(w); the grader differentiates C0 + L2 numerically.
    weights = random_weights(rng)
    lmbda, n = float(rng.uniform(0.5, 5.0)), int(rng.integers(5, 50))
    nabla = [np.cos(w) for w in weights]
    what = f"l2_gradient (lmbda={lmbda:.4g}, n={n}) vs central differences of the regularised cost"
    result = student.call("l2_gradient", nabla, weights, lmbda, n, return_args=True)
    for before, after in zip(weights, result.args[1]):
        assert_unchanged(before, after, what)
    got = float_results(result.value, weights, what, of="arrays (one per layer)",
                        label=lambda k: f"{what}, layer {k + 1}")
    for k, w in enumerate(weights):
        numeric = central_gradient(lambda v: float(np.sum(np.sin(v))) + lmbda / (2 * n) * float(np.sum(v ** 2)), w)
        assert_close(got[k], numeric, f"{what}, layer {k + 1}", DERIVATIVE_RTOL, atol=FD_ATOL)


@pytest.mark.item("l2")
def test_weight_decay_update(student, rng):
    w = rng.normal(0.0, 1.0, size=(5, 5))
    nabla = rng.normal(0.0, 1.0, size=(5, 5))
    eta, lmbda, n = float(rng.uniform(0.05, 1.0)), float(rng.uniform(1.0, 10.0)), int(rng.integers(20, 200))
    expected = (1 - eta * lmbda / n) * w - eta * nabla
    check_array(student, "weight_decay_update", (w, nabla, eta, lmbda, n), expected,
                f"weight_decay_update(eta={eta:.3g}, lmbda={lmbda:.3g}, n={n}): (1 - eta lmbda / n) w - eta nabla_w",
                EXACT_RTOL, atol=1e-15)


@pytest.mark.item("l2")
def test_weight_decay_without_lambda_is_plain_sgd(student, rng):
    w = rng.normal(0.0, 1.0, size=(3, 4))
    nabla = rng.normal(0.0, 1.0, size=(3, 4))
    check_array(student, "weight_decay_update", (w, nabla, 0.5, 0.0, 100), w - 0.5 * nabla,
                "weight_decay_update with lmbda = 0 (plain gradient descent)", EXACT_RTOL, atol=1e-15)


# ---------------------------------------------------------------- dropout
def uniforms(rng, shape, keep_prob):
    """Uniform draws in [0, 1), a few of them exactly keep_prob (dropped: a unit is kept where u < keep_prob)."""
    u = rng.uniform(0.0, 1.0, size=shape)
    u.flat[rng.choice(u.size, size=max(1, u.size // 10), replace=False)] = keep_prob
    return u


@pytest.mark.item("dropout")
@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (8,)], ids=shape_id)
def test_dropout_mask(student, rng, shape):
    keep_prob = float(rng.uniform(0.3, 0.9))
    u = uniforms(rng, shape, keep_prob)
    what = f"dropout_mask(u, keep_prob={keep_prob:.3g})"
    got, _ = check_array(student, "dropout_mask", (u, keep_prob), np.where(u < keep_prob, 1 / keep_prob, 0.0),
                         what, EXACT_RTOL)
    assert_exact(got != 0, u < keep_prob, u, f"{what}: a unit is kept exactly where u < keep_prob")


@pytest.mark.item("dropout")
def test_dropout_keeps_the_expected_activation(student, rng):
    # Over many units, inverted dropout leaves the mean activation as it was (the mask's mean is about 1).
    keep_prob = float(rng.uniform(0.3, 0.7))
    a = rng.uniform(0.5, 1.5, size=(200, 1)) * np.ones((200, 250))
    u = rng.uniform(0.0, 1.0, size=a.shape)
    mask = float_result(student.dropout_mask(u, keep_prob), u, f"dropout_mask(u, keep_prob={keep_prob:.3g})")
    out = float_result(student.dropout_forward(a, mask), a, "dropout_forward(a, mask)")
    ratio = out.mean() / a.mean()
    assert abs(ratio - 1) < 0.03, (f"with keep_prob={keep_prob:.3g} the mean activation after dropout is "
                                   f"{ratio:.3f} times the mean before; inverted dropout keeps it (scale by 1/keep_prob)")
    assert_close(out, a * np.where(u < keep_prob, 1 / keep_prob, 0.0), "dropout_forward(a, mask) in training",
                 EXACT_RTOL)


@pytest.mark.item("dropout")
def test_dropout_keep_everything(student, rng):
    u = rng.uniform(0.0, 1.0, size=(5, 5))
    check_array(student, "dropout_mask", (u, 1.0), np.ones((5, 5)), "dropout_mask(u, keep_prob=1.0)", 0.0)


@pytest.mark.item("dropout")
@pytest.mark.parametrize("shape", [(5, 5), (3, 7)], ids=shape_id)
def test_dropout_forward_in_training(student, rng, shape):
    keep_prob = float(rng.uniform(0.3, 0.9))
    a = rng.normal(0.0, 2.0, size=shape)
    mask = np.where(rng.uniform(size=shape) < keep_prob, 1 / keep_prob, 0.0)
    check_array(student, "dropout_forward", (a, mask), a * mask, "dropout_forward(a, mask) in training", EXACT_RTOL)


@pytest.mark.item("dropout")
def test_dropout_forward_at_test_time_is_the_identity(student, rng):
    # No dropping and no scaling at test time, whatever mask is passed.
    keep_prob = float(rng.uniform(0.3, 0.9))
    a = rng.normal(0.0, 2.0, size=(6, 4))
    mask = np.where(rng.uniform(size=(6, 4)) < keep_prob, 1 / keep_prob, 0.0)
    check_array(student, "dropout_forward", (a, mask), a, "dropout_forward(a, mask, train=False) (testing: a itself)",
                0.0, train=False)


@pytest.mark.item("dropout")
def test_dropout_backward_matches_central_differences(student, rng):
    keep_prob = float(rng.uniform(0.3, 0.9))
    a = rng.normal(0.0, 1.0, size=(4, 6))
    mask = np.where(rng.uniform(size=a.shape) < keep_prob, 1 / keep_prob, 0.0)
    g = rng.normal(0.0, 1.0, size=a.shape)  # dC/d(output) for C = sum(g * dropout(a))
    numeric = central_gradient(lambda v: float(np.sum(g * v * mask)), a)
    check_array(student, "dropout_backward", (g, mask), numeric, "dropout_backward(da, mask) vs central differences",
                DERIVATIVE_RTOL, atol=FD_ATOL)
    check_array(student, "dropout_backward", (g, mask), g * mask, "dropout_backward(da, mask): da * mask", EXACT_RTOL)


# ---------------------------------------------------------------- early_stopping
def best_and_stop(accuracies, patience):
    """The rule, written as 'scan until patience runs out'."""
    best = 0
    for epoch in range(len(accuracies)):
        if accuracies[epoch] > accuracies[best]:
            best = epoch
        if epoch - best >= patience:
            return best, epoch
    return best, len(accuracies) - 1


def int_pair(value, what):
    ok = (isinstance(value, (tuple, list)) and len(value) == 2
          and all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in value))
    if not ok:
        raise AssertionError(f"{what}: expected (best, stop), two ints, got {describe(value)}"
                             + (f" {value!r}" if isinstance(value, (tuple, list)) and len(value) < 5 else ""))
    return int(value[0]), int(value[1])


def check_early_stopping(student, accuracies, patience, what):
    got = int_pair(student.best_epoch(list(accuracies), patience), what)
    expected = best_and_stop(accuracies, patience)
    assert got == expected, f"{what}: expected (best, stop) = {expected}, got {got}"


# Hand-written histories: (accuracies, patience, what each shows).
HISTORIES = [
    ([0.80, 0.85, 0.84, 0.83, 0.90, 0.91], 2, "a later, higher peak after training stopped is never used"),
    ([0.80, 0.86, 0.86, 0.85, 0.84, 0.70], 3, "a tie is no improvement: the first best epoch is kept"),
    ([0.50, 0.60, 0.70, 0.80, 0.79, 0.81], 1, "patience 1 stops one epoch after the last improvement"),
    ([0.91, 0.90, 0.89, 0.88], 2, "epoch 0 can be the best"),
    ([0.70, 0.72, 0.71, 0.74, 0.73], 10, "patience never runs out: stop at the last epoch"),
]


@pytest.mark.item("early_stopping")
@pytest.mark.parametrize("case", range(len(HISTORIES)))
def test_early_stopping_hand_written_histories(student, case):
    accuracies, patience, what = HISTORIES[case]
    check_early_stopping(student, accuracies, patience, f"best_epoch({accuracies}, patience={patience}): {what}")


@pytest.mark.item("early_stopping")
def test_early_stopping_random_histories(student, rng):
    # Noisy learning curves that rise, level off and fall; validation accuracies are multiples of 1/2000
    # (a validation set of 2,000 images), so ties happen.
    for _ in range(6):
        epochs = int(rng.integers(15, 40))
        trend = 0.9 - 0.4 * np.exp(-np.arange(epochs) / rng.uniform(2, 6)) - 0.002 * np.arange(epochs)
        accuracies = [float(v) for v in np.round((trend + rng.normal(0, 0.006, size=epochs)) * 2000) / 2000]
        patience = int(rng.integers(2, 6))
        check_early_stopping(student, accuracies, patience,
                             f"best_epoch on a noisy {epochs}-epoch history with patience={patience}")

"""Hidden suite for hw1_activations. Instructors only: never released to students.

Expected values are computed here, in the grader, in float64: from the
definitions written out below and from central finite differences. Inputs are
drawn at grading time from the ``rng`` fixture (seeded per grading run).

Every check's expected answer depends on its input: arrays always hold both
signs (and exact zeros where the item has a kink), and a scalar check calls the
function with several scalars. So a function that ignores its input (returns a
constant, zeros, ones, or z itself) fails every check of its item.

"No overflow" is decided by value wherever a value can show it: at |z| up to
1000 results must be finite and match the float64 values computed here,
including tails that underflow into the subnormal range (sigmoid_prime(-720)
is about 2e-313, where the naive 1 / (1 + exp(-z)) overflows and gives 0).
Those tails are compared to a relative tolerance with an absolute floor of
1e-320, far below the smallest normal number. Where an overflow cannot change
a value (in the branch np.where discards, as in elu and elu_prime), the check
for NumPy's RuntimeWarning stays: the worker restores NumPy's default error
state and warning filters before every call, so np.seterr or
warnings.filterwarnings at module level hides nothing, while a function that
silences warnings inside itself is judged by its values only.
"""
import numpy as np
import pytest

from autograder.checks import (assert_close, assert_exact, assert_no_runtime_warning, assert_number, away_from_zero,
                               central_difference, float_result, shape_text)
from autograder.suite_tools import call_for_float, call_keeping_inputs
from autograder.wire import FunctionSpec

DERIVATIVE_RTOL = 1e-7  # a forward difference (error ~1e-6) must fail
# Central differences of a sum of many terms are off by up to ~3e-9 in absolute terms
# (truncation h^2/6 times the third derivative, plus rounding), measured over 3,000
# random cases; entries of a gradient near zero need that floor. A forward difference
# is still off by ~1e-6.
FD_ATOL = 1e-8
VALUE_RTOL = 1e-12
EXTREME_ATOL = 1e-15  # where the course's own form loses tiny values (s * (1 - s) for large positive z)
TAIL_FLOOR = 1e-320   # subnormal tails: about 2,000 steps of the smallest subnormal, far below e^-720

# Square batches catch a wrong axis; (n,) and (n, 1) catch squeezing.
SHAPES = [(), (7,), (6, 1), (5, 5), (3, 8)]
# exp overflows beyond 709.78, while e^-720 is still a (subnormal) float64.
EXTREME = np.array([[-1000.0, -720.0, -709.0, -50.0, -1e-300, 0.0, 1e-300, 50.0, 709.0, 720.0, 1000.0]]).T


# Trusted definitions, written independently of any submission.
def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(z):
    e = np.exp(-np.abs(np.asarray(z, dtype=np.float64)))
    return e / (1.0 + e) ** 2


def relu(z):
    return np.where(z > 0, z, 0.0)


def leaky_relu(z, alpha):
    return np.where(z > 0, z, alpha * z)


def elu(z, alpha):
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_derivative(z, alpha):
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def mixed_signs(rng, shape, low=0.05, high=4.0, kinks=False):
    """A random array with |z| in [low, high] holding both signs; kinks=True makes about a third exact zeros."""
    z = away_from_zero(rng, shape, low, high)
    order = rng.permutation(z.size)
    z.flat[order[0]] = abs(z.flat[order[0]])
    z.flat[order[1]] = -abs(z.flat[order[1]])
    if kinks:
        z.flat[order[2::3]] = 0.0
    return z


def inputs(rng, shape, low=0.05, high=4.0, kinks=False):
    """The inputs of one check: a mixed-sign array, or for a scalar shape a positive and a negative
    scalar (and 0.0 with kinks), so that no single constant answers all of them."""
    if shape != ():
        return [mixed_signs(rng, shape, low, high, kinks)]
    magnitudes = rng.uniform(low, high, size=2)
    return [np.float64(magnitudes[0]), np.float64(-magnitudes[1])] + ([np.float64(0.0)] if kinks else [])


def place(z):
    return f"at z = {float(z):.4g}" if np.ndim(z) == 0 else f"on a {np.shape(z)} array"


def check_values(student, name, f, z, what, rtol=VALUE_RTOL, **kwargs):
    got, _ = call_for_float(student, name, (z,), z, what, **kwargs)
    assert_close(got, f(z), what, rtol)


def check_derivative(student, name, f, z, what, **kwargs):
    got, _ = call_for_float(student, name, (z,), z, what, **kwargs)
    assert_close(got, central_difference(f, z), f"{what} vs central differences", DERIVATIVE_RTOL, atol=1e-13)


def check_scalar(student, name, z, expected, what, tol=0.0, **kwargs):
    got = float_result(student.call(name, z, **kwargs).value, z, what)
    assert_number(got, expected, what, tol)


def assert_tail_close(got, expected, places, what):
    """Values down to the subnormal range, to VALUE_RTOL with an absolute floor of TAIL_FLOOR.

    ``places`` names each entry for the feedback ("at z = -720", "in column 5")."""
    wrong = np.flatnonzero(~(np.abs(got - expected) <= VALUE_RTOL * np.abs(expected) + TAIL_FLOOR))
    if wrong.size:
        i = wrong[0]
        raise AssertionError(f"{what}: {places[i]} expected {expected.flat[i]:.4g}, got {got.flat[i]:.4g}; "
                             "use a form whose exp cannot overflow")


def check_extreme(student, name, expected, what, tail=None, **kwargs):
    """Values at |z| up to 1000, then (where ``tail`` is True) tiny values to TAIL_FLOOR, then no warning."""
    z = EXTREME.copy()
    got, result = call_for_float(student, name, (z,), z, what, **kwargs)
    assert_close(got, expected, what, VALUE_RTOL, atol=EXTREME_ATOL)
    if tail is not None:
        assert_tail_close(got[tail], expected[tail], [f"at z = {v:.4g}" for v in z[tail]], what)
    assert_no_runtime_warning(result, what)


def shape_id(shape):
    return "scalar" if shape == () else "x".join(map(str, shape))


# ---------------------------------------------------------------- sigmoid_prime
@pytest.mark.item("sigmoid_prime")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_sigmoid_prime_matches_central_differences(student, rng, shape):
    for z in inputs(rng, shape, low=0.0, high=6.0):
        check_derivative(student, "sigmoid_prime", sigmoid, z, f"sigmoid_prime {place(z)}")


@pytest.mark.item("sigmoid_prime")
def test_sigmoid_prime_at_zero(student, rng):
    check_scalar(student, "sigmoid_prime", 0.0, 0.25, "sigmoid_prime(0.0)", tol=1e-15)
    z = np.float64(rng.uniform(0.5, 4.0) * rng.choice([-1.0, 1.0]))
    check_values(student, "sigmoid_prime", sigmoid_derivative, z, f"sigmoid_prime {place(z)}")


@pytest.mark.item("sigmoid_prime")
def test_sigmoid_prime_extreme_inputs(student):
    # For z < 0, s * (1 - s) with a stable sigmoid is exact down to the subnormal tail; for large
    # positive z, 1 - s cancels to 0, so there it is held to EXTREME_ATOL only.
    check_extreme(student, "sigmoid_prime", sigmoid_derivative(EXTREME), "sigmoid_prime at |z| up to 1000",
                  tail=EXTREME < 0)


# ---------------------------------------------------------------- relu
@pytest.mark.item("relu")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_relu_values(student, rng, shape):
    for z in inputs(rng, shape, kinks=True):
        check_values(student, "relu", relu, z, f"relu {place(z)}")


@pytest.mark.item("relu")
def test_relu_extreme_inputs(student):
    check_extreme(student, "relu", relu(EXTREME), "relu at |z| up to 1000")


# ---------------------------------------------------------------- relu_prime
@pytest.mark.item("relu_prime")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_relu_prime_values(student, rng, shape):
    for z in inputs(rng, shape, kinks=True):
        what = f"relu_prime {place(z)}"
        got, _ = call_for_float(student, "relu_prime", (z,), z, what)
        assert_exact(got, (z > 0).astype(float), z, f"{what} (0 where z <= 0)")


@pytest.mark.item("relu_prime")
def test_relu_prime_matches_central_differences(student, rng):
    z = mixed_signs(rng, (6, 6))
    check_derivative(student, "relu_prime", relu, z, "relu_prime on a 6x6 batch")


@pytest.mark.item("relu_prime")
def test_relu_prime_at_zero(student, rng):
    check_scalar(student, "relu_prime", 0.0, 0.0, "relu_prime(0.0) (the z <= 0 branch)")
    z = np.float64(rng.uniform(0.05, 4.0))
    check_scalar(student, "relu_prime", z, 1.0, f"relu_prime({z:.4g})")


# ---------------------------------------------------------------- leaky_relu
@pytest.mark.item("leaky_relu")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_leaky_relu_default_alpha(student, rng, shape):
    for z in inputs(rng, shape, kinks=True):
        check_values(student, "leaky_relu", lambda v: leaky_relu(v, 0.01), z, f"leaky_relu {place(z)}")


@pytest.mark.item("leaky_relu")
@pytest.mark.parametrize("alpha", [0.2, 0.05])
def test_leaky_relu_uses_alpha(student, rng, alpha):
    z = mixed_signs(rng, (4, 4), kinks=True)
    check_values(student, "leaky_relu", lambda v: leaky_relu(v, alpha), z, f"leaky_relu(z, alpha={alpha})",
                 alpha=alpha)


@pytest.mark.item("leaky_relu")
def test_leaky_relu_extreme_inputs(student):
    check_extreme(student, "leaky_relu", leaky_relu(EXTREME, 0.01), "leaky_relu at |z| up to 1000")


# ---------------------------------------------------------------- leaky_relu_prime
@pytest.mark.item("leaky_relu_prime")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_leaky_relu_prime_matches_central_differences(student, rng, shape):
    for z in inputs(rng, shape):
        check_derivative(student, "leaky_relu_prime", lambda v: leaky_relu(v, 0.01), z, f"leaky_relu_prime {place(z)}")


@pytest.mark.item("leaky_relu_prime")
@pytest.mark.parametrize("alpha", [0.2, 0.05])
def test_leaky_relu_prime_uses_alpha(student, rng, alpha):
    z = mixed_signs(rng, (4, 4))
    check_derivative(student, "leaky_relu_prime", lambda v: leaky_relu(v, alpha), z,
                     f"leaky_relu_prime(z, alpha={alpha})", alpha=alpha)


@pytest.mark.item("leaky_relu_prime")
def test_leaky_relu_prime_at_zero(student, rng):
    check_scalar(student, "leaky_relu_prime", 0.0, 0.2, "leaky_relu_prime(0.0, alpha=0.2) (the z <= 0 branch)",
                 alpha=0.2)
    z = np.float64(rng.uniform(0.05, 4.0))
    check_scalar(student, "leaky_relu_prime", z, 1.0, f"leaky_relu_prime({z:.4g}, alpha=0.2)", alpha=0.2)


# ---------------------------------------------------------------- elu
@pytest.mark.item("elu")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_elu_default_alpha(student, rng, shape):
    for z in inputs(rng, shape, kinks=True):
        check_values(student, "elu", lambda v: elu(v, 1.0), z, f"elu {place(z)}")


@pytest.mark.item("elu")
def test_elu_uses_alpha(student, rng):
    z = mixed_signs(rng, (4, 4), kinks=True)
    check_values(student, "elu", lambda v: elu(v, 0.5), z, "elu(z, alpha=0.5)", alpha=0.5)


@pytest.mark.item("elu")
def test_elu_extreme_inputs(student):
    # An overflow in the branch np.where discards changes no value: the warning check decides.
    check_extreme(student, "elu", elu(EXTREME, 1.0), "elu at |z| up to 1000")


# ---------------------------------------------------------------- elu_prime
@pytest.mark.item("elu_prime")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_elu_prime_matches_central_differences(student, rng, shape):
    for z in inputs(rng, shape):
        check_derivative(student, "elu_prime", lambda v: elu(v, 1.0), z, f"elu_prime {place(z)}")


@pytest.mark.item("elu_prime")
def test_elu_prime_uses_alpha(student, rng):
    z = mixed_signs(rng, (4, 4))
    check_derivative(student, "elu_prime", lambda v: elu(v, 0.5), z, "elu_prime(z, alpha=0.5)", alpha=0.5)


@pytest.mark.item("elu_prime")
def test_elu_prime_at_zero(student, rng):
    check_scalar(student, "elu_prime", 0.0, 0.5, "elu_prime(0.0, alpha=0.5) (the z <= 0 branch)", alpha=0.5)
    z = np.float64(rng.uniform(0.05, 4.0))
    check_scalar(student, "elu_prime", z, 1.0, f"elu_prime({z:.4g}, alpha=0.5)", alpha=0.5)


@pytest.mark.item("elu_prime")
def test_elu_prime_extreme_inputs(student):
    # As for elu, only the warning can show an overflow in the discarded branch.
    check_extreme(student, "elu_prime", elu_derivative(EXTREME, 1.0), "elu_prime at |z| up to 1000")


# ---------------------------------------------------------------- softmax
@pytest.mark.item("softmax")
@pytest.mark.parametrize("shape", [(6,), (6, 1), (5, 5), (4, 9), (10, 3)], ids=shape_id)
def test_softmax_values(student, rng, shape):
    z = rng.normal(0.0, 3.0, size=shape)
    got, _ = call_for_float(student, "softmax", (z,), z, f"softmax on a {shape} array")
    assert_close(got, softmax(z), f"softmax on a {shape} array (columns are examples)", 1e-10)


@pytest.mark.item("softmax")
def test_softmax_columns_sum_to_one(student, rng):
    # Values too: a constant 1/n would sum to one without looking at z.
    z = rng.normal(0.0, 5.0, size=(7, 7))
    got, _ = call_for_float(student, "softmax", (z,), z, "softmax on a 7x7 batch")
    sums = got.sum(axis=0)
    assert np.all(np.abs(sums - 1.0) < 1e-12), \
        f"softmax on a 7x7 batch: each column should sum to 1, got sums from {sums.min():.6g} to {sums.max():.6g}"
    assert_close(got, softmax(z), "softmax on a 7x7 batch", 1e-10)


# What exp(z) without the shift gives, by column: inf / inf (nan), 0 / 0 for a column that
# underflows (nan), a sum that overflows although no entry does (zeros), inf / inf again.
# Columns 1 and 5 also hold subnormal tails (e^-720). Square: a wrong axis keeps the shape.
SOFTMAX_EXTREME = np.array([[1000.0, -1000.0, 0.0, 709.0, 720.0],
                            [999.0, -1000.0, 1000.0, 709.0, 0.0],
                            [280.0, -999.0, -1000.0, 709.0, 0.0],
                            [-1000.0, -1000.0, 5.0, 0.0, -1.0],
                            [0.0, -998.0, 2.0, 1.0, -720.0]])


@pytest.mark.item("softmax")
def test_softmax_extreme_inputs(student):
    z = SOFTMAX_EXTREME.copy()
    what = "softmax at |z| = 1000"
    got, result = call_for_float(student, "softmax", (z,), z, what)
    expected = softmax(z)
    assert_close(got, expected, what, 1e-12, atol=EXTREME_ATOL)
    columns = [f"in column {j + 1}" for j in np.indices(z.shape)[1].ravel()]
    assert_tail_close(got, expected, columns, what)
    assert_no_runtime_warning(result, what)


# ---------------------------------------------------------------- numerical_gradient
def cubic_case(rng, shape):
    x = away_from_zero(rng, shape, low=0.5, high=2.0)
    c = rng.uniform(0.5, 2.0, size=shape)
    return FunctionSpec("cubic", c=c), x, 3 * c * x ** 2


@pytest.mark.item("numerical_gradient")
@pytest.mark.parametrize("shape", [(5,), (3, 4), (4, 4)], ids=shape_id)
def test_numerical_gradient_cubic(student, rng, shape):
    f, x, grad = cubic_case(rng, shape)
    result = student.call("numerical_gradient", f, x, return_args=True)
    what = f"numerical_gradient of sum(c * x**3) at {shape_text(shape)} x"
    got = float_result(result.value, x, what)
    assert_close(got, grad, what, DERIVATIVE_RTOL)


@pytest.mark.item("numerical_gradient")
def test_numerical_gradient_matrix_function(student, rng):
    A = rng.normal(size=(3, 4))
    x = rng.normal(size=(4, 2))
    t = np.tanh(A @ x)
    grad = A.T @ (1 - t ** 2)
    got = float_result(student.numerical_gradient(FunctionSpec("matrix_form", A=A), x), x,
                       "numerical_gradient of sum(tanh(A @ x))")
    assert_close(got, grad, "numerical_gradient of sum(tanh(A @ x))", DERIVATIVE_RTOL, atol=FD_ATOL)


@pytest.mark.item("numerical_gradient")
def test_numerical_gradient_leaves_x_unchanged(student, rng):
    x = rng.uniform(-2.0, 2.0, size=(3, 3))
    f = FunctionSpec("sin_mix", a=1.7, b=0.3)
    result = call_keeping_inputs(student, "numerical_gradient", (f, x), "numerical_gradient")
    got = float_result(result.value, x, "numerical_gradient of sum(sin(a x) + b x^2)")
    assert_close(got, 1.7 * np.cos(1.7 * x) + 0.6 * x, "numerical_gradient of sum(sin(a x) + b x^2)",
                 DERIVATIVE_RTOL, atol=FD_ATOL)


@pytest.mark.item("numerical_gradient")
def test_numerical_gradient_uses_h(student, rng):
    # For a cubic, the central difference with step h is exactly c * (3 x^2 + h^2).
    f, x, _ = cubic_case(rng, (4,))
    c = f.params["c"]
    h = 1e-2
    got = float_result(student.numerical_gradient(f, x, h=h), x, f"numerical_gradient(..., h={h})")
    assert_close(got, c * (3 * x ** 2 + h ** 2), f"numerical_gradient(..., h={h}) must use the given step",
                 1e-9)

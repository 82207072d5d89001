"""Hidden suite for hw1_activations. Instructors only: never released to students.

Expected values are computed here, in the grader, in float64: from the
definitions written out below and from central finite differences. Inputs are
drawn at grading time from the ``rng`` fixture (seeded per grading run).
"""
import numpy as np
import pytest

from autograder.checks import (assert_close, assert_exact, assert_no_runtime_warning, assert_unchanged,
                               away_from_zero, central_difference, float_result, shape_text)
from autograder.wire import FunctionSpec

DERIVATIVE_RTOL = 1e-7  # a forward difference (error ~1e-6) must fail
# Central differences of a sum of many terms are off by up to ~3e-9 in absolute terms
# (truncation h^2/6 times the third derivative, plus rounding), measured over 3,000
# random cases; entries of a gradient near zero need that floor. A forward difference
# is still off by ~1e-6.
FD_ATOL = 1e-8
VALUE_RTOL = 1e-12

# Square batches catch a wrong axis; (n,) and (n, 1) catch squeezing.
SHAPES = [(), (7,), (6, 1), (5, 5), (3, 8)]
EXTREME = np.array([[-1000.0, -50.0, -1e-300, 0.0, 1e-300, 50.0, 1000.0]]).T


# Trusted definitions, written independently of any submission.
def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def relu(z):
    return np.where(z > 0, z, 0.0)


def leaky_relu(z, alpha):
    return np.where(z > 0, z, alpha * z)


def elu(z, alpha):
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def with_kinks(rng, shape):
    """Random values that include exact zeros and both signs (for value checks)."""
    z = away_from_zero(rng, shape)
    if shape != () and z.size > 2:
        z.flat[:: max(1, z.size // 3)] = 0.0
    return z


def graded_call(student, name, z, what, **kwargs):
    """Call the student's function, check type/shape and that z was left alone."""
    result = student.call(name, z, return_args=True, **kwargs)
    assert_unchanged(z, result.args[0], what)
    return float_result(result.value, z, what), result


def check_derivative(student, name, f, z, what, **kwargs):
    got, _ = graded_call(student, name, z, what, **kwargs)
    assert_close(got, central_difference(f, z), f"{what} vs central differences", DERIVATIVE_RTOL, atol=1e-13)


def check_extreme(student, name, expected, what, **kwargs):
    got, result = graded_call(student, name, EXTREME.copy(), what, **kwargs)
    assert_no_runtime_warning(result, what)
    assert_close(got, expected, what, VALUE_RTOL, atol=1e-15)


def shape_id(shape):
    return "scalar" if shape == () else "x".join(map(str, shape))


# ---------------------------------------------------------------- sigmoid_prime
@pytest.mark.item("sigmoid_prime")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_sigmoid_prime_matches_central_differences(student, rng, shape):
    z = away_from_zero(rng, shape, low=0.0, high=6.0)
    check_derivative(student, "sigmoid_prime", sigmoid, z, f"sigmoid_prime on {shape_text(shape)}")


@pytest.mark.item("sigmoid_prime")
def test_sigmoid_prime_at_zero(student):
    got = float_result(student.sigmoid_prime(0.0), 0.0, "sigmoid_prime(0.0)")
    assert abs(got - 0.25) < 1e-15, f"sigmoid_prime(0.0) should be 0.25, got {got!r}"


@pytest.mark.item("sigmoid_prime")
def test_sigmoid_prime_extreme_inputs(student):
    e = np.exp(-np.abs(EXTREME))
    check_extreme(student, "sigmoid_prime", e / (1 + e) ** 2, "sigmoid_prime at |z| up to 1000")


# ---------------------------------------------------------------- relu
@pytest.mark.item("relu")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_relu_values(student, rng, shape):
    z = with_kinks(rng, shape)
    got, _ = graded_call(student, "relu", z, f"relu on {shape_text(shape)}")
    assert_close(got, relu(z), f"relu on {shape_text(shape)}", VALUE_RTOL)


@pytest.mark.item("relu")
def test_relu_extreme_inputs(student):
    check_extreme(student, "relu", relu(EXTREME), "relu at |z| up to 1000")


# ---------------------------------------------------------------- relu_prime
@pytest.mark.item("relu_prime")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_relu_prime_values(student, rng, shape):
    z = with_kinks(rng, shape)
    got, _ = graded_call(student, "relu_prime", z, f"relu_prime on {shape_text(shape)}")
    assert_exact(got, (z > 0).astype(float), z, f"relu_prime on {shape_text(shape)} (0 where z <= 0)")


@pytest.mark.item("relu_prime")
def test_relu_prime_matches_central_differences(student, rng):
    z = away_from_zero(rng, (6, 6))
    check_derivative(student, "relu_prime", relu, z, "relu_prime on a 6x6 batch")


@pytest.mark.item("relu_prime")
def test_relu_prime_at_zero(student):
    got = float_result(student.relu_prime(0.0), 0.0, "relu_prime(0.0)")
    assert got == 0.0, f"relu_prime(0.0) should be 0.0 (the z <= 0 branch), got {got!r}"


# ---------------------------------------------------------------- leaky_relu
@pytest.mark.item("leaky_relu")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_leaky_relu_default_alpha(student, rng, shape):
    z = with_kinks(rng, shape)
    got, _ = graded_call(student, "leaky_relu", z, f"leaky_relu on {shape_text(shape)}")
    assert_close(got, leaky_relu(z, 0.01), f"leaky_relu on {shape_text(shape)}", VALUE_RTOL)


@pytest.mark.item("leaky_relu")
@pytest.mark.parametrize("alpha", [0.2, 0.05])
def test_leaky_relu_uses_alpha(student, rng, alpha):
    z = with_kinks(rng, (4, 4))
    got, _ = graded_call(student, "leaky_relu", z, f"leaky_relu(z, alpha={alpha})", alpha=alpha)
    assert_close(got, leaky_relu(z, alpha), f"leaky_relu(z, alpha={alpha})", VALUE_RTOL)


@pytest.mark.item("leaky_relu")
def test_leaky_relu_extreme_inputs(student):
    check_extreme(student, "leaky_relu", leaky_relu(EXTREME, 0.01), "leaky_relu at |z| up to 1000")


# ---------------------------------------------------------------- leaky_relu_prime
@pytest.mark.item("leaky_relu_prime")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_leaky_relu_prime_matches_central_differences(student, rng, shape):
    z = away_from_zero(rng, shape)
    check_derivative(student, "leaky_relu_prime", lambda v: leaky_relu(v, 0.01), z,
                     f"leaky_relu_prime on {shape_text(shape)}")


@pytest.mark.item("leaky_relu_prime")
@pytest.mark.parametrize("alpha", [0.2, 0.05])
def test_leaky_relu_prime_uses_alpha(student, rng, alpha):
    z = away_from_zero(rng, (4, 4))
    check_derivative(student, "leaky_relu_prime", lambda v: leaky_relu(v, alpha), z,
                     f"leaky_relu_prime(z, alpha={alpha})", alpha=alpha)


@pytest.mark.item("leaky_relu_prime")
def test_leaky_relu_prime_at_zero(student):
    got = float_result(student.leaky_relu_prime(0.0, alpha=0.2), 0.0, "leaky_relu_prime(0.0, alpha=0.2)")
    assert got == 0.2, f"leaky_relu_prime(0.0, alpha=0.2) should be 0.2 (the z <= 0 branch), got {got!r}"


# ---------------------------------------------------------------- elu
@pytest.mark.item("elu")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_elu_default_alpha(student, rng, shape):
    z = with_kinks(rng, shape)
    got, _ = graded_call(student, "elu", z, f"elu on {shape_text(shape)}")
    assert_close(got, elu(z, 1.0), f"elu on {shape_text(shape)}", VALUE_RTOL)


@pytest.mark.item("elu")
def test_elu_uses_alpha(student, rng):
    z = with_kinks(rng, (4, 4))
    got, _ = graded_call(student, "elu", z, "elu(z, alpha=0.5)", alpha=0.5)
    assert_close(got, elu(z, 0.5), "elu(z, alpha=0.5)", VALUE_RTOL)


@pytest.mark.item("elu")
def test_elu_extreme_inputs(student):
    check_extreme(student, "elu", elu(EXTREME, 1.0), "elu at |z| up to 1000")


# ---------------------------------------------------------------- elu_prime
@pytest.mark.item("elu_prime")
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_elu_prime_matches_central_differences(student, rng, shape):
    z = away_from_zero(rng, shape)
    check_derivative(student, "elu_prime", lambda v: elu(v, 1.0), z, f"elu_prime on {shape_text(shape)}")


@pytest.mark.item("elu_prime")
def test_elu_prime_uses_alpha(student, rng):
    z = away_from_zero(rng, (4, 4))
    check_derivative(student, "elu_prime", lambda v: elu(v, 0.5), z, "elu_prime(z, alpha=0.5)", alpha=0.5)


@pytest.mark.item("elu_prime")
def test_elu_prime_at_zero(student):
    got = float_result(student.elu_prime(0.0, alpha=0.5), 0.0, "elu_prime(0.0, alpha=0.5)")
    assert got == 0.5, f"elu_prime(0.0, alpha=0.5) should be 0.5 (the z <= 0 branch), got {got!r}"


@pytest.mark.item("elu_prime")
def test_elu_prime_extreme_inputs(student):
    expected = np.where(EXTREME > 0, 1.0, np.exp(np.minimum(EXTREME, 0.0)))
    check_extreme(student, "elu_prime", expected, "elu_prime at |z| up to 1000")


# ---------------------------------------------------------------- softmax
@pytest.mark.item("softmax")
@pytest.mark.parametrize("shape", [(6,), (6, 1), (5, 5), (4, 9), (10, 3)], ids=shape_id)
def test_softmax_values(student, rng, shape):
    z = rng.normal(0.0, 3.0, size=shape)
    got, _ = graded_call(student, "softmax", z, f"softmax on {shape_text(shape)}")
    assert_close(got, softmax(z), f"softmax on {shape_text(shape)} (columns are examples)", 1e-10)


@pytest.mark.item("softmax")
def test_softmax_columns_sum_to_one(student, rng):
    z = rng.normal(0.0, 5.0, size=(7, 7))
    got, _ = graded_call(student, "softmax", z, "softmax on a 7x7 batch")
    sums = got.sum(axis=0)
    assert np.all(np.abs(sums - 1.0) < 1e-12), \
        f"softmax on a 7x7 batch: each column should sum to 1, got sums from {sums.min():.6g} to {sums.max():.6g}"


@pytest.mark.item("softmax")
def test_softmax_extreme_inputs(student):
    z = np.array([[1000.0, -1000.0, 0.0], [999.0, -1000.0, 1000.0], [0.0, -999.0, -1000.0]])
    got, result = graded_call(student, "softmax", z, "softmax at |z| = 1000")
    assert_no_runtime_warning(result, "softmax at |z| = 1000")
    assert_close(got, softmax(z), "softmax at |z| = 1000", 1e-12, atol=1e-15)


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
    result = student.call("numerical_gradient", f, x, return_args=True)
    assert_unchanged(x, result.args[1], "numerical_gradient")
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

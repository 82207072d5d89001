"""Public checks for hw1_activations: what ``python -m autograder check`` runs.

They use a few fixed inputs with values you can work out by hand. The hidden
tests that give the grade check much more (random shapes, square batches,
extreme inputs, finite differences to 1e-7), so passing these is a start.
"""
import numpy as np
import pytest

from autograder.checks import assert_close, assert_exact, assert_no_runtime_warning, assert_number, float_result
from autograder.wire import FunctionSpec

Z = np.array([[-2.0, 0.0], [0.5, 3.0]])  # a (features, batch) array with a zero


@pytest.mark.item("sigmoid_prime")
def test_sigmoid_prime_at_zero_is_a_quarter(student):
    got = float_result(student.sigmoid_prime(0.0), 0.0, "sigmoid_prime(0.0)")
    assert_number(float(got), 0.25, "sigmoid_prime(0.0)", tol=1e-12)  # a float prints as the number alone


@pytest.mark.item("sigmoid_prime")
def test_sigmoid_prime_small_batch(student):
    got = float_result(student.sigmoid_prime(Z), Z, "sigmoid_prime on a (2, 2) batch")
    assert_close(got, [[0.104993585, 0.25], [0.235003712, 0.0451766597]], "sigmoid_prime on [[-2, 0], [0.5, 3]]",
                 1e-8)


@pytest.mark.item("relu")
def test_relu_small_batch(student):
    got = float_result(student.relu(Z), Z, "relu on a (2, 2) batch")
    assert_close(got, [[0.0, 0.0], [0.5, 3.0]], "relu on [[-2, 0], [0.5, 3]]", 1e-15)


@pytest.mark.item("relu_prime")
def test_relu_prime_small_batch(student):
    got = float_result(student.relu_prime(Z), Z, "relu_prime on a (2, 2) batch")
    assert_exact(got, [[0.0, 0.0], [1.0, 1.0]], Z, "relu_prime on [[-2, 0], [0.5, 3]] (0 at z = 0)")


@pytest.mark.item("leaky_relu")
def test_leaky_relu_alpha(student):
    got = float_result(student.leaky_relu(Z, alpha=0.1), Z, "leaky_relu(Z, alpha=0.1)")
    assert_close(got, [[-0.2, 0.0], [0.5, 3.0]], "leaky_relu(Z, alpha=0.1)", 1e-12)


@pytest.mark.item("leaky_relu_prime")
def test_leaky_relu_prime_alpha(student):
    got = float_result(student.leaky_relu_prime(Z, alpha=0.1), Z, "leaky_relu_prime(Z, alpha=0.1)")
    assert_close(got, [[0.1, 0.1], [1.0, 1.0]], "leaky_relu_prime(Z, alpha=0.1) (alpha at z = 0)", 1e-12)


@pytest.mark.item("elu")
def test_elu_values(student):
    got = float_result(student.elu(Z), Z, "elu on a (2, 2) batch")
    assert_close(got, [[np.exp(-2.0) - 1, 0.0], [0.5, 3.0]], "elu on [[-2, 0], [0.5, 3]]", 1e-12)


@pytest.mark.item("elu_prime")
def test_elu_prime_values(student):
    got = float_result(student.elu_prime(Z, alpha=0.5), Z, "elu_prime(Z, alpha=0.5)")
    assert_close(got, [[0.5 * np.exp(-2.0), 0.5], [1.0, 1.0]], "elu_prime(Z, alpha=0.5)", 1e-12)


@pytest.mark.item("softmax")
def test_softmax_columns(student):
    z = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    got = float_result(student.softmax(z), z, "softmax on a (3, 2) batch")
    e = np.exp([1.0, 2.0, 3.0])
    assert_close(got[:, 0], e / e.sum(), "softmax: first column", 1e-12)
    assert_close(got[:, 1], [1 / 3] * 3, "softmax: a column of equal scores", 1e-12)


@pytest.mark.item("softmax")
def test_softmax_large_scores(student):
    z = np.array([[1000.0], [999.0]])
    result = student.call("softmax", z)
    got = float_result(result.value, z, "softmax([[1000], [999]])")
    assert_close(got, [[1 / (1 + np.exp(-1.0))], [1 / (1 + np.exp(1.0))]], "softmax([[1000], [999]])", 1e-12)
    assert_no_runtime_warning(result, "softmax([[1000], [999]])")


@pytest.mark.item("numerical_gradient")
def test_numerical_gradient_of_a_cubic(student):
    x = np.array([1.0, -2.0, 0.5])
    c = np.ones(3)
    result = student.call("numerical_gradient", FunctionSpec("cubic", c=c), x, return_args=True)
    got = float_result(result.value, x, "numerical_gradient of sum(x**3)")
    assert_close(got, 3 * x ** 2, "numerical_gradient of sum(x**3) at [1, -2, 0.5]", 1e-7)
    assert np.array_equal(result.args[1], x), "numerical_gradient: x must hold its original values afterwards"

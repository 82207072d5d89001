"""The grading helpers and tolerances, against independent numbers.

The tolerance must separate a correct derivative from a near miss: central
differences pass at 1e-7, forward differences fail. Known values come from the
course's computational graph f = 1 + exp(w1 x + w0) at x = 1, w1 = 2, w0 = 1.
"""
import importlib.util
import math

import numpy as np
import pytest

from autograder.checks import (assert_close, assert_exact, assert_unchanged, central_difference,
                               float_result, relative_error)
from mutants_hw1 import REFERENCE

RTOL = 1e-7


def load_reference():
    spec = importlib.util.spec_from_file_location("reference_activations", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_central_difference_is_within_tolerance_and_forward_is_not():
    z = np.linspace(-5, 5, 41) + 0.013
    exact = sigmoid(z) * (1 - sigmoid(z))
    h = 1e-5
    assert_close(central_difference(sigmoid, z, h), exact, "central", RTOL)
    forward = (sigmoid(z + h) - sigmoid(z)) / h
    with pytest.raises(AssertionError, match="relative error"):
        assert_close(forward, exact, "forward", RTOL)


def test_computational_graph_numbers_by_hand():
    ref = load_reference()
    graph = lambda v: 1 + math.exp(v[1] * v[0] + v[2])   # v = (x, w1, w0)
    v = np.array([1.0, 2.0, 1.0])
    e3 = math.exp(3.0)                                     # 20.085536923187668
    assert graph(v) == pytest.approx(21.085536923187668, rel=1e-15)
    grad = ref.numerical_gradient(graph, v)
    assert_close(grad, [2 * e3, e3, e3], "graph gradient", 1e-9)
    assert np.array_equal(v, [1.0, 2.0, 1.0])


def test_float_result_checks_type_shape_and_dtype():
    like = np.zeros((3, 2))
    assert float_result(np.ones((3, 2)), like, "x").shape == (3, 2)
    for bad, words in [([[1.0] * 2] * 3, "got a list"), (np.ones((2, 3)), "expected shape"),
                       (np.ones((3, 2), dtype=int), "floating-point"),
                       (np.ones((3, 2), dtype=np.float32), "float64 input")]:
        with pytest.raises(AssertionError, match=words):
            float_result(bad, like, "x")
    assert float_result(0.5, 0.0, "scalar") == 0.5
    with pytest.raises(AssertionError):
        float_result(True, 0.0, "scalar")


def test_nan_never_passes():
    with pytest.raises(AssertionError, match="nan or inf"):
        assert_close([np.nan], [np.nan], "nan", 1.0)
    assert relative_error([np.inf], [1.0]) == float("inf")


def test_exact_and_unchanged_messages():
    with pytest.raises(AssertionError, match="z = 0 gives 1"):
        assert_exact([1.0, 1.0], [0.0, 1.0], [0.0, 2.0], "relu_prime")
    with pytest.raises(AssertionError, match="modified"):
        assert_unchanged(np.ones(3), np.zeros(3), "f")


def test_reference_softmax_is_exact_at_1000_without_warnings():
    ref = load_reference()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = ref.softmax(np.array([[1000.0], [1000.0], [-1000.0]]))
    assert np.allclose(p.ravel(), [0.5, 0.5, 0.0], rtol=0, atol=1e-300)

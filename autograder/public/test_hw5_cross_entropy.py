"""Public checks for hw5_cross_entropy: what ``python -m autograder check`` runs.

They use a few fixed inputs with values you can work out by hand. The hidden
tests that give the grade check much more (random batches, square batches,
logits at |z| = 1000, outputs of exactly 0 and 1, finite differences to 1e-7),
so passing these is a start.
"""
import numbers

import numpy as np
import pytest

from autograder.checks import assert_close, assert_no_runtime_warning, cost_result, float_result

A = np.array([[0.9, 0.2, 0.5]])   # three examples of one sigmoid output
Y = np.array([[1.0, 0.0, 1.0]])


@pytest.mark.item("binary_cross_entropy")
def test_binary_cross_entropy_by_hand(student):
    got = cost_result(student.binary_cross_entropy(A, Y), "binary_cross_entropy")
    expected = -(np.log(0.9) + np.log(0.8) + np.log(0.5)) / 3
    assert abs(got - expected) < 1e-12, f"binary_cross_entropy of [[0.9, 0.2, 0.5]] against [[1, 0, 1]] " \
                                        f"should be {expected:.6f} (the mean over 3 examples), got {got:.6f}"


@pytest.mark.item("binary_cross_entropy")
def test_binary_cross_entropy_certain_and_right_is_free(student):
    result = student.call("binary_cross_entropy", np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]]))
    got = cost_result(result.value, "binary_cross_entropy([[1, 0]], [[1, 0]])")
    assert got == 0.0, f"outputs 1 and 0 with targets 1 and 0 cost nothing, got {got}"
    assert_no_runtime_warning(result, "binary_cross_entropy([[1, 0]], [[1, 0]])")


@pytest.mark.item("categorical_cross_entropy")
def test_categorical_cross_entropy_by_hand(student):
    a = np.array([[0.7, 0.1], [0.2, 0.0], [0.1, 0.9]])
    y = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    result = student.call("categorical_cross_entropy", a, y)
    got = cost_result(result.value, "categorical_cross_entropy")
    expected = -(np.log(0.7) + np.log(0.9)) / 2
    assert abs(got - expected) < 1e-12, f"categorical_cross_entropy should be {expected:.6f}, got {got:.6f}"
    assert_no_runtime_warning(result, "categorical_cross_entropy with an output of 0 whose target is 0")


@pytest.mark.item("log_softmax")
def test_log_softmax_small_and_large(student):
    z = np.array([[0.0, 1000.0], [0.0, 0.0]])
    result = student.call("log_softmax", z)
    got = float_result(result.value, z, "log_softmax([[0, 1000], [0, 0]])")
    assert_close(got, [[-np.log(2.0), 0.0], [-np.log(2.0), -1000.0]], "log_softmax([[0, 1000], [0, 0]])", 1e-12)
    assert_no_runtime_warning(result, "log_softmax([[0, 1000], [0, 0]])")


@pytest.mark.item("softmax_cross_entropy")
def test_softmax_cross_entropy_by_hand(student):
    z = np.array([[0.0, 1000.0], [0.0, 0.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    result = student.call("softmax_cross_entropy", z, y)
    got = cost_result(result.value, "softmax_cross_entropy")
    expected = (np.log(2.0) + 1000.0) / 2
    assert abs(got - expected) < 1e-9, f"softmax_cross_entropy([[0, 1000], [0, 0]], [[1, 0], [0, 1]]) should be " \
                                       f"(ln 2 + 1000) / 2 = {expected:.6f}, got {got}"
    assert_no_runtime_warning(result, "softmax_cross_entropy with a logit of 1000")


@pytest.mark.item("softmax_cross_entropy_delta")
def test_delta_is_a_minus_y(student):
    z = np.array([[0.0, 2.0], [0.0, 0.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    got = float_result(student.softmax_cross_entropy_delta(z, y), z, "softmax_cross_entropy_delta")
    s = 1 / (1 + np.exp(-2.0))
    assert_close(got, [[-0.5, s], [0.5, -s]], "softmax_cross_entropy_delta: softmax(z) - y", 1e-12)


@pytest.mark.item("l2")
def test_l2_by_hand(student):
    w = [np.array([[1.0, 2.0]]), np.array([[3.0]])]
    got = cost_result(student.l2_cost(0.5, w, 2.0, 10), "l2_cost")
    assert abs(got - (0.5 + 2.0 / 20 * 14)) < 1e-12, f"l2_cost(0.5, weights, 2, 10) should be 1.9, got {got}"
    step = float_result(student.weight_decay_update(np.array([[1.0]]), np.array([[0.5]]), 0.1, 2.0, 10),
                        np.zeros((1, 1)), "weight_decay_update")
    assert_close(step, [[0.98 - 0.05]], "weight_decay_update(1, 0.5, eta=0.1, lmbda=2, n=10)", 1e-12)


@pytest.mark.item("dropout")
def test_dropout_by_hand(student):
    u = np.array([[0.1, 0.6], [0.5, 0.9]])
    mask = float_result(student.dropout_mask(u, 0.5), u, "dropout_mask(u, 0.5)")
    assert_close(mask, [[2.0, 0.0], [0.0, 0.0]], "dropout_mask(u, keep_prob=0.5): 1/keep_prob where u < keep_prob",
                 1e-12)
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    test_time = float_result(student.dropout_forward(a, mask, train=False), a, "dropout_forward(a, mask, train=False)")
    assert_close(test_time, a, "dropout_forward at test time returns a unchanged", 1e-15)


@pytest.mark.item("early_stopping")
def test_early_stopping_by_hand(student):
    got = student.best_epoch([0.80, 0.85, 0.84, 0.83, 0.90], 2)
    two_ints = isinstance(got, (tuple, list)) and all(
        isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in got)
    assert two_ints and list(got) == [1, 3], ("best_epoch([0.80, 0.85, 0.84, 0.83, 0.90], patience=2) should stop at epoch 3 "
                                  f"and keep epoch 1: (1, 3), got {got!r}")

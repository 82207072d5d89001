"""Public checks for hw3_optimizers: what ``python -m autograder check hw3_optimizers`` runs.

Each check takes one or two steps from numbers you can follow by hand. The
hidden tests run twenty steps of every option combination on several arrays
at once and compare with torch.optim to a relative 1e-10, so passing these is
a start.
"""
import numpy as np
import pytest

from autograder.checks import assert_close
from autograder.proxy import StudentError

P0 = np.array([1.0, -2.0])
G = np.array([0.5, -1.0])


def run(student, kind, grads, **options):
    ref = student.store(P0.copy())
    opt = student.new(kind, [ref], **options)
    for g in grads:
        opt.step([g])
    return student.fetch(ref)


@pytest.mark.item("sgd")
def test_one_sgd_step(student):
    got = run(student, "SGD", [G], lr=0.1)
    assert_close(got, P0 - 0.1 * G, "SGD(lr=0.1): p - lr * g", 1e-12)


@pytest.mark.item("sgd_momentum")
def test_momentum_starts_with_the_gradient(student):
    # step 1: b = g; step 2: b = 0.9 g + g = 1.9 g. Total: p - lr * 2.9 g
    got = run(student, "SGD", [G, G], lr=0.1, momentum=0.9)
    assert_close(got, P0 - 0.1 * 2.9 * G, "SGD(lr=0.1, momentum=0.9), two equal steps", 1e-12)


@pytest.mark.item("adagrad")
def test_first_adagrad_step_is_lr_times_the_sign(student):
    got = run(student, "Adagrad", [G], lr=0.1)
    assert_close(got, P0 - 0.1 * G / (np.abs(G) + 1e-10), "Adagrad(lr=0.1), one step", 1e-12)


@pytest.mark.item("rmsprop")
def test_first_rmsprop_step(student):
    got = run(student, "RMSprop", [G], lr=0.01)
    assert_close(got, P0 - 0.01 * G / (np.sqrt(0.01) * np.abs(G) + 1e-8), "RMSprop(lr=0.01), one step", 1e-12)


@pytest.mark.item("adam")
def test_first_adam_step_is_lr_times_the_sign(student):
    # after bias correction m_hat = g and v_hat = g^2: the first step is lr * g / (|g| + eps)
    got = run(student, "Adam", [G], lr=0.01)
    assert_close(got, P0 - 0.01 * G / (np.abs(G) + 1e-8), "Adam(lr=0.01), one step", 1e-12)


@pytest.mark.item("in_place_and_state")
def test_the_callers_array_changes(student):
    got = run(student, "SGD", [G], lr=1.0)
    assert not np.array_equal(got, P0), "step() left the caller's array unchanged: update it in place (p -= ...)"


@pytest.mark.item("bad_arguments")
def test_negative_learning_rate_is_refused(student):
    with pytest.raises(StudentError, match="raised ValueError"):
        run(student, "Adam", [], lr=-1.0)

"""Objects and in-place arrays living in the worker (what later assignments' optimizers and networks need)."""
import numpy as np
import pytest

from autograder.proxy import Student, StudentError, Worker
from autograder.sandbox import Limits

TOY = b'''
import numpy as np

class Momentum:
    def __init__(self, params, lr=0.1):
        if lr < 0:
            raise ValueError("negative lr")
        self.params, self.lr, self.velocity = params, lr, [np.zeros_like(p) for p in params]

    def step(self, grads):
        for p, v, g in zip(self.params, self.velocity, grads):
            v *= 0.9
            v += g
            p -= self.lr * v
'''


@pytest.fixture
def student():
    worker = Worker({"toy.py": TOY}, Limits(call_timeout_s=10))
    yield Student(lambda: worker, "toy")
    worker.close()


def test_in_place_updates_are_seen_through_stored_arrays(student):
    w = student.store(np.ones((2, 2)))
    b = student.store(np.zeros(3))
    opt = student.new("Momentum", [w, b], lr=0.5)
    opt.step([np.ones((2, 2)), np.full(3, 2.0)])
    opt.step([np.ones((2, 2)), np.full(3, 2.0)])
    assert np.allclose(student.fetch(w), 1 - 0.5 * (1 + 1.9))
    assert np.allclose(student.fetch(b), -0.5 * (2 + 3.8))
    velocity = opt.get("velocity")
    assert isinstance(velocity, list) and np.allclose(velocity[1], 3.8)


def test_attributes_can_be_replaced(student):
    opt = student.new("Momentum", [student.store(np.ones(2))])
    opt.set("lr", 0.25)
    assert opt.get("lr") == 0.25


def test_exceptions_in_constructors_are_student_errors(student):
    with pytest.raises(StudentError, match="ValueError: negative lr"):
        student.new("Momentum", [], lr=-1.0)

"""Objects and in-place arrays living in the worker (what later assignments' optimizers and networks need)."""
import numpy as np
import pytest

from autograder.proxy import Student, StudentError, Worker
from autograder.limits import Limits

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


def test_a_stored_data_set_is_picked_from_by_index(student):
    X = np.arange(12.0).reshape(3, 4)
    Y = np.eye(4)[:2]
    from autograder.wire_datasets import ColumnPairs, Pick
    data = student.store(ColumnPairs(X, Y))
    holder = student.new("Momentum", [np.zeros(1)])
    holder.set("picked", Pick(data, [3, 0]))
    picked = holder.get("picked")
    assert len(picked) == 2 and np.array_equal(picked[0][0], X[:, 3:4]) and np.array_equal(picked[1][1], Y[:, 0:1])
    assert picked[0][0].dtype == np.float64 and picked[0][1].dtype == np.float64
    with pytest.raises(StudentError, match="out of range"):
        holder.set("picked", Pick(data, [4]))


def test_bytes_travel_and_arrive_divided_exactly(student):
    from autograder.wire_datasets import ColumnPairs
    pixels = np.arange(256, dtype=np.uint8).reshape(2, 128)
    data = student.store(ColumnPairs(pixels, np.ones((1, 128), np.uint8), x_divisor=255.0))
    first = student.fetch(data)[5][0]
    assert np.array_equal(first, pixels[:, 5:6] / 255.0)


def test_many_calls_in_one_request_run_in_order(student):
    params = [np.ones(2)]
    opt = student.new("Momentum", params, lr=0.5)
    opt.call_many("step", [(([np.ones(2)],), {})] * 3)
    # v: 1, 1.9, 2.71; p: 1 - 0.5 * (1 + 1.9 + 2.71)
    assert np.allclose(opt.get("params")[0], 1 - 0.5 * 5.61)


def test_a_stopped_worker_cannot_block_the_grader_on_a_large_request():
    source = b"import os, signal, threading, time\n" \
             b"def stop_soon():\n    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGSTOP)).start()\n"
    worker = Worker({"stopper.py": source}, Limits(call_timeout_s=2))
    try:
        student = Student(lambda: worker, "stopper")
        student.stop_soon()
        import time
        time.sleep(0.5)
        start = time.monotonic()
        with pytest.raises(StudentError, match="stopped reading|no answer"):
            student.store(np.zeros(2_000_000))  # 16 MB: far more than a pipe holds
        assert time.monotonic() - start < 5
    finally:
        worker.close()

"""The grader's side of the worker: one failure path, typed student errors, checked replies, feedback text."""
import os

import numpy as np
import pytest

from autograder import wire
from autograder.limits import Limits
from autograder.proxy import MissingNameError, Student, StudentError, Worker, _describe_call, check_reply
from autograder.wire_datasets import FixedShuffles, Pick

TOY = {"toy.py": b"def double(x):\n    return 2 * x\n\n\ndef uses_a_missing_helper(x):\n    return helper(x)\n"}
LIMITS = Limits(call_timeout_s=5.0, total_s=60.0)


@pytest.fixture
def worker():
    running = Worker(TOY, LIMITS)
    yield running
    running.close()


def test_a_call_goes_to_the_worker_and_back(worker):
    assert Student(lambda: worker, "toy").double(21) == 42


def test_stop_is_the_one_failure_path_every_later_request_repeats(worker):
    error = worker.stop("it had to go", timed_out=True)
    assert isinstance(error, StudentError) and str(error) == "it had to go"
    assert worker.dead_reason == "it had to go" and worker.timed_out
    assert worker.process.poll() is not None  # the process is gone
    with pytest.raises(StudentError, match="^it had to go$"):
        Student(lambda: worker, "toy").double(1)


def test_a_missing_function_is_its_own_kind_of_error_with_the_usual_message(worker):
    with pytest.raises(MissingNameError) as caught:
        Student(lambda: worker, "toy").relu(1.0)
    assert caught.value.name == "relu"
    assert str(caught.value) == "relu(1) raised AttributeError: module 'toy' has no attribute 'relu'"
    assert worker.dead_reason is None  # a missing name costs the check, not the worker


def test_an_error_inside_the_students_function_is_a_plain_student_error(worker):
    with pytest.raises(StudentError) as caught:
        Student(lambda: worker, "toy").uses_a_missing_helper(1.0)
    assert type(caught.value) is StudentError
    assert str(caught.value) == ("uses_a_missing_helper(1) raised NameError: name 'helper' is not defined "
                                 "(toy.py, line 6)")


def test_a_submission_that_fails_to_import_leaves_nothing_behind(monkeypatch):
    made = []
    real_init = Worker.__init__

    def remember(self, *args, **kwargs):
        made.append(self)
        real_init(self, *args, **kwargs)
    monkeypatch.setattr(Worker, "__init__", remember)
    with pytest.raises(StudentError, match=r"^importing your module failed: ZeroDivisionError: division by zero "
                                           r"\(broken.py, line 1\)$"):
        Worker({"broken.py": b"1 / 0\n"}, LIMITS)
    assert made[0].process.poll() is not None
    assert not made[0].scratch.root.exists()


# ---------------------------------------------------------------- the schema every reply must have
GOOD_REPLY = {"ok": True, "value": {"t": "none"}, "warnings": [{"category": "RuntimeWarning", "message": "m"}],
              "digest": [1.5], "args": []}


def test_a_reply_of_the_workers_shape_passes():
    check_reply(GOOD_REPLY)
    check_reply({"ok": False, "error": "e", "where": "", "missing": "relu"})


@pytest.mark.parametrize("reply", [
    {"value": {"t": "none"}},                                 # no ok
    {**GOOD_REPLY, "score": 100},                            # a field the worker never sends
    {**GOOD_REPLY, "ok": 1},                                 # a field of another type
    {**GOOD_REPLY, "warnings": "none at all"},
    {**GOOD_REPLY, "warnings": [{"category": "W"}]},          # a warning without its message
    {**GOOD_REPLY, "digest": [1]},                           # an int where floats are due
    {"ok": False, "missing": ["relu"]},
])
def test_replies_of_another_shape_are_refused(reply):
    with pytest.raises(wire.WireError):
        check_reply(reply)


# ---------------------------------------------------------------- how a call reads in feedback
@pytest.mark.parametrize("args, expected", [
    ((np.zeros((3, 2)),), "relu(<array of shape (3, 2)>)"),
    ((0.5, np.float32(2)), "relu(0.5, 2)"),
    (([1, 2, 3],), "relu(<list of 3>)"),
    ((wire.FunctionSpec("cubic"),), "relu(f)"),
    ((Pick(wire.Ref(1), [4, 5, 6]),), "relu(<3 examples>)"),
    ((wire.ArrayModule("cupy"),), "relu(cupy)"),
    ((wire.Ref(4),), "relu(<data sent earlier>)"),
    ((wire.OnDevice(np.zeros(4), "numpy"),), "relu(<array of shape (4,)>)"),
    ((FixedShuffles("numpy", [[0, 1]]),), "relu(rng)"),
])
def test_arguments_are_described_by_their_wire_type(args, expected):
    assert _describe_call("relu", args, {}) == expected


def test_a_long_description_is_cut_at_120_characters():
    text = _describe_call("relu", [float(i) for i in range(60)], {"eta": 0.1})
    assert len(text) == 120 and text.endswith("...")


def test_a_shared_array_reads_as_an_array(tmp_path):
    shared = wire.SharedArray(str(tmp_path), np.zeros((2, 5)))
    assert _describe_call("step", [shared], {}) == "step(<array of shape (2, 5)>)"
    assert os.listdir(tmp_path) == [shared.name]

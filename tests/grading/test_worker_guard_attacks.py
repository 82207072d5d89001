"""Attacks on the worker's log and shared memory by a student who has read worker.py and worker_guard.py.

Each submission is a reference solution with a few lines added that once earned marks it did not
earn, or stopped or held grading: a copy event raised by hand, the hook's frame reached through a
traceback, copies through functions that were not counted, the shared folder's names taken first,
a reply that expands in the grader, and a flooded log. Each test says what the grader does now.
"""
import fcntl
import os
import threading
import types

import numpy as np
import pytest

from autograder import proxy, wire
from helpers import GPU_STAND_IN, REPO, grade_folder, item_scores, write_submission

HW1_REFERENCE = (REPO / "solutions" / "hw1_activations" / "activations.py").read_text()
HW3_REFERENCE = (REPO / "solutions" / "hw3_optimizers" / "optimizers.py").read_text()
HW4_REFERENCE = (REPO / "solutions" / "hw4_gpu" / "gpu_network.py").read_text()


def train_epoch_that_first_runs(code):
    """The hw4 reference whose train_epoch (a counted call) first runs ``code`` (self, cupy, numpy in scope)."""
    marker = "    def train_epoch(self, X, Y, mini_batch_size, eta, rng):"
    head, tail = HW4_REFERENCE.split(marker, 1)
    doc_end = tail.index('"""', tail.index('"""') + 3) + 3
    body = "".join(f"        {line}\n" for line in code.strip().splitlines())
    return head + marker + tail[:doc_end] + "\n        import sys\n" + body + tail[doc_end:]


def no_host_transfers(tmp_path, name, source):
    folder = write_submission(tmp_path, name, {"gpu_network.py": source})
    result, report = grade_folder("hw4_gpu", folder, "--item", "no_host_transfers", env=GPU_STAND_IN)
    assert result.returncode == 0, result.stderr
    return next(i for i in report["items"] if i["name"] == "no_host_transfers")


# A copy event raised by hand, naming the original ndarray.get / ndarray.set with a made-up kind and a device
# array first: the hook counts it by its own table (what the event names as a kind is ignored).
FORGED_COPY_EVENT = '''
def forged(name, first, *args):
    box = []
    sys.audit("nn_course.copy", ((id(cupy.ndarray), name), "to_device_unless_on_device"), box, first, args, {})
    return box[0][1]
self._spy = [forged("get", w) for w in self.weights]            # device -> host, 2 copies
forged("set", cupy.empty(3, dtype=numpy.float64), numpy.zeros(3))  # host -> device
'''


def test_a_copy_event_raised_by_the_student_is_counted(tmp_path):
    item = no_host_transfers(tmp_path, "forged_copy_event", train_epoch_that_first_runs(FORGED_COPY_EVENT))
    assert item["score"] == 0, item


# A malformed copy event, hoping the hook raises so that the traceback hands over the hook's frame and its
# counters: honest, counted copies, then the counters set back to 0. The hook never raises; it logs tampering.
HOOK_FRAME_FROM_A_TRACEBACK = '''
self._spy = [cupy.asnumpy(w) for w in self.weights]   # 2 counted copies to the host
self._spy_back = cupy.asarray(numpy.zeros(1))          # 1 counted copy to the device
try:
    sys.audit("nn_course.copy")
except TypeError as exc:
    tb = exc.__traceback__
    while tb is not None and "state" not in tb.tb_frame.f_locals:
        tb = tb.tb_next
    tb.tb_frame.f_locals["state"].update(to_host=0, to_device=0)
'''


def test_the_hooks_frame_cannot_be_reached_through_a_traceback(tmp_path):
    item = no_host_transfers(tmp_path, "hook_frame", train_epoch_that_first_runs(HOOK_FRAME_FROM_A_TRACEBACK))
    assert item["score"] == 0, item


# CuPy copies host data to the device in more places than cupy.asarray and cupy.array: cupy.asanyarray
# (which calls cupy._core.array directly in CuPy too) and assigning a host array into a device array.
# Both are counted.
UNWRAPPED_HOST_TO_DEVICE = '''
for _ in range(20):
    self._spy_back = cupy.asanyarray(numpy.zeros(3))
    device = cupy.empty(3, dtype=numpy.float64)
    device[...] = numpy.ones(3)
'''


def test_every_copy_to_the_device_is_counted(tmp_path):
    item = no_host_transfers(tmp_path, "asanyarray", train_epoch_that_first_runs(UNWRAPPED_HOST_TO_DEVICE))
    assert item["score"] < item["max_score"], item


# hw3: a module that tries to take the shared folder's next names (1, 2, 3, ...) before the grader creates
# its files there with O_EXCL, so that share() would fail and grading stop.
TAKES_THE_SHARED_NAMES = HW3_REFERENCE + '''

import os as _os
for _n in range(1, 200):
    try:
        _os.close(_os.open(_os.path.join(_os.environ["AUTOGRADER_SHARED_DIR"], str(_n)), _os.O_CREAT | _os.O_WRONLY))
    except OSError:
        pass
'''


def test_files_made_in_the_shared_folder_do_not_stop_grading(tmp_path):
    # The folder is read-only to the worker and the grader's names cannot be guessed: the attempt
    # fails, and the module (the reference) is graded as it deserves.
    folder = write_submission(tmp_path, "shared_names", {"optimizers.py": TAKES_THE_SHARED_NAMES})
    result, report = grade_folder("hw3_optimizers", folder, "--item", "sgd")
    assert result.returncode == 0, result.stderr
    assert item_scores(report)["sgd"] == 2, report


def test_a_reply_cannot_hold_column_pairs():
    # Student code returns sys.modules["wire"].ColumnPairs(np.zeros((0, N)), np.zeros((0, N))): the reply
    # is a few hundred bytes whatever N is, and the grader (no time or memory limit) builds N pairs of
    # arrays (10**9 columns: hours and hundreds of GB). Kept small here; the grader must refuse the tag.
    columns = 200_000
    reply = wire.encode(wire.ColumnPairs(np.zeros((0, columns)), np.zeros((0, columns))))
    assert len(wire.dumps(reply)) < 500
    with pytest.raises(wire.WireError):
        wire.decode(reply)  # as Student._request decodes a reply's value


def test_a_flooded_log_pipe_does_not_hold_the_grader():
    # What student code does in the worker: int(os.environ["AUTOGRADER_LOG_FD"]), set it blocking,
    # F_SETPIPE_SZ to 1 MiB, then write 1 MiB blocks forever (a sleeping writer: little CPU, so the
    # worker's CPU limit is far away). A grader that read until the pipe is empty would wait as long.
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    fcntl.fcntl(write_end, 1031, 1 << 20)  # F_SETPIPE_SZ
    stop, flowing = threading.Event(), threading.Event()

    def flood():
        block = b"\0" * (1 << 20)
        while not stop.is_set():
            try:
                os.write(write_end, block)
            except OSError:
                return
            flowing.set()

    fake_worker = types.SimpleNamespace(_log_read=read_end, _log_bytes=b"", _log_key=bytes(32),
                                        _log_sequence=1, log_problem=None)
    writer = threading.Thread(target=flood, daemon=True)
    reader = threading.Thread(target=proxy.Worker._read_log, args=(fake_worker,), daemon=True)
    writer.start()
    assert flowing.wait(timeout=30)  # the pipe is full before the grader reads
    reader.start()
    reader.join(timeout=3.0)
    still_reading = reader.is_alive()
    stop.set()
    os.close(write_end)  # the reader sees the end of the pipe and returns
    reader.join(timeout=30)
    writer.join(timeout=30)
    if fake_worker._log_read is not None:
        os.close(read_end)
    assert not still_reading, "the grader was still reading the worker's log after 3 s"
    assert "flooded" in fake_worker.log_problem  # and its counts are not trusted from then on

"""Holes a hostile student can use against the autograder as it stands, each shown by a test that fails today.

Every test states what the grader should do and is marked ``xfail(strict=True)``: it fails
now (the hole is open), and the suite turns red as soon as a fix closes the hole, so that
the mark is removed with the fix. The submissions are the reference solutions with a few
lines added; each one would earn marks it did not earn, or stop or hang grading.
"""
import fcntl
import os
import threading
import types

import numpy as np
import pytest

from autograder import proxy, wire
from conftest import GPU_STAND_IN, REPO, grade_folder, item_scores, write_submission

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


# The hook trusts the kind named in a copy event: a student raises the event himself, naming the original
# ndarray.get / ndarray.set but the kind "to_device_unless_on_device", with a device array first: uncounted.
FORGED_COPY_EVENT = '''
def forged(name, first, *args):
    box = []
    sys.audit("nn_course.copy", ((id(cupy.ndarray), name), "to_device_unless_on_device"), box, first, args, {})
    return box[0][1]
self._spy = [forged("get", w) for w in self.weights]            # device -> host, 2 copies
forged("set", cupy.empty(3, dtype=numpy.float64), numpy.zeros(3))  # host -> device
'''


@pytest.mark.xfail(strict=True, reason="worker_guard's hook takes the copy kind from the event's arguments, "
                                       "so a copy event raised by student code copies without being counted")
def test_a_copy_event_raised_by_the_student_is_counted(tmp_path):
    item = no_host_transfers(tmp_path, "forged_copy_event", train_epoch_that_first_runs(FORGED_COPY_EVENT))
    assert item["score"] == 0, item


# A malformed copy event makes the hook raise; the traceback holds the hook's frame, whose locals
# include its counters (a plain dict): honest, counted copies, then the counters set back to 0.
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


@pytest.mark.xfail(strict=True, reason="an exception raised inside the audit hook carries the hook's frame; "
                                       "reading tb_frame is logged only while a copy runs, so the counters "
                                       "can be reset")
def test_the_hooks_frame_cannot_be_reached_through_a_traceback(tmp_path):
    item = no_host_transfers(tmp_path, "hook_frame", train_epoch_that_first_runs(HOOK_FRAME_FROM_A_TRACEBACK))
    assert item["score"] == 0, item


# CuPy copies host data to the device in more places than cupy.asarray and cupy.array: cupy.asanyarray
# (which calls cupy._core.array directly in CuPy too) and assigning a host array into a device array.
UNWRAPPED_HOST_TO_DEVICE = '''
for _ in range(20):
    self._spy_back = cupy.asanyarray(numpy.zeros(3))
    device = cupy.empty(3, dtype=numpy.float64)
    device[...] = numpy.ones(3)
'''


@pytest.mark.xfail(strict=True, reason="cupy.asanyarray and device[...] = host copy to the device uncounted")
def test_every_copy_to_the_device_is_counted(tmp_path):
    item = no_host_transfers(tmp_path, "asanyarray", train_epoch_that_first_runs(UNWRAPPED_HOST_TO_DEVICE))
    assert item["score"] < item["max_score"], item


# hw3: the worker can write the shared folder, and the grader creates its next files there with O_EXCL
# under predictable names (1, 2, 3, ...): taking the names first makes share() raise FileExistsError,
# which the plugin counts as a grader bug, so grading stops with no report.
TAKES_THE_SHARED_NAMES = HW3_REFERENCE + '''

import os as _os
for _n in range(1, 200):
    try:
        _os.close(_os.open(_os.path.join(_os.environ["AUTOGRADER_SHARED_DIR"], str(_n)), _os.O_CREAT | _os.O_WRONLY))
    except OSError:
        pass
'''


@pytest.mark.xfail(strict=True, reason="a module that pre-creates /shared/<n> stops grading (FileExistsError "
                                       "in Worker.share is not a StudentError)")
def test_files_made_in_the_shared_folder_do_not_stop_grading(tmp_path):
    folder = write_submission(tmp_path, "shared_names", {"optimizers.py": TAKES_THE_SHARED_NAMES})
    result, report = grade_folder("hw3_optimizers", folder, "--item", "sgd")
    assert result.returncode == 0, result.stderr
    assert item_scores(report)["sgd"] == 0, report


@pytest.mark.xfail(strict=True, reason="wire.decode expands a 'pairs' value from the worker into one pair of "
                                       "arrays per column, and a 0-row array of 10**9 columns is 400 bytes")
def test_a_reply_cannot_hold_column_pairs():
    # Student code returns sys.modules["wire"].ColumnPairs(np.zeros((0, N)), np.zeros((0, N))): the reply
    # is a few hundred bytes whatever N is, and the grader (no time or memory limit) builds N pairs of
    # arrays (10**9 columns: hours and hundreds of GB). Kept small here; the grader must refuse the tag.
    columns = 200_000
    reply = wire.encode(wire.ColumnPairs(np.zeros((0, columns)), np.zeros((0, columns))))
    assert len(wire.dumps(reply)) < 500
    with pytest.raises(wire.WireError):
        wire.decode(reply)  # as Student._request decodes a reply's value


@pytest.mark.xfail(strict=True, reason="Worker._read_log reads until the log pipe is empty, with no time or "
                                       "size bound; a worker thread that keeps the pipe full holds the grader")
def test_a_flooded_log_pipe_does_not_hold_the_grader():
    # What student code does in the worker: int(os.environ["AUTOGRADER_LOG_FD"]), set it blocking,
    # F_SETPIPE_SZ to 1 MiB, then write 1 MiB blocks forever (a sleeping writer: little CPU, so the
    # worker's CPU limit is far away). End to end, grading one hw1 item waits as long as the flood lasts.
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    fcntl.fcntl(write_end, 1031, 1 << 20)  # F_SETPIPE_SZ
    stop = threading.Event()

    def flood():
        block = b"\0" * (1 << 20)
        while not stop.is_set():
            try:
                os.write(write_end, block)
            except OSError:
                return

    fake_worker = types.SimpleNamespace(_log_read=read_end, _log_bytes=b"", _log_key=bytes(32),
                                        _log_sequence=1, log_problem=None)
    writer = threading.Thread(target=flood, daemon=True)
    reader = threading.Thread(target=proxy.Worker._read_log, args=(fake_worker,), daemon=True)
    writer.start()
    reader.start()
    reader.join(timeout=3.0)
    still_reading = reader.is_alive()
    stop.set()
    os.close(write_end)  # the reader sees the end of the pipe and returns
    reader.join(timeout=30)
    writer.join(timeout=30)
    os.close(read_end)
    assert not still_reading, "the grader was still reading the worker's log after 3 s"

"""Is there a GPU to grade on?

The question is put to a worker that runs no student code, started exactly as
the student's workers are (same sandbox, same limits), so a GPU that CUDA
cannot reach from inside the sandbox counts as no GPU, with the reason. The
probe never raises: a machine where ``import cupy`` works but the first CUDA
call fails (no driver, no libnvrtc, old driver) gets available=False.
"""
import contextlib
import fcntl
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

from .proxy import Student, StudentError, Worker
from .sandbox import cupy_stand_in

_probes = {}


def probe(limits):
    """{"available": bool, "reason": str, "device": str, "stand_in": bool}, remembered per process."""
    key = cupy_stand_in()
    if key not in _probes:
        worker = None
        try:
            worker = Worker({}, replace(limits, gpu=True, call_timeout_s=max(limits.call_timeout_s, 120.0)))
            result = Student(lambda: worker, None).gpu_probe()
        except StudentError as exc:
            result = {"available": False, "reason": f"the GPU probe failed: {exc}", "device": ""}
        finally:
            if worker is not None:
                worker.close()
        result.setdefault("stand_in", False)
        _probes[key] = result
    return dict(_probes[key])


def not_graded_reason(status):
    return (f"no usable CUDA GPU on this grading machine ({status['reason']}); "
            f"it will be graded where one is")


def _visible_devices():
    """The GPUs this process may use, for the lock's name: one lock per device set, so that
    Slurm tasks on different GPUs of one node (each with its own CUDA_VISIBLE_DEVICES) do not
    wait for each other, while gradings sharing a GPU still take turns."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return "all"
    return re.sub(r"[^A-Za-z0-9,-]", "_", visible)[:200] or "none"


@contextlib.contextmanager
def exclusive_timing(waiting=contextlib.nullcontext):
    """Hold the machine's GPU timing lock: gradings running side by side (grade-all --jobs N)
    time their GPU epochs one after another instead of on a shared, busy device.

    ``waiting()`` wraps the wait for the lock (the grader passes one that does not charge
    the wait to the submission's time budget).
    """
    path = Path(tempfile.gettempdir()) / f"nn-course-gpu-timing-{os.getuid()}-{_visible_devices()}.lock"
    with open(path, "a") as lock:
        with waiting():
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

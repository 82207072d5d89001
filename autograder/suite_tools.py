"""Talking to the submission from a suite: calls whose failures become feedback, arrays the student
updates in place, the course's own code run in a worker of its own for timing, and the GPU a worker can use.

Checks of the values that come back are in checks.py (and network_checks.py for networks); these
helpers are about the calls. Like every helper of the suites, each failure is an AssertionError whose
one sentence is the student's feedback. The fixtures here (gpu_status, on_gpu) are registered in a suite
by importing them into it by name.
"""
import numpy as np
import pytest

from . import gpu
from .checks import assert_unchanged, describe, float_result
from .limits import Limits
from .proxy import MissingNameError, Student, Worker
from .wire import WireError


def call_method(target, name, *args, missing, **kwargs):
    """``target.call(name, *args, **kwargs)`` on a ``Student`` or a ``RemoteObject`` (say a Network in the
    worker), returning the proxy's Result. A function or method the submission lacks fails the check with
    the sentence ``missing``, in which ``{name}`` stands for the name ("Network has no method {name}: ...")."""
    try:
        return target.call(name, *args, **kwargs)
    except MissingNameError:
        raise AssertionError(missing.replace("{name}", name)) from None


def call_keeping_inputs(target, name, args, what, **kwargs):
    """``target.call(name, *args, **kwargs)`` that must leave every array in ``args`` (a tuple) as it was.

    Returns the Result, whose ``args`` are the arguments as the call left them (lists of arrays passed as
    one argument are not looked into: check those with assert_unchanged, entry by entry)."""
    result = target.call(name, *args, return_args=True, **kwargs)
    for before, after in zip(args, result.args):
        assert_unchanged(before, after, what)
    return result


def call_for_float(target, name, args, like, what, **kwargs):
    """(the value as float64, the Result) of a call that must leave its array arguments unchanged and return
    a float result shaped like ``like`` (an array, or a number for a scalar; see checks.float_result)."""
    result = call_keeping_inputs(target, name, args, what, **kwargs)
    return float_result(result.value, like, what), result


def read_shared(shared, like, what, name="params"):
    """The current values of arrays the student's code updates in place (``student.share``-d, a list),
    read by the grader itself: float64 arrays shaped like the arrays in ``like``. An array the code
    rebound or resized fails the check; ``name`` is what the student's code calls the list."""
    try:
        got = [s.read() for s in shared]
    except WireError:
        raise AssertionError(f"{what}: a parameter's memory was resized; update each parameter in place") from None
    assert len(got) == len(like)
    for i, (g, p) in enumerate(zip(got, like)):
        if not isinstance(g, np.ndarray) or g.shape != p.shape or g.dtype != np.float64:
            raise AssertionError(f"{what}: {name}[{i}] is now {describe(g)}; it must stay a float64 array "
                                 f"of shape {p.shape}, updated in place")
    return got


def baseline_worker(source, limits=None):
    """(worker, proxy) for trusted course code run with no student code: ``source`` is the bytes of a module
    (a file beside the suites, such as hidden/baselines_hw2.py), imported in the worker as ``baselines``;
    ``baselines.new("Class", ...)`` and the like work through the proxy. Close the worker when done."""
    worker = Worker({"baselines.py": source}, limits or Limits())
    return worker, Student(lambda: worker, "baselines")


# ---------------------------------------------------------------- the GPU, for suites with GPU items
@pytest.fixture(scope="module")
def gpu_status(worker_limits):
    """What gpu.probe finds, once per suite: whether a worker under the grading limits can compute on a GPU."""
    return gpu.probe(worker_limits)


def require_gpu(gpu_status, note=None):
    """Skip the check that calls this (NOT GRADED, with the reason) where no worker can use a GPU; else return
    ``gpu_status``. Given ``note`` (the plugin's fixture), the item's feedback also says which device graded it."""
    if not gpu_status["available"]:
        pytest.skip(gpu.not_graded_reason(gpu_status))
    if note is not None:
        stand_in = "a CuPy stand-in that computes with NumPy (course tests only), not on a GPU"
        note(f"graded on {stand_in if gpu_status.get('stand_in') else gpu_status['device']}")
    return gpu_status


@pytest.fixture
def on_gpu(gpu_status):
    """For a check that needs a GPU and says nothing of the device (the public checks): see require_gpu."""
    return require_gpu(gpu_status)

"""The GPU in the worker: CuPy imported before student code, its host/device copies counted.

With ``AUTOGRADER_GPU=1`` the worker imports CuPy before any student code, so
that the copies between host and device that student code makes can be
counted: worker_guard wraps the entry points ``copy_functions`` lists.
``AUTOGRADER_GPU_PATH`` is a folder put first on sys.path (the course's tests
use it for a CuPy stand-in on machines without a GPU; grading reports say so).
"""
import functools
import importlib
import os
import sys

import numpy as np

cupy = None  # the CuPy module once load() found it
error = "the grader did not ask for the GPU"  # why there is none


def load():
    """Import CuPy when the grader asked for the GPU (before any student code runs)."""
    global cupy, error
    if os.environ.get("AUTOGRADER_GPU") != "1":
        return
    if os.environ.get("AUTOGRADER_GPU_PATH"):
        sys.path.insert(0, os.environ["AUTOGRADER_GPU_PATH"])
    try:
        import cupy as module
    except ImportError:
        cupy, error = None, "CuPy is not installed"
    except Exception as exc:  # installed but broken: the probe reports it
        cupy, error = None, f"CuPy could not be imported: {type(exc).__name__}: {exc}"[:300]
    else:
        cupy = module
        warm_up(module)


# CuPy loads some libraries the first time a feature is used, and CuPy 14 does it through ctypes
# (cuda.pathfinder's dlopen and dlsym). Inside a student's call worker_guard would record that as the
# student's ctypes, and the copy counts after it would not be trusted: an honest submission would lose
# its transfer item on a real GPU. So every library a course submission may reach is loaded here,
# before the guard starts and before any student code exists.
WARM_UP_MODULES = ("cupy.cuda.cublas", "cupy.cuda.curand", "cupy.cuda.nvrtc", "cupy.cuda.cusolver",
                   "cupy.cuda.cusparse", "cupy.cuda.cufft", "cupy.cuda.thrust", "cupy.cuda.cub",
                   "cupy.cuda.jitify", "cupy.linalg", "cupy.fft", "cupy.random", "cuda.pathfinder")


def warm_up(xp):
    """Load CuPy's lazily loaded libraries and compile its common kernels. Each step on its own: one
    that fails (not in this CuPy, no device) leaves the others, and errors are the probe's to report."""
    steps = [lambda name=name: importlib.import_module(name) for name in WARM_UP_MODULES]
    for dtype in (np.float32, np.float64):
        a = functools.partial(lambda dtype: xp.ones((8, 8), dtype=dtype), dtype)  # looked up when the step runs
        steps += [
            lambda a=a: xp.ElementwiseKernel("T x", "T y", "y = x * x", "autograder_warm_up")(a()),
            lambda a=a: xp.exp(-(a() @ a().T) + xp.dot(a(), a())).sum(axis=0, keepdims=True),
            lambda a=a: (xp.argmax(a(), axis=0).max(), xp.maximum(a(), 0), xp.where(a() > 0, a(), 0)),
            lambda a=a: (a()[:, xp.arange(2)], xp.linalg.norm(a())),
            lambda dtype=dtype: xp.random.RandomState(0).standard_normal((8, 8), dtype=dtype),
            lambda: (xp.random.RandomState(0).permutation(8), xp.random.default_rng(0).random(2)),
        ]
    steps.append(lambda: xp.cuda.Device().synchronize())
    for step in steps:
        try:
            step()
        except Exception:
            pass


def copy_functions(xp):
    """CuPy's ways to copy between host and device, counted while the grader counts (see worker_guard):
    ndarray.get (which cupy.asnumpy, .item(), float() and .tolist() use), ndarray.set, assigning host data
    into a device array, and cupy.array / asarray / asanyarray / ascontiguousarray of host data."""
    functions = [(xp.ndarray, "get", "always"), (xp.ndarray, "set", "always"),
                 (xp.ndarray, "__setitem__", "value_on_host")]
    functions += [(xp, name, "first_on_host") for name in ("array", "asarray", "asanyarray", "ascontiguousarray")]
    return [(owner, name, getattr(owner, name), rule) for owner, name, rule in functions if hasattr(owner, name)]


def install_guard(guard, log_fd, key):
    """Start worker_guard's log, counting CuPy's copies when CuPy is loaded."""
    if cupy is None:
        guard.install(log_fd, key, [])
    else:
        guard.install(log_fd, key, copy_functions(cupy), cupy.ndarray, (np.ndarray, list, tuple))


def host_copy(array):
    """The worker's own copies to the host go through CuPy's (counted) get, outside any counted call."""
    return array.get()


def on_gpu(value):
    return cupy is not None and isinstance(value, cupy.ndarray)


def is_plain_array(array):
    """A NumPy or CuPy array itself (no subclass)."""
    return type(array) is np.ndarray or (cupy is not None and type(array) is cupy.ndarray)


def probe():
    """Whether this worker can compute on a GPU: a device, and one small kernel that gives the right answer."""
    if cupy is None:
        return {"available": False, "reason": error, "device": ""}
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count < 1:
            return {"available": False, "reason": "CuPy found no CUDA device", "device": ""}
        double = cupy.ElementwiseKernel("T x", "T y", "y = 2 * x", "autograder_probe")
        values = host_copy(double(cupy.arange(4, dtype=np.float32)))
        if values.tolist() != [0.0, 2.0, 4.0, 6.0]:
            return {"available": False, "reason": f"a test kernel gave {values.tolist()}", "device": ""}
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        name = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
        return {"available": True, "reason": "", "device": name,
                "stand_in": bool(getattr(cupy, "IS_STAND_IN", False))}
    except Exception as exc:  # no driver, no libnvrtc, unsupported PTX, ...
        return {"available": False, "reason": f"{type(exc).__name__}: {exc}"[:300], "device": ""}

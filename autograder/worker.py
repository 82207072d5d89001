"""The worker: the only process in which student code runs.

Started by the grader as ``python -I -B worker.py <submission_dir> <module> ...``
from a scratch folder (see sandbox.py). It imports the student modules, then
answers one request per line on its private protocol channel. Everything it
sends is plain tagged data (wire.py); the grader trusts none of it.

The student's prints go to stderr, never to the protocol channel.
"""
import os
import sys
import traceback
import warnings

# The protocol uses private copies of fds 0 and 1; the student's code sees
# /dev/null as stdin and stderr as stdout.
_proto_in = os.fdopen(os.dup(0), "rb")  # buffered: a data set can arrive as one long line
_proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
os.dup2(2, 1)

import numpy as np  # noqa: E402  (imported before any student file is on sys.path)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves it out
import wire  # noqa: E402
import worker_guard  # noqa: E402

_audit = sys.audit  # the worker's own reference: a module that replaces sys.audit leaves a gap in the log
# NumPy's default error handling, restored before every call: a module-level np.seterr changes nothing.
NUMPY_ERRORS = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}

SUBMISSION_DIR = os.path.abspath(sys.argv[1])
MODULE_NAMES = sys.argv[2:]
sys.path.append(SUBMISSION_DIR)  # appended: a student's numpy.py never shadows numpy


# ---------------------------------------------------------------- the GPU, when the grader asks for it
# AUTOGRADER_GPU=1: import CuPy before any student code, so that the copies between
# host and device that student code makes can be counted (wrapped entry points below).
# AUTOGRADER_GPU_PATH: a folder put first on sys.path (the course's tests use it for a
# CuPy stand-in on machines without a GPU; grading reports say so).
_gpu = None
_gpu_error = "the grader did not ask for the GPU"


def _copy_functions(xp):
    """CuPy's ways to copy between host and device, counted while the grader counts (see worker_guard):
    ndarray.get (which cupy.asnumpy, .item(), float() and .tolist() use), ndarray.set, assigning host data
    into a device array, and cupy.array / asarray / asanyarray / ascontiguousarray of host data."""
    functions = [(xp.ndarray, "get", "always"), (xp.ndarray, "set", "always"),
                 (xp.ndarray, "__setitem__", "value_on_host")]
    functions += [(xp, name, "first_on_host") for name in ("array", "asarray", "asanyarray", "ascontiguousarray")]
    return [(owner, name, getattr(owner, name), rule) for owner, name, rule in functions if hasattr(owner, name)]


if os.environ.get("AUTOGRADER_GPU") == "1":
    if os.environ.get("AUTOGRADER_GPU_PATH"):
        sys.path.insert(0, os.environ["AUTOGRADER_GPU_PATH"])
    try:
        import cupy as _gpu
    except ImportError:
        _gpu, _gpu_error = None, "CuPy is not installed"
    except Exception as exc:  # installed but broken: the probe reports it
        _gpu, _gpu_error = None, f"CuPy could not be imported: {type(exc).__name__}: {exc}"[:300]


def _start_log():
    """The tamper-evident log (worker_guard): its key is the first line the grader sends."""
    key = bytes.fromhex(_proto_in.readline().decode("ascii").strip())
    fd = int(os.environ["AUTOGRADER_LOG_FD"])
    os.set_blocking(fd, False)  # a flood of records leaves a gap the grader sees, never a hang
    if _gpu is None:
        worker_guard.install(fd, key, [])
    else:
        worker_guard.install(fd, key, _copy_functions(_gpu), _gpu.ndarray, (np.ndarray, list, tuple))


_start_log()


def _host_copy(array):
    """The worker's own copies to the host go through CuPy's (counted) get, outside any counted call."""
    return array.get()


# Trusted functions the grader can hand to student code (e.g. to a
# numerical_gradient). They are built here from parameters sent as data.
def _cubic(c):
    return lambda x: float(np.sum(c * x ** 3))


def _sin_mix(a, b):
    return lambda x: float(np.sum(np.sin(a * x) + b * x ** 2))


def _matrix_form(A):
    return lambda x: float(np.sum(np.tanh(A @ x.reshape(A.shape[1], -1))))


FUNCTIONS = {"cubic": _cubic, "sin_mix": _sin_mix, "matrix_form": _matrix_form}


class _FixedShuffles:
    """permutation(n) returns the grader's next order, already on the device."""

    def __init__(self, orders):
        self._orders = list(orders)

    def permutation(self, n):
        if not self._orders:
            raise RuntimeError("the grader's generator has no more orders: call permutation once per epoch")
        order = self._orders.pop(0)
        if not isinstance(n, int) or n != order.shape[0]:
            raise ValueError(f"permutation({n!r}): this epoch has {order.shape[0]} examples")
        return order


def _array_module(name):
    if name == "numpy":
        return np
    if _gpu is None:
        raise wire.WireError(f"no GPU in this worker ({_gpu_error})")
    return _gpu


def _on_device(xp, value):
    if isinstance(value, np.ndarray):
        return value if xp is np else xp.asarray(value)
    if type(value) in (list, tuple):
        return type(value)(_on_device(xp, v) for v in value)
    raise wire.WireError("only arrays, and lists or tuples of them, can be placed on a device")


def _on_gpu(value):
    return _gpu is not None and isinstance(value, _gpu.ndarray)


def _from_device(value):
    return wire.DeviceArray(_host_copy(value), "cupy") if _on_gpu(value) else value


def _digest(obj, attrs):
    """Sums (float64) of the arrays in obj.<attr> for each attr: a small reply that waits for the device."""
    sums = []
    for attr in attrs:
        for array in getattr(obj, attr):
            plain = type(array) is np.ndarray or (_gpu is not None and type(array) is _gpu.ndarray)
            if not plain:
                raise RuntimeError(f"{attr} must hold plain NumPy or CuPy arrays")
            total = array.sum(dtype=np.float64)
            sums.append(float(_host_copy(total) if _on_gpu(total) else total))
    return sums


def _gpu_probe():
    """Whether this worker can compute on a GPU: a device, and one small kernel that gives the right answer."""
    if _gpu is None:
        return {"available": False, "reason": _gpu_error, "device": ""}
    try:
        count = _gpu.cuda.runtime.getDeviceCount()
        if count < 1:
            return {"available": False, "reason": "CuPy found no CUDA device", "device": ""}
        double = _gpu.ElementwiseKernel("T x", "T y", "y = 2 * x", "autograder_probe")
        values = _host_copy(double(_gpu.arange(4, dtype=np.float32)))
        if values.tolist() != [0.0, 2.0, 4.0, 6.0]:
            return {"available": False, "reason": f"a test kernel gave {values.tolist()}", "device": ""}
        name = _gpu.cuda.runtime.getDeviceProperties(0)["name"]
        name = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
        return {"available": True, "reason": "", "device": name,
                "stand_in": bool(getattr(_gpu, "IS_STAND_IN", False))}
    except Exception as exc:  # no driver, no libnvrtc, unsupported PTX, ...
        return {"available": False, "reason": f"{type(exc).__name__}: {exc}"[:300], "device": ""}

_objects = {}
_shared = {}  # name -> the array mapped onto the grader's file (the same object each time it is passed)


def _shared_array(name, dtype, shape):
    if name not in _shared:
        import mmap
        folder = os.environ.get("AUTOGRADER_SHARED_DIR")
        if not folder:
            raise wire.WireError("this worker has no shared folder")
        fd = os.open(os.path.join(folder, name), os.O_RDWR | os.O_NOFOLLOW)
        try:
            size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            if os.fstat(fd).st_size != size or size == 0:
                raise wire.WireError("a shared array's file does not have its size")
            memory = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        _shared[name] = np.frombuffer(memory, dtype=np.dtype(dtype)).reshape(shape)
    return _shared[name]


def _keep(obj):
    ref_id = len(_objects) + 1
    _objects[ref_id] = obj
    return ref_id


def _resolve(kind, key):
    if kind == "ref":
        if key not in _objects:
            raise wire.WireError(f"no object #{key} in the worker")
        return _objects[key]
    if kind == "pick":
        ref_id, indices = key
        items = _resolve("ref", ref_id)
        if type(items) is not list or not all(0 <= i < len(items) for i in indices):
            raise wire.WireError("pick from something that is not a stored list, or out of range")
        return [items[i] for i in indices]
    if kind == "shared":
        return _shared_array(*key)
    if kind == "xp":
        return _array_module(key)
    if kind == "ondevice":
        name, value = key
        return _on_device(_array_module(name), value)
    if kind == "shuffles":
        name, orders = key
        return _FixedShuffles(_on_device(_array_module(name), orders))
    name, params = key
    if name not in FUNCTIONS or not isinstance(params, dict):
        raise wire.WireError(f"unknown function {name!r}")
    return FUNCTIONS[name](**params)


def _send(message):
    _proto_out.write(wire.dumps(message))


def _describe(exc):
    try:
        text = f"{type(exc).__name__}: {exc}"
    except Exception:
        text = type(exc).__name__
    if isinstance(exc, OSError) and exc.errno == 27:  # EFBIG from RLIMIT_FSIZE on our output file
        text = "your code printed more than the output limit (" + text + ")"
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename).startswith(SUBMISSION_DIR + os.sep):
            where = f"{os.path.basename(frame.filename)}, line {frame.lineno}"
    return {"ok": False, "error": text[:500], "where": where}


def _target(spec):
    if "module" in spec:
        obj = sys.modules[MODULE_NAMES[MODULE_NAMES.index(spec["module"])]]
    else:
        obj = _resolve("ref", spec["ref"])
    if spec.get("attr") is not None:
        obj = getattr(obj, spec["attr"])
    return obj


def _arguments(call):
    args = [wire.decode(a, resolve=_resolve) for a in call.get("args", [])]
    kwargs = {k: wire.decode(v, resolve=_resolve) for k, v in call.get("kwargs", {}).items()}
    return args, kwargs


def _encode(value):
    return wire.encode(value, convert=_from_device)


def _handle(request):
    op = request.get("op")
    if op == "gpu_probe":
        return {"ok": True, "value": _encode(_gpu_probe())}
    np.seterr(**NUMPY_ERRORS)
    reply = _handle_object_op(op, request)
    if request.get("digest"):
        reply["digest"] = _digest(_resolve("ref", request.get("ref")), request["digest"])
    return reply


def _handle_object_op(op, request):
    if op == "store":
        return {"ok": True, "value": {"t": "ref", "id": _keep(wire.decode(request["value"], resolve=_resolve))}}
    if op == "set":
        setattr(_resolve("ref", request["ref"]), request["attr"],
                wire.decode(request["value"], resolve=_resolve))
        return {"ok": True, "value": {"t": "none"}}
    if op == "get":
        value = _target(request)
    elif op == "call":
        args, kwargs = _arguments(request)  # decoded (and placed on the device) before counting starts
        function = _target(request)
        counted = bool(request.get("count_transfers"))
        if counted:
            _audit(worker_guard.EVENT_BEGIN)
        try:
            value = function(*args, **kwargs)
        finally:
            if counted:
                _audit(worker_guard.EVENT_END)
    elif op == "call_many":  # several calls in one request: timing them is not timing the protocol
        calls = [_arguments(c) for c in request.get("calls", [])]
        function, value = _target(request), None
        for args, kwargs in calls:
            value = function(*args, **kwargs)
    else:
        raise wire.WireError(f"unknown op {op!r}")
    reply = {"ok": True}
    if request.get("keep"):
        reply["value"] = {"t": "ref", "id": _keep(value), "type": type(value).__name__}
    else:
        reply["value"] = _encode(value)
    if request.get("return_args"):
        reply["args"] = [_encode(a) for a in args]
    return reply


def main():
    _audit(worker_guard.EVENT_LOCK)  # from here on, student code may run
    try:
        for name in MODULE_NAMES:
            __import__(name)
    except BaseException as exc:  # SystemExit too: an import must not end the worker silently
        reply = _describe(exc)
        reply["phase"] = "import"
        _send(reply)
        return
    _send({"ok": True, "ready": True})
    while True:
        line = _proto_in.readline()
        if not line:
            return
        try:
            request = wire.loads(line)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                reply = _handle(request)
            reply["warnings"] = [
                {"category": w.category.__name__, "message": str(w.message)[:200]} for w in caught[:20]
            ]
        except BaseException as exc:
            reply = _describe(exc)
        _send(reply)


if __name__ == "__main__":
    main()

"""The worker's request loop: import the student modules, then answer one request per line.

Each request names an operation (``op``): store a value, set or get an
attribute, call a function or method (once, or several times in one request),
or probe the GPU. Arguments arrive as wire data and are decoded here, where the
wire types that exist only in the worker are built (``_resolve``); replies are
plain wire data. The grader checks every reply and trusts none of it.

The tables of this module (``_objects``, ``_shared``) and its functions are
within student code's reach: nothing a grade rests on is kept here (see
worker_guard.py for what is).
"""
import os
import sys
import traceback
import warnings

import numpy as np

if __package__:
    from . import wire, worker_gpu, worker_guard, worker_library
else:  # in the worker, where these files are top-level modules
    import wire
    import worker_gpu
    import worker_guard
    import worker_library

_audit = sys.audit  # the worker's own reference: a module that replaces sys.audit leaves a gap in the log
# NumPy's default error handling, restored before every call: a module-level np.seterr changes nothing.
NUMPY_ERRORS = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}

SUBMISSION_DIR = ""   # set by serve()
MODULE_NAMES = []
_proto_in = _proto_out = None  # the protocol channel (worker.py makes it private)

_objects = {}  # ref id -> an object kept in the worker (a student object, a stored data set)
_shared = {}   # name -> the array mapped onto the grader's file (the same object each time it is passed)

# ---------------------------------------------------------------- what wire types reach (WireType.in_worker)
functions = worker_library.FUNCTIONS


def stored(ref_id):
    if ref_id not in _objects:
        raise wire.WireError(f"no object #{ref_id} in the worker")
    return _objects[ref_id]


def array_module(name):
    if name == "numpy":
        return np
    if worker_gpu.cupy is None:
        raise wire.WireError(f"no GPU in this worker ({worker_gpu.error})")
    return worker_gpu.cupy


def shared_array(name, dtype, shape):
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


def _resolve(kind, key):
    """The object a worker-side wire value stands for (wire.decode calls this with the value's tag)."""
    wire_type = wire.registered_type(kind)
    if wire_type is None:
        raise wire.WireError(f"unknown value tag {kind!r}")
    return wire_type.in_worker(key, sys.modules[__name__])


def _keep(obj):
    ref_id = len(_objects) + 1
    _objects[ref_id] = obj
    return ref_id


# ---------------------------------------------------------------- replies
def _from_device(value):
    return wire.DeviceArray(worker_gpu.host_copy(value), "cupy") if worker_gpu.on_gpu(value) else value


def _encode(value):
    return wire.encode(value, convert=_from_device)


def _send(message):
    _proto_out.write(wire.dumps(message))


def _describe(exc):
    """The reply for an exception: its text, and the line of the submission it came from."""
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
    reply = {"ok": False, "error": text[:500], "where": where}
    missing = getattr(exc, "missing_name", None) if isinstance(exc, AttributeError) else None
    if type(missing) is str:
        reply["missing"] = missing[:200]
    return reply


def _digest(obj, attrs):
    """Sums (float64) of the arrays in obj.<attr> for each attr: a small reply that waits for the device."""
    sums = []
    for attr in attrs:
        for array in getattr(obj, attr):
            if not worker_gpu.is_plain_array(array):
                raise RuntimeError(f"{attr} must hold plain NumPy or CuPy arrays")
            total = array.sum(dtype=np.float64)
            sums.append(float(worker_gpu.host_copy(total) if worker_gpu.on_gpu(total) else total))
    return sums


# ---------------------------------------------------------------- requests
def _target(spec):
    """The module or stored object a request names, or its attribute ``attr``. A name the submission
    lacks raises AttributeError marked ``missing_name`` (the grader's StudentError says so by its type)."""
    if "module" in spec:
        obj = sys.modules[MODULE_NAMES[MODULE_NAMES.index(spec["module"])]]
    else:
        obj = _resolve("ref", spec["ref"])
    if spec.get("attr") is not None:
        try:
            obj = getattr(obj, spec["attr"])
        except AttributeError as exc:
            exc.missing_name = spec["attr"] if isinstance(spec["attr"], str) else None
            raise
    return obj


def _arguments(call):
    args = [wire.decode(a, resolve=_resolve) for a in call.get("args", [])]
    kwargs = {k: wire.decode(v, resolve=_resolve) for k, v in call.get("kwargs", {}).items()}
    return args, kwargs


def _handle(request):
    op = request.get("op")
    if op == "gpu_probe":
        return {"ok": True, "value": _encode(worker_gpu.probe())}
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


def _answer(line):
    """The reply to one request line, warnings included; an exception is a reply too."""
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
    return reply


def serve(proto_in, proto_out, submission_dir, module_names):
    """Import the student modules (the guard is installed: student code may run from here on), say
    ready (or why not), then answer requests until the grader closes the channel."""
    global _proto_in, _proto_out, SUBMISSION_DIR, MODULE_NAMES
    _proto_in, _proto_out = proto_in, proto_out
    SUBMISSION_DIR, MODULE_NAMES = submission_dir, list(module_names)
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
        _send(_answer(line))

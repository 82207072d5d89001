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

SUBMISSION_DIR = os.path.abspath(sys.argv[1])
MODULE_NAMES = sys.argv[2:]
sys.path.append(SUBMISSION_DIR)  # appended: a student's numpy.py never shadows numpy


# Trusted functions the grader can hand to student code (e.g. to a
# numerical_gradient). They are built here from parameters sent as data.
def _cubic(c):
    return lambda x: float(np.sum(c * x ** 3))


def _sin_mix(a, b):
    return lambda x: float(np.sum(np.sin(a * x) + b * x ** 2))


def _matrix_form(A):
    return lambda x: float(np.sum(np.tanh(A @ x.reshape(A.shape[1], -1))))


FUNCTIONS = {"cubic": _cubic, "sin_mix": _sin_mix, "matrix_form": _matrix_form}

_objects = {}


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


def _handle(request):
    op = request.get("op")
    if op == "store":
        return {"ok": True, "value": {"t": "ref", "id": _keep(wire.decode(request["value"]))}}
    if op == "set":
        setattr(_resolve("ref", request["ref"]), request["attr"],
                wire.decode(request["value"], resolve=_resolve))
        return {"ok": True, "value": {"t": "none"}}
    if op == "get":
        value = _target(request)
    elif op == "call":
        args, kwargs = _arguments(request)
        value = _target(request)(*args, **kwargs)
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
        reply["value"] = wire.encode(value)
    if request.get("return_args"):
        reply["args"] = [wire.encode(a) for a in args]
    return reply


def main():
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

"""The data format between the grader and the worker that runs student code.

One message is one line of JSON. Values are tagged dictionaries; arrays travel
as base64 ``.npy`` bytes and are always read back with ``allow_pickle=False``,
so nothing the worker sends can make the grader run code. This file is copied
next to the worker and imported there too: it must need only the standard
library and NumPy.
"""
import base64
import io
import json
import os

import numpy as np

MAX_DEPTH = 16
MAX_INT = 2 ** 63  # larger integers are no answer any check expects, and would overflow float64 on the way


class WireError(ValueError):
    """A message that does not follow the format (malformed or hostile)."""


class Unsupported:
    """Stands for a value the worker could not send (an object of another type)."""

    def __init__(self, type_name):
        self.type_name = str(type_name)[:80]

    def __repr__(self):
        return f"<unsupported object of type {self.type_name}>"


class Ref:
    """A handle on an object that stays inside the worker (a student object)."""

    def __init__(self, ref_id, type_name=""):
        self.ref_id = int(ref_id)
        self.type_name = str(type_name)[:80]

    def __repr__(self):
        return f"<{self.type_name} object in the worker #{self.ref_id}>"


class ColumnPairs:
    """A data set sent as two arrays and received as Nielsen's list of (x, y) column pairs.

    ``X`` (n_in, m) and ``Y`` (n_out, m) travel as two arrays (fast); the other
    side gets ``[(X[:, i:i+1], Y[:, i:i+1]) for i in range(m)]``, each a float64
    copy. Images can travel as bytes: with ``x_divisor`` the other side uses
    ``X / x_divisor``, bit for bit what the sender computes from the same bytes.
    """

    def __init__(self, X, Y, x_divisor=1.0):
        self.X = np.asarray(X)
        self.Y = np.asarray(Y)
        self.x_divisor = float(x_divisor)


class Pick:
    """Some items of a list stored in the worker (``student.store``), picked by index.

    Lets the grader hand student code a mini-batch of a large data set that
    was sent once, by sending only the indices.
    """

    def __init__(self, ref, indices):
        self.ref_id = ref.ref_id
        self.indices = [int(i) for i in indices]


class FunctionSpec:
    """A function the worker builds from its own trusted library (see worker.py)."""

    def __init__(self, name, **params):
        self.name = name
        self.params = params


ARRAY_MODULES = ("numpy", "cupy")


class ArrayModule:
    """An array module (numpy or cupy) the worker hands to student code as ``xp``."""

    def __init__(self, name):
        if name not in ARRAY_MODULES:
            raise WireError(f"unknown array module {name!r}")
        self.name = name


class OnDevice:
    """Arrays (an array, or a list or tuple of them) that the worker places on the device of ``module``."""

    def __init__(self, value, module):
        self.value = value
        self.module = ArrayModule(module).name


class FixedShuffles:
    """A random generator for student code whose ``permutation(n)`` returns the grader's orders.

    Built in the worker from index arrays placed on the device of ``module``
    when it is made, so handing out an order is no host-to-device copy, and
    the grader knows which order each epoch used.
    """

    def __init__(self, module, orders):
        self.module = ArrayModule(module).name
        self.orders = [np.asarray(o, dtype=np.int64) for o in orders]


class SharedArray:
    """An array in a file that the grader made and keeps open; the worker maps it into memory.

    Student code receives a plain ``numpy.ndarray`` whose memory is the file, so an
    in-place update shows in the file and a rebinding does not. The grader reads
    the values back through its own descriptor (``read``), never from a reply.
    """

    def __init__(self, folder, array):
        array = np.ascontiguousarray(array)
        if array.dtype.kind != "f":
            raise WireError("only floating-point arrays can be shared")
        # A name nobody can guess: the worker cannot make a file of that name first (O_EXCL would fail).
        self.name = str(int.from_bytes(os.urandom(8), "little"))
        self.dtype, self.shape = array.dtype.str, tuple(array.shape)
        path = f"{folder}/{self.name}"
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        os.write(self._fd, array.tobytes())
        self.nbytes = array.nbytes

    def read(self):
        """The array as it is now in the file (a fresh copy); WireError if the file was resized."""
        data = os.pread(self._fd, self.nbytes + 1, 0)
        if len(data) != self.nbytes or os.fstat(self._fd).st_size != self.nbytes:
            raise WireError("the shared array's file was resized")
        return np.frombuffer(data, dtype=np.dtype(self.dtype)).reshape(self.shape).copy()

    def __del__(self):
        try:
            os.close(self._fd)
        except (OSError, AttributeError):
            pass


class DeviceArray:
    """An array that was on a GPU in the worker, received as a host copy (``.array``)."""

    def __init__(self, array, module):
        self.array = array
        self.module = str(module)[:20]

    def __repr__(self):
        return f"<{self.module} array of shape {self.array.shape} and dtype {self.array.dtype}>"


def _array_to_b64(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _b64_to_array(text):
    if not isinstance(text, str):
        raise WireError("array payload is not text")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as exc:  # malformed bytes from an untrusted peer
        raise WireError(f"unreadable array payload ({type(exc).__name__})") from None
    if not isinstance(array, np.ndarray) or array.dtype.hasobject or array.dtype.fields:
        raise WireError("array payload has an unsupported dtype")
    if array.dtype.kind not in "biufc":
        raise WireError(f"array payload has a non-numeric dtype {array.dtype}")
    return array


def encode(value, depth=0, refs=None, convert=None):
    """Turn a Python value into tagged JSON-able data.

    ``refs`` (worker side) is a callable that stores an unsupported object and
    returns its id; without it such objects become ``Unsupported``. ``convert``
    (worker side) may replace a value first (a GPU array by a DeviceArray).
    """
    if convert is not None:
        value = convert(value)
    if depth > MAX_DEPTH:
        return {"t": "unsupported", "type": "too deeply nested"}
    if value is None:
        return {"t": "none"}
    if type(value) is bool:
        return {"t": "bool", "v": value}
    if type(value) is int:
        return {"t": "int", "v": value}
    if type(value) is float:
        return {"t": "float", "v": value}
    if type(value) is str:
        return {"t": "str", "v": value}
    if type(value) is np.ndarray:
        if value.dtype.hasobject or value.dtype.fields or value.dtype.kind not in "biufc":
            return {"t": "unsupported", "type": f"ndarray of dtype {value.dtype}"}
        return {"t": "ndarray", "npy": _array_to_b64(value)}
    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        if np.asarray(value).dtype.kind not in "biufc":
            return {"t": "unsupported", "type": type(value).__name__}
        return {"t": "npscalar", "npy": _array_to_b64(np.asarray(value))}
    if type(value) in (list, tuple):
        return {"t": type(value).__name__, "v": [encode(v, depth + 1, refs, convert) for v in value]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"t": "dict", "v": {k: encode(v, depth + 1, refs, convert) for k, v in value.items()}}
    if isinstance(value, Ref):
        return {"t": "ref", "id": value.ref_id}
    if isinstance(value, ColumnPairs):
        return {"t": "pairs", "x": _array_to_b64(value.X), "y": _array_to_b64(value.Y), "div": value.x_divisor}
    if isinstance(value, Pick):
        return {"t": "pick", "id": value.ref_id, "idx": value.indices}
    if isinstance(value, FunctionSpec):
        return {"t": "fn", "name": value.name, "params": encode(value.params, depth + 1)}
    if isinstance(value, ArrayModule):
        return {"t": "xp", "name": value.name}
    if isinstance(value, OnDevice):
        return {"t": "ondevice", "xp": value.module, "v": encode(value.value, depth + 1)}
    if isinstance(value, FixedShuffles):
        return {"t": "shuffles", "xp": value.module, "orders": [_array_to_b64(o) for o in value.orders]}
    if isinstance(value, SharedArray):
        return {"t": "shared", "name": value.name, "dtype": value.dtype, "shape": list(value.shape)}
    if isinstance(value, DeviceArray) and type(value.array) is np.ndarray:
        return {"t": "devarray", "xp": value.module, "npy": _array_to_b64(value.array)}
    if refs is not None:
        return {"t": "ref", "id": refs(value), "type": type(value).__name__}
    return {"t": "unsupported", "type": type(value).__name__}


def decode(data, depth=0, resolve=None):
    """Inverse of ``encode`` for data received from the other side.

    Every field is checked; anything unexpected raises ``WireError``.
    ``resolve`` (worker side) maps ref ids and function specs to objects.
    """
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if not isinstance(data, dict) or not isinstance(data.get("t"), str):
        raise WireError("value is not a tagged object")
    tag = data["t"]
    if tag == "none":
        return None
    if tag in ("bool", "int", "float", "str"):
        value = data.get("v")
        expected = {"bool": bool, "int": int, "float": float, "str": str}[tag]
        if tag == "float" and type(value) is int and abs(value) <= MAX_INT:
            value = float(value)
        if type(value) is not expected:
            raise WireError(f"value tagged {tag} holds a {type(value).__name__}")
        if tag == "int" and abs(value) > MAX_INT:
            raise WireError("an integer too large to be an answer")
        return value
    if tag == "ndarray":
        return _b64_to_array(data.get("npy"))
    if tag == "npscalar":
        array = _b64_to_array(data.get("npy"))
        if array.shape != ():
            raise WireError("scalar payload is not 0-d")
        return array[()]
    if tag in ("list", "tuple"):
        items = data.get("v")
        if not isinstance(items, list):
            raise WireError(f"{tag} payload is not a list")
        decoded = [decode(v, depth + 1, resolve) for v in items]
        return decoded if tag == "list" else tuple(decoded)
    if tag == "dict":
        items = data.get("v")
        if not isinstance(items, dict):
            raise WireError("dict payload is not an object")
        return {str(k): decode(v, depth + 1, resolve) for k, v in items.items()}
    if tag == "unsupported":
        return Unsupported(data.get("type", "?"))
    if tag == "ref":
        if type(data.get("id")) is not int:
            raise WireError("ref without an integer id")
        if resolve is not None:
            return resolve("ref", data["id"])
        return Ref(data["id"], data.get("type", "object"))
    if tag == "pairs" and resolve is not None:  # sent by the grader only: never built from a reply
        X, Y, divisor = _b64_to_array(data.get("x")), _b64_to_array(data.get("y")), data.get("div", 1.0)
        if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1] or type(divisor) is not float:
            raise WireError("column pairs need two 2-d arrays with as many columns and a float divisor")
        X, Y = X / divisor, Y.astype(np.float64)
        return [(X[:, i:i + 1].copy(), Y[:, i:i + 1].copy()) for i in range(X.shape[1])]
    if tag == "pick" and resolve is not None:
        indices = data.get("idx")
        if type(data.get("id")) is not int or not isinstance(indices, list) or any(type(i) is not int for i in indices):
            raise WireError("pick without an integer id and integer indices")
        return resolve("pick", (data["id"], indices))
    if tag == "devarray":
        array = _b64_to_array(data.get("npy"))
        return DeviceArray(array, data.get("xp") if isinstance(data.get("xp"), str) else "?")
    if tag in ("xp", "ondevice", "shuffles") and resolve is not None:
        name = data.get("name") if tag == "xp" else data.get("xp")
        if name not in ARRAY_MODULES:
            raise WireError(f"unknown array module {name!r}")
        if tag == "xp":
            return resolve("xp", name)
        if tag == "ondevice":
            return resolve("ondevice", (name, decode(data.get("v"), depth + 1)))
        orders = data.get("orders")
        if not isinstance(orders, list):
            raise WireError("shuffles without a list of orders")
        return resolve("shuffles", (name, [_b64_to_array(o) for o in orders]))
    if tag == "shared" and resolve is not None:
        name, dtype, shape = data.get("name"), data.get("dtype"), data.get("shape")
        if (not isinstance(name, str) or not name.isdigit() or dtype not in ("<f4", "<f8")
                or not isinstance(shape, list) or any(type(n) is not int or n < 0 for n in shape)):
            raise WireError("shared array without a numeric name, a float dtype and a shape")
        return resolve("shared", (name, dtype, tuple(shape)))
    if tag == "fn" and resolve is not None:
        return resolve("fn", (data.get("name"), decode(data.get("params"), depth + 1)))
    raise WireError(f"unknown value tag {tag!r}")


def dumps(message):
    """One protocol line (bytes, newline-terminated)."""
    return (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")


def loads(line):
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WireError("the worker sent a line that is not JSON") from None
    if not isinstance(message, dict):
        raise WireError("the worker sent JSON that is not an object")
    return message

"""The data format between the grader and the worker that runs student code.

One message is one line of JSON. Values are tagged dictionaries; arrays travel
as base64 ``.npy`` bytes and are always read back with ``allow_pickle=False``,
so nothing the worker sends can make the grader run code. This file is copied
next to the worker and imported there too: it must need only the standard
library and NumPy.

Plain values (None, bool, int, float, str, arrays, NumPy scalars, lists,
tuples, dicts) are built in. Every other kind of value is a ``WireType``
subclass registered with ``@wire_type``: one class says how it is encoded,
decoded, built in the worker and described in feedback, so a new kind of value
is one class. The course's data-set types live in wire_datasets.py.
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


# ---------------------------------------------------------------- the registry of tagged types
_TYPES_BY_TAG = {}


class WireType:
    """A kind of value that travels as one tagged dictionary ``{"t": tag, ...}``.

    A subclass sets ``tag`` and overrides what applies to it:

    * ``to_wire(self, encode)``: the dictionary (``encode(value)`` encodes a value inside it), or
      None when this instance cannot travel (it is then handled as an unknown object);
    * ``from_wire(cls, data, decode, resolve)``: check every field of ``data`` and give the value;
      ``decode(data)`` decodes a value inside it, grader style. ``resolve`` is None on the grader's
      side and ``resolve(kind, key)`` in the worker (a type whose value exists only in the worker
      returns ``resolve(cls.tag, key)``; it is refused where ``worker_only`` and there is no resolve);
    * ``in_worker(cls, key, worker)``: the object student code receives, built from ``key`` in the
      worker (``worker``: see worker_requests.WorkerState);
    * ``describe(self, short)``: how a call's argument reads in feedback (None: as any other object).
    """

    tag = None
    worker_only = False  # decoded only in the worker: never built from something the worker sent

    def to_wire(self, encode):
        raise NotImplementedError

    @classmethod
    def from_wire(cls, data, decode, resolve):
        raise NotImplementedError

    @classmethod
    def in_worker(cls, key, worker):
        raise WireError(f"a {cls.tag} value cannot be built in the worker")

    def describe(self, short):
        return None


def wire_type(cls):
    """Class decorator: register ``cls`` under its tag."""
    if not cls.tag or cls.tag in _TYPES_BY_TAG or cls.tag in _BUILT_IN_TAGS:
        raise ValueError(f"wire tag {cls.tag!r} is missing or taken")
    _TYPES_BY_TAG[cls.tag] = cls
    return cls


def registered_type(tag):
    """The WireType registered for ``tag``, or None."""
    return _TYPES_BY_TAG.get(tag)


_BUILT_IN_TAGS = ("none", "bool", "int", "float", "str", "ndarray", "npscalar", "list", "tuple", "dict")


# ---------------------------------------------------------------- types both sides use
@wire_type
class Unsupported(WireType):
    """Stands for a value the worker could not send (an object of another type)."""

    tag = "unsupported"

    def __init__(self, type_name):
        self.type_name = str(type_name)[:80]

    def __repr__(self):
        return f"<unsupported object of type {self.type_name}>"

    def to_wire(self, encode):
        return None  # only ever made by decoding: one sent back is an object like any other

    @classmethod
    def from_wire(cls, data, decode, resolve):
        return cls(data.get("type", "?"))


@wire_type
class Ref(WireType):
    """A handle on an object that stays inside the worker (a student object)."""

    tag = "ref"

    def __init__(self, ref_id, type_name=""):
        self.ref_id = int(ref_id)
        self.type_name = str(type_name)[:80]

    def __repr__(self):
        return f"<{self.type_name} object in the worker #{self.ref_id}>"

    def to_wire(self, encode):
        return {"t": "ref", "id": self.ref_id}

    @classmethod
    def from_wire(cls, data, decode, resolve):
        if type(data.get("id")) is not int:
            raise WireError("ref without an integer id")
        if resolve is not None:
            return resolve("ref", data["id"])
        return cls(data["id"], data.get("type", "object"))

    @classmethod
    def in_worker(cls, key, worker):
        return worker.stored(key)

    def describe(self, short):
        return "<data sent earlier>"


@wire_type
class DeviceArray(WireType):
    """An array that was on a GPU in the worker, received as a host copy (``.array``)."""

    tag = "devarray"

    def __init__(self, array, module):
        self.array = array
        self.module = str(module)[:20]

    def __repr__(self):
        return f"<{self.module} array of shape {self.array.shape} and dtype {self.array.dtype}>"

    def to_wire(self, encode):
        if type(self.array) is not np.ndarray:
            return None
        return {"t": "devarray", "xp": self.module, "npy": array_to_b64(self.array)}

    @classmethod
    def from_wire(cls, data, decode, resolve):
        array = b64_to_array(data.get("npy"))
        return cls(array, data.get("xp") if isinstance(data.get("xp"), str) else "?")


# ---------------------------------------------------------------- requests only the grader makes
@wire_type
class FunctionSpec(WireType):
    """A function the worker builds from its own trusted library (see worker_library.py)."""

    tag = "fn"
    worker_only = True

    def __init__(self, name, **params):
        self.name = name
        self.params = params

    def to_wire(self, encode):
        return {"t": "fn", "name": self.name, "params": encode(self.params)}

    @classmethod
    def from_wire(cls, data, decode, resolve):
        return resolve("fn", (data.get("name"), decode(data.get("params"))))

    @classmethod
    def in_worker(cls, key, worker):
        name, params = key
        if name not in worker.functions or not isinstance(params, dict):
            raise WireError(f"unknown function {name!r}")
        return worker.functions[name](**params)

    def describe(self, short):
        return "f"


ARRAY_MODULES = ("numpy", "cupy")


def _array_module_name(data, field):
    name = data.get(field)
    if name not in ARRAY_MODULES:
        raise WireError(f"unknown array module {name!r}")
    return name


@wire_type
class ArrayModule(WireType):
    """An array module (numpy or cupy) the worker hands to student code as ``xp``."""

    tag = "xp"
    worker_only = True

    def __init__(self, name):
        if name not in ARRAY_MODULES:
            raise WireError(f"unknown array module {name!r}")
        self.name = name

    def to_wire(self, encode):
        return {"t": "xp", "name": self.name}

    @classmethod
    def from_wire(cls, data, decode, resolve):
        return resolve("xp", _array_module_name(data, "name"))

    @classmethod
    def in_worker(cls, key, worker):
        return worker.array_module(key)

    def describe(self, short):
        return self.name


def place_on_device(xp, value):
    """``value`` (an array, or a list or tuple of them) as arrays of the array module ``xp``."""
    if isinstance(value, np.ndarray):
        return value if xp is np else xp.asarray(value)
    if type(value) in (list, tuple):
        return type(value)(place_on_device(xp, v) for v in value)
    raise WireError("only arrays, and lists or tuples of them, can be placed on a device")


@wire_type
class OnDevice(WireType):
    """Arrays (an array, or a list or tuple of them) that the worker places on the device of ``module``."""

    tag = "ondevice"
    worker_only = True

    def __init__(self, value, module):
        self.value = value
        self.module = ArrayModule(module).name

    def to_wire(self, encode):
        return {"t": "ondevice", "xp": self.module, "v": encode(self.value)}

    @classmethod
    def from_wire(cls, data, decode, resolve):
        name = _array_module_name(data, "xp")
        return resolve("ondevice", (name, decode(data.get("v"))))

    @classmethod
    def in_worker(cls, key, worker):
        name, value = key
        return place_on_device(worker.array_module(name), value)

    def describe(self, short):
        return short(self.value)


@wire_type
class SharedArray(WireType):
    """An array in a file that the grader made and keeps open; the worker maps it into memory.

    Student code receives a plain ``numpy.ndarray`` whose memory is the file, so an
    in-place update shows in the file and a rebinding does not. The grader reads
    the values back through its own descriptor (``read``), never from a reply.
    """

    tag = "shared"
    worker_only = True

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

    def to_wire(self, encode):
        return {"t": "shared", "name": self.name, "dtype": self.dtype, "shape": list(self.shape)}

    @classmethod
    def from_wire(cls, data, decode, resolve):
        name, dtype, shape = data.get("name"), data.get("dtype"), data.get("shape")
        if (not isinstance(name, str) or not name.isdigit() or dtype not in ("<f4", "<f8")
                or not isinstance(shape, list) or any(type(n) is not int or n < 0 for n in shape)):
            raise WireError("shared array without a numeric name, a float dtype and a shape")
        return resolve("shared", (name, dtype, tuple(shape)))

    @classmethod
    def in_worker(cls, key, worker):
        return worker.shared_array(*key)


# ---------------------------------------------------------------- arrays as text
def array_to_b64(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def b64_to_array(text):
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




# ---------------------------------------------------------------- encode and decode
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
        return {"t": "ndarray", "npy": array_to_b64(value)}
    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        if np.asarray(value).dtype.kind not in "biufc":
            return {"t": "unsupported", "type": type(value).__name__}
        return {"t": "npscalar", "npy": array_to_b64(np.asarray(value))}
    if type(value) in (list, tuple):
        return {"t": type(value).__name__, "v": [encode(v, depth + 1, refs, convert) for v in value]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"t": "dict", "v": {k: encode(v, depth + 1, refs, convert) for k, v in value.items()}}
    # A registered type encodes itself (the registered class's to_wire: a subclass made in the worker
    # cannot change it); what it holds is encoded plainly (no refs, no conversion).
    for kind in _TYPES_BY_TAG.values():
        if isinstance(value, kind):
            data = kind.to_wire(value, lambda inner: encode(inner, depth + 1))
            if data is not None:
                return data
            break
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
        return b64_to_array(data.get("npy"))
    if tag == "npscalar":
        array = b64_to_array(data.get("npy"))
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
    kind = _TYPES_BY_TAG.get(tag)
    if kind is None or (kind.worker_only and resolve is None):
        raise WireError(f"unknown value tag {tag!r}")
    return kind.from_wire(data, lambda inner: decode(inner, depth + 1), resolve)


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


# The course's data-set types (registered there). Re-exported here because the hidden suites import
# them as ``from autograder.wire import ColumnPairs, FixedShuffles, Pick``; new code imports wire_datasets.
if __package__:
    from .wire_datasets import ColumnPairs, FixedShuffles, Pick  # noqa: E402,F401
else:  # in the worker, where wire.py is a top-level module
    from wire_datasets import ColumnPairs, FixedShuffles, Pick  # noqa: E402,F401

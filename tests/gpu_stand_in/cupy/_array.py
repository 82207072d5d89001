"""The stand-in's device array: NumPy memory that NumPy does not take for one of its own arrays.

A real ``cupy.ndarray`` is not a ``numpy.ndarray``. NumPy reaches it only through
the protocols CuPy implements (cupy/_core/core.pyx), and CuPy refuses a host
array wherever using it would need a copy nobody asked for:

* ``numpy.asarray(device)`` and anything else that wants the values on the host
  call ``__array__``, which raises TypeError ("Implicit conversion to a NumPy
  array is not allowed. ...").
* Operators and NumPy ufuncs (``numpy.exp(device)``) run on the device; an
  operand or output that is a ``numpy.ndarray`` (0-d included) raises TypeError
  ("Unsupported type ..."). Python scalars and NumPy scalars are allowed. For
  comparisons only, CuPy turns a 0-d NumPy array into its value first.
* NumPy functions given a device array (``numpy.sum(device)``) run CuPy's
  function of the same name, which refuses host arrays like the ufuncs do.
* ``float()``, ``int()``, ``bool()``, ``.item()``, ``.tolist()`` and ``repr()``
  read the values through ``get()``, the explicit copy to the host.
* Indexing with a host array, and assigning a host array into a device array,
  are allowed: CuPy copies them to the device itself.
* The first matrix product, random generator and kernel load a library through
  ctypes, as CuPy 14 loads cuBLAS, cuRAND and NVRTC (cuda.pathfinder's
  ``ctypes.CDLL``) the first time each is needed.

Everything computes with NumPy on the CPU, without floating-point warnings (a
GPU raises none).
"""
import ctypes as _ctypes

import numpy as _np

IMPLICIT_CONVERSION = ("Implicit conversion to a NumPy array is not allowed. "
                       "Please use `.get()` to construct a NumPy array explicitly.")
UFUNC_METHODS = ("__call__", "outer", "at", "reduce", "accumulate", "reduceat")
COMPARISONS = ("greater", "greater_equal", "less", "less_equal", "equal", "not_equal")
_MISSING = object()

namespace = None  # the stand-in module, set when it is imported (NumPy functions dispatch to it)
_libraries_loaded = set()


def load_library_on_first_use(library):
    """A real dlopen (of the process's own symbols, harmless) the first time ``library`` is needed."""
    if library not in _libraries_loaded:
        _libraries_loaded.add(library)
        _ctypes.CDLL(None)


def is_scalar(value):
    """What CuPy takes as a scalar operand: Python and NumPy numbers (not 0-d arrays)."""
    return type(value) in (int, float, bool, complex) or isinstance(value, (_np.number, _np.bool_))


def unsupported(value):
    return TypeError(f"Unsupported type {type(value)}")


def wrap(value):
    """NumPy results as device arrays (scalars as 0-d arrays, as CuPy's reductions give)."""
    if isinstance(value, _np.ndarray):
        return ndarray._of(value)
    if isinstance(value, _np.generic):
        return ndarray._of(_np.asarray(value))
    if type(value) in (tuple, list):
        return type(value)(wrap(v) for v in value)
    return value


def operand(value, host_arrays_allowed=False):
    """The NumPy memory behind a device array; a host array only where CuPy copies it itself."""
    if isinstance(value, ndarray):
        return value._data
    if isinstance(value, _np.ndarray) and not host_arrays_allowed:
        raise unsupported(value)
    if type(value) in (tuple, list):
        return type(value)(operand(v, host_arrays_allowed) for v in value)
    return value


def call_on_device(function, args, kwargs, host_arrays_allowed=False):
    """``function`` (a NumPy one) on the memory behind device arguments; the result on the device."""
    out = kwargs.get("out")
    if out is not None and not isinstance(out, ndarray):
        raise TypeError("Output arguments must be cupy.ndarray")
    args = operand(args, host_arrays_allowed)
    kwargs = {k: operand(v, host_arrays_allowed) for k, v in kwargs.items()}
    with _np.errstate(all="ignore"):
        result = function(*args, **kwargs)
    return out if out is not None and result is out._data else wrap(result)


def ufunc_operand(value):
    if isinstance(value, ndarray):
        return value._data
    if is_scalar(value):
        return value
    raise unsupported(value)  # a host array, a list, anything else


def apply_ufunc(ufunc, method, inputs, kwargs):
    """A NumPy ufunc on device operands, refusing host arrays as CuPy's kernels do."""
    kwargs = dict(kwargs)
    if ufunc.__name__ in COMPARISONS:  # CuPy's workaround for numpy/numpy#12142
        inputs = [x.item() if isinstance(x, _np.ndarray) and x.ndim == 0 else x for x in inputs]
    operands = [ufunc_operand(x) for x in inputs]
    outs = kwargs.pop("out", None)
    outs = outs if isinstance(outs, tuple) else () if outs is None else (outs,)
    if any(o is not None and not isinstance(o, ndarray) for o in outs):
        raise TypeError("Output arguments must be cupy.ndarray")
    if outs:
        kwargs["out"] = tuple(None if o is None else o._data for o in outs)
    if "where" in kwargs:
        kwargs["where"] = ufunc_operand(kwargs["where"])
    with _np.errstate(all="ignore"):
        result = getattr(ufunc, method)(*operands, **kwargs)
    if method == "at":
        return None
    if outs and all(o is not None for o in outs):
        return outs[0] if len(outs) == 1 else outs
    return wrap(result)


def defers_to(other):
    """CuPy's _should_use_rop: leave the operator to ``other`` (NEP 13, then __array_priority__)."""
    other_ufunc = getattr(other, "__array_ufunc__", _MISSING)
    if other_ufunc is not _MISSING:
        return other_ufunc is None
    return getattr(other, "__array_priority__", 0) > ndarray.__array_priority__


def operators(ufunc):
    """(x op y, y op x, x op= y) for a binary ufunc, as CuPy defines them."""
    def forward(self, other):
        if not isinstance(other, ndarray) and defers_to(other):
            return NotImplemented
        if ufunc is _np.matmul:
            load_library_on_first_use("cublas")
        return ufunc(self, other)

    def reflected(self, other):
        if ufunc is _np.matmul:
            load_library_on_first_use("cublas")
        return ufunc(other, self)

    def in_place(self, other):
        if ufunc is _np.matmul:
            load_library_on_first_use("cublas")
        return apply_ufunc(ufunc, "__call__", (self, other), {"out": (self,)})
    return forward, reflected, in_place


def comparison(ufunc, name):
    def compare(self, other):
        if isinstance(other, ndarray):
            return ufunc(self, other)
        if defers_to(other):
            return NotImplemented
        if isinstance(other, _np.ndarray) and other.ndim == 0:
            other = other.item()
        if name in ("eq", "ne") and (other is None or type(other).__eq__ is object.__eq__):
            # Neither a number nor an array: never equal to an element (as CuPy answers).
            return wrap(_np.full(self.shape, name == "ne"))
        return ufunc(self, other)
    return compare


def device_method(name, host_arrays_allowed=False):
    """An ndarray method computed by NumPy's method of that name on the device memory."""
    def method(self, *args, **kwargs):
        return call_on_device(getattr(self._data, name), args, kwargs, host_arrays_allowed)
    method.__name__ = name
    return method


class ndarray:
    """A "device" array: its values are reached only through explicit copies (get, set, asarray)."""

    __module__ = "cupy"  # named as CuPy names it, in messages and reprs of the type
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._data = _np.empty(shape, dtype=dtype, order=order)

    @classmethod
    def _of(cls, data):
        """A device array over ``data`` (no copy: the stand-in's device memory is NumPy's)."""
        array = cls.__new__(cls)
        array._data = data
        return array

    # ------------------------------------------------------------ explicit copies
    def get(self, stream=None, order="C", out=None, blocking=True):
        if out is not None:
            if not isinstance(out, _np.ndarray):
                raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
            _np.copyto(out, self._data)
            return out
        return _np.array(self._data, order=order, copy=True)

    def set(self, arr, stream=None):
        if not isinstance(arr, _np.ndarray):
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        if self.dtype != arr.dtype:
            raise TypeError(f"{arr.dtype} array cannot be set to {self.dtype} array")
        if self.shape != arr.shape:
            raise ValueError(f"Shape mismatch. Old shape: {self.shape}, new shape: {arr.shape}")
        self._data[...] = arr

    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT_CONVERSION)

    # As in CuPy, every way of reading a value on the host goes through get().
    def item(self):
        return self.get().item()

    def tolist(self):
        return self.get().tolist()

    def __float__(self):
        return float(self.get())

    def __int__(self):
        return int(self.get())

    def __complex__(self):
        return complex(self.get())

    def __bool__(self):
        if self.size == 1:
            return bool(self.get())
        if self.size == 0:
            return False
        raise ValueError("The truth value of an array with more than one element is ambiguous. "
                         "Use a.any() or a.all()")

    def __repr__(self):
        return repr(self.get())

    def __str__(self):
        return str(self.get())

    def __format__(self, spec):
        return format(self.get(), spec)

    # ------------------------------------------------------------ attributes
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    itemsize = property(lambda self: self._data.itemsize)
    nbytes = property(lambda self: self._data.nbytes)
    strides = property(lambda self: self._data.strides)
    flags = property(lambda self: self._data.flags)
    T = property(lambda self: wrap(self._data.T))
    mT = property(lambda self: wrap(self._data.mT))
    real = property(lambda self: wrap(self._data.real))
    imag = property(lambda self: wrap(self._data.imag))

    @shape.setter
    def shape(self, value):
        self._data.shape = value

    @property
    def device(self):
        return namespace.cuda.Device(0)

    # ------------------------------------------------------------ containers and indexing
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, key):
        return wrap(self._data[operand(key, host_arrays_allowed=True)])

    def __setitem__(self, key, value):
        self._data[operand(key, host_arrays_allowed=True)] = operand(value, host_arrays_allowed=True)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    # ------------------------------------------------------------ methods
    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        data = self._data.astype(dtype, order=order, copy=copy)
        return self if data is self._data else wrap(data)

    def dot(self, b, out=None):
        if not isinstance(b, ndarray):  # CuPy's dot takes device arrays only
            raise TypeError(f"Argument 'b' has incorrect type (expected cupy.ndarray, got {type(b).__name__})")
        load_library_on_first_use("cublas")
        return call_on_device(self._data.dot, (b,), {} if out is None else {"out": out})

    def fill(self, value):
        if isinstance(value, (ndarray, _np.ndarray)) and value.ndim != 0:
            raise ValueError("non-scalar array cannot be used for fill")
        self._data.fill(operand(value, host_arrays_allowed=True))

    copy = device_method("copy")
    view = device_method("view")
    reshape = device_method("reshape")
    ravel = device_method("ravel")
    flatten = device_method("flatten")
    transpose = device_method("transpose")
    swapaxes = device_method("swapaxes")
    squeeze = device_method("squeeze")
    diagonal = device_method("diagonal")
    repeat = device_method("repeat")
    nonzero = device_method("nonzero")
    sort = device_method("sort")
    argsort = device_method("argsort")
    partition = device_method("partition")
    argpartition = device_method("argpartition")
    sum = device_method("sum")
    prod = device_method("prod")
    mean = device_method("mean")
    var = device_method("var")
    std = device_method("std")
    max = device_method("max")
    min = device_method("min")
    argmax = device_method("argmax")
    argmin = device_method("argmin")
    all = device_method("all")
    any = device_method("any")
    cumsum = device_method("cumsum")
    cumprod = device_method("cumprod")
    round = device_method("round")
    clip = device_method("clip")
    trace = device_method("trace")
    conj = device_method("conj")
    conjugate = device_method("conjugate")
    take = device_method("take", host_arrays_allowed=True)  # CuPy copies host indices itself
    put = device_method("put", host_arrays_allowed=True)

    # ------------------------------------------------------------ operators
    __add__, __radd__, __iadd__ = operators(_np.add)
    __sub__, __rsub__, __isub__ = operators(_np.subtract)
    __mul__, __rmul__, __imul__ = operators(_np.multiply)
    __matmul__, __rmatmul__, __imatmul__ = operators(_np.matmul)
    __truediv__, __rtruediv__, __itruediv__ = operators(_np.true_divide)
    __floordiv__, __rfloordiv__, __ifloordiv__ = operators(_np.floor_divide)
    __mod__, __rmod__, __imod__ = operators(_np.remainder)
    __pow__, __rpow__, __ipow__ = operators(_np.power)
    __lshift__, __rlshift__, __ilshift__ = operators(_np.left_shift)
    __rshift__, __rrshift__, __irshift__ = operators(_np.right_shift)
    __and__, __rand__, __iand__ = operators(_np.bitwise_and)
    __or__, __ror__, __ior__ = operators(_np.bitwise_or)
    __xor__, __rxor__, __ixor__ = operators(_np.bitwise_xor)
    __divmod__, __rdivmod__ = operators(_np.divmod)[:2]
    __lt__ = comparison(_np.less, "lt")
    __le__ = comparison(_np.less_equal, "le")
    __eq__ = comparison(_np.equal, "eq")
    __ne__ = comparison(_np.not_equal, "ne")
    __gt__ = comparison(_np.greater, "gt")
    __ge__ = comparison(_np.greater_equal, "ge")

    def __neg__(self):
        return _np.negative(self)

    def __pos__(self):
        return _np.positive(self)

    def __abs__(self):
        return _np.absolute(self)

    def __invert__(self):
        return _np.invert(self)

    # ------------------------------------------------------------ NumPy's protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method not in UFUNC_METHODS:
            return NotImplemented
        for x in inputs + tuple(kwargs.get("out") or ()):
            if not (x is None or is_scalar(x) or isinstance(x, (ndarray, _np.ndarray))):
                return NotImplemented
        return apply_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        module = namespace
        for part in func.__module__.split(".")[1:]:
            module = getattr(module, part, None)
        function = getattr(module, func.__name__, None)
        if function is None or function is func:
            return NotImplemented
        if not all(issubclass(t, (ndarray, _np.ndarray)) for t in types):
            return NotImplemented
        return function(*args, **kwargs)


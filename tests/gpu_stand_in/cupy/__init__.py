"""A stand-in for CuPy that computes with NumPy, for the course's tests on machines without a GPU.

It is not CuPy and proves nothing about speed or CUDA. It lets the tests run
the grader's GPU path where no GPU exists: "device" arrays of their own type
that NumPy does not take for its own (so mixing host and device arrays fails
where it fails with CuPy, and copies can be seen and counted), elementwise
kernels written in the subset of CUDA C the course uses, and a device random
generator. The grader is pointed at it with AUTOGRADER_CUPY_STAND_IN, and
every report graded that way says so. tests/grading/test_hw4_stand_in.py holds it to
CuPy's rules (see _array.py for them).

Module functions follow CuPy's: ufuncs and most routines refuse host arrays;
``asarray``/``array`` copy them to the device; the ``*_like`` functions read
only their prototype's shape and dtype; the functions that CuPy implements by
calling the array's method of the same name (``cupy.sum(a)`` is ``a.sum()``)
do exactly that, so a host array gives a host result, as with CuPy.
"""
import sys
import types

import numpy as _np

from . import _array
from ._array import call_on_device, ndarray, operand
from ._kernel import ElementwiseKernel  # noqa: F401  (part of the module's interface)

IS_STAND_IN = True
__version__ = "0.0-stand-in"
DEVICE_NAME = "CuPy stand-in (NumPy on the CPU, no GPU)"

# cupy.<name>(a, ...) is a.<method>(...) in CuPy (cupy/_math/sumprod.py, cupy/_statistics/, ...).
_FORWARDED_TO_METHOD = {"sum": "sum", "prod": "prod", "mean": "mean", "var": "var", "std": "std",
                        "max": "max", "amax": "max", "min": "min", "amin": "min", "argmax": "argmax",
                        "argmin": "argmin", "all": "all", "any": "any", "clip": "clip", "around": "round",
                        "round": "round", "reshape": "reshape", "ravel": "ravel", "transpose": "transpose",
                        "swapaxes": "swapaxes", "squeeze": "squeeze", "repeat": "repeat", "take": "take",
                        "diagonal": "diagonal", "trace": "trace", "nonzero": "nonzero", "argsort": "argsort",
                        "argpartition": "argpartition", "dot": "dot", "copy": "copy"}
_PROTOTYPE_ONLY = {"empty_like", "zeros_like", "ones_like", "full_like"}  # shape and dtype of a host array are fine
_NO_VALUES_READ = {"result_type", "can_cast", "common_type", "min_scalar_type", "shape", "ndim", "size",
                   "isscalar", "iscomplexobj", "isrealobj"}


class ufunc:
    """A NumPy ufunc applied to device arrays and scalars only."""

    def __init__(self, numpy_ufunc):
        self._ufunc = numpy_ufunc
        self.__name__ = numpy_ufunc.__name__
        self.nin, self.nout, self.nargs = numpy_ufunc.nin, numpy_ufunc.nout, numpy_ufunc.nargs

    def __call__(self, *args, **kwargs):
        return _array.apply_ufunc(self._ufunc, "__call__", args, kwargs)

    def __getattr__(self, method):
        if method not in _array.UFUNC_METHODS:
            raise AttributeError(method)
        return lambda *args, **kwargs: _array.apply_ufunc(self._ufunc, method, args, kwargs)

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"


def _forwarded(method):
    def function(a, *args, **kwargs):
        return getattr(a, method)(*args, **kwargs)
    return function


def _reading_no_values(function):
    def wrapper(*args, **kwargs):
        return function(*operand(args, host_arrays_allowed=True),
                        **{k: operand(v, host_arrays_allowed=True) for k, v in kwargs.items()})
    return wrapper


def _on_device(function, host_arrays_allowed=False):
    def wrapper(*args, **kwargs):
        return call_on_device(function, args, kwargs, host_arrays_allowed)
    wrapper.__name__ = getattr(function, "__name__", "function")
    return wrapper


def _device_function(name, attr):
    if isinstance(attr, _np.ufunc):
        return ufunc(attr)
    if name in _FORWARDED_TO_METHOD:
        return _forwarded(_FORWARDED_TO_METHOD[name])
    if name in _NO_VALUES_READ:
        return _reading_no_values(attr)
    return _on_device(attr, host_arrays_allowed=name in _PROTOTYPE_ONLY)


_functions = {}


def __getattr__(name):
    """NumPy's names, as CuPy offers them: functions on the device, dtypes and constants as they are."""
    if name.startswith("_"):
        raise AttributeError(name)
    attr = getattr(_np, name)
    if not callable(attr) or isinstance(attr, type):
        return attr
    if name not in _functions:
        _functions[name] = _device_function(name, attr)
    return _functions[name]


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else _np


def _to_device(obj, dtype=None, order="K", ndmin=0):
    """A new device array holding ``obj`` (host data is copied; device arrays inside lists are read in place).

    The module's own functions call this, never ``asarray`` or ``array``: the grader's worker counts
    calls of those two, and one copy must count once."""
    return ndarray._of(_np.array(operand(obj, host_arrays_allowed=True), dtype=dtype, copy=True, order=order,
                                 ndmin=ndmin))


def _as_device_array(a, dtype=None, order=None):
    if isinstance(a, ndarray):
        return a if dtype is None or _np.dtype(dtype) == a.dtype else a.astype(dtype)
    return _to_device(a, dtype, order or "K")


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    return _as_device_array(a, dtype, order)


def asanyarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    return _as_device_array(a, dtype, order)


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, blocking=False):
    return _to_device(obj, dtype, order, ndmin)


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return _np.asarray(a, order=order)


class _DeviceNamespace:
    """A NumPy submodule (numpy.linalg) whose functions run on the device."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return _on_device(getattr(self._module, name))


linalg = _DeviceNamespace(_np.linalg)


# ---------------------------------------------------------------- random numbers, on the "device"
class RandomState:
    def __init__(self, seed=None):
        _array.load_library_on_first_use("curand")
        self._rng = _np.random.RandomState(seed)

    def __getattr__(self, name):
        return _on_device(getattr(self._rng, name))


class _Random(_DeviceNamespace):
    RandomState = RandomState

    @staticmethod
    def default_rng(seed=None):
        return RandomState(seed)


random = _Random(_np.random)


# ---------------------------------------------------------------- the "device"
class _Stream:
    def synchronize(self):
        pass


class _Device:
    def __init__(self, device_id=0):
        self.id = device_id

    def synchronize(self):
        pass


cuda = types.SimpleNamespace(
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1,
                                  getDeviceProperties=lambda i: {"name": DEVICE_NAME.encode()}),
    Device=_Device,
    get_current_stream=lambda: _Stream(),
)

_array.namespace = sys.modules[__name__]

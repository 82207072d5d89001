"""A stand-in for CuPy that computes with NumPy, for the course's tests on machines without a GPU.

It is not CuPy and proves nothing about speed or CUDA. It lets the tests run
the grader's GPU path where no GPU exists: "device" arrays of their own type
(so host/device mix-ups and copies can be seen and counted), elementwise
kernels written in the subset of CUDA C the course uses, and a device random
generator. The grader is pointed at it with AUTOGRADER_CUPY_STAND_IN, and
every report graded that way says so.
"""
import re
import sys
import types

import numpy as _np

IS_STAND_IN = True
__version__ = "0.0-stand-in"
DEVICE_NAME = "CuPy stand-in (NumPy on the CPU, no GPU)"


class ndarray(_np.ndarray):
    """A "device" array: NumPy memory underneath, its own type, explicit copies to the host."""

    def get(self, stream=None, order="C", out=None, blocking=True):
        return _np.array(self.view(_np.ndarray), order=order, copy=True)

    def set(self, arr, stream=None):
        self.view(_np.ndarray)[...] = arr

    # As in CuPy, every way of reading a value on the host goes through get().
    def item(self):
        return self.get().item()

    def tolist(self):
        return self.get().tolist()

    def __float__(self):
        return float(self.get())

    def __int__(self):
        return int(self.get())

    def __bool__(self):
        return bool(self.get())

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # CuPy reductions give 0-d device arrays, never host scalars.
        return _np.asarray(array).view(ndarray)


def _device(value):
    if type(value) is _np.ndarray or isinstance(value, _np.generic):
        return _np.asarray(value).view(ndarray)
    if type(value) is tuple:
        return tuple(_device(v) for v in value)
    return value


def _on_device_function(function):
    def wrapper(*args, **kwargs):
        return _device(function(*args, **kwargs))
    wrapper.__name__ = getattr(function, "__name__", "function")
    return wrapper


def __getattr__(name):
    attr = getattr(_np, name)
    if callable(attr) and not isinstance(attr, type):
        return _on_device_function(attr)
    return attr


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else _np


def asarray(a, dtype=None, order=None):
    if isinstance(a, ndarray):
        return a if dtype is None or _np.dtype(dtype) == a.dtype else a.astype(dtype)
    return _np.array(a, dtype=dtype, copy=True).view(ndarray)  # a host-to-device copy


def array(obj, dtype=None, copy=True, order="K", ndmin=0):
    host = obj.view(_np.ndarray) if isinstance(obj, ndarray) else obj
    return _np.array(host, dtype=dtype, copy=True, order=order, ndmin=ndmin).view(ndarray)


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    return a.get(order=order) if isinstance(a, ndarray) else _np.asarray(a, order=order)


# ---------------------------------------------------------------- elementwise kernels
_DECLARATION = re.compile(r"^(?:const\s+)?(?:T|float|double|int|long|unsigned)\s+(?=[A-Za-z_]\w*\s*=)")
_FLOAT_SUFFIX = re.compile(r"(\d+\.?\d*(?:[eE][-+]?\d+)?)[fF]\b")
_C_FUNCTIONS = {"exp": _np.exp, "expf": _np.exp, "log": _np.log, "sqrt": _np.sqrt, "tanh": _np.tanh,
                "fabs": _np.abs, "abs": _np.abs, "max": _np.maximum, "min": _np.minimum,
                "fmax": _np.maximum, "fmin": _np.minimum, "pow": _np.power}


def _python_statement(statement):
    if "?" in statement or "{" in statement or "if " in statement:
        raise NotImplementedError(f"the CuPy stand-in runs straight-line kernels only, not {statement!r}")
    return _FLOAT_SUFFIX.sub(r"\1", _DECLARATION.sub("", statement.strip()))


def _parameter_names(params):
    return [p.split()[-1] for p in params.split(",") if p.strip()]


class ElementwiseKernel:
    """Runs the kernel body with NumPy over whole arrays; outputs take the dtype T of the first input."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        self.inputs, self.outputs = _parameter_names(in_params), _parameter_names(out_params)
        self.name = name
        lines = [_python_statement(s) for s in operation.split(";") if s.strip()]
        self._code = compile("\n".join(lines), f"<kernel {name}>", "exec")

    def __call__(self, *args):
        if len(args) != len(self.inputs):
            raise TypeError(f"{self.name} takes {len(self.inputs)} arguments ({len(args)} given)")
        arrays = [a if isinstance(a, ndarray) else asarray(a) for a in args]
        dtype = arrays[0].dtype
        names = dict(_C_FUNCTIONS)
        names.update({n: a.view(_np.ndarray) for n, a in zip(self.inputs, arrays)})
        with _np.errstate(all="ignore"):  # a GPU raises no floating-point warnings
            exec(self._code, names)
        shape = _np.broadcast_shapes(*(a.shape for a in arrays))
        results = []
        for n in self.outputs:
            if n not in names:
                raise RuntimeError(f"kernel {self.name} never assigns its output {n!r}")
            results.append(_np.broadcast_to(_np.asarray(names[n], dtype=dtype), shape).copy().view(ndarray))
        return results[0] if len(results) == 1 else tuple(results)


# ---------------------------------------------------------------- random numbers, the "device"
class RandomState:
    def __init__(self, seed=None):
        self._rng = _np.random.RandomState(seed)

    def __getattr__(self, name):
        return _on_device_function(getattr(self._rng, name))


random = types.SimpleNamespace(
    RandomState=RandomState,
    default_rng=lambda seed=None: RandomState(seed),
    permutation=_on_device_function(_np.random.permutation),
)


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

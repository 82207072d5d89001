"""cupy.ElementwiseKernel for the stand-in: the kernel body, in the course's subset of CUDA C, run by NumPy."""
import re

import numpy as _np

from . import _array
from ._array import is_scalar, ndarray, unsupported

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


def _kernel_argument(value):
    """As CuPy's kernels take arguments: device arrays and scalars; a host array is refused."""
    if isinstance(value, ndarray) or is_scalar(value):
        return value
    raise unsupported(value)


class ElementwiseKernel:
    """Runs the kernel body with NumPy over whole arrays; outputs take the dtype T of the first array input."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        self.inputs, self.outputs = _parameter_names(in_params), _parameter_names(out_params)
        self.name = name
        lines = [_python_statement(s) for s in operation.split(";") if s.strip()]
        self._code = compile("\n".join(lines), f"<kernel {name}>", "exec")

    def __call__(self, *args, size=None, stream=None):
        _array.load_library_on_first_use("nvrtc")
        if len(args) not in (len(self.inputs), len(self.inputs) + len(self.outputs)):
            raise TypeError(f"Wrong number of arguments for {self.name!r}")
        args = [_kernel_argument(a) for a in args]
        inputs, given_outputs = args[:len(self.inputs)], args[len(self.inputs):]
        if not all(isinstance(o, ndarray) for o in given_outputs):
            raise TypeError("Output arguments must be cupy.ndarray")
        arrays = [a for a in args if isinstance(a, ndarray)]
        dtype = arrays[0].dtype if arrays else _np.result_type(*inputs)
        names = dict(_C_FUNCTIONS)
        names.update({n: a._data if isinstance(a, ndarray) else _np.asarray(a, dtype=dtype)
                      for n, a in zip(self.inputs, inputs)})
        with _np.errstate(all="ignore"):  # a GPU raises no floating-point warnings
            exec(self._code, names)
        shape = _np.broadcast_shapes(*(a.shape for a in arrays))
        results = []
        for i, n in enumerate(self.outputs):
            if n not in names:
                raise RuntimeError(f"kernel {self.name} never assigns its output {n!r}")
            values = _np.broadcast_to(_np.asarray(names[n], dtype=dtype), shape)
            if given_outputs:
                given_outputs[i]._data[...] = values
                results.append(given_outputs[i])
            else:
                results.append(ndarray._of(values.copy()))
        return results[0] if len(results) == 1 else tuple(results)

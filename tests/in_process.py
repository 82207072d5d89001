"""A hidden suite's checks called directly, in this process, against trusted stand-in functions.

The validity sweeps (tests/test_hw*_validity.py) use it: a stand-in for the
student's module answers the suite's calls as the worker would (arguments
copied, warnings recorded), so hundreds of grading seeds take seconds. No
sandbox and no worker: only the course's own functions ever run here.
"""
import copy
import hashlib
import importlib.util
import inspect
import warnings

import numpy as np

from autograder.proxy import Result
from autograder.wire import FunctionSpec


def load(path, name):
    """The module at ``path`` (a suite or a reference), imported under ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def silenced(function):
    """``function`` with every NumPy warning and floating-point error silenced inside the call."""
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(*args, **kwargs)
    return quiet


class InProcessStudent:
    """Answers the suite's calls as the worker would (copied arguments, warnings recorded).

    ``spec_functions`` builds the functions a suite sends as a FunctionSpec
    (name -> factory taking the spec's params), as the worker's library does.
    """

    def __init__(self, functions, spec_functions=None):
        self.functions = functions
        self.spec_functions = spec_functions or {}

    def call(self, name, *args, return_args=False, **kwargs):
        args = [self.spec_functions[a.name](**a.params) if isinstance(a, FunctionSpec) else copy.deepcopy(a)
                for a in args]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = self.functions[name](*args, **kwargs)
        value = value.copy() if isinstance(value, np.ndarray) else value  # the wire copies too
        found = [f"{w.category.__name__}: {w.message}" for w in caught]
        return Result(value, args if return_args else None, found)

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.call(name, *args, **kwargs).value


def checks(suite, item, prefix="test_"):
    """(check id, test function, parameters) for every check of ``item`` in ``suite`` whose name starts with ``prefix``."""
    found = []
    for name, function in vars(suite).items():
        marks = getattr(function, "pytestmark", []) if name.startswith(prefix) else []
        if not any(m.name == "item" and m.args[0] == item for m in marks):
            continue
        parametrized = [m for m in marks if m.name == "parametrize"]
        if not parametrized:
            found.append((name, function, {}))
        for mark in parametrized:
            argname, values = mark.args
            found += [(f"{name}[{v}]", function, {argname: v}) for v in values]
    assert found, f"no checks for {item} starting with {prefix}"
    return found


def run_check(function, params, student, seed, check_id):
    """None when the check passes, else its feedback sentence (seeded as a grading run seeds it)."""
    digest = hashlib.sha256(check_id.encode()).digest()
    fixtures = {"student": student, "rng": np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])}
    wanted = inspect.signature(function).parameters
    try:
        function(**{k: v for k, v in {**fixtures, **params}.items() if k in wanted})
    except AssertionError as exc:
        return str(exc) or "failed"
    return None

"""Every hw1 check looks at its input, and overflow is caught by value: swept over many seeds.

The hidden suite's checks are called here directly, with a stand-in for the
student's module that runs trusted functions in this process (the course's
reference, or versions of it that ignore their input or overflow). No sandbox
and no worker, so hundreds of grading seeds take seconds; tests/grading/test_hw1_grading.py
grades the same kinds of module through the real command line.
"""

import numpy as np
import pytest

import in_process
from helpers import REPO
from in_process import load, silenced
from mutants_hw1 import REFERENCE

SEEDS = range(150)
ELEMENTWISE = ("sigmoid_prime", "relu", "relu_prime", "leaky_relu", "leaky_relu_prime", "elu", "elu_prime")

SUITE = load(REPO / "autograder" / "hidden" / "test_hw1_activations.py", "hw1_hidden_suite")
REFERENCE_MODULE = load(REFERENCE, "hw1_reference")

# The functions the worker builds from a FunctionSpec (autograder/worker_library.py), for numerical_gradient.
SPEC_FUNCTIONS = {
    "cubic": lambda c: lambda x: float(np.sum(c * x ** 3)),
    "sin_mix": lambda a, b: lambda x: float(np.sum(np.sin(a * x) + b * x ** 2)),
    "matrix_form": lambda A: lambda x: float(np.sum(np.tanh(A @ x.reshape(A.shape[1], -1)))),
}


def checks(item):
    """(check id, test function, parameters) for every check of ``item`` in the hidden suite."""
    return in_process.checks(SUITE, item)


def run_check(function, params, functions, seed, check_id):
    """None when the check passes, else its feedback sentence."""
    student = in_process.InProcessStudent(functions, SPEC_FUNCTIONS)
    return in_process.run_check(function, params, student, seed, check_id)


def with_function(name, replacement):
    """The reference's functions, with ``name`` replaced."""
    functions = {n: getattr(REFERENCE_MODULE, n) for n in ELEMENTWISE + ("softmax", "numerical_gradient")}
    functions[name] = replacement
    return functions


def scalar_aware(make):
    """An input-ignoring function that still returns a number for a scalar input, as the course asks."""
    def function(z, *args, **kwargs):
        out = make(np.asarray(z, dtype=np.float64), *args, **kwargs)
        return out[()] if np.ndim(out) == 0 else out
    return function


# Functions that ignore their input, by the item whose function they replace.
VALUE_AT_ZERO = {"sigmoid_prime": 0.25, "relu": 0.0, "relu_prime": 0.0, "leaky_relu": 0.0,
                 "leaky_relu_prime": "alpha", "elu": 0.0, "elu_prime": "alpha"}


def ignoring_input(item):
    fakes = {
        "zeros": scalar_aware(lambda z, *a, **k: np.zeros_like(z)),
        "ones": scalar_aware(lambda z, *a, **k: np.ones_like(z)),
        "identity": lambda z, *a, **k: z,
    }
    if item == "softmax":
        fakes["uniform"] = lambda z: np.full_like(z, 1.0 / np.shape(z)[0])
    elif item == "numerical_gradient":
        fakes = {"zeros": lambda f, x, h=1e-5: np.zeros_like(x), "ones": lambda f, x, h=1e-5: np.ones_like(x),
                 "identity": lambda f, x, h=1e-5: x}
    elif VALUE_AT_ZERO[item] == "alpha":
        fakes["alpha"] = scalar_aware(lambda z, alpha=0.01: np.full_like(z, alpha))
    else:
        fakes["value at zero"] = scalar_aware(lambda z, *a, **k: np.full_like(z, VALUE_AT_ZERO[item]))
    return fakes


ITEMS = ELEMENTWISE + ("softmax", "numerical_gradient")


@pytest.mark.parametrize("item", ITEMS)
def test_reference_passes_every_check_for_every_seed(item):
    functions = with_function(item, getattr(REFERENCE_MODULE, item))
    for seed in SEEDS:
        for check_id, function, params in checks(item):
            failure = run_check(function, params, functions, seed, check_id)
            assert failure is None, f"seed {seed}, {check_id}: {failure}"


@pytest.mark.parametrize("item", ITEMS)
def test_a_function_that_ignores_its_input_fails_every_check(item):
    for fake_name, fake in ignoring_input(item).items():
        functions = with_function(item, fake)
        for seed in SEEDS:
            for check_id, function, params in checks(item):
                assert run_check(function, params, functions, seed, check_id) is not None, \
                    f"{item} as {fake_name} passed {check_id} with seed {seed}"


# Naive forms whose exp overflows, with every warning silenced inside the call (in_process.silenced):
# only values can tell.


def naive_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


NAIVE = {
    "sigmoid_prime": {
        "s * (1 - s) with 1 / (1 + exp(-z))": lambda z: naive_sigmoid(z) * (1.0 - naive_sigmoid(z)),
        "exp(-z) / (1 + exp(-z))**2": lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2,
        "1 / (2 + 2 cosh(z))": lambda z: 1.0 / (2.0 + 2.0 * np.cosh(z)),
    },
    "softmax": {
        "exp(z) / sum": lambda z: np.exp(z) / np.sum(np.exp(z), axis=0, keepdims=True),
    },
    "elu": {
        "z * (z > 0) + (exp(z) - 1) * (z <= 0)": lambda z, alpha=1.0: z * (z > 0) + alpha * (np.exp(z) - 1) * (z <= 0),
    },
    "elu_prime": {
        "(z > 0) + exp(z) * (z <= 0)": lambda z, alpha=1.0: (z > 0) + alpha * np.exp(z) * (z <= 0),
    },
}


@pytest.mark.parametrize("item, form", [(i, f) for i in NAIVE for f in NAIVE[i]])
def test_a_silenced_overflow_still_fails_the_extreme_check_by_value(item, form):
    functions = with_function(item, silenced(NAIVE[item][form]))
    check_id, function, params = next(c for c in checks(item) if c[0] == f"test_{item}_extreme_inputs")
    failure = run_check(function, params, functions, 0, check_id)
    assert failure is not None and "warned" not in failure, failure


def where_form_elu(z, alpha=1.0):
    """elu in the np.where form: exp overflows only in the branch np.where discards."""
    return np.where(np.asarray(z) > 0, z, alpha * (np.exp(z) - 1.0))[()]


def test_an_overflow_that_changes_no_value_is_caught_by_its_warning():
    check_id, function, params = next(c for c in checks("elu") if c[0] == "test_elu_extreme_inputs")
    failure = run_check(function, params, with_function("elu", where_form_elu), 0, check_id)
    assert failure is not None and "warned" in failure, failure


def test_a_function_that_silences_its_own_warnings_is_judged_by_values():
    # By decision: with nothing left to see and every value right, the np.where form earns full marks.
    for check_id, function, params in checks("elu"):
        assert run_check(function, params, with_function("elu", silenced(where_form_elu)), 0, check_id) is None

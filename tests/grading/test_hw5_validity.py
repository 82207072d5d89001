"""Every hw5 check looks at its input, and tolerances hold: swept over many seeds in this process.

The hidden suite's checks are called directly with a stand-in for the student's
module that runs trusted functions here (the course's reference, or versions of
it that ignore their input or overflow), as tests/grading/test_hw1_validity.py does for
hw1. No sandbox and no worker, so hundreds of grading seeds take seconds;
tests/grading/test_hw5_grading.py grades the same kinds of module through the real
command line.
"""

import numpy as np
import pytest

import in_process
from autograder import assignments
from helpers import REPO
from in_process import load, silenced
from mutants_hw5 import REFERENCE

SEEDS = range(150)
SUITE = load(REPO / "autograder" / "hidden" / "test_hw5_cross_entropy.py", "hw5_hidden_suite")
REFERENCE_MODULE = load(REFERENCE, "hw5_reference")
FUNCTIONS = ("binary_cross_entropy", "categorical_cross_entropy", "log_softmax", "softmax_cross_entropy",
             "softmax_cross_entropy_delta", "l2_cost", "l2_gradient", "weight_decay_update", "dropout_mask",
             "dropout_forward", "dropout_backward", "best_epoch")
ITEMS = [i.name for i in assignments.get("hw5_cross_entropy").items]


def checks(item, prefix="test_"):
    """(check id, test function, parameters) for every check of ``item`` whose name starts with ``prefix``."""
    return in_process.checks(SUITE, item, prefix)


def run_check_with(function, params, functions, seed, check_id):
    """None when the check passes, else its feedback sentence (seeded as a grading run seeds it)."""
    return in_process.run_check(function, params, in_process.InProcessStudent(functions), seed, check_id)


def reference_with(**replaced):
    functions = {name: getattr(REFERENCE_MODULE, name) for name in FUNCTIONS}
    functions.update(replaced)
    return functions


@pytest.mark.parametrize("item", ITEMS)
def test_reference_passes_every_check_for_every_seed(item):
    functions = reference_with()
    for seed in SEEDS:
        for check in checks(item):
            failure = run_check_with(check[1], check[2], functions, seed, check[0])
            assert failure is None, f"seed {seed}, {check[0]}: {failure}"


def zeros_like_first(x, *args, **kwargs):
    return np.zeros_like(np.asarray(x, dtype=np.float64))


def copy_of_first(x, *args, **kwargs):
    return np.array(x, dtype=np.float64)


# function: (item, check-name prefix of the checks that call it, {fake name: fake}). A fake ignores what it
# was given; it must fail every one of those checks under every seed.
IGNORING = {
    "binary_cross_entropy": ("binary_cross_entropy", "test_", {
        "zero": lambda a, y: 0.0, "ln 2": lambda a, y: float(np.log(2.0)), "one": lambda a, y: 1.0}),
    "categorical_cross_entropy": ("categorical_cross_entropy", "test_", {
        "zero": lambda a, y: 0.0, "ln n": lambda a, y: float(np.log(np.shape(a)[0]))}),
    "log_softmax": ("log_softmax", "test_", {
        "zeros": zeros_like_first, "identity": copy_of_first,
        "uniform": lambda z: np.full_like(z, -np.log(np.shape(z)[0]))}),
    "softmax_cross_entropy": ("softmax_cross_entropy", "test_", {
        "zero": lambda z, y: 0.0, "ln n": lambda z, y: float(np.log(np.shape(z)[0]))}),
    "softmax_cross_entropy_delta": ("softmax_cross_entropy_delta", "test_", {
        "zeros": zeros_like_first, "z": copy_of_first, "-y": lambda z, y: -np.asarray(y, dtype=np.float64),
        "uniform - y": lambda z, y: 1.0 / np.shape(z)[0] - np.asarray(y, dtype=np.float64)}),
    "l2_cost": ("l2", "test_l2_cost", {"data cost": lambda c, w, lmbda, n: float(c)}),
    "l2_gradient": ("l2", "test_l2_gradient", {"data gradient": lambda g, w, lmbda, n: [np.array(x) for x in g]}),
    "weight_decay_update": ("l2", "test_weight_decay", {
        "w": copy_of_first, "zeros": zeros_like_first}),
    "dropout_mask": ("dropout", "test_dropout_mask", {
        "ones": lambda u, p: np.ones_like(u), "zeros": zeros_like_first, "u": copy_of_first,
        "1/p everywhere": lambda u, p: np.full_like(u, 1 / p)}),
    "dropout_forward": ("dropout", "test_dropout_forward_in_training", {
        "a": copy_of_first, "zeros": zeros_like_first}),
    "dropout_backward": ("dropout", "test_dropout_backward", {
        "da": copy_of_first, "mask": lambda da, mask: np.array(mask, dtype=np.float64)}),
    "best_epoch": ("early_stopping", "test_", {
        "(0, last)": lambda acc, p: (0, len(acc) - 1), "(last, last)": lambda acc, p: (len(acc) - 1, len(acc) - 1),
        "(patience, patience)": lambda acc, p: (p, p)}),
}


def test_every_function_has_input_ignoring_fakes():
    assert set(IGNORING) == set(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_that_ignores_its_input_fails_every_check_that_calls_it(function):
    item, prefix, fakes = IGNORING[function]
    for fake_name, fake in fakes.items():
        functions = reference_with(**{function: fake})
        for seed in range(40):
            for check_id, check, params in checks(item, prefix):
                assert run_check_with(check, params, functions, seed, check_id) is not None, \
                    f"{function} as {fake_name} passed {check_id} with seed {seed}"




def naive_softmax(z):
    return np.exp(z) / np.sum(np.exp(z), axis=0, keepdims=True)


# Forms that overflow or take log(0), with every warning silenced inside the call: their values must show it.
NAIVE = {
    ("log_softmax", "test_log_softmax_extreme_logits"): {
        "log(softmax(z)) with the stable softmax": lambda z: np.log(REFERENCE_MODULE.softmax(z)),
        "z - log(sum(exp(z)))": lambda z: z - np.log(np.sum(np.exp(z), axis=0, keepdims=True)),
    },
    ("softmax_cross_entropy", "test_softmax_cross_entropy_extreme_logits"): {
        "-sum(y log(softmax(z))) / m": lambda z, y: float(-np.sum(y * np.log(REFERENCE_MODULE.softmax(z)))
                                                          / z.shape[1]),
        "clipped: -sum(y log(max(softmax(z), 1e-12))) / m": lambda z, y: float(
            -np.sum(y * np.log(np.maximum(REFERENCE_MODULE.softmax(z), 1e-12))) / z.shape[1]),
    },
    ("softmax_cross_entropy_delta", "test_delta_extreme_logits"): {
        "exp(z) / sum(exp(z)) - y": lambda z, y: naive_softmax(z) - y,
    },
    ("binary_cross_entropy", "test_binary_cross_entropy_saturated_outputs"): {
        "clipped to [1e-12, 1 - 1e-12]": lambda a, y: float(-np.sum(
            y * np.log(np.clip(a, 1e-12, 1 - 1e-12)) + (1 - y) * np.log(1 - np.clip(a, 1e-12, 1 - 1e-12)))
            / a.shape[1]),
        "-(y log a + (1 - y) log(1 - a))": lambda a, y: float(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a))
                                                             / a.shape[1]),
    },
}


@pytest.mark.parametrize("key, form", [(k, f) for k in NAIVE for f in NAIVE[k]])
def test_a_silenced_unstable_form_fails_by_value(key, form):
    function, check_name = key
    item = {"log_softmax": "log_softmax", "softmax_cross_entropy": "softmax_cross_entropy",
            "softmax_cross_entropy_delta": "softmax_cross_entropy_delta",
            "binary_cross_entropy": "binary_cross_entropy"}[function]
    (check_id, check, params), = checks(item, check_name)
    failure = run_check_with(check, params, reference_with(**{function: silenced(NAIVE[key][form])}), 0, check_id)
    assert failure is not None and "warned" not in failure, failure


def test_nielsens_nan_to_num_form_is_caught_by_its_warning():
    # Right values (nan_to_num turns 0 * -inf into 0), but np.log(0) warns: the warning decides.
    def nielsen(a, y):
        return float(np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a))) / a.shape[1])
    (check_id, check, params), = checks("binary_cross_entropy", "test_binary_cross_entropy_saturated_outputs")
    failure = run_check_with(check, params, reference_with(binary_cross_entropy=nielsen), 0, check_id)
    assert failure is not None and "warned" in failure, failure


def log_sum_exp(z):
    c = np.max(z, axis=0, keepdims=True)
    return c + np.log(np.sum(np.exp(z - c), axis=0, keepdims=True))


def examples(a):
    return a.shape[1] if np.ndim(a) == 2 else 1


# Other correct ways to write each function, as students write them: every check must pass them for every seed
# (a tolerance with no room for a different order of operations would cost them points now and then).
EQUIVALENT = {
    "binary_cross_entropy": lambda a, y: float(-np.sum(
        np.where(y == 1, np.log(np.where(y == 1, a, 1.0)), 0.0) + np.where(y == 0, np.log1p(-np.where(y == 0, a, 0.0)), 0.0)
        + np.where((y > 0) & (y < 1), y * np.log(np.where((y > 0) & (y < 1), a, 0.5))
                   + (1 - y) * np.log(1 - np.where((y > 0) & (y < 1), a, 0.5)), 0.0))) / examples(a),
    "categorical_cross_entropy": lambda a, y: -float(np.sum(y[y > 0] * np.log(a[y > 0]))) / examples(a),
    "log_softmax": lambda z: z - log_sum_exp(z),
    "softmax_cross_entropy": lambda z, y: float(np.sum(log_sum_exp(z) * np.sum(y, axis=0) - np.sum(y * z, axis=0)))
    / examples(z),
    "softmax_cross_entropy_delta": lambda z, y: np.exp(z - log_sum_exp(z)) - y,
    "l2_cost": lambda c, weights, lmbda, n: c + 0.5 * (lmbda / n) * sum(float(np.sum(w * w)) for w in weights),
    "l2_gradient": lambda g, weights, lmbda, n: [gi + lmbda * wi / n for gi, wi in zip(g, weights)],
    "weight_decay_update": lambda w, g, eta, lmbda, n: w - eta * (g + (lmbda / n) * w),
    "dropout_mask": lambda u, p: (u < p).astype(float) / p,
    "dropout_forward": lambda a, mask, train=True: a * mask if train else a + 0.0,
    "dropout_backward": lambda da, mask: mask * da,
    "best_epoch": lambda acc, patience: next(
        ((int(np.argmax(acc[:stop + 1])), stop) for stop in range(len(acc))
         if stop - int(np.argmax(acc[:stop + 1])) >= patience), (int(np.argmax(acc)), len(acc) - 1)),
}


def test_every_function_has_an_equivalent_form():
    assert set(EQUIVALENT) == set(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_an_equivalent_form_passes_every_check_for_every_seed(function):
    item = next(item for f, (item, _, _) in IGNORING.items() if f == function)
    functions = reference_with(**{function: EQUIVALENT[function]})
    for seed in SEEDS:
        for check_id, check, params in checks(item):
            failure = run_check_with(check, params, functions, seed, check_id)
            assert failure is None, f"{function}, seed {seed}, {check_id}: {failure}"

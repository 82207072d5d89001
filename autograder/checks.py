"""Helpers for hidden and public suites: type checks, comparisons, finite differences.

Every helper raises AssertionError with one readable sentence, because that
sentence becomes the student's feedback. Values from the worker are checked
for type, dtype and shape before any arithmetic touches them. ``what`` in every
helper names the value in that sentence ("backprop on a [3, 4, 2] network").
"""
import numbers

import numpy as np
import pytest

from .proxy import StudentError
from .wire import DeviceArray, Ref, Unsupported


def describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (Unsupported, Ref)):
        return f"an object of type {value.type_name}"
    return f"a {type(value).__name__}"


def float_result(value, like, what):
    """The student's ``value`` as float64, after checking it matches ``like``.

    For a scalar ``like`` any real number (or 0-d float array) is accepted; for
    an array it must be a floating-point ndarray of exactly ``like.shape``.
    """
    like = np.asarray(like)
    if like.shape == ():
        if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind == "f":
            return np.float64(value)
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
            return np.float64(value)
        raise AssertionError(f"{what}: for a scalar input expected a number, got {describe(value)}")
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"{what}: expected a NumPy array of shape {like.shape}, got {describe(value)}")
    if value.shape != like.shape:
        raise AssertionError(f"{what}: expected shape {like.shape}, got shape {value.shape}")
    if value.dtype.kind != "f":
        raise AssertionError(f"{what}: expected a floating-point array, got dtype {value.dtype}")
    if value.dtype != np.float64 and like.dtype == np.float64:
        raise AssertionError(f"{what}: float64 input must give a float64 result, got {value.dtype}")
    return value.astype(np.float64)


def host_array(value, xp, what):
    """The NumPy copy of an array the student's code returned, after checking where it lived."""
    if xp == "cupy":
        if not isinstance(value, DeviceArray):
            raise AssertionError(f"{what}: expected a CuPy array (on the GPU), got {describe(value)}")
        return value.array
    if isinstance(value, DeviceArray):
        raise AssertionError(f"{what}: with xp=numpy expected a NumPy array, got a {value.module} array")
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"{what}: expected a NumPy array, got {describe(value)}")
    return value


def array_result(value, xp, shape, what):
    """The NumPy copy of a floating-point array of ``shape`` that the student's code returned on the device
    of ``xp`` ("numpy" or "cupy"). Its dtype is kept: float32 stays float32."""
    array = host_array(value, xp, what)
    if array.shape != tuple(shape):
        raise AssertionError(f"{what}: expected shape {tuple(shape)}, got {array.shape}")
    if array.dtype.kind != "f":
        raise AssertionError(f"{what}: expected a floating-point array, got dtype {array.dtype}")
    return array


def list_result(value, count, what, of="arrays"):
    """``value`` as a list, after checking it is a list or tuple of ``count`` entries (``of`` says of what)."""
    if not isinstance(value, (list, tuple)) or len(value) != count:
        length = f" of length {len(value)}" if isinstance(value, (list, tuple)) else ""
        raise AssertionError(f"{what}: expected a list of {count} {of}, got {describe(value)}{length}")
    return list(value)


def cost_result(value, what):
    """What a cost function returned, as a Python float: one real number (or a 0-d float array; see float_result)."""
    return float(float_result(value, 0.0, f"{what} (a cost is one number)"))


def float_results(value, like, what, of="arrays", label=None):
    """A list of float arrays shaped like the arrays in ``like`` (a list), each as float64 (see float_result).

    Entry ``i`` is named ``label(i)`` in feedback, by default ``what[i]``."""
    label = label or (lambda i: f"{what}[{i}]")
    value = list_result(value, len(like), what, of)
    return [float_result(v, ref, label(i)) for i, (v, ref) in enumerate(zip(value, like))]


def array_results(value, xp, like, what):
    """A list of floating-point arrays on the device of ``xp``, shaped like the arrays in ``like`` (a list),
    as NumPy copies in their own dtype (see array_result); entry ``i`` is named ``what[i]``."""
    value = list_result(value, len(like), what)
    return [array_result(v, xp, ref.shape, f"{what}[{i}]") for i, (v, ref) in enumerate(zip(value, like))]


def pair_result(value, names, what, tuple_only=False):
    """The two parts of a returned pair, e.g. ``names=("nabla_b", "nabla_w")`` (None: the feedback names no
    parts): a tuple or list of two (a tuple only, with ``tuple_only``)."""
    kinds = tuple if tuple_only else (list, tuple)
    if not isinstance(value, kinds) or len(value) != 2:
        parts = f" ({names[0]}, {names[1]})" if names else ""
        raise AssertionError(f"{what}: expected a pair{parts}, got {describe(value)}")
    return value[0], value[1]


def paired(what, *sequences):
    """zip() for sequences that must be equally long: zip stops at the shortest, and nothing compared passes.

    The feedback compares the first sequence (what was got) with the last (what was expected)."""
    lengths = [len(s) for s in sequences]
    if len(set(lengths)) != 1:
        raise AssertionError(f"{what}: {lengths[0]} arrays where {lengths[-1]} were expected")
    return zip(*sequences)


def relative_error(actual, expected, floor=1e-300):
    """Largest elementwise |a - e| / max(|a|, |e|, floor); inf where not finite."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.size == 0:
        return 0.0
    if not np.all(np.isfinite(actual)):
        return float("inf")
    with np.errstate(all="ignore"):
        scale = np.maximum(np.maximum(np.abs(actual), np.abs(expected)), floor)
        return float(np.max(np.abs(actual - expected) / scale))


def assert_close(actual, expected, what, rtol, atol=0.0):
    """Pass when every |a - e| <= rtol * max(|a|, |e|) + atol (and a is finite)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if not np.all(np.isfinite(actual)):
        raise AssertionError(f"{what}: the result contains nan or inf")
    with np.errstate(all="ignore"):
        bound = rtol * np.maximum(np.abs(actual), np.abs(expected)) + atol
        ok = bool(np.all(np.abs(actual - expected) <= bound))
    if not ok:
        err = relative_error(actual, expected, floor=max(atol, 1e-300))
        raise AssertionError(f"{what}: relative error {err:.1e} (allowed {rtol:.0e})")


def assert_lists_close(got, expected, what, rtol, atol=0.0, label=None):
    """Every got[i] close to expected[i] (assert_close), for two equally long lists of arrays.

    Entry ``i`` is named ``label(i)`` in feedback, by default ``what[i]``."""
    label = label or (lambda i: f"{what}[{i}]")
    for i, (g, e) in enumerate(paired(what, got, expected)):
        assert_close(g, e, label(i), rtol, atol)


def assert_changes_close(got, expected, start, what, rtol, atol=0.0, label=None):
    """What an update changed, got[i] - start[i], close to expected[i] - start[i], for lists of arrays.

    Comparing the changes rather than the values keeps a small wrong step from hiding in the rounding of
    large values. Names as in assert_lists_close."""
    assert_lists_close([g - s for g, s in paired(what, got, start)], [e - s for e, s in paired(what, expected, start)],
                       what, rtol, atol, label)


def assert_number(got, expected, what, tol=0.0):
    """A number within ``tol`` of ``expected`` (nan never is)."""
    if not abs(got - expected) <= tol:
        raise AssertionError(f"{what} should be {expected!r}, got {got!r}")


def assert_exact(actual, expected, inputs, what):
    """Exact comparison; the message names the first input where they differ."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    wrong = np.flatnonzero(actual != expected)
    if wrong.size:
        i = wrong[0]
        z = np.asarray(inputs, dtype=np.float64).flat[i]
        raise AssertionError(f"{what}: wrong at {wrong.size} of {actual.size} entries, "
                             f"e.g. z = {z:.4g} gives {actual.flat[i]:.6g}, expected {expected.flat[i]:.6g}")


def shape_text(shape):
    return "a scalar" if shape == () else f"a {shape} array"


def assert_unchanged(before, after, what):
    """The student's function must not modify its input array in place."""
    if isinstance(before, np.ndarray):
        same = (isinstance(after, np.ndarray) and after.shape == before.shape
                and np.allclose(after, before, rtol=1e-13, atol=1e-13))
        if not same:
            raise AssertionError(f"{what}: the input array was modified; leave it as it was")


def assert_no_runtime_warning(result, what):
    numeric = [w for w in result.warnings if w.startswith("RuntimeWarning")]
    if numeric:
        raise AssertionError(f"{what}: NumPy warned ({numeric[0]}); use a numerically stable form")


def central_difference(f, z, h=1e-5):
    """Elementwise derivative of an elementwise function f at z, in float64."""
    z = np.asarray(z, dtype=np.float64)
    return (f(z + h) - f(z - h)) / (2 * h)


def central_gradient(f, x, h=1e-5):
    """Gradient of a scalar function f at the array x (any shape) by central differences, entry by entry,
    in float64; an array shaped like x."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def away_from_zero(rng, shape, low=0.05, high=4.0):
    """Random values with |z| in [low, high]: finite differences are exact enough there."""
    z = rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return np.float64(z) if shape == () else z


def measure_once(measured, key, measure):
    """measure() the first time (remembering a failure or skip too), the remembered result after."""
    if key not in measured:
        try:
            measured[key] = measure()
        except (AssertionError, StudentError, pytest.skip.Exception) as exc:
            measured[key] = exc
    if isinstance(measured[key], BaseException):
        raise measured[key]
    return measured[key]


# ---------------------------------------------------------------- timing on a machine that may be busy
PASS, FAIL, UNSURE = "pass", "fail", "unsure"
BUSY_ATTEMPTS = 3  # measurements of a speed item before it is reported NOT GRADED


def speed_verdict(student, baselines, fast_enough):
    """Decide a timed check from rounds of measurements (lists of seconds), so that load never decides it.

    PASS when the medians pass (``fast_enough(student_seconds, {name: seconds})``). FAIL only when even
    the pairing most favourable to the student fails: its fastest round against each baseline's slowest,
    which load cannot make look worse than it is. Anything between is UNSURE: the machine was too busy
    to tell, and the caller measures again (and at last reports the item NOT GRADED).
    """
    if fast_enough(float(np.median(student)), {k: float(np.median(v)) for k, v in baselines.items()}):
        return PASS
    if not fast_enough(min(student), {k: max(v) for k, v in baselines.items()}):
        return FAIL
    return UNSURE


def speed_verdicts(measure, rule_for, parts):
    """Verdicts for the parts of a timed item, measured until load leaves none UNSURE (BUSY_ATTEMPTS at most).

    ``measure()`` gives {"student": [seconds], baseline: [seconds], ...} for one set of rounds; rounds add up
    across attempts. ``rule_for(part)`` is the ``fast_enough`` rule of a part. Returns ({part: verdict},
    {kind: median seconds}, the number of the student's rounds)."""
    rounds = {}
    for _ in range(BUSY_ATTEMPTS):
        for kind, seconds in measure().items():
            rounds.setdefault(kind, []).extend(seconds)
        baselines = {kind: t for kind, t in rounds.items() if kind != "student"}
        verdicts = {part: speed_verdict(rounds["student"], baselines, rule_for(part)) for part in parts}
        if UNSURE not in verdicts.values():
            break
    return verdicts, {kind: float(np.median(t)) for kind, t in rounds.items()}, len(rounds["student"])


def too_busy(what, regrade):
    """Skip a speed check as NOT GRADED: the machine's load made the measurement undecidable."""
    pytest.skip(f"the machine was too busy to time {what} reliably ({BUSY_ATTEMPTS} measurements disagreed); "
                f"{regrade}")

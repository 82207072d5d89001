"""Baselines shared across a class, a load probe, and the timing breakdown of a grading.

A timed item (hw2's speed) compares the student's update with baselines (the
per-example loop, the course's matrix form) measured on the same machine.
Graded one at a time, every submission measures its own baselines. Graded as a
class (grade-all, the parallel ``autograde`` command), the batch process
measures them once, while no student code runs, writes them to a grader-side
file, and re-measures every ``every`` students and whenever the load probe
that the gradings report spreads more than it did when the baselines were
measured.

Shared baselines are measured at another moment than the student's runs, so a
**load probe** (a fixed piece of the grader's own NumPy work, run in the
grader's process) is timed with the baselines and again beside every student
run. Shared baselines may only give a PASS, and only when the probe beside
the student agrees with the one recorded with them (within their spread plus
``PROBE_TOLERANCE``). Anything else (a slower or faster machine, a part
that would fail or is undecided, a missing or bad file) makes the grading
measure its own baselines exactly as a single ``grade`` does, so a correct
submission never loses a point to load and a slow one never passes on stale
baselines.

The file is read by the grader only: its path and an HMAC key travel in the
environment of the grading process (student workers get an environment of
their own, and the sandbox does not show the folder), and it is written only
by the batch process. A file with a wrong signature, missing fields or values
out of range is ignored (the grading measures its own baselines).
"""
import hashlib
import hmac
import importlib
import json
import math
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FILE_ENV = "AUTOGRADER_SHARED_BASELINES"
KEY_ENV = "AUTOGRADER_SHARED_BASELINES_KEY"
FORMAT = 1

# The suites that can share baselines, and the function in each that measures them.
SUITES = {"hw2_backprop": "autograder.hidden.test_hw2_backprop"}
TIMED_ITEMS = {"hw2_backprop": "speed"}

PROBE_REPEATS = 4         # work in one probe run
PROBE_SAMPLES = 5         # probe runs with the baselines (per round) and beside each student run
PROBE_TOLERANCE = 0.25    # beyond the recorded probe's range by more than this: the load changed
REMEASURE_EVERY = 25      # students between two measurements of the shared baselines
SPREAD_GROWTH = 1.5       # a grading's probe spread this many times the recorded one triggers a re-measure
SPREAD_FLOOR = 0.10       # ...unless it stays below this relative spread (noise of a quiet machine)
LOAD_RECHECK_GAP = 4      # students at least between two re-measures for a grading that saw the load change
STOP_AFTER_DECLINES = 8   # gradings in a row that could not use the shared baselines: stop offering them
MEASURE_ATTEMPTS = 3      # measurements of the shared baselines in a row while the probe is not steady
STEADY_SPREAD = 0.25      # a probe spread up to this is a steady machine
MAX_AGE_S = 6 * 3600      # an older file is stale
SECONDS_RANGE = (1e-6, 10.0)  # a plausible time per update or per probe run
MAX_ROUNDS = 200


# ---------------------------------------------------------------- timing breakdown of one grading
timing = {}  # item -> {what: seconds or text}; filled by the suites during one grade(), read by grading.grade


def reset_timing():
    timing.clear()


def add_timing(item, **fields):
    """Add to an item's timing: numbers add up (seconds), anything else replaces."""
    entry = timing.setdefault(item, {})
    for key, value in fields.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(entry.get(key), float):
            entry[key] = round(entry[key] + float(value), 6)
        else:
            entry[key] = round(float(value), 6) if isinstance(value, float) else value


# ---------------------------------------------------------------- the load probe
def _probe_net():
    rng = np.random.default_rng(20240)
    sizes = [784, 30, 10]
    weights = [rng.standard_normal((n, m)) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
    X, Y = rng.uniform(size=(784, 100)), np.eye(10)[:, rng.integers(0, 10, 100)]
    return weights, biases, X, Y


_PROBE = None


def probe_seconds(samples=PROBE_SAMPLES):
    """Seconds of each of ``samples`` runs of a fixed piece of the grader's work (a mini-batch's gradients
    in matrix form and ten per-example ones), timed in this process: how fast the machine is right now."""
    global _PROBE
    from .hidden.reference_sgd import batch_gradients
    if _PROBE is None:
        _PROBE = _probe_net()
    weights, biases, X, Y = _PROBE
    batch_gradients(weights, biases, X, Y)  # warm: the first run after a pause is slower (caches, clocks)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(PROBE_REPEATS):  # a few milliseconds: longer than a scheduler's time slice
            batch_gradients(weights, biases, X, Y)
            for i in range(10):
                batch_gradients(weights, biases, X[:, i:i + 1], Y[:, i:i + 1])
        times.append(time.perf_counter() - start)
    return times


def _quartiles(seconds):
    return tuple(float(q) for q in np.percentile(seconds, [25, 50, 75]))


def relative_spread(seconds):
    """How much a list of seconds varies: the interquartile range over the median (a stray slow run,
    say a page fault, does not count; a machine whose load comes and goes does)."""
    low, median, high = _quartiles(seconds)
    return (high - low) / median


def probe_agrees(recorded, now, tolerance=PROBE_TOLERANCE):
    """(whether the machine runs now as when ``recorded`` was taken, median ratio now / recorded).

    It agrees when the median of ``now`` lies within the recorded quartiles widened by ``tolerance``."""
    low, median, high = _quartiles(recorded)
    median_now = float(np.median(now))
    return low / (1 + tolerance) <= median_now <= high * (1 + tolerance), median_now / median


BLAS_THREAD_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                       "scipy_openblas_set_num_threads", "openblas_set_num_threads64_")


def one_blas_thread():
    """Make this process's BLAS use one thread (the grader's own arithmetic is small; gradings side by side
    with a BLAS thread pool each fight over the cores). Returns whether a BLAS library was told."""
    import ctypes
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    libraries = {line.split()[-1] for line in maps.splitlines() if "openblas" in line.lower() and "/" in line}
    told = False
    for library in sorted(libraries):
        try:
            handle = ctypes.CDLL(library)
        except OSError:
            continue
        for name in BLAS_THREAD_SETTERS:
            setter = getattr(handle, name, None)
            if setter is not None:
                setter(1)
                told = True
                break
    return told


# ---------------------------------------------------------------- the file
def _signature(key, body):
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def _body(record):
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def write_record(path, record, key):
    """Write ``record`` signed with ``key`` to a fresh file renamed onto ``path`` (readable by its owner only)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".baselines-", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump({"record": record, "hmac": _signature(key, _body(record))}, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _seconds_list(value, what):
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_ROUNDS:
        raise ValueError(f"{what} is not a list of 1 to {MAX_ROUNDS} times")
    for v in value:
        if (not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v)
                or not SECONDS_RANGE[0] <= v <= SECONDS_RANGE[1]):
            raise ValueError(f"{what} holds {v!r}, not a time in seconds")
    return [float(v) for v in value]


def validate(record, assignment_id, kinds, now=None):
    """The record's fields checked (types, ranges, age); raises ValueError saying what is wrong."""
    now = time.time() if now is None else now
    if not isinstance(record, dict):
        raise ValueError("not a record")
    if record.get("format") != FORMAT:
        raise ValueError("unknown format")
    if record.get("assignment") != assignment_id:
        raise ValueError(f"measured for {record.get('assignment')!r}, not {assignment_id}")
    ident = record.get("id")
    if not isinstance(ident, int) or isinstance(ident, bool) or not 1 <= ident <= 10 ** 6:
        raise ValueError("no measurement number")
    measured_at = record.get("measured_at")
    if not isinstance(measured_at, (int, float)) or not now - MAX_AGE_S <= measured_at <= now + 60:
        raise ValueError("measured too long ago or in the future")
    rounds = record.get("rounds")
    if not isinstance(rounds, dict) or set(rounds) != set(kinds):
        raise ValueError(f"the baselines are not exactly {sorted(kinds)}")
    clean = {kind: _seconds_list(rounds[kind], f"baseline {kind}") for kind in kinds}
    probe = _seconds_list(record.get("probe"), "the probe")
    return {"id": ident, "measured_at": float(measured_at), "rounds": clean, "probe": probe,
            "assignment": assignment_id}


def load(assignment_id, kinds, environ=None):
    """(the shared baselines for ``assignment_id`` or None, why not) from the file the batch named.

    None with "" when no file was named (a single ``grade`` measures its own)."""
    environ = os.environ if environ is None else environ
    path, key = environ.get(FILE_ENV), environ.get(KEY_ENV)
    if not path:
        return None, ""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        record = data["record"]
        if not key or not hmac.compare_digest(str(data.get("hmac")), _signature(bytes.fromhex(key), _body(record))):
            raise ValueError("its signature does not match")
        return validate(record, assignment_id, kinds), ""
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        return None, f"the shared baselines file was ignored ({exc})"


def describe(record):
    """'shared measurement 3 of 12:00:05 UTC' for a record, for feedback and reports."""
    return f"shared measurement {record['id']} of {time.strftime('%H:%M:%S UTC', time.gmtime(record['measured_at']))}"


def reference(record):
    """What a report says about the baselines it was compared with."""
    return {"source": "shared", "id": record["id"],
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record["measured_at"]))}


# ---------------------------------------------------------------- the batch side
class SharedBaselines:
    """The batch's shared baselines: measured before the first student, re-measured when due.

    ``measure`` (default: the suite's ``measure_shared_baselines``) gives {kind: [seconds]} and
    the probe's [seconds]; it runs in the batch process while no grading runs (the caller
    makes sure). ``after_student(report)`` looks at a finished grading's probe and says
    whether a re-measure is due before the next student starts.
    """

    def __init__(self, assignment_id, folder, every=REMEASURE_EVERY, measure=None):
        self.assignment_id = assignment_id
        self.path = Path(folder) / f"baselines-{assignment_id}.json"
        self.key = secrets.token_bytes(32)
        self.every = every
        self._measure = measure or importlib.import_module(SUITES[assignment_id]).measure_shared_baselines
        self.record = None
        self.since = 0          # students graded since the last measurement
        self.due_reason = "first measurement"
        self.history = []       # (id, time, why) of every measurement
        self.seconds = 0.0      # spent measuring, in all
        self.failed = None      # why measuring failed or stopped (then every grading measures its own)
        self.declined_in_a_row = 0

    @staticmethod
    def supported(assignment_id, items=None):
        item = TIMED_ITEMS.get(assignment_id)
        return item is not None and (not items or item in items)

    def environment(self):
        return {} if self.failed else {FILE_ENV: str(self.path), KEY_ENV: self.key.hex()}

    def due(self):
        return self.due_reason is not None

    def measure_now(self):
        """Measure (up to MEASURE_ATTEMPTS times while the probe varies too much: a busy moment) and write
        the file; the steadiest measurement is kept."""
        one_blas_thread()  # as in the gradings, whose probe is compared with this one
        started, best = time.perf_counter(), None
        for _ in range(MEASURE_ATTEMPTS):
            try:
                rounds, probe = self._measure()
            except Exception as exc:  # noqa: BLE001 - the gradings measure their own; the class is still graded
                self.failed = f"{type(exc).__name__}: {exc}"
                self.due_reason = None
                self.path.unlink(missing_ok=True)
                print(f"WARNING: the shared baselines could not be measured ({self.failed}); "
                      f"every student measures their own", file=sys.stderr)
                return None
            if best is None or relative_spread(probe) < relative_spread(best[1]):
                best = rounds, probe
            if relative_spread(probe) <= STEADY_SPREAD:
                break
        rounds, probe = best
        self.seconds += time.perf_counter() - started
        ident = (self.record["id"] + 1) if self.record else 1
        self.record = {"format": FORMAT, "assignment": self.assignment_id, "id": ident,
                       "measured_at": time.time(), "rounds": rounds, "probe": probe}
        write_record(self.path, self.record, self.key)
        self.history.append((ident, self.record["measured_at"], self.due_reason))
        self.since, self.due_reason = 0, None
        return self.record

    def needs_remeasure(self, probe_spread):
        """Why the baselines must be measured again after a grading whose probe spread ``probe_spread``
        (relative), or None: every ``every`` students, and when the spread grew past the recorded one."""
        if self.record is None:
            return "first measurement"
        if self.since >= self.every:
            return f"{self.every} students since the last measurement"
        recorded = relative_spread(self.record["probe"])
        if probe_spread is not None and probe_spread > max(SPREAD_FLOOR, SPREAD_GROWTH * recorded):
            return f"the probe's spread grew from {recorded:.0%} to {probe_spread:.0%}"
        return None

    def after_student(self, report):
        """Count a finished grading and look at its timing; returns whether a re-measure is now due."""
        self.since += 1
        if self.failed:
            return False
        entry = ((report or {}).get("timing") or {}).get(TIMED_ITEMS[self.assignment_id]) or {}
        if entry.get("probe_against", self.record["id"] if self.record else None) != (self.record or {}).get("id"):
            return self.due()  # compared with an earlier measurement: says nothing about the current one
        spread = entry.get("probe_spread")
        fell_back = entry.get("baselines", {}).get("source") == "own" and entry.get("shared_declined")
        self.declined_in_a_row = self.declined_in_a_row + 1 if fell_back else 0
        if self.declined_in_a_row >= STOP_AFTER_DECLINES:
            # The gradings keep finding the machine unlike it was at the measurement (say, the class's own
            # concurrency on a machine others load too): offering shared baselines only costs them time.
            self.failed = f"{self.declined_in_a_row} gradings in a row could not use them ({entry['shared_declined']})"
            self.due_reason = None
            self.path.unlink(missing_ok=True)  # gradings that inherited its name (autograde's workers) find none
            print(f"NOTE: shared baselines no longer offered: {self.failed}; every student measures their own",
                  file=sys.stderr)
            return False
        reason = self.needs_remeasure(spread if isinstance(spread, (int, float)) else None)
        if reason is None and fell_back and "load" in str(entry.get("shared_declined")) \
                and self.since >= LOAD_RECHECK_GAP:
            reason = f"a grading found the load changed ({entry['shared_declined']})"
        if reason and self.due_reason is None:
            self.due_reason = reason
        return self.due()

"""Grading results: the JSON every tool reads, and the table people read.

Besides item scores, every report says in two fields what an instructor needs
first: ``status`` (one of the STUDENT_* values below) and ``why`` (one line:
the reason for a score below full or a status other than graded, "" otherwise).
``score`` counts an item NOT GRADED as 0; ``status`` is what tells that the
grade is incomplete.
"""
import json
import re
from dataclasses import asdict, dataclass, field

from . import safe_paths

GRADED = "graded"
NOT_GRADED = "not graded"
# Feedback of an item NOT GRADED starts with this, added here only (not_graded_feedback): a suite's
# pytest.skip() gives the plain reason, e.g. pytest.skip("MNIST is not available on this machine").
NOT_GRADED_PREFIX = NOT_GRADED + ": "

# The status of a whole submission (the "status" field of reports and of grades.csv).
STUDENT_GRADED = "graded"
STUDENT_PARTLY_GRADED = "items not graded"   # some item NOT GRADED (no GPU, no MNIST, a busy machine...)
STUDENT_NOT_GRADED = "could not grade"       # the engine could not grade the submission at all; score 0
STUDENT_STATUSES = (STUDENT_GRADED, STUDENT_PARTLY_GRADED, STUDENT_NOT_GRADED)

WHY_CHARS = 300


@dataclass
class ItemResult:
    name: str
    score: float
    max_score: float
    feedback: str
    status: str = GRADED
    checks_passed: int = 0
    checks_total: int = 0


@dataclass
class Report:
    assignment: str
    items: list
    seed: int = 0
    sandbox: str = "none"
    elapsed_s: float = 0.0
    suite: str = "hidden"
    warnings: list = field(default_factory=list)
    isolation: list = field(default_factory=list)  # what bounded and hid student code (sandbox.isolation)
    cause: str = ""  # why the whole submission scored nothing (module missing, syntax error...), if so
    # Measurements, never grades: seconds per item, and for timed items what the time went to
    # (baselines, the student's runs, the grader's replay) and which baseline measurement was used.
    timing: dict = field(default_factory=dict)

    @property
    def score(self):
        return round(sum(i.score for i in self.items), 4)

    @property
    def max_score(self):
        return round(sum(i.max_score for i in self.items), 4)

    @property
    def not_graded(self):
        return [i.name for i in self.items if i.status == NOT_GRADED]

    @property
    def status(self):
        return student_status([asdict(i) for i in self.items])

    @property
    def why(self):
        return why_line([asdict(i) for i in self.items], self.cause)

    def to_dict(self):
        return {
            "assignment": self.assignment,
            "status": self.status,
            "why": self.why,
            "cause": self.cause,
            "score": self.score,
            "max_score": self.max_score,
            "items": [asdict(i) for i in self.items],
            "not_graded": self.not_graded,
            "seed": self.seed,
            "sandbox": self.sandbox,
            "suite": self.suite,
            "elapsed_s": round(self.elapsed_s, 3),
            "warnings": self.warnings,
            "isolation": self.isolation,
            "timing": self.timing,
        }

    def write_json(self, path):
        """Write to a fresh file renamed onto ``path`` (a link or pipe there is replaced, never written through)."""
        safe_paths.write_fresh(path, json.dumps(self.to_dict(), indent=2) + "\n")

    def table(self, width=100):
        lines = [f"{self.assignment}: {self.score:.2f} / {self.max_score:g}"
                 + (f"   ({len(self.not_graded)} item(s) NOT GRADED)" if self.not_graded else "")]
        if self.why:
            lines.append(f"  status: {self.status}; why: {self.why}")
        name_w = max(len(i.name) for i in self.items) if self.items else 4
        for i in self.items:
            mark = "--" if i.status == NOT_GRADED else ("ok" if i.score == i.max_score else "XX")
            pts = f"{i.score:.2f}/{i.max_score:g}"
            feedback = i.feedback.replace("\n- ", " | ")
            feedback = feedback if len(feedback) <= width else feedback[: width - 3] + "..."
            lines.append(f"  {mark} {i.name:<{name_w}}  {pts:>8}  {feedback}")
        for w in self.warnings:
            lines.append(f"  WARNING: {w}")
        return "\n".join(lines)


def not_graded_feedback(reasons):
    """The feedback of an item NOT GRADED: the prefix once, then the distinct reasons.

    A reason that already starts with the prefix (a suite that wrote it itself) is not prefixed again.
    """
    reasons = [r.removeprefix(NOT_GRADED_PREFIX) for r in reasons]
    return NOT_GRADED_PREFIX + ("; ".join(dict.fromkeys(reasons)) or "no checks ran")


def feedback_for(tally):
    notes = "".join(f"\n  {n}" for n in tally.notes)  # measurements worth seeing, pass or fail
    if tally.total == 0 or tally.skipped:
        return not_graded_feedback(tally.skipped) + notes
    if tally.passed == tally.total:
        return ("the check passed" if tally.total == 1 else f"all {tally.total} checks passed") + notes
    return f"{tally.passed}/{tally.total} checks passed." + "".join(f"\n- {m}" for m in tally.messages) + notes


def student_status(items, could_not_grade=False):
    """The submission's status from its item dicts (``could_not_grade``: the engine gave up on it)."""
    if could_not_grade:
        return STUDENT_NOT_GRADED
    if any(i["status"] == NOT_GRADED for i in items):
        return STUDENT_PARTLY_GRADED
    return STUDENT_GRADED


_TIMEOUT_WORDS = ("(infinite loop or far too slow)", "ran out", "timed out", "stopped reading")


def _first_message(feedback):
    """The first reason in an item's feedback ("2/3 checks passed.\n- reason ..." gives "reason ...")."""
    lines = [line.removeprefix("- ").strip() for line in feedback.splitlines()]
    reasons = [line for line in lines[1:] if line] if len(lines) > 1 and "checks passed" in lines[0] else lines
    return reasons[0] if reasons else ""


def _points(item):
    return f"{item['name']} ({item['score']:g}/{item['max_score']:g})"


def why_line(items, cause=""):
    """One line saying why a submission is below full or not graded; "" for full marks, all graded.

    ``cause`` is a reason that holds for the whole submission (its module is
    missing, does not parse, cannot be imported); it comes first.
    """
    parts = [cause] if cause else []
    not_graded = [i for i in items if i["status"] == NOT_GRADED]
    if not_graded:
        reasons = list(dict.fromkeys(i["feedback"].removeprefix(NOT_GRADED_PREFIX).splitlines()[0]
                                     for i in not_graded))
        parts.append(f"NOT GRADED: {' '.join(i['name'] for i in not_graded)} ({'; '.join(reasons)[:160]})")
    lost = [i for i in items if i["status"] != NOT_GRADED and i["score"] < i["max_score"]]
    if lost and not cause:
        timed_out = [i for i in lost if any(w in i["feedback"] for w in _TIMEOUT_WORDS)]
        if timed_out:
            parts.append(f"timed out in {', '.join(i['name'] for i in timed_out)} "
                         f"({_first_message(timed_out[0]['feedback'])[:120]})")
            lost = [i for i in lost if i not in timed_out]
        if lost and all(i["score"] == 0 for i in lost) and len(lost) == len(items) > 1:
            parts.append(f"0 points on every item: {_first_message(lost[0]['feedback'])}")
        elif lost:
            parts.append(f"lost points on {', '.join(_points(i) for i in lost)}: "
                         f"{_first_message(lost[0]['feedback'])}")
    line = re.sub(r"\s+", " ", "; ".join(parts)).strip()
    return line if len(line) <= WHY_CHARS else line[: WHY_CHARS - 3] + "..."


_SYNTAX = re.compile(r"^importing your module failed: (?:SyntaxError|IndentationError|TabError): "
                     r"(?P<msg>.*) \((?P<file>[^(),]+\.py), line (?P<line>\d+)\)\s*$", re.DOTALL)


def import_cause(message, modules):
    """The ``cause`` line for a worker that could not import the submission, from the worker's own report.

    The grader never parses or imports student code itself: the line of a
    syntax error is the one Python gave inside the worker.
    """
    names = ", ".join(modules)
    match = _SYNTAX.match(message)
    if match:
        return f"syntax error in {match['file']} at line {match['line']} ({match['msg'][:80]})"
    if any(w in message for w in _TIMEOUT_WORDS):
        return f"timed out while importing {names}: {message[:160]}"
    detail = message.removeprefix("importing your module failed: ")
    return f"import of {names} failed: {detail[:200]}"

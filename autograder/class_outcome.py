"""What happened to one student of a class autograded through nbgrader.

Its status is one of report.py's STUDENT_* words, the ones grade-all writes: graded; items not graded (the
engine could not grade some item here, e.g. a GPU item without a GPU); could not grade (nbgrader failed for
the student, or the engine's report is missing).
"""
from dataclasses import dataclass

from .report import STUDENT_NOT_GRADED

MAX_REASON_CHARS = 160


@dataclass
class Outcome:
    """What happened to one student."""
    student: str
    status: str = STUDENT_NOT_GRADED
    reason: str = ""
    score: float = None       # total of the student's grades in the gradebook
    engine: float = None      # the engine's report scaled to the grade cells
    mismatch: str = ""        # set when the gradebook and the engine disagree
    seconds: float = 0.0


def shorten(text, limit=MAX_REASON_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."

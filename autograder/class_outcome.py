"""What happened to one student of a class autograded through nbgrader, and the words for it."""
from dataclasses import dataclass

from .report import STUDENT_GRADED

MAX_REASON_CHARS = 160

GRADED = STUDENT_GRADED
NOT_GRADED = "items NOT GRADED"
FAILED = "failed"
STATUSES = (GRADED, NOT_GRADED, FAILED)


@dataclass
class Outcome:
    """What happened to one student."""
    student: str
    status: str = FAILED
    reason: str = ""
    score: float = None       # total of the student's grades in the gradebook
    engine: float = None      # the engine's report scaled to the grade cells
    mismatch: str = ""        # set when the gradebook and the engine disagree
    seconds: float = 0.0


def shorten(text, limit=MAX_REASON_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."

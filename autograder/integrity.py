"""Notice when the grader's own files change on disk while a process is grading.

During ``nbgrader autograde`` every student's notebook runs in a kernel that
nbgrader does not sandbox, between one student's grading and the next. A
notebook could rewrite a hidden suite on disk so that later students pass.
The hashes of every file of this package are taken when it is first imported
(before any kernel runs) and checked before each grading: a change stops
grading loudly instead of giving wrong grades.
"""
import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _fingerprint():
    return {str(p.relative_to(PACKAGE_DIR)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(PACKAGE_DIR.rglob("*.py")) if "__pycache__" not in p.parts}


_AT_START = _fingerprint()


def changed_files():
    """Files of the package added, removed or modified since it was imported."""
    now = _fingerprint()
    return sorted(set(now.items()) ^ set(_AT_START.items()), key=str)


def check():
    """Raise RuntimeError naming the changed files, if any."""
    changed = sorted({name for name, _ in changed_files()})
    if changed:
        raise RuntimeError(
            "the grader's own files changed on disk since this grading run started ("
            + ", ".join(changed) + "). Refusing to grade: restore them (e.g. git checkout autograder/) "
            "and grade again.")

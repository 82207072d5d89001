"""What the course's tools raise when they cannot do what was asked, and the exit codes they return.

Every such error is a ``CourseError``: ``str(exc)`` is one line saying why, fit
to follow "cannot grade: " on a terminal; anything longer (a tool's log) is
kept apart in ``exc.detail``. The command line prints them all the same way
(cli.main), so a new command only raises and never formats.

Student code's own failures are not CourseErrors: they become feedback
(proxy.StudentError), never a refusal to work.
"""

# Exit codes of ``python -m autograder``; notebook.py reads EXIT_CHECKS_FAIL from `check --strict`.
EXIT_OK = 0            # done (a grade was given, whatever the score; every public check passed)
EXIT_CANNOT = 1        # could not do it at all; stderr has one line saying why
EXIT_USAGE = 2         # wrong or missing options (argparse's own code)
EXIT_CHECKS_FAIL = 3   # `check --strict`: it ran, and some public check fails


class CourseError(Exception):
    """Cannot do it; ``str()`` is one line saying why, ``detail`` any longer text (e.g. a log)."""

    def __init__(self, reason, detail=""):
        reason = str(reason)
        first, _, rest = reason.partition("\n")
        self.reason = first.strip() or reason.strip()
        self.detail = "\n".join(part for part in (rest.strip("\n"), detail) if part)
        super().__init__(self.reason)

    def __str__(self):
        return self.reason


class CannotGrade(CourseError):
    """Grading could not happen at all (bad arguments, a suite missing or broken)."""


class UnknownAssignment(CourseError, KeyError):
    """No assignment has that id. Still a KeyError for callers that look ids up like a dict,
    but its ``str()`` is the plain line (a KeyError's would add quotes)."""

    __str__ = CourseError.__str__


class ReleaseError(CourseError):
    """An assignment could not be released (nbgrader failed, a module or source folder is missing)."""


class ExportError(CourseError):
    """The students' repository could not be exported (DEST unsuitable, git failed, solution text found)."""


class SolutionMarkersError(ReleaseError, RuntimeError):
    """BEGIN/END SOLUTION markers that do not pair up (a RuntimeError, as nbgrader's own refusal was)."""

"""Before a class is autograded: nbgrader loaded with the course's configuration, the course checked, students found.

Anything that stops the whole class is a ``CannotStart`` with a one-line
message (the command's exit 2).
"""
import os
import re
import sys

from . import assignments
from .errors import CourseError

BUSY_TIMEOUT_S = 300          # SQLite waits this long for the gradebook's lock before giving up


class CannotStart(CourseError):
    """Why the class cannot be autograded at all (a one-line message, exit 2)."""


def course_root(path="."):
    """The course folder (holding nbgrader_config.py), or CannotStart."""
    root = os.path.abspath(path)
    if not os.path.isfile(os.path.join(root, "nbgrader_config.py")):
        raise CannotStart(f"{root} is not a course folder (no nbgrader_config.py); run this from the course root")
    return root


def with_busy_timeout(db_url, seconds=BUSY_TIMEOUT_S):
    """``db_url`` with SQLite's busy timeout set, so concurrent writers wait for the lock instead of failing."""
    if not db_url.startswith("sqlite") or re.search(r"[?&]timeout=", db_url):
        return db_url
    return f"{db_url}{'&' if '?' in db_url else '?'}timeout={seconds}"


def load_nbgrader(root):
    """nbgrader's application with the course configuration loaded, as ``nbgrader autograde`` loads it."""
    import logging

    from nbgrader.apps.baseapp import NbGrader

    # nbgrader runs alembic as a subprocess for a new gradebook: this Python's bin folder must be on PATH.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    app = NbGrader()
    app.initialize([], root=root)
    app.coursedir.db_url = with_busy_timeout(app.coursedir.db_url)
    # nbgrader logs through its application's logger, whose handler writes to stderr: our stderr is the log.
    for handler in app.log.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    logging.captureWarnings(True)  # SQLAlchemy's and others' warnings: into the log too
    return app


def check_course_configuration(app):
    """CannotStart unless nbgrader_config.py applied the course's configuration.

    traitlets logs an error in a configuration file and carries on; plain
    nbgrader would then score each notebook by its own output, which the
    course's notebooks do not give. Better to grade nobody.
    """
    from nbgrader.apps import api

    from .nbgrader_apps import CourseAutograde
    preprocessors = app.config.Autograde.get("sanitize_preprocessors", [])
    names = [p if isinstance(p, str) else f"{p.__module__}.{p.__qualname__}" for p in preprocessors]
    # RunEngine lives in nbgrader_preprocessors; a configuration may name it by string through nbgrader_hooks.
    run_engine = ("nbgrader_preprocessors.RunEngine", "nbgrader_hooks.RunEngine")
    if not (issubclass(api.Autograde, CourseAutograde) and any(n.endswith(run_engine) for n in names)):
        raise CannotStart("nbgrader_config.py did not apply the course's configuration "
                          "(autograder.nbgrader_hooks.configure); see the log")


def notebooks_are_run(app, execute_notebooks=None):
    """Whether the course's converter runs the students' notebooks: ``execute_notebooks`` if given (it then
    overrides the configuration for this run), else CourseAutograde.execute_notebooks as configured."""
    from traitlets.config import Config

    from .nbgrader_apps import CourseAutograde
    if execute_notebooks is not None:  # before any worker or converter reads the configuration
        app.update_config(Config({"CourseAutograde": {"execute_notebooks": bool(execute_notebooks)}}))
    return CourseAutograde(coursedir=app.coursedir, parent=app).execute_notebooks


def check_assignment(coursedir, assignment_id):
    """CannotStart unless the course engine grades ``assignment_id`` and the gradebook knows it."""
    from nbgrader.api import Gradebook, MissingEntry
    try:
        assignments.get(assignment_id)
    except assignments.UnknownAssignment:
        known = ", ".join(sorted(assignments.ASSIGNMENTS))
        raise CannotStart(f"the course has no assignment {assignment_id!r} (known: {known})") from None
    db = coursedir.db_url
    missing = f"{assignment_id} is not in the gradebook; release it first (python -m autograder release {assignment_id})"
    if db.startswith("sqlite:///"):
        path = db[len("sqlite:///"):].split("?")[0]
        if not os.path.isfile(path):  # do not let the check create an empty gradebook
            raise CannotStart(missing)
    with Gradebook(db, coursedir.course_id) as gb:
        try:
            assignment = gb.find_assignment(assignment_id)
        except MissingEntry:
            raise CannotStart(missing) from None
        return assignment.max_score


def find_students(coursedir, assignment_id, wanted=None):
    """Students with a submission of ``assignment_id`` (sorted), as nbgrader would find them; CannotStart if none.

    A student folder, or the ``<id>`` inside it, that is a link or not a folder
    is still listed: the course's nbgrader converter gives such a student a
    zero with the reason, instead of leaving them out in silence.
    """
    submitted = os.path.join(coursedir.root, coursedir.submitted_directory)
    excluded = set(filter(None, coursedir.student_id_exclude.split(",")))
    found = []
    if os.path.isdir(submitted):
        for student in sorted(os.listdir(submitted)):
            folder = os.path.join(submitted, student)
            if student.startswith(".") or student in excluded:
                continue
            if os.path.islink(folder) or os.path.lexists(os.path.join(folder, assignment_id)):
                found.append(student)
    if wanted:
        unknown = [s for s in wanted if s not in found]
        if unknown:
            raise CannotStart(f"no submission of {assignment_id} in {submitted} from: {', '.join(unknown)}")
        return [s for s in found if s in set(wanted)]
    if not found:
        raise CannotStart(f"no submissions of {assignment_id} in {submitted} (expected <student>/{assignment_id}/)")
    return found

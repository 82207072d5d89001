"""Autograde a whole class through nbgrader, several students at a time.

    python -m autograder autograde hw1_activations [--jobs N] [--student NAME ...]

Run from the course root (the folder with ``nbgrader_config.py``). Every
student with a ``submitted/<student>/<id>/`` is autograded exactly as
``nbgrader autograde <id>`` would do it, with the course's configuration
(nbgrader_hooks.configure: the engine grades the module, the notebook runs in
the sandboxed kernel, the engine's scores fill the grade cells), and the
command prints a progress bar, one line per student and a summary. nbgrader's,
traitlets' and the kernels' log output goes to a log file, not the terminal.

Running the notebooks is most of nbgrader's cost per student (hw2's notebook
trains on MNIST, hw3's and hw4's run demos) and none of the grade. With the
line ``c.CourseAutograde.execute_notebooks = False`` in ``nbgrader_config.py``
(after ``configure``), no notebook is run: the gradebook gets the same scores,
and each feedback notebook says at its top that it was not run. The command
says which way it grades when it starts.

The pieces, one idea each:

* ``class_setup``: nbgrader loaded with the course's configuration; the
  course folder, its configuration and the assignment checked; the students
  found;
* ``class_workers``: the worker processes that autograde one student at a
  time (how the work is shared, and why, is told there);
* ``class_baselines``: the shared baselines handed to the workers;
* ``class_gradebook``: the gradebook checked against the engine's reports;
* ``class_regrade``: which students ``--not-graded-only`` autogrades again;
* ``class_summary``: one line per student, and the summary;
* ``class_outcome``: what happened to one student.

Exit codes: 0 when every student was autograded and the gradebook agrees with
the engine; 1 when a student could not be graded or the gradebook disagrees;
2 when nothing could start (not a course folder, unknown assignment, no
submissions), with a one-line message.
"""
import contextlib
import os
import sys
import time

from .class_baselines import forget_shared_baselines, shared_baselines
from .class_gradebook import check_gradebook
from .class_regrade import with_items_not_graded
from .class_setup import (CannotStart, check_assignment, check_course_configuration, course_root, find_students,
                          load_nbgrader, notebooks_are_run)
from .class_summary import student_line, summary_lines
from .class_workers import grade_students
from .report import STUDENT_NOT_GRADED

DEFAULT_STUDENT_TIMEOUT_S = 1800


@contextlib.contextmanager
def output_to(log_fd):
    """Send everything written to file descriptors 1 and 2 (libraries, subprocesses) to ``log_fd`` meanwhile."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def staging_folders(root):
    from .nbgrader_staging import STAGING_PREFIX
    return {name for name in os.listdir(root) if name.startswith(STAGING_PREFIX)}


def remove_staging_folders(root, before):
    """Remove the copies of submissions that a stopped worker's nbgrader had no chance to remove itself."""
    import shutil
    for name in staging_folders(root) - before:
        path = os.path.join(root, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)


def default_log_path(root, assignment_id):
    return os.path.join(root, f"autograde_{assignment_id}.log")


def autograde_class(assignment_id, jobs=None, students=None, log_path=None,
                    student_timeout=DEFAULT_STUDENT_TIMEOUT_S, root=".", not_graded_only=False,
                    execute_notebooks=None):
    """The ``autograde`` command; returns its exit code.

    ``execute_notebooks=False`` grades without running the students' notebooks whatever
    nbgrader_config.py says (``True`` runs them); ``None`` leaves it to the configuration."""
    from tqdm import tqdm

    started = time.monotonic()
    try:
        if jobs is not None and jobs < 1:
            raise CannotStart("--jobs must be at least 1")
        if student_timeout <= 0:
            raise CannotStart("--student-timeout must be positive")
        root = course_root(root)
        log_path = os.path.abspath(log_path or default_log_path(root, assignment_id))
        try:
            log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        except OSError as exc:
            raise CannotStart(f"cannot write the log {log_path}: {exc.strerror}") from None
        with output_to(log_fd):
            app = load_nbgrader(root)
            check_course_configuration(app)
            max_score = check_assignment(app.coursedir, assignment_id)
            names = find_students(app.coursedir, assignment_id, students)
            run_notebooks = notebooks_are_run(app, execute_notebooks)
    except CannotStart as exc:
        print(f"cannot autograde: {exc}", file=sys.stderr)
        return 2
    if not_graded_only:
        names = with_items_not_graded(app.coursedir, assignment_id, names)
        if not names:
            print(f"nothing to autograde: no student of {assignment_id} has an item NOT GRADED")
            return 0
    jobs = min(jobs or os.cpu_count() or 1, len(names))
    print(f"Autograding {assignment_id} for {len(names)} student(s), {jobs} at a time, through nbgrader "
          f"(log: {log_path})", flush=True)
    if not run_notebooks:
        print("Notebooks are not run (c.CourseAutograde.execute_notebooks = False): the engine's scores fill the "
              "grade cells, and each feedback notebook says it was not run", flush=True)
    staged_before = staging_folders(root)
    shared, shared_folder = shared_baselines(assignment_id, names)
    try:
        with tqdm(total=len(names), unit="student", file=sys.stdout, ncols=80) as bar:
            found = grade_students(app, assignment_id, names, jobs, log_path, student_timeout,
                                   on_done=lambda outcome: bar.update(1), shared=shared)
    except KeyboardInterrupt:
        remove_staging_folders(root, staged_before)
        if shared is not None:
            forget_shared_baselines(shared_folder)
        print(f"\ninterrupted after {bar.n} of {len(names)} students; the gradebook holds what was finished "
              f"(run again, or with --student NAME, to autograde the others)", file=sys.stderr)
        return 130
    remove_staging_folders(root, staged_before)
    if shared is not None:
        forget_shared_baselines(shared_folder)
        print(f"shared baselines measured {len(shared.history)} time(s) in {shared.seconds:.1f} s: "
              + "; ".join(f"#{i} ({why})" for i, _, why in shared.history))
    outcomes = [found[s] for s in names]
    with output_to(log_fd):
        check_gradebook(app.coursedir, assignment_id, outcomes)
    os.close(log_fd)
    width = max(len("student"), *(len(o.student) for o in outcomes))
    print()
    print(f"{'student':<{width}}  {'score':>6} / {'max':<4}  {'status':<16}  reason")
    for outcome in outcomes:
        print(student_line(outcome, max_score, width))
    print()
    for line in summary_lines(outcomes, max_score, log_path, time.monotonic() - started, jobs):
        print(line)
    bad = any(o.status == STUDENT_NOT_GRADED or o.mismatch for o in outcomes)
    return 1 if bad else 0

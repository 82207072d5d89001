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

How the work is shared, and why:

* **Long-lived workers.** ``jobs`` worker processes are forked from this one
  after it has loaded nbgrader and the course configuration once (about 3 s
  of start-up that ``nbgrader autograde --student X`` pays per call). Each
  worker autogrades one student at a time through ``NbGraderAPI.autograde``,
  in process, and asks for the next student when done, so a slow submission
  never holds up a queue of others. A worker lives in its own process group:
  Ctrl-C reaches only this process, which then stops the workers.
* **One gradebook.** All workers write the course's SQLite gradebook directly,
  with a busy timeout of ``BUSY_TIMEOUT_S`` added to the database URL (SQLite
  waits for the lock instead of failing at once; nbgrader's writes per student
  are a few short transactions, so waits are milliseconds). The alternative,
  one gradebook copy per worker merged at the end, would have to rebuild
  nbgrader's submission, grade and comment rows by hand. Concurrent writes
  proved safe when measured (8 workers on 16 students, 2 workers on 200: no
  lock error, every student's grades equal to the engine's), so the simpler
  design stays; should SQLite still give up, that student is tried once more.
* **Where the time goes.** On the 2-core development machine one hw1 student
  costs about 3.5 CPU seconds: the engine's grading (about 1.6 s, most of it
  in its worker process), the sandboxed notebook kernel (about 1.8 s: start-up,
  NumPy and matplotlib, the notebook's own cells) and nbgrader's bookkeeping.
  None of it is start-up that a long-lived worker could share, so the gain is
  the parallelism: ``--jobs 2`` autograded 200 students in 483 s, 2.3 times
  nbgrader's own one-after-another loop (``benchmarks/nbgrader_class_time.py``).
  Three workers on two cores were no faster than two.
* **One student never stops the class.** nbgrader's exception for one
  student becomes that student's line ("failed" and the reason); a worker that
  dies or runs past ``--student-timeout`` is ended (its whole process group,
  and the sandboxed kernels die with it), the student is reported failed, and
  a fresh worker takes the remaining students.
* **The gradebook is checked.** At the end, each autograded student's grades
  are read back through ``nbgrader.api.Gradebook`` and compared, grade cell by
  grade cell, with the engine's report written next to the notebook
  (``autograder_report.json``), scaled to the cell's points as the course's
  ``WriteEngineGrades`` does. Any difference is reported loudly (exit 1).

Exit codes: 0 when every student was autograded and the gradebook agrees with
the engine; 1 when a student failed or the gradebook disagrees; 2 when nothing
could start (not a course folder, unknown assignment, no submissions), with a
one-line message.
"""
import contextlib
import glob
import json
import multiprocessing
import os
import re
import signal
import statistics
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait

from . import assignments, baselines
from .errors import CourseError
from .report import STUDENT_GRADED

NO_SHARED_ENV = "AUTOGRADER_NO_SHARED_BASELINES"  # 1: every student measures its own baselines

BUSY_TIMEOUT_S = 300          # SQLite waits this long for the gradebook's lock before giving up
DEFAULT_STUDENT_TIMEOUT_S = 1800
STOP_GRACE_S = 10             # a stopped worker gets this long to shut its kernels down before SIGKILL
SCORE_TOLERANCE = 1e-3        # the course writes scores rounded to 4 decimals
MAX_REPORT_BYTES = 4 * 1024 * 1024
MAX_REASON_CHARS = 160

GRADED = STUDENT_GRADED
NOT_GRADED = "items NOT GRADED"
FAILED = "failed"
STATUSES = (GRADED, NOT_GRADED, FAILED)


class CannotStart(CourseError):
    """Why the class cannot be autograded at all (a one-line message, exit 2)."""


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


# ----------------------------------------------------------------------------- course set-up
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

    from .nbgrader_hooks import CourseAutograde
    preprocessors = app.config.Autograde.get("sanitize_preprocessors", [])
    names = [p if isinstance(p, str) else f"{p.__module__}.{p.__qualname__}" for p in preprocessors]
    if not (issubclass(api.Autograde, CourseAutograde) and any(n.endswith("nbgrader_hooks.RunEngine") for n in names)):
        raise CannotStart("nbgrader_config.py did not apply the course's configuration "
                          "(autograder.nbgrader_hooks.configure); see the log")


def notebooks_are_run(app, execute_notebooks=None):
    """Whether the course's converter runs the students' notebooks: ``execute_notebooks`` if given (it then
    overrides the configuration for this run), else CourseAutograde.execute_notebooks as configured."""
    from traitlets.config import Config

    from .nbgrader_hooks import CourseAutograde
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


# ----------------------------------------------------------------------------- workers
_stopping = False


def _stop(signum, frame):
    """SIGTERM from the coordinator: finish cleaning up (kernels, sandboxes), then leave."""
    global _stopping
    _stopping = True
    raise SystemExit(f"stopped by signal {signum}")


def failure_reason(result):
    """One short line saying why nbgrader failed for a student, from its captured log and traceback."""
    text = "\n".join(filter(None, [result.get("log", ""), result.get("error", "")]))
    exception_line = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?([A-Z]\w*(?:Error|Exception|Exit|Interrupt|Timeout)\w*)"
                                r"(?::\s*(.*))?$")
    candidates = []
    for line in text.splitlines():
        # nbgrader's log formatter indents every line of a logged traceback after the first
        match = exception_line.match(re.sub(r"^\[\w+\]\s*", "", line.strip()))
        if match and "Please see" not in (match.group(2) or ""):
            candidates.append(f"{match.group(1)}: {match.group(2)}" if match.group(2) else match.group(1))
    if candidates:
        reason = candidates[0]  # the first traceback is the student's; later ones are nbgrader's summary
    else:
        errors = [line for line in text.splitlines() if "ERROR" in line and "Please see" not in line]
        reason = errors[0].split("]", 1)[-1].strip() if errors else "nbgrader reported a failure without a reason"
    return shorten(reason)


def shorten(text, limit=MAX_REASON_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _autograde_one(api, assignment_id, student):
    """nbgrader's result for one student, tried a second time if SQLite gave up waiting for the gradebook."""
    # nbgrader treats the student id as a glob pattern: a name with [, * or ? must match only itself.
    pattern = glob.escape(student) if glob.has_magic(student) else student
    for attempt in (1, 2):
        try:
            result = api.autograde(assignment_id, pattern, force=True, create=True)
        except BaseException:  # noqa: BLE001 - capture_log catches most; anything left is this student's failure
            result = {"success": False, "error": traceback.format_exc()}
        locked = "database is locked" in f"{result.get('log', '')}{result.get('error', '')}"
        if result.get("success") or not locked or _stopping or attempt == 2:
            return result
        api.log.warning("===== the gradebook stayed locked for %s s; autograding %s again", BUSY_TIMEOUT_S, student)
    return result


def _worker(conn, app, assignment_id, log_path, number):
    """One worker: autograde each student the coordinator sends, until it sends None."""
    import logging

    from nbgrader.apps.api import NbGraderAPI

    # Our own process group: Ctrl-C in the terminal reaches only the coordinator, which stops us. (SIGINT is
    # not ignored here: kernels and engine workers we start must keep the default.)
    os.setpgrp()
    signal.signal(signal.SIGTERM, _stop)
    baselines.one_blas_thread()  # the engine's own arithmetic is small; workers side by side share the cores
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    api = NbGraderAPI(coursedir=app.coursedir, parent=app)
    # The converters log through traitlets' logger (nbgrader's API only captures it): stream it into the log.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"[worker {number} %(levelname)s] %(message)s"))
    api.log.addHandler(handler)
    while not _stopping:
        try:
            student = conn.recv()
        except (EOFError, OSError):
            break
        if student is None:
            break
        api.log.info("===== autograding %s", student)
        started = time.monotonic()
        result = _autograde_one(api, assignment_id, student)
        if _stopping:
            break
        reply = {"student": student, "success": bool(result.get("success")),
                 "seconds": time.monotonic() - started}
        if not reply["success"]:
            reply["reason"] = failure_reason(result)
            api.log.error("===== %s failed: %s", student, reply["reason"])
        sys.stdout.flush()
        sys.stderr.flush()
        conn.send(reply)
    conn.close()


class Worker:
    """The coordinator's handle on one worker process and the student it is grading."""

    def __init__(self, context, app, assignment_id, log_path, number):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, app, assignment_id, log_path, number),
                                       name=f"autograde-worker-{number}", daemon=True)
        self.process.start()
        child.close()
        self.student = None
        self.started = None

    def give(self, student):
        self.student, self.started = student, time.monotonic()
        self.conn.send(student)

    def finish(self):
        """Ask the worker to leave after its current student."""
        with contextlib.suppress(OSError):
            self.conn.send(None)

    def kill(self):
        """End the worker's whole process group: SIGTERM, then SIGKILL after a grace period."""
        pid = self.process.pid
        for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            self.process.join(grace)
            if not self.process.is_alive():
                break
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # anything the worker left in its group
        self.conn.close()


def grade_students(app, assignment_id, students, jobs, log_path, student_timeout, on_done, shared=None):
    """Autograde ``students`` with ``jobs`` workers; returns {student: Outcome} (status from nbgrader only).

    With ``shared`` (a baselines.SharedBaselines whose file the workers' environment names), the
    baselines of timed items are measured here while no worker grades anyone: before the first
    student and whenever a re-measure is due (workers wait for it meanwhile)."""
    context = multiprocessing.get_context("fork")
    outcomes = {}
    pending = deque(students)
    workers = []
    numbers = iter(range(1, 1 << 30))

    def start_worker():
        worker = Worker(context, app, assignment_id, log_path, next(numbers))
        workers.append(worker)
        feed(worker)

    waiting = []  # workers held back until the shared baselines are measured again

    def feed(worker):
        if pending and shared is not None and shared.due():
            worker.student = None
            waiting.append(worker)
            if not any(w.student is not None for w in workers):
                shared.measure_now()  # no student is being graded now
                resumed = waiting[:]
                waiting.clear()
                for w in resumed:
                    feed(w)
            return
        if pending:
            worker.give(pending.popleft())
        else:
            worker.student = None
            worker.finish()

    def record(student, outcome):
        outcomes[student] = outcome
        if shared is not None:
            shared.after_student(read_report(app.coursedir, assignment_id, student) if outcome.status == GRADED
                                 else None)
        on_done(outcome)

    def lose(worker, reason):
        """The worker is gone or stuck: its student failed, and a fresh worker takes over."""
        student, started = worker.student, worker.started
        worker.kill()
        workers.remove(worker)
        if student is not None:
            record(student, Outcome(student, FAILED, reason, seconds=time.monotonic() - started))
        if pending:
            start_worker()
        elif waiting and not any(w.student is not None for w in workers):
            feed(waiting.pop())

    try:
        if shared is not None:
            shared.measure_now()  # before any worker starts
        for _ in range(max(1, min(jobs, len(students)))):
            start_worker()
        while any(w.student is not None for w in workers):
            busy = [w for w in workers if w.student is not None]
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0)
            for worker in busy:
                if worker.conn in ready:
                    try:
                        reply = worker.conn.recv()
                    except (EOFError, OSError):
                        reply = None
                    if reply is not None:
                        ok = reply["success"]
                        record(reply["student"], Outcome(reply["student"], GRADED if ok else FAILED,
                                                         reply.get("reason", ""), seconds=reply["seconds"]))
                        feed(worker)
                        continue
                if not worker.process.is_alive() or worker.conn in ready:
                    code = worker.process.exitcode
                    how = f"signal {-code}" if code and code < 0 else f"exit status {code}"
                    lose(worker, f"the grading process died ({how}) while autograding this student")
                elif time.monotonic() - worker.started > student_timeout:
                    lose(worker, f"stopped after {student_timeout:g} s (--student-timeout)")
    except KeyboardInterrupt:
        for worker in workers:  # stop now, not after the current students
            worker.kill()
        workers.clear()
        raise
    finally:
        for worker in workers:
            worker.finish()
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in workers:
            worker.process.join(max(0.1, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.kill()
    return outcomes


# ----------------------------------------------------------------------------- the gradebook against the engine
def read_report(coursedir, assignment_id, student):
    """The engine's report next to the student's autograded notebook, or None."""
    from . import safe_paths
    from .nbgrader_hooks import REPORT_NAME
    folder = coursedir.format_path(coursedir.autograded_directory, student, assignment_id)
    try:
        report = json.loads(safe_paths.read_regular(os.path.join(folder, REPORT_NAME), MAX_REPORT_BYTES))
    except (OSError, ValueError, safe_paths.UnsafePath):
        return None
    if not isinstance(report, dict) or not isinstance(report.get("items"), list):
        return None
    return report


def expected_cell_score(item, points):
    """What the course's WriteEngineGrades writes into a grade cell worth ``points`` for a report item."""
    if item is None or not item.get("max_score"):
        return 0.0
    return min(points, float(item["score"]) * points / float(item["max_score"]))


def compare_with_engine(gb, assignment_id, student, report):
    """(gradebook total, engine total scaled to the grade cells, mismatch text or "")."""
    items = {i.get("name"): i for i in report["items"] if isinstance(i, dict)}
    submission = gb.find_submission(assignment_id, student)
    book = engine = 0.0
    wrong = []
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            if grade.max_score_gradecell is None or grade.cell_type_gradecell != "code":
                continue  # a task or markdown cell, graded by hand
            want = expected_cell_score(items.get(grade.name), grade.max_score)
            got = grade.auto_score
            engine += want
            book += got or 0.0
            if got is None or abs(got - want) > SCORE_TOLERANCE:
                wrong.append(f"{grade.name} {'none' if got is None else f'{got:g}'} (engine {want:.4g})")
    return book, engine, ", ".join(wrong)


def check_gradebook(coursedir, assignment_id, outcomes):
    """Fill score, engine, status and mismatch of each autograded student from the gradebook and the reports."""
    from nbgrader.api import Gradebook, MissingEntry
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for outcome in outcomes:
            if outcome.status == FAILED:
                continue
            report = read_report(coursedir, assignment_id, outcome.student)
            if report is None:
                outcome.status, outcome.reason = FAILED, "nbgrader finished but the engine's report is missing"
                continue
            try:
                outcome.score, outcome.engine, outcome.mismatch = compare_with_engine(
                    gb, assignment_id, outcome.student, report)
            except MissingEntry:
                outcome.mismatch = "the gradebook has no submission for this student"
            not_graded = [n for n in report.get("not_graded", []) if isinstance(n, str)]
            if not_graded:
                outcome.status = NOT_GRADED
                first = next((i for i in report["items"] if isinstance(i, dict) and i.get("name") == not_graded[0]),
                             {})
                outcome.reason = shorten(f"{', '.join(not_graded)}: {first.get('feedback', '')}")
            elif report.get("notebook_note"):
                outcome.reason = shorten(report["notebook_note"])


# ----------------------------------------------------------------------------- output
def student_line(outcome, max_score, width):
    score = "-" if outcome.score is None else f"{outcome.score:.2f}"
    reason = f"GRADEBOOK MISMATCH: {outcome.mismatch}" if outcome.mismatch else outcome.reason
    return f"{outcome.student:<{width}}  {score:>6} / {max_score:<4g}  {outcome.status:<16}  {reason}".rstrip()


def summary_lines(outcomes, max_score, log_path, elapsed, jobs):
    counts = {s: sum(o.status == s for o in outcomes) for s in STATUSES}
    scored = [o.score for o in outcomes if o.score is not None]
    lines = [f"{len(outcomes)} students in {elapsed:.0f} s ({jobs} at a time): "
             + ", ".join(f"{counts[s]} {s}" for s in STATUSES)]
    if scored:
        lines.append(f"mean {statistics.mean(scored):.2f} / {max_score:g}, median {statistics.median(scored):.2f} "
                     f"over the {len(scored)} students autograded")
    mismatched = [o.student for o in outcomes if o.mismatch]
    if mismatched:
        lines.append(f"GRADEBOOK MISMATCH: the gradebook disagrees with the engine's report for "
                     f"{len(mismatched)} student(s): {', '.join(mismatched)}")
    elif scored:
        lines.append("gradebook checked: every autograded student's grades equal the engine's report")
    if counts[NOT_GRADED]:
        lines.append(f"{counts[NOT_GRADED]} student(s) with items NOT GRADED (scored 0 until regraded): on a machine "
                     f"that can grade them (a CUDA GPU for GPU items), run this command again with "
                     f"--not-graded-only, into the same gradebook")
    if counts[FAILED]:
        lines.append(f"{counts[FAILED]} student(s) failed; see the reasons above and the log, then run again "
                     f"with --student NAME for each")
    lines.append(f"nbgrader's log: {log_path}")
    return lines


# ----------------------------------------------------------------------------- the command
def with_items_not_graded(coursedir, assignment_id, students):
    """The students whose engine report from their last autograding has an item NOT GRADED, or who have no
    report yet; a line is printed for each student skipped.

    This is how a class autograded where a GPU was missing is finished on a
    machine with one: nbgrader autogrades each chosen student again (every
    item, into the same gradebook), and nobody else is touched.
    """
    chosen = []
    for student in students:
        report = read_report(coursedir, assignment_id, student)
        not_graded = [n for n in (report or {}).get("not_graded", []) if isinstance(n, str)]
        if report is not None and not not_graded:
            print(f"skipped {student}: no item is NOT GRADED in the last autograded report")
            continue
        chosen.append(student)
    return chosen


def staging_folders(root):
    from .nbgrader_hooks import STAGING_PREFIX
    return {name for name in os.listdir(root) if name.startswith(STAGING_PREFIX)}


def remove_staging_folders(root, before):
    """Remove the copies of submissions that a stopped worker's nbgrader had no chance to remove itself."""
    import shutil
    for name in staging_folders(root) - before:
        path = os.path.join(root, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)


def shared_baselines(assignment_id, names):
    """(SharedBaselines, its folder) for a class with timed items, else (None, None).

    The file's path and key go into this process's environment, which the workers inherit (the
    engine's grade reads them there; kernels and student workers get environments of their own)."""
    if len(names) < 2 or os.environ.get(NO_SHARED_ENV) == "1" or not baselines.SharedBaselines.supported(assignment_id):
        return None, None
    import tempfile
    folder = tempfile.mkdtemp(prefix="autograde-baselines-")  # owner only
    shared = baselines.SharedBaselines(assignment_id, folder)
    os.environ.update(shared.environment())
    return shared, folder


def forget_shared_baselines(folder):
    import shutil
    for name in (baselines.FILE_ENV, baselines.KEY_ENV):
        os.environ.pop(name, None)
    shutil.rmtree(folder, ignore_errors=True)


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
    bad = any(o.status == FAILED or o.mismatch for o in outcomes)
    return 1 if bad else 0

"""The pool of worker processes that autograde a class through nbgrader, one student at a time each.

How the work is shared, and why:

* **Long-lived workers.** ``jobs`` worker processes are forked from this one
  after it has loaded nbgrader and the course configuration once (about 3 s
  of start-up that ``nbgrader autograde --student X`` pays per call). Each
  worker autogrades one student at a time through ``NbGraderAPI.autograde``,
  in process, and asks for the next student when done, so a slow submission
  never holds up a queue of others. A worker lives in its own process group:
  Ctrl-C reaches only this process, which then stops the workers.
* **One gradebook.** All workers write the course's SQLite gradebook directly,
  with a busy timeout of ``BUSY_TIMEOUT_S`` added to the database URL
  (``class_setup.with_busy_timeout``: SQLite waits for the lock instead of
  failing at once; nbgrader's writes per student are a few short
  transactions, so waits are milliseconds). The alternative,
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
  student becomes that student's line ("could not grade" and the reason); a
  worker that dies or runs past ``--student-timeout`` is ended (its whole
  process group, and the sandboxed kernels die with it), the student is
  reported as could not grade, and a fresh worker takes the remaining
  students.
"""
import contextlib
import glob
import multiprocessing
import os
import re
import signal
import sys
import time
import traceback
from collections import deque
from multiprocessing.connection import wait

from . import baselines
from .class_gradebook import read_report
from .class_outcome import Outcome, shorten
from .class_setup import BUSY_TIMEOUT_S
from .report import STUDENT_GRADED, STUDENT_NOT_GRADED

STOP_GRACE_S = 10             # a stopped worker gets this long to shut its kernels down before SIGKILL


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
            shared.after_student(read_report(app.coursedir, assignment_id, student) if outcome.status == STUDENT_GRADED
                                 else None)
        on_done(outcome)

    def lose(worker, reason):
        """The worker is gone or stuck: its student could not be graded, and a fresh worker takes over."""
        student, started = worker.student, worker.started
        worker.kill()
        workers.remove(worker)
        if student is not None:
            record(student, Outcome(student, STUDENT_NOT_GRADED, reason, seconds=time.monotonic() - started))
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
                        record(reply["student"], Outcome(reply["student"], STUDENT_GRADED if ok else STUDENT_NOT_GRADED,
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

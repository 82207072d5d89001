"""Grade a class on a Slurm cluster: ``grade-all ID ROOT --out OUT --slurm``.

The students are split into chunks, and one Slurm job array grades them: array
task k runs, on whatever node Slurm gives it,

    python -m autograder grade-all ID ROOT --student <chunk k> --out OUT/.slurm/<job>/task<k>
                                   --jobs $SLURM_CPUS_PER_TASK <the grade options>

with the same Python and working folder as the command that submitted it, so each
submission is graded by the same engine in the same sandbox as a local
``grade-all``, with the same seed giving the same grades. While the array runs
the instructor sees a progress bar (students whose report has appeared); at the
end every fresh report is merged into ``OUT/reports`` (``batch.merge_reports``)
and ``grades.csv`` is rebuilt (``batch.write_summary``), exactly as a local run.

The only thing the cluster needs is a file system shared by the submitting
machine and the nodes, holding the course repository, its Python environment,
ROOT and OUT at the same paths (the usual home or project file system).

A task that fails, times out or is cancelled costs only the students it had not
finished: each gets a "could not grade" report naming the Slurm state and the
task's log; the students it did finish are merged. Ctrl-C while waiting cancels
the job (scancel) and merges what was finished.
"""
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tqdm import tqdm

from . import assignments, batch
from .errors import CourseError

DEFAULT_CHUNK = 10       # students per array task: 1,000 students make 100 tasks
POLL_S = 2.0             # how often the staging folder and squeue are looked at
STUDENT_MARGIN_S = 120   # per student, on top of the assignment's time budget: start-up, pytest, the sandbox
TASK_MARGIN_S = 120      # per task: Python and the engine starting on the node
# Slurm states after which an array task runs no more (squeue and sacct spell them the same).
ENDED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
         "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"}


class SlurmError(CourseError):
    """A Slurm command failed; the message is one line for the instructor."""


def grade_all_on_slurm(assignment_id, root, out_dir, students, grade_args, sbatch_options, chunk):
    """Grade ``students`` of ``root`` on Slurm into ``out_dir``; returns the process exit code.

    ``grade_args``: further ``grade-all`` arguments for every task (e.g. ["--seed", "7"]);
    ``sbatch_options``: a list of sbatch options (e.g. ["--partition=gpu", "--gres=gpu:1"]);
    ``chunk``: students per array task (default DEFAULT_CHUNK).
    """
    assignment = assignments.get(assignment_id)
    students = list(dict.fromkeys(students))
    if not students:
        print("nothing to grade")
        return batch.write_summary(assignment_id, out_dir)
    for program in ("sbatch", "squeue", "scancel"):
        if shutil.which(program) is None:
            print(f"{program} not found: install Slurm's client commands (Debian/Ubuntu: slurm-client) on this "
                  f"machine, or run grade-all without --slurm", file=sys.stderr)
            return 1
    out_dir, root = Path(out_dir).resolve(), Path(root).resolve()
    chunks = split(students, chunk or DEFAULT_CHUNK)
    at_once = students_at_once(assignment, sbatch_options, grade_args)
    minutes = time_limit_minutes(assignment, grade_args, len(chunks[0]), at_once)
    script = job_script(assignment_id, root, out_dir, chunks, grade_args, minutes, one_at_a_time=assignment.limits.gpu)
    where = [f"--chdir={os.getcwd()}", f"--output={out_dir / '.slurm'}/%A/task%a.log"]
    try:
        job_id = submit(script, [*where, *sbatch_options])
    except SlurmError as exc:
        print(f"sbatch refused the job: {exc} (nothing was graded)", file=sys.stderr)
        return 1
    staging = out_dir / ".slurm" / job_id
    print(f"Slurm job {job_id}: {len(students)} students in {len(chunks)} array tasks of up to {len(chunks[0])} "
          f"({at_once} at a time in each task, {minutes} min per task unless --time says otherwise); "
          f"logs and fresh reports in {staging}")
    try:
        try:
            staging.mkdir(parents=True, exist_ok=True)
            (staging / "job.sh").write_text(script)
            release(job_id)
        except (OSError, SlurmError) as exc:
            cancel(job_id)
            print(f"could not start Slurm job {job_id}, so it was cancelled: {exc}", file=sys.stderr)
            return 1
        states = wait(job_id, staging, chunks)
    except KeyboardInterrupt:
        return interrupted(assignment_id, out_dir, staging, chunks, job_id)
    fresh = finished_reports(staging, chunks)
    lost = report_lost_students(assignment, staging, chunks, states, fresh, grade_args, job_id, minutes)
    batch.merge_reports(assignment_id, out_dir, {**fresh, **lost})
    remove_task_folders(staging, len(chunks))
    code = batch.write_summary(assignment_id, out_dir)
    if lost:
        print(f"ERROR: {len(lost)} student(s) were not graded because their Slurm task ended early "
              f"(see above and {staging}/task<k>.log); rerun grade-all --slurm --student for them",
              file=sys.stderr)
        return max(code, 1)
    return code


def interrupted(assignment_id, out_dir, staging, chunks, job_id):
    """Ctrl-C: cancel the job, merge the students already graded; the others keep what they had."""
    cancelled = cancel(job_id)
    finished = finished_reports(staging, chunks)
    total = sum(len(c) for c in chunks)
    print(f"\ninterrupted: {'cancelled' if cancelled else 'could not cancel'} Slurm job {job_id} (scancel "
          f"{job_id}); {len(finished)} of {total} students were graded and are merged, the others keep the "
          f"reports they had")
    batch.merge_reports(assignment_id, out_dir, finished)
    batch.write_summary(assignment_id, out_dir)
    return 130


# -- the job -------------------------------------------------------------------------------------

def split(students, chunk):
    """``students`` in consecutive chunks of at most ``chunk`` (array task k grades chunk k)."""
    return [students[i:i + chunk] for i in range(0, len(students), chunk)]


def cpus_per_task(sbatch_options):
    """The CPUs each task asks for in ``sbatch_options`` (-c N, --cpus-per-task N or =N); 1 when not given."""
    for i, option in enumerate(sbatch_options):
        value = None
        if option.startswith("--cpus-per-task="):
            value = option.split("=", 1)[1]
        elif option in ("-c", "--cpus-per-task") and i + 1 < len(sbatch_options):
            value = sbatch_options[i + 1]
        elif option.startswith("-c") and not option.startswith("--"):
            value = option[2:]
        if value is not None and value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def students_at_once(assignment, sbatch_options, grade_args):
    """How many students one task grades at a time: --jobs when given, else one for an assignment timed on
    a GPU (their timed epochs would take turns on the task's one GPU anyway, and the speed item's NumPy
    baseline wants the task's CPUs to itself), else one per CPU of the task."""
    if "--jobs" in grade_args:
        return int(grade_args[grade_args.index("--jobs") + 1])
    return 1 if assignment.limits.gpu else cpus_per_task(sbatch_options)


def time_limit_minutes(assignment, grade_args, chunk_size, cpus):
    """A time limit for one task: its students, ``cpus`` at a time, each within the assignment's time budget.

    It only stops a task that hangs; ``--time`` in the sbatch options overrides it.
    """
    rounds = math.ceil(chunk_size / cpus)
    return math.ceil((rounds * (batch.time_budget(assignment, grade_args) + STUDENT_MARGIN_S) + TASK_MARGIN_S) / 60)


def job_script(assignment_id, root, out_dir, chunks, grade_args, minutes, one_at_a_time=False):
    """The batch script of the array: task k runs grade-all for chunk k into OUT/.slurm/<job>/task<k>.

    Each task grades as many students at once as it has CPUs, or one at a time
    (``one_at_a_time``); a ``--jobs`` in ``grade_args`` comes later and wins.
    """
    jobs = "1" if one_at_a_time else '"${SLURM_CPUS_PER_TASK:-1}"'
    q = shlex.quote
    cases = "\n".join(f"  {k}) students=({' '.join(q('--student=' + s) for s in chunk)}) ;;"
                      for k, chunk in enumerate(chunks))
    grade = " ".join(q(a) for a in grade_args)
    staging = f"{q(str(out_dir / '.slurm'))}/\"$SLURM_ARRAY_JOB_ID\""
    return f"""#!/bin/bash
#SBATCH --job-name=grade-{assignment_id}
#SBATCH --array=0-{len(chunks) - 1}
#SBATCH --time={minutes}
# Written by `python -m autograder grade-all {assignment_id} ... --slurm`; each array task grades its
# chunk of students with the course's grade-all, on the node, into its own staging folder.
set -u
case "$SLURM_ARRAY_TASK_ID" in
{cases}
  *) echo "no students for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;
esac
exec {q(sys.executable)} -m autograder grade-all {q(assignment_id)} {q(str(root))} "${{students[@]}}" \\
  --out {staging}/task"$SLURM_ARRAY_TASK_ID" --jobs {jobs} {grade}
"""


def _one_line(text, fallback):
    """The first line of a Slurm command's complaint, without the program's name in front."""
    for line in text.splitlines():
        line = line.strip()
        for prefix in ("sbatch: error: ", "scontrol: error: ", "sbatch: ", "scontrol: "):
            line = line.removeprefix(prefix)
        if line and not line.startswith(("Try ", "sbatch: warning")):
            return line.split(": ", 1)[1] if line.startswith("/") and ": " in line else line
    return fallback


def submit(script, sbatch_options):
    """Submit the job held (its staging folder is made before any task starts); returns the job id."""
    try:
        result = subprocess.run(["sbatch", "--parsable", "--hold", *sbatch_options], input=script,
                                capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise SlurmError("sbatch gave no answer in 300 s (is slurmctld reachable?)") from None
    job_id = result.stdout.strip().split(";")[0]
    if result.returncode != 0 or not job_id.isdigit():
        raise SlurmError(_one_line(result.stderr, f"sbatch exited with status {result.returncode}"))
    return job_id


def release(job_id):
    result = subprocess.run(["scontrol", "release", job_id], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise SlurmError(f"scontrol release {job_id}: " + _one_line(result.stderr, f"exit {result.returncode}"))


def cancel(job_id):
    """scancel the whole array; True when Slurm accepted it."""
    try:
        return subprocess.run(["scancel", job_id], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


# -- waiting -------------------------------------------------------------------------------------

def task_states(job_id):
    """{array task: Slurm state} from squeue (sacct once the controller has forgotten the job);
    None when Slurm cannot tell now (a busy controller: ask again later)."""
    try:
        result = subprocess.run(["squeue", "-h", "-r", "-t", "all", "-j", job_id, "-o", "%K|%T|%r"],
                                capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode == 0:
        states = {}
        for line in result.stdout.splitlines():
            task, state, reason = (line.split("|") + ["", ""])[:3]
            if task.isdigit():
                states[int(task)] = state if state != "PENDING" or reason in ("", "None") else f"PENDING ({reason})"
        return states
    if "Invalid job id" in result.stderr:
        return accounting_states(job_id)
    return None


def accounting_states(job_id):
    """{array task: state} from sacct; {} when accounting is off (the job is over, its states unknown)."""
    if shutil.which("sacct") is None:
        return {}
    try:
        result = subprocess.run(["sacct", "-n", "-P", "-X", "-j", job_id, "-o", "JobID,State"],
                                capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    states = {}
    for line in result.stdout.splitlines() if result.returncode == 0 else []:
        ident, _, state = line.partition("|")
        task = ident.partition("_")[2]
        if task.isdigit():
            states[int(task)] = state.split()[0] if state else "UNKNOWN"
    return states


def wait(job_id, staging, chunks):
    """Wait for every array task to end, with a progress bar of students graded; returns {task: state}."""
    total = sum(len(c) for c in chunks)
    states = {}
    with tqdm(total=total, unit="student", file=sys.stdout, ncols=80) as bar:
        while True:
            done = len(graded_students(staging, chunks))
            bar.update(done - bar.n)
            latest = task_states(job_id)
            if latest is not None:
                states.update(latest)
                if all(state.split(" ")[0] in ENDED for state in latest.values()):
                    if latest:  # a task cancelled before it started is dropped from the array: gone from squeue
                        states.update({k: "CANCELLED" for k in range(len(chunks)) if k not in latest})
                    break
                bar.set_postfix_str(_progress_note(states, len(chunks)), refresh=True)
            else:
                bar.set_postfix_str("squeue gave no answer; asking again", refresh=True)
            time.sleep(POLL_S)
        bar.update(len(graded_students(staging, chunks)) - bar.n)
    return states


def _progress_note(states, n_tasks):
    running = sum(1 for s in states.values() if s == "RUNNING")
    pending = [s for s in states.values() if s.startswith("PENDING")]
    note = f"tasks: {running} running, {len(pending)} pending"
    reasons = sorted({s.partition(" ")[2] for s in pending} - {""})
    return note + (f" {', '.join(reasons)}" if reasons else "")


# -- collecting ----------------------------------------------------------------------------------

def _task_folder(staging, k):
    return Path(staging) / f"task{k}"


def _fresh_report(task_folder, student):
    """The report a task wrote for ``student``: merged into task<k>/reports at the task's end, or still in
    grade-all's own staging folder when the task was stopped before it merged; None when there is none."""
    merged = task_folder / "reports" / f"{student}.json"
    if merged.is_file():
        return merged
    for path in sorted(task_folder.glob(f".grading-*/{student}.json")):
        if _readable_report(path):
            return path
    return None


def _readable_report(path):
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False  # half written when the task was killed
    return isinstance(report, dict) and isinstance(report.get("items"), list)


def graded_students(staging, chunks):
    """Students with a report in the staging folder (for the progress bar: existence is enough)."""
    found = set()
    for k, chunk in enumerate(chunks):
        folder = _task_folder(staging, k)
        if not folder.is_dir():
            continue
        names = {p.stem for p in folder.glob("reports/*.json")} | {p.stem for p in folder.glob(".grading-*/*.json")}
        found.update(s for s in chunk if s in names)
    return found


def finished_reports(staging, chunks):
    """{student: report path} for every student whose task wrote a whole report."""
    found = {}
    for k, chunk in enumerate(chunks):
        for student in chunk:
            path = _fresh_report(_task_folder(staging, k), student)
            if path is not None:
                found[student] = path
    return found


def remove_task_folders(staging, n_tasks):
    """After the merge: the tasks' own CSVs and charts are not needed (job.sh and the logs stay)."""
    for k in range(n_tasks):
        shutil.rmtree(_task_folder(staging, k), ignore_errors=True)
    shutil.rmtree(Path(staging) / "not-graded", ignore_errors=True)


def _items_asked(grade_args):
    return [grade_args[i + 1] for i, a in enumerate(grade_args[:-1]) if a == "--item"] or None


def report_lost_students(assignment, staging, chunks, states, fresh, grade_args, job_id, minutes):
    """A could-not-grade report for each student whose task ended without grading them; {student: path}."""
    lost = {}
    folder = Path(staging) / "not-graded"
    for k, chunk in enumerate(chunks):
        missing = [s for s in chunk if s not in fresh]
        if not missing:
            continue
        state = states.get(k, "UNKNOWN").split(" ")[0]
        log = Path(staging) / f"task{k}.log"
        reason = f"Slurm array task {k} of job {job_id} ended {state} before grading this submission"
        if state == "TIMEOUT":
            reason += f" (time limit {minutes} min; give more with --sbatch-options \"--time=MINUTES\")"
        reason += f"; see {log}" if log.exists() else " and wrote no log (does the node see this folder?)"
        folder.mkdir(exist_ok=True)
        for student in missing:
            path = folder / f"{student}.json"
            report = batch.could_not_grade_report(assignment, reason, _items_asked(grade_args))
            path.write_text(json.dumps(report, indent=2) + "\n")
            lost[student] = path
        print(f"Slurm task {k} ended {state}: {', '.join(missing)} not graded", file=sys.stderr)
    return lost

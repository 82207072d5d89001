"""How long autograding a class of hw1 submissions through nbgrader takes.

    python benchmarks/nbgrader_class_time.py [--students 200] [--compare-students 10]

Builds a temporary course folder (hw1_activations released from solutions/,
the course's nbgrader_config.py), then a class of submissions: copies of the
released notebook with the reference module, the untouched stub, or one of a
few mutants from tests/mutants_hw1.py. It times, each in a fresh copy of the
course:

1. ``nbgrader autograde hw1_activations``: nbgrader's own loop, one student
   after another (``--compare-students`` students);
2. ``python -m autograder autograde hw1_activations --jobs 1`` on the same number;
3. ``python -m autograder autograde hw1_activations --jobs 2`` on ``--students``.

It prints seconds per student and what that means for 200 and 1,000
students, and checks, with code of its own, that each student's total in the
gradebook equals the engine's report. The machine's load average is printed
with every run (it includes the run's own processes): on a shared machine,
time only when it is low. Where a cgroup v1 ``cpuacct`` group can be made, it
also prints the CPU seconds per student of all the run's processes, which
depend much less on what else the machine is doing.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
from autograder import sandbox  # noqa: E402
from autograder.release import nbgrader_env, release  # noqa: E402

ASSIGNMENT = "hw1_activations"
MODULE = "activations.py"
GOAL_STUDENTS, GOAL_SECONDS = 200, 600
CPUACCT = Path("/sys/fs/cgroup/cpuacct")
MUTANTS = ("softmax_unstable", "relu_prime_one_at_zero", "numerical_gradient_forward", "elu_overflows")


def class_sources():
    """The cycle of module texts students hand in: reference, stub (None: the released module), a few mutants."""
    from mutants_hw1 import mutant_source
    sources = [("reference", (REPO / "solutions" / ASSIGNMENT / MODULE).read_text()), ("stub", None)]
    return sources + [(name, mutant_source(name)) for name in MUTANTS]


def build_base_course(workdir):
    """A course folder with hw1 released (gradebook included) and no submissions."""
    base = workdir / "base"
    base.mkdir()
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, base / "solutions" / ASSIGNMENT)
    shutil.copy(REPO / "nbgrader_config.py", base / "nbgrader_config.py")
    release(ASSIGNMENT, base)
    return base


def course_with_class(base, dest, students):
    """A copy of ``base`` with ``students`` submissions (s0000, s0001, ...) cycling through class_sources()."""
    shutil.copytree(base, dest)
    released = dest / "assignments" / ASSIGNMENT
    sources = class_sources()
    for number in range(students):
        folder = dest / "submitted" / f"s{number:04d}" / ASSIGNMENT
        shutil.copytree(released, folder)
        text = sources[number % len(sources)][1]
        if text is not None:
            (folder / MODULE).write_text(text)
        (folder / "timestamp.txt").write_text("2026-09-15 09:00:00.000000 UTC")
    return dest


def gradebook_matches_engine(course, students):
    """(number checked, [mismatch descriptions]): each student's gradebook total against the engine's report."""
    from nbgrader.api import Gradebook
    problems = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nn-from-scratch") as gb:
        for number in range(students):
            student = f"s{number:04d}"
            report_path = course / "autograded" / student / ASSIGNMENT / "autograder_report.json"
            if not report_path.exists():
                problems.append(f"{student}: no engine report")
                continue
            engine = json.loads(report_path.read_text())["score"]
            book = gb.find_submission(ASSIGNMENT, student).score
            if abs(book - engine) > 1e-3:
                problems.append(f"{student}: gradebook {book:g}, engine {engine:g}")
    return students, problems


def load():
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


class CpuMeter:
    """CPU seconds used by a process tree, read from a cgroup v1 ``cpuacct`` group made for it.

    On a shared machine the wall-clock time depends on what others run; the
    CPU time does much less. Where no such group can be made (cgroup v2 only,
    no rights), ``seconds()`` is None and only wall-clock time is reported.
    """

    def __init__(self, name):
        self.path = CPUACCT / f"{name}-{os.getpid()}"
        try:
            self.path.mkdir()
        except OSError:
            self.path = None

    def join(self):
        """Called in the child between fork and exec: put it (and all it starts) in the group."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self):
        return None if self.path is None else int((self.path / "cpuacct.usage").read_text()) / 1e9

    def close(self):
        for _ in range(20):  # the group can be removed once its last process has gone
            try:
                if self.path is not None:
                    self.path.rmdir()
                return
            except OSError:
                time.sleep(0.5)
        print(f"  (could not remove the measuring cgroup {self.path}: a process of the run is still alive)")


def timed_run(label, command, course, students):
    """Run ``command`` in ``course``; print and return seconds per student."""
    print(f"\n{label}: {students} students ({load()} before)", flush=True)
    meter = CpuMeter(f"nbgrader-class-time-{course.name}")
    started = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=course, env=nbgrader_env(), capture_output=True, text=True,
                                preexec_fn=meter.join)
        seconds = time.perf_counter() - started
        cpu = meter.seconds()
    finally:
        meter.close()
    checked, problems = gradebook_matches_engine(course, students)
    per_student = seconds / students
    print(f"  exit status {result.returncode}, {seconds:.1f} s in all, {per_student:.2f} s per student "
          f"({load()} after)")
    print(f"  extrapolated: 200 students {per_student * 200 / 60:.1f} min, "
          f"1,000 students {per_student * 1000 / 60:.1f} min")
    if cpu is not None:
        cores = os.cpu_count() or 1
        print(f"  CPU: {cpu / students:.2f} s per student, all processes of the run together (at best "
              f"{cpu / students * 200 / cores / 60:.1f} min for 200 students on {cores} idle cores)")
    if problems:
        print(f"  GRADEBOOK DIFFERS from the engine for {len(problems)} of {checked}: {'; '.join(problems[:5])}")
    else:
        print(f"  gradebook equals the engine's score for all {checked} students")
    if result.returncode != 0:
        print("  last output:\n    " + "\n    ".join((result.stdout + result.stderr).strip().splitlines()[-8:]))
    return per_student, seconds, not problems and result.returncode == 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=GOAL_STUDENTS,
                        help=f"class size for the --jobs 2 run (default {GOAL_STUDENTS}, the goal)")
    parser.add_argument("--compare-students", type=int, default=10,
                        help="class size for plain nbgrader and --jobs 1 (default 10)")
    parser.add_argument("--jobs", type=int, default=2, help="jobs of the main run (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the course folders (printed)")
    args = parser.parse_args(argv)
    compare = min(args.compare_students, args.students)
    print(f"machine: {os.cpu_count()} cores, sandbox: {sandbox.sandbox_name()}, {load()}")
    workdir = Path(tempfile.mkdtemp(prefix="nbgrader-class-time-"))
    ok = True
    try:
        base = build_base_course(workdir)
        nbgrader = course_with_class(base, workdir / "nbgrader", compare)
        per_nbgrader, _, good = timed_run("nbgrader autograde, one student after another",
                                          [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], nbgrader,
                                          compare)
        ok &= good
        one = course_with_class(base, workdir / "jobs1", compare)
        per_one, _, good = timed_run("python -m autograder autograde --jobs 1",
                                     [sys.executable, "-m", "autograder", "autograde", ASSIGNMENT, "--jobs", "1"],
                                     one, compare)
        ok &= good
        many = course_with_class(base, workdir / f"jobs{args.jobs}", args.students)
        per_many, seconds, good = timed_run(
            f"python -m autograder autograde --jobs {args.jobs}",
            [sys.executable, "-m", "autograder", "autograde", ASSIGNMENT, "--jobs", str(args.jobs)],
            many, args.students)
        ok &= good
        print("\nseconds per student: nbgrader {:.2f}, --jobs 1 {:.2f}, --jobs {} {:.2f} ({:.1f}x nbgrader)".format(
            per_nbgrader, per_one, args.jobs, per_many, per_nbgrader / per_many))
        if args.students >= GOAL_STUDENTS:
            verdict = "met" if seconds <= GOAL_SECONDS else "NOT met"
            print(f"goal ({GOAL_STUDENTS} students in at most {GOAL_SECONDS} s): {args.students} students took "
                  f"{seconds:.0f} s: {verdict}")
        else:
            print(f"goal ({GOAL_STUDENTS} students in at most {GOAL_SECONDS} s): extrapolated "
                  f"{per_many * GOAL_STUDENTS:.0f} s from {args.students} students")
    finally:
        if args.keep:
            print(f"course folders kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""How long grading a class takes, per assignment and path, and where the time goes.

    python benchmarks/class_time.py [--students 10] [--jobs 2] [--repeats 1]
        [--assignments hw1_activations hw2_backprop ...] [--paths grade-all nbgrader nbgrader-no-execute]
        [--no-execute] [--no-shared] [--json FILE] [--png FILE]

For each assignment it builds a class of ``--students`` correct submissions (the
reference solution) and grades it, ``--jobs`` at a time, through

* ``grade-all``: ``python -m autograder grade-all ID ROOT --jobs J``, and
* ``nbgrader``: ``python -m autograder autograde ID --jobs J`` in a course folder
  with the assignment released and the class submitted, and
* ``nbgrader-no-execute`` (not run unless named): the same, with the students'
  notebooks not run (``c.CourseAutograde.execute_notebooks = False`` in the course's
  nbgrader_config.py). ``--no-execute`` puts it in place of ``nbgrader``; name
  both (``--paths nbgrader nbgrader-no-execute``) to compare them side by side.

It prints, per assignment and path, the wall-clock seconds per student and their
extrapolation to 200 and 1,000 students (against the goal: a class of 200 in at
most 10 minutes), and the seconds of each item within one grading, with the timed
items split into baselines, the student's runs and the grader's replay (the
``timing`` field of the reports). It also checks that every student got full marks
(NOT GRADED only for hw4's GPU items on a machine without a GPU).

hw4's GPU items run under the machine's GPU timing lock, one grading at a time: the
line "GPU lock" gives the seconds each grading holds it (measured on the CuPy
stand-in when AUTOGRADER_CUPY_STAND_IN is set, else not measured) and what that
serialises for a class of 200 on one GPU.

The machine's load average is printed with every run. Time on a quiet machine: on a
shared one the numbers are inflated. ``--no-shared`` makes every student measure its
own baselines (the single-``grade`` behaviour), for comparison.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from autograder import assignments, baselines  # noqa: E402
from autograder.release import nbgrader_env, release  # noqa: E402

GOAL_STUDENTS, GOAL_SECONDS = 200, 600
CLASS_SIZES = (200, 1000)
PATHS = ("grade-all", "nbgrader", "nbgrader-no-execute")
DEFAULT_PATHS = ("grade-all", "nbgrader")
NOT_RUN_LINE = "c.CourseAutograde.execute_notebooks = False"
REPORT_NAME = "autograder_report.json"
SPLIT_KEYS = ("baseline_s", "student_s", "replay_s")
LOCK_KEYS = ("lock_held_s", "lock_wait_s")


def load_average():
    return os.getloadavg()[0]


def reference_modules(assignment):
    return {m: (REPO / "solutions" / assignment.id / m).read_text() for m in assignment.modules}


def grade_all_class(assignment, workdir, students):
    """(command, cwd, reports folder getter) for a grade-all run over ``students`` reference submissions."""
    root = workdir / "submissions"
    for number in range(students):
        folder = root / f"s{number:04d}"
        folder.mkdir(parents=True)
        for name, text in reference_modules(assignment).items():
            (folder / name).write_text(text)
    out = workdir / "out"
    return root, out


def nbgrader_course(assignment, workdir, students, run_notebooks=True):
    """A course folder with ``assignment`` released and ``students`` reference submissions."""
    course = workdir / "course"
    course.mkdir()
    shutil.copytree(REPO / "solutions" / assignment.id, course / "solutions" / assignment.id)
    shutil.copy(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    if not run_notebooks:
        with open(course / "nbgrader_config.py", "a") as f:
            f.write(f"\nc = get_config()  # noqa: F821\n{NOT_RUN_LINE}\n")
    release(assignment.id, course)
    released = course / "assignments" / assignment.id
    for number in range(students):
        folder = course / "submitted" / f"s{number:04d}" / assignment.id
        shutil.copytree(released, folder)
        for name, text in reference_modules(assignment).items():
            (folder / name).write_text(text)
        (folder / "timestamp.txt").write_text("2026-09-15 09:00:00.000000 UTC")
    return course


def run_class(assignment, path, students, jobs, shared, seed):
    """Grade a class once; returns (wall seconds, [reports], load before, load after, output tail)."""
    env = {**nbgrader_env(), **({} if shared else {"AUTOGRADER_NO_SHARED_BASELINES": "1"})}
    with tempfile.TemporaryDirectory(prefix="class-time-") as tmp:
        workdir = Path(tmp)
        if path == "grade-all":
            root, out = grade_all_class(assignment, workdir, students)
            command = [sys.executable, "-m", "autograder", "grade-all", assignment.id, str(root), "--out", str(out),
                       "--jobs", str(jobs), "--seed", str(seed)]
            cwd = REPO
        else:
            cwd = nbgrader_course(assignment, workdir, students, run_notebooks=path == "nbgrader")
            command = [sys.executable, "-m", "autograder", "autograde", assignment.id, "--jobs", str(jobs)]
        load_before = load_average()
        started = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=6 * 3600)
        wall = time.perf_counter() - started
        load_after = load_average()
        if path == "grade-all":
            found = sorted((out / "reports").glob("*.json"))
        else:
            found = sorted((cwd / "autograded").glob(f"*/{assignment.id}/{REPORT_NAME}"))
        reports = [json.loads(p.read_text()) for p in found]
    tail = (result.stdout + result.stderr)[-1500:]
    measured = re.search(r"shared baselines measured (\d+) time\(s\) in ([\d.]+) s", result.stdout)
    measuring = (int(measured.group(1)), float(measured.group(2))) if measured else (0, 0.0)
    if len(reports) != students:  # counted as not full marks; the run goes on with the other assignments
        print(f"  {assignment.id} {path}: {len(reports)} reports for {students} students "
              f"(exit {result.returncode}):\n{tail}", file=sys.stderr)
    return wall, reports, load_before, load_after, measuring


def full_marks(assignment, report):
    """Whether a correct submission got everything it can get here (GPU items may be NOT GRADED without one)."""
    for item in report["items"]:
        if item["status"] == "not graded" and assignment.item(item["name"]).needs_gpu:
            continue
        if item["score"] != item["max_score"]:
            return False
    return True


def item_breakdown(reports):
    """{item: {"total_s": mean seconds, "baseline_s": ..., ...}} over the reports' timing fields."""
    items = {}
    for report in reports:
        for name, entry in (report.get("timing") or {}).items():
            for key, value in entry.items():
                if isinstance(value, (int, float)) and key in ("total_s", *SPLIT_KEYS, *LOCK_KEYS):
                    items.setdefault(name, {}).setdefault(key, []).append(float(value))
    return {name: {k: statistics.mean(v) for k, v in keys.items()} for name, keys in items.items()}


def baseline_sources(reports, timed_item):
    sources = [((r.get("timing") or {}).get(timed_item) or {}).get("baselines", {}).get("source") for r in reports]
    return {s: sources.count(s) for s in set(sources) if s}


def class_seconds(per_student, measure_each, students):
    """The model: students x seconds per student, plus the shared baselines' measurements (one at the start,
    one every REMEASURE_EVERY students; the gradings wait meanwhile)."""
    measurements = (1 + students // baselines.REMEASURE_EVERY) if measure_each else 0
    return per_student * students + measurements * measure_each


def measure(assignment, path, students, jobs, repeats, shared, seed):
    walls, rows = [], None
    for _ in range(repeats):
        wall, reports, load_before, load_after, measuring = run_class(assignment, path, students, jobs, shared, seed)
        walls.append(wall)
        if rows is None or wall <= min(walls):
            rows = reports, load_before, load_after, measuring
    reports, load_before, load_after, (times_measured, measuring_s) = rows
    wall = statistics.median(walls)
    measure_each = measuring_s / times_measured if times_measured else 0.0
    per_student = (wall - measuring_s) / students  # steady state: the class's wall time less the measurements
    total = {n: class_seconds(per_student, measure_each, n) for n in CLASS_SIZES}
    return {
        "assignment": assignment.id, "path": path, "students": students, "jobs": jobs, "shared": shared,
        "wall_s": round(wall, 2), "per_student_s": round(per_student, 3),
        "baseline_measurements": times_measured, "measuring_s": round(measuring_s, 2),
        **{f"class_{n}_min": round(total[n] / 60, 1) for n in CLASS_SIZES},
        "goal_met": total[GOAL_STUDENTS] <= GOAL_SECONDS,
        "over_goal_min": round(max(0.0, total[GOAL_STUDENTS] - GOAL_SECONDS) / 60, 1),
        "load_before": round(load_before, 2), "load_after": round(load_after, 2),
        "reports": len(reports),
        "all_full_marks": len(reports) == students and all(full_marks(assignment, r) for r in reports),
        "items": item_breakdown(reports),
        "baselines": baseline_sources(reports, "speed"),
    }


def gpu_lock_model(row, students=GOAL_STUDENTS):
    """Seconds a class holds one GPU's timing lock: the GPU items, one grading at a time."""
    gpu_items = [i.name for i in assignments.get(row["assignment"]).items if i.needs_gpu]
    held = sum(row["items"].get(name, {}).get("lock_held_s", 0.0) for name in gpu_items)
    return held, held * students


def print_table(rows):
    print(f"{'assignment':<22}{'path':<21}{'n':>4}{'jobs':>5}{'s/student':>10}{'200 (min)':>10}"
          f"{'1000 (min)':>11} {'goal':>6}{'load':>11}{'full':>6}  baselines")
    for r in rows:
        goal = "ok" if r["goal_met"] else f"+{r['over_goal_min']}"
        print(f"{r['assignment']:<22}{r['path']:<21}{r['students']:>4}{r['jobs']:>5}{r['per_student_s']:>10.2f}"
              f"{r['class_200_min']:>10.1f}{r['class_1000_min']:>11.1f} {goal:>6}"
              f"{r['load_before']:>5.1f}-{r['load_after']:<5.1f}{'yes' if r['all_full_marks'] else 'NO':>6}  "
              f"{r['baselines'] or '-'}")
    print()
    print("seconds per grading, by item (mean; timed items split into baselines / student / replay):")
    for r in rows:
        parts = []
        for name, entry in sorted(r["items"].items(), key=lambda kv: -kv[1].get("total_s", 0)):
            split = "/".join(f"{entry[k]:.2f}" for k in SPLIT_KEYS if k in entry)
            parts.append(f"{name} {entry.get('total_s', 0):.2f}" + (f" ({split})" if split else ""))
        print(f"  {r['assignment']} {r['path']}: " + ", ".join(parts))
        held, class_held = gpu_lock_model(r)
        if held:
            print(f"    GPU lock: {held:.2f} s per grading, {class_held / 60:.1f} min for {GOAL_STUDENTS} students "
                  f"on one GPU (serialised)")


def print_ratios(rows):
    """Seconds per student without running the notebooks, as a fraction of with, per assignment measured both ways."""
    by_key = {(r["assignment"], r["path"]): r for r in rows}
    lines = []
    for (assignment_id, path), row in by_key.items():
        run = by_key.get((assignment_id, "nbgrader"))
        if path == "nbgrader-no-execute" and run and run["per_student_s"] > 0:
            lines.append(f"  {assignment_id}: {row['per_student_s']:.2f} / {run['per_student_s']:.2f} s per student = "
                         f"{row['per_student_s'] / run['per_student_s']:.2f} (load {row['load_before']:.1f}, "
                         f"{run['load_before']:.1f})")
    if lines:
        print()
        print("nbgrader path, notebooks not run / run:")
        print("\n".join(lines))


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f"{r['assignment'].split('_')[0]}\n{r['path']}" for r in rows]
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(rows)), 3.5))
    ax.bar(labels, [r["class_200_min"] for r in rows],
           color=["tab:blue" if r["goal_met"] else "tab:red" for r in rows])
    ax.axhline(GOAL_SECONDS / 60, color="black", linestyle="--", linewidth=1)
    ax.set_ylabel(f"minutes for {GOAL_STUDENTS} students")
    ax.set_title(f"class of {GOAL_STUDENTS}, {rows[0]['jobs']} jobs (goal: dashed)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10, help="students in the class graded (default 10)")
    parser.add_argument("--jobs", type=int, default=2, help="gradings at once (default 2)")
    parser.add_argument("--repeats", type=int, default=1, help="gradings of the class; the median wall time counts")
    parser.add_argument("--assignments", nargs="+", default=list(assignments.ASSIGNMENTS))
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(DEFAULT_PATHS))
    parser.add_argument("--no-execute", action="store_true",
                        help="the nbgrader path without running the students' notebooks (nbgrader-no-execute)")
    parser.add_argument("--no-shared", action="store_true", help="every student measures its own baselines")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    parser.add_argument("--png", metavar="FILE", help="bar chart of the minutes for 200 students")
    args = parser.parse_args(argv)
    if args.no_execute:
        args.paths = list(dict.fromkeys("nbgrader-no-execute" if p == "nbgrader" else p for p in args.paths))
    print(f"machine: {os.cpu_count()} cores, load average {load_average():.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; class of {args.students}, {args.jobs} jobs, "
          f"{'own' if args.no_shared else 'shared'} baselines", flush=True)
    rows = []
    for assignment_id in args.assignments:
        assignment = assignments.get(assignment_id)
        for path in args.paths:
            rows.append(measure(assignment, path, args.students, args.jobs, args.repeats, not args.no_shared,
                                args.seed))
            print(f"  {assignment_id} {path}: {rows[-1]['per_student_s']:.2f} s/student", flush=True)
    print()
    print_table(rows)
    print_ratios(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    if args.png:
        plot(rows, args.png)
    return 0 if all(r["all_full_marks"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

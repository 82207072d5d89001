"""The instructor's whole flow on a small demo class, with real nbgrader.

release -> four sample submissions -> nbgrader autograde -> generate_feedback
-> export -> score table (and a bar chart of the scores).
"""
import csv
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from . import assignments
from .nbgrader_hooks import REPORT_NAME
from .release import ReleaseError, release, run_nbgrader

ASSIGNMENT = "hw1_activations"


def sample_submissions(repo):
    """(student id, what it is, module file) for the demo class."""
    samples = repo / "tests" / "submissions" / ASSIGNMENT
    return [
        ("alice", "the reference solution", repo / "solutions" / ASSIGNMENT / "activations.py"),
        ("bob", "the untouched stub", None),  # taken from the fresh release
        ("carol", "half the functions done", samples / "partial" / "activations.py"),
        ("dave", "complete, three subtle bugs", samples / "subtle" / "activations.py"),
    ]


def build_course(repo, workdir):
    """A course folder with the repository's solutions and nbgrader config."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(repo / "solutions" / ASSIGNMENT, workdir / "solutions" / ASSIGNMENT, dirs_exist_ok=True)
    shutil.copy(repo / "nbgrader_config.py", workdir / "nbgrader_config.py")


def collect(workdir, release_dir, students):
    """Put each sample in submitted/<student>/<assignment>/ as nbgrader expects."""
    for student, _, module in students:
        dest = workdir / "submitted" / student / ASSIGNMENT
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(release_dir, dest)
        if module is not None:
            shutil.copy(module, dest / "activations.py")
        (dest / "timestamp.txt").write_text("2026-09-15 09:00:00.000000 UTC")


def read_scores(workdir):
    """student -> total score, as nbgrader's gradebook CSV export says."""
    with open(workdir / "grades.csv", newline="") as f:
        return {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(f)}


def plot_scores(rows, max_score, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh([r[0] for r in rows][::-1], [r[1] for r in rows][::-1], color="tab:blue")
    ax.set_xlim(0, max_score)
    ax.set_xlabel(f"score (of {max_score:g})")
    ax.set_title(f"{ASSIGNMENT}: demo class")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_demo(repo, workdir=None):
    started = time.monotonic()
    workdir = Path(workdir or tempfile.mkdtemp(prefix="nn-course-demo-")).resolve()
    assignment = assignments.get(ASSIGNMENT)
    students = sample_submissions(repo)
    if not (repo / "solutions" / ASSIGNMENT).is_dir() or not (repo / "tests" / "submissions").is_dir():
        print("the demo needs the instructor's repository (solutions/ and tests/submissions/)", file=sys.stderr)
        return 1
    print(f"Demo course folder: {workdir}")
    try:
        build_course(repo, workdir)
        print(f"1. Releasing {ASSIGNMENT} from solutions/ (nbgrader generate_assignment + module stripping)")
        release_dir = release(ASSIGNMENT, workdir)
        print(f"2. Collecting {len(students)} sample submissions into submitted/")
        collect(workdir, release_dir, students)
        print("3. nbgrader autograde (the course autograder grades each module first)")
        with tqdm(total=len(students), unit="student", file=sys.stdout, ncols=80) as bar:
            def progress(line):
                if "Course autograder:" in line and " scored " in line:
                    bar.update(1)
            run_nbgrader(workdir, "autograde", ASSIGNMENT, "--force", on_line=progress)
        print("4. nbgrader generate_feedback and export")
        run_nbgrader(workdir, "generate_feedback", ASSIGNMENT, "--force")
        run_nbgrader(workdir, "export", "--to", str(workdir / "grades.csv"))
    except ReleaseError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        if exc.detail:  # nbgrader's log, kept apart from the one-line reason
            print(exc.detail, file=sys.stderr)
        return 1

    gradebook = read_scores(workdir)
    rows, mismatches = [], []
    print()
    print(f"{'student':<8} {'sample':<30} {'engine':>7} {'gradebook':>10}  items below full")
    for student, what, _ in students:
        report = json.loads((workdir / "autograded" / student / ASSIGNMENT / REPORT_NAME).read_text())
        lost = [i["name"] for i in report["items"] if i["score"] < i["max_score"]]
        book = gradebook.get(student, float("nan"))
        if abs(book - report["score"]) > 1e-3:
            mismatches.append(student)
        rows.append((student, book))
        print(f"{student:<8} {what:<30} {report['score']:>7.2f} {book:>10.2f}  {', '.join(lost) or '-'}")
    plot_scores(rows, assignment.max_score, workdir / "scores.png")
    print()
    print(f"Gradebook CSV : {workdir / 'grades.csv'}")
    print(f"Feedback HTML : {workdir / 'feedback' / 'dave' / ASSIGNMENT / (ASSIGNMENT + '.html')} (one per student)")
    print(f"Score chart   : {workdir / 'scores.png'}")
    print(f"Demo finished in {time.monotonic() - started:.0f} s.")
    if mismatches:
        print(f"ERROR: gradebook and engine disagree for {', '.join(mismatches)}", file=sys.stderr)
        return 1
    return 0

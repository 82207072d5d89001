"""Grade a whole class in parallel, without nbgrader: one JSON per student, a CSV and a chart.

Each submission is graded by its own ``python -m autograder grade`` process,
``jobs`` at a time, so one student's code can never affect another's grade.
"""
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from . import assignments, safe_paths


def find_submissions(root, assignment_id):
    """student -> folder, for ``root/<student>/<id>/`` (nbgrader) or ``root/<student>/``.

    Names are looked at, never followed: a student whose folder (or whose
    ``<id>`` inside it) is a symbolic link or anything but a real folder is
    still listed, with that path, and ``grade`` gives them a zero saying why.
    """
    found = {}
    for child in sorted(Path(root).iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_symlink():
            found[child.name] = child
        elif child.is_dir():
            nested = child / assignment_id
            found[child.name] = nested if os.path.lexists(nested) else child
    return found


def _grade_one(assignment_id, folder, out_json, extra):
    """Grade one folder in its own process; its report is written to a fresh file, then renamed to ``out_json``."""
    fd, fresh = tempfile.mkstemp(prefix=f".{out_json.name}.", suffix=".tmp", dir=out_json.parent)
    os.close(fd)
    try:
        result = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment_id, str(folder),
                                 "--json", fresh, *extra], capture_output=True, text=True)
        if result.returncode != 0:
            return None, (result.stderr.strip().splitlines() or ["no reason given"])[-1]
        report = json.loads(Path(fresh).read_text())
        os.replace(fresh, out_json)
        return report, None
    finally:
        if os.path.exists(fresh):
            os.unlink(fresh)


def write_csv(path, reports, items):
    """grades.csv: one row per graded student, written to a fresh file and renamed into place."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["student", "score", "max_score", "not_graded", *items])
    for student in sorted(reports):
        r = reports[student]
        per_item = {i["name"]: i["score"] for i in r["items"]}
        writer.writerow([student, r["score"], r["max_score"], " ".join(r["not_graded"]),
                         *[per_item.get(name, "") for name in items]])
    safe_paths.write_fresh(path, text.getvalue())


def plot_distribution(scores, max_score, title, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(scores, bins=min(20, max(5, len(scores))), range=(0, max_score), color="tab:blue", edgecolor="white")
    ax.set_xlabel(f"score (of {max_score:g})")
    ax.set_ylabel("students")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def grade_all(assignment_id, root, out_dir, jobs=None, extra=()):
    """Grade every submission under ``root``; returns the process exit code."""
    assignment = assignments.get(assignment_id)
    submissions = find_submissions(root, assignment_id)
    if not submissions:
        print(f"no submission folders in {root}", file=sys.stderr)
        return 1
    out_dir = Path(out_dir)
    (out_dir / "reports").mkdir(parents=True, exist_ok=True)
    jobs = jobs or max(1, os.cpu_count() or 1)
    reports, failures = {}, {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_grade_one, assignment_id, folder, out_dir / "reports" / f"{student}.json",
                               list(extra)): student for student, folder in submissions.items()}
        for future in tqdm(as_completed(futures), total=len(futures), unit="student", file=sys.stdout, ncols=80):
            report, error = future.result()
            student = futures[future]
            if error:
                failures[student] = error
            else:
                reports[student] = report

    items = [item.name for item in assignment.items]
    write_csv(out_dir / "grades.csv", reports, items)
    scores = [r["score"] for r in reports.values()]
    if scores:
        plot_distribution(scores, assignment.max_score, f"{assignment_id}: {len(scores)} students",
                          out_dir / "scores.png")
        print(f"{len(scores)} graded: mean {statistics.mean(scores):.2f}, median {statistics.median(scores):.2f} "
              f"of {assignment.max_score:g}")
        for name in items:
            skipped = sum(1 for r in reports.values() if name in r["not_graded"])
            lost = sum(1 for r in reports.values() for i in r["items"]
                       if i["name"] == name and i["score"] < i["max_score"] and name not in r["not_graded"])
            print(f"  {name:<22} below full for {lost} of {len(scores)}"
                  + (f", NOT GRADED for {skipped}" if skipped else ""))
    not_graded = sorted(s for s, r in reports.items() if r["not_graded"])
    if not_graded:
        names = sorted({n for s in not_graded for n in reports[s]["not_graded"]}, key=items.index)
        reasons = sorted({i["feedback"] for s in not_graded for i in reports[s]["items"] if i["name"] in names})
        print(f"WARNING: {', '.join(names)} NOT GRADED for {len(not_graded)} student(s), scored 0 until regraded "
              f"(see the not_graded column of grades.csv): " + ", ".join(not_graded))
        for reason in reasons[:3]:
            print(f"  why: {reason}")
        if any(assignment.item(n).needs_gpu for n in names):
            print(f"  Run grade-all for {assignment_id} again on a machine with a CUDA GPU and CuPy to grade them.")
    print(f"CSV: {out_dir / 'grades.csv'}   reports: {out_dir / 'reports'}   chart: {out_dir / 'scores.png'}")
    if failures:
        print(f"ERROR: {len(failures)} submission(s) could not be graded:", file=sys.stderr)
        for student, reason in sorted(failures.items()):
            print(f"  {student}: {reason}", file=sys.stderr)
        return 1
    return 0

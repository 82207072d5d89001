"""Grade a whole class in parallel, without nbgrader: one JSON per student, a CSV and a chart.

Each submission is graded by its own ``python -m autograder grade`` process,
``jobs`` at a time, so one student's code can never affect another's grade.

Grading first writes fresh reports to a staging folder; ``merge_reports`` then
moves them into ``OUT/reports`` (keeping every report it replaces under
``OUT/reports/earlier/``), and ``write_summary`` rebuilds ``grades.csv`` and the
chart from all current reports. So a regrade of some students or some items
changes only their cells, and nothing graded before is ever lost.
"""
import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from tqdm import tqdm

from . import assignments, baselines, safe_paths
from .report import (NOT_GRADED, STUDENT_GRADED, STUDENT_NOT_GRADED, STUDENT_PARTLY_GRADED, student_status,
                     why_line)

CSV_COLUMNS = ["student", "status", "score", "max_score", "why", "not_graded"]  # then one column per item
# Set to 1 to make every student measure its own baselines (as a single ``grade`` does), e.g. to compare.
NO_SHARED_ENV = "AUTOGRADER_NO_SHARED_BASELINES"
LISTED_PER_STATUS = 20
# The grading processes' own arithmetic is small: one BLAS thread each, so that gradings side by side do not
# fight over the cores (the student's workers get theirs from the assignment's limits, as always).
GRADER_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # students named per status in the summary; grades.csv has them all


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


# -- grading into a staging folder -------------------------------------------------------------

def time_budget(assignment, grade_args):
    """Seconds for all calls of one submission: ``--time-budget`` in ``grade_args``, else the assignment's."""
    if "--time-budget" in grade_args:
        return float(grade_args[grade_args.index("--time-budget") + 1])
    return assignment.limits.total_s


def _grade_timeout(assignment, extra):
    """Seconds after which one student's whole ``grade`` process is stopped (a grader that hangs)."""
    return 3 * time_budget(assignment, extra) + 300


def _grade_one(assignment, folder, out_json, extra, environment=None):
    """Grade one folder in its own process, its report written to ``out_json``; returns None or why it failed.

    ``environment``: variables added for the grading process (the shared baselines' file and key);
    the student's workers never see them (they get an environment of their own)."""
    try:
        result = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment.id, str(folder),
                                 "--json", str(out_json), *extra], capture_output=True, text=True,
                                timeout=_grade_timeout(assignment, extra),
                                env={**os.environ, **environment} if environment else None)
    except subprocess.TimeoutExpired as exc:
        return f"timed out: grading took longer than {exc.timeout:g} s and was stopped"
    if result.returncode != 0 or not out_json.is_file():
        return (result.stderr.strip().splitlines() or [f"the grader exited with status {result.returncode}"])[-1]
    return None


def could_not_grade_report(assignment, reason, items=None):
    """The report of a submission the engine could not grade: every item NOT GRADED, score 0, saying why."""
    names = items or [item.name for item in assignment.items]
    feedback = f"not graded: the grader could not grade this submission ({reason})"
    report_items = [{"name": name, "score": 0.0, "max_score": float(assignment.item(name).points),
                     "feedback": feedback, "status": NOT_GRADED, "checks_passed": 0, "checks_total": 0}
                    for name in names]
    return {"assignment": assignment.id, "status": STUDENT_NOT_GRADED, "why": f"could not grade: {reason}",
            "cause": reason, "score": 0.0, "max_score": round(sum(i["max_score"] for i in report_items), 4),
            "items": report_items, "not_graded": list(names), "seed": None, "sandbox": "none",
            "suite": "hidden", "elapsed_s": 0.0, "warnings": [f"could not grade: {reason}"], "isolation": []}


def grade_into(assignment, plan, submissions, staging, jobs, extra, shared=None):
    """Grade each student of ``plan`` ({student: item names, or None for all}) into ``staging``.

    Returns {student: report path}; a student the engine could not grade gets a
    could-not-grade report there too, so nobody is lost. With ``shared`` (a
    baselines.SharedBaselines), the timed items are compared with baselines the
    batch measures while no grading runs: before the first student, and again
    when a re-measure is due (every so many students, or when a grading saw the
    load change); students wait meanwhile.
    """
    staging = Path(staging)
    fresh = {}
    pending = list(plan.items())
    running = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool, \
            tqdm(total=len(pending), unit="student", file=sys.stdout, ncols=80) as bar:
        while pending or running:
            if shared is not None and shared.due() and not running and pending:
                shared.measure_now()  # nothing of a student runs now
            while pending and len(running) < jobs and not (shared is not None and shared.due()):
                student, items = pending.pop(0)
                path = staging / f"{student}.json"
                args = [*extra, *[arg for name in items or [] for arg in ("--item", name)]]
                environment = {**GRADER_THREADS, **(shared.environment() if shared is not None else {})}
                future = pool.submit(_grade_one, assignment, submissions[student], path, args, environment)
                running[future] = (student, items, path)
            if not running:
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                student, items, path = running.pop(future)
                error = future.result()
                if error:
                    safe_paths.write_fresh(path, _dumps(could_not_grade_report(assignment, error, items)))
                elif shared is not None:
                    shared.after_student(_load(path))
                fresh[student] = path
                bar.update(1)
    return fresh


def shared_baselines_for(assignment, staging, plan, jobs):
    """The batch's shared baselines when grading several students of an assignment with timed items, else None.

    The file lives in a folder of the batch's own (owner only), never in a submission."""
    wanted = {name for items in plan.values() for name in (items or [i.name for i in assignment.items])}
    if len(plan) < 2 or not baselines.SharedBaselines.supported(assignment.id, wanted):
        return None
    folder = Path(tempfile.mkdtemp(prefix=".baselines-", dir=staging))
    os.chmod(folder, 0o700)
    return baselines.SharedBaselines(assignment.id, folder, every=max(baselines.REMEASURE_EVERY, 4 * jobs))


def _dumps(report):
    return json.dumps(report, indent=2) + "\n"


# -- merging into OUT/reports --------------------------------------------------------------------

def _load(path):
    """A report the grader wrote, or None when there is none (or it is not a readable report)."""
    try:
        report = json.loads(safe_paths.read_regular(str(path), 64 * 1024 * 1024).decode("utf-8"))
    except (safe_paths.UnsafePath, ValueError, UnicodeDecodeError, OSError):
        return None
    return report if isinstance(report, dict) and isinstance(report.get("items"), list) else None


def _utc_stamp(seconds):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))


def _keep_earlier(reports_dir, student):
    """Move the current report of ``student`` to reports/earlier/<student>.<UTC time>.json (never overwriting)."""
    current = reports_dir / f"{student}.json"
    if not os.path.lexists(current):
        return None
    earlier = reports_dir / "earlier"
    earlier.mkdir(exist_ok=True)
    moment = time.time()
    while os.path.lexists(target := earlier / f"{student}.{_utc_stamp(moment)}.json"):
        moment += 1  # two replacements within one second: the later one is stamped a second on
    os.replace(current, target)
    return target


def merged_report(assignment, current, new):
    """``new`` laid over ``current``: the items ``new`` graded replace those of ``current``, the rest are kept.

    A full report (every item) simply replaces the current one. Score, status,
    not_graded and why are recomputed from the merged items.
    """
    order = [item.name for item in assignment.items]
    new_items = {i["name"]: i for i in new["items"]}
    if current is None or set(new_items) >= set(order):
        return new
    old_items = {i["name"]: i for i in current["items"]}
    items = [new_items.get(name) or old_items[name] for name in order if name in new_items or name in old_items]
    # A whole-submission cause is the new grading's: kept items still carry their own feedback.
    cause = new.get("cause", "")
    merged = dict(new)
    merged.update({
        "items": items,
        "score": round(sum(i["score"] for i in items), 4),
        "max_score": round(sum(i["max_score"] for i in items), 4),
        "not_graded": [i["name"] for i in items if i["status"] == NOT_GRADED],
        "cause": cause,
        "status": student_status(items),
        "why": why_line(items, cause),
        "regraded_items": [name for name in order if name in new_items],
        "earlier_seed": current.get("seed"),
        "warnings": [w for w in new.get("warnings", []) if not w.startswith("NOT GRADED")],
    })
    if merged["not_graded"]:
        merged["warnings"].append("NOT GRADED (score 0 until regraded where possible): "
                                  + ", ".join(merged["not_graded"]))
    return merged


def _check_student_name(student):
    if not student or student in (".", "..") or "/" in student or student.startswith("."):
        raise ValueError(f"{student!r} is not a student name")


def merge_reports(assignment_id, out_dir, new_reports):
    """Move fresh reports ({student: Path}) into OUT/reports, merging partial ones into the current reports.

    The report each one replaces is kept as
    OUT/reports/earlier/<student>.<UTC yyyymmddTHHMMSSZ>.json. Returns the
    students merged.
    """
    assignment = assignments.get(assignment_id)
    reports_dir = Path(out_dir) / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    merged = []
    for student, path in sorted(new_reports.items()):
        _check_student_name(student)
        new = _load(path)
        if new is None:
            new = could_not_grade_report(assignment, f"its fresh report {path} could not be read")
        current_path = reports_dir / f"{student}.json"
        report = merged_report(assignment, _load(current_path), new)
        _keep_earlier(reports_dir, student)
        safe_paths.write_fresh(current_path, _dumps(report))
        if os.path.lexists(path) and Path(path).resolve() != current_path.resolve():
            os.unlink(path)
        merged.append(student)
    return merged


# -- grades.csv, chart and summary ---------------------------------------------------------------

def current_reports(out_dir):
    """{student: report} of every current report in OUT/reports (not reports/earlier)."""
    reports_dir = Path(out_dir) / "reports"
    found = {}
    if not reports_dir.is_dir():
        return found
    for path in sorted(reports_dir.glob("*.json")):
        if path.name.startswith("."):
            continue
        report = _load(path)
        if report is None:
            print(f"left out {path}: not a report the grader wrote", file=sys.stderr)
            continue
        found[path.stem] = report
    return found


def write_csv(path, reports, items):
    """grades.csv: one row per student, written to a fresh file and renamed into place.

    ``score`` counts an item NOT GRADED as 0; ``status`` says whether the grade is complete.
    """
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([*CSV_COLUMNS, *items])
    for student in sorted(reports):
        r = reports[student]
        per_item = {i["name"]: i["score"] for i in r["items"]}
        writer.writerow([student, _status(r), r["score"], r["max_score"], _why(r), " ".join(r.get("not_graded", [])),
                         *[per_item.get(name, "") for name in items]])
    safe_paths.write_fresh(path, text.getvalue())


def _status(report):
    """The report's status (reports written before the field existed get it from their items)."""
    return report.get("status") or student_status(report["items"])


def _why(report):
    return report.get("why") if "why" in report else why_line(report["items"], report.get("cause", ""))


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


def _print_students(title, students, reports):
    if not students:
        return
    print(f"{title} ({len(students)}):")
    for student in students[:LISTED_PER_STATUS]:
        print(f"  {student}: {_why(reports[student])}")
    if len(students) > LISTED_PER_STATUS:
        print(f"  ... and {len(students) - LISTED_PER_STATUS} more (see the why column of grades.csv)")


def write_summary(assignment_id, out_dir):
    """Rebuild grades.csv and scores.png from all current reports and print the summary; returns the exit code.

    Exit 1 when some student could not be graded at all (they still have a row), else 0.
    """
    assignment = assignments.get(assignment_id)
    out_dir = Path(out_dir)
    reports = current_reports(out_dir)
    items = [item.name for item in assignment.items]
    write_csv(out_dir / "grades.csv", reports, items)
    by_status = {status: sorted(s for s, r in reports.items() if _status(r) == status)
                 for status in (STUDENT_GRADED, STUDENT_PARTLY_GRADED, STUDENT_NOT_GRADED)}
    print(f"{len(reports)} students: {len(by_status[STUDENT_GRADED])} graded, "
          f"{len(by_status[STUDENT_PARTLY_GRADED])} with items not graded, "
          f"{len(by_status[STUDENT_NOT_GRADED])} could not grade")
    scores = [r["score"] for r in reports.values()]
    if scores:
        plot_distribution(scores, assignment.max_score, f"{assignment_id}: {len(scores)} students",
                          out_dir / "scores.png")
        print(f"scores: mean {statistics.mean(scores):.2f}, median {statistics.median(scores):.2f} "
              f"of {assignment.max_score:g} (an item NOT GRADED counts 0 until regraded)")
        for name in items:
            skipped = sum(1 for r in reports.values() if name in r.get("not_graded", []))
            lost = sum(1 for r in reports.values() for i in r["items"]
                       if i["name"] == name and i["score"] < i["max_score"] and name not in r.get("not_graded", []))
            print(f"  {name:<22} below full for {lost} of {len(scores)}"
                  + (f", NOT GRADED for {skipped}" if skipped else ""))
    not_graded = sorted(s for s, r in reports.items() if r.get("not_graded") and _status(r) != STUDENT_NOT_GRADED)
    if not_graded:
        names = sorted({n for s in not_graded for n in reports[s]["not_graded"]}, key=items.index)
        print(f"WARNING: {', '.join(names)} NOT GRADED for {len(not_graded)} student(s), scored 0 until regraded "
              f"(see the status and not_graded columns of grades.csv): " + ", ".join(not_graded))
        if any(assignment.item(n).needs_gpu for n in names):
            print(f"  Run grade-all for {assignment_id} again on a machine with a CUDA GPU and CuPy to grade them "
                  f"(--not-graded-only regrades just those items, into the same --out folder).")
    _print_students("could not grade", by_status[STUDENT_NOT_GRADED], reports)
    _print_students("items not graded", by_status[STUDENT_PARTLY_GRADED], reports)
    _print_students("graded, scored 0", [s for s in by_status[STUDENT_GRADED] if reports[s]["score"] == 0], reports)
    print(f"CSV: {out_dir / 'grades.csv'}   reports: {out_dir / 'reports'}   chart: {out_dir / 'scores.png'}")
    if by_status[STUDENT_NOT_GRADED]:
        print(f"ERROR: {len(by_status[STUDENT_NOT_GRADED])} submission(s) could not be graded (each has a row "
              f"and a report saying why): " + ", ".join(by_status[STUDENT_NOT_GRADED]), file=sys.stderr)
        return 1
    return 0


# -- grade-all ------------------------------------------------------------------------------------

def plan_grading(assignment, out_dir, students, items=None, not_graded_only=False):
    """{student: item names to grade, or None for all}; prints a line for each student skipped."""
    plan = {}
    for student in students:
        wanted = list(items) if items else None
        if not_graded_only:
            current = _load(Path(out_dir) / "reports" / f"{student}.json")
            if current is not None:
                missing = [n for n in current.get("not_graded", []) if wanted is None or n in wanted]
                if not missing:
                    print(f"skipped {student}: no item{' of those asked for' if wanted else ''} is NOT GRADED "
                          f"in the current report")
                    continue
                wanted = [item.name for item in assignment.items if item.name in missing]
        plan[student] = wanted
    return plan


def select_students(submissions, students):
    """The students to grade: all, or those named (an unknown name raises ValueError saying which)."""
    if not students:
        return list(submissions)
    unknown = [s for s in students if s not in submissions]
    if unknown:
        raise ValueError(f"no submission folder for {', '.join(unknown)}")
    return list(dict.fromkeys(students))


def grade_all(assignment_id, root, out_dir, jobs=None, extra=(), students=None, items=None, not_graded_only=False):
    """Grade the submissions under ``root`` into ``out_dir`` (merging with what is there); returns the exit code.

    ``students``: only these; ``items``: only these items; ``not_graded_only``:
    only the items NOT GRADED in each student's current report (students with
    none are skipped). Reports of students not graded now, and every replaced
    report, are kept.
    """
    assignment = assignments.get(assignment_id)
    submissions = find_submissions(root, assignment_id)
    if not submissions:
        print(f"no submission folders in {root}", file=sys.stderr)
        return 1
    try:
        chosen = select_students(submissions, students)
    except ValueError as exc:
        print(f"cannot grade: {exc} in {root}", file=sys.stderr)
        return 1
    out_dir = Path(out_dir)
    (out_dir / "reports").mkdir(parents=True, exist_ok=True)
    plan = plan_grading(assignment, out_dir, chosen, items, not_graded_only)
    if plan:
        staging = Path(tempfile.mkdtemp(prefix=".grading-", dir=out_dir))
        try:
            jobs = jobs or max(1, os.cpu_count() or 1)
            shared = None if os.environ.get(NO_SHARED_ENV) == "1" else shared_baselines_for(assignment, staging,
                                                                                             plan, jobs)
            fresh = grade_into(assignment, plan, submissions, staging, jobs, list(extra), shared)
            if shared is not None:
                print(f"shared baselines measured {len(shared.history)} time(s) in {shared.seconds:.1f} s: "
                      + "; ".join(f"#{i} ({why})" for i, _, why in shared.history))
            merge_reports(assignment_id, out_dir, fresh)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    else:
        print("nothing to grade")
    return write_summary(assignment_id, out_dir)

"""Command line: ``python -m autograder <command>``. See ``--help`` of each command."""
import argparse
import dataclasses
import sys
from pathlib import Path

from . import assignments

REPO = Path(__file__).resolve().parent.parent


def _grade(args):
    from .grading import CannotGrade, grade
    try:
        limits = assignments.get(args.assignment).limits
        if args.call_timeout is not None:
            limits = dataclasses.replace(limits, call_timeout_s=args.call_timeout)
        if args.time_budget is not None:
            limits = dataclasses.replace(limits, total_s=args.time_budget)
        report = grade(args.assignment, args.folder, seed=args.seed, items=args.item or None, limits=limits)
    except (CannotGrade, assignments.UnknownAssignment) as exc:
        print(f"cannot grade: {exc.args[0]}", file=sys.stderr)
        return 1
    if args.json:
        report.write_json(args.json)
    print(report.table())
    if args.json:
        print(f"report written to {args.json}")
    return 0


def _grade_all(args):
    from .batch import grade_all
    try:
        assignments.get(args.assignment)
    except assignments.UnknownAssignment as exc:
        print(f"cannot grade: {exc.args[0]}", file=sys.stderr)
        return 1
    if not Path(args.folder).is_dir():
        print(f"cannot grade: {args.folder!r} is not a folder", file=sys.stderr)
        return 1
    extra = ["--seed", str(args.seed)] if args.seed is not None else []
    return grade_all(args.assignment, args.folder, args.out, jobs=args.jobs, extra=extra)


def _autograde(args):
    from .class_autograde import autograde_class
    return autograde_class(args.assignment, jobs=args.jobs, students=args.student, log_path=args.log,
                           student_timeout=args.student_timeout)


def _check(args):
    from .grading import CannotGrade, grade
    folder = args.folder or REPO / "assignments" / args.assignment
    try:
        report = grade(args.assignment, folder, suite="public", items=args.item or None)
    except CannotGrade as exc:
        print(f"cannot check: {exc}", file=sys.stderr)
        return 1
    print(f"Public checks for {args.assignment} in {folder}")
    name_w = max(len(i.name) for i in report.items)
    for item in report.items:
        if item.status != "graded":  # every check skipped, e.g. a GPU item on a machine without one
            reason = item.feedback.removeprefix("not graded: ")
            print(f"  SKIP {item.name:<{name_w}}  not checked here: {reason}")
            continue
        mark = "PASS" if item.checks_passed == item.checks_total and item.checks_total else "FIX "
        print(f"  {mark} {item.name:<{name_w}}  {item.feedback}")
    passed = sum(i.checks_passed for i in report.items)
    total = sum(i.checks_total for i in report.items)
    if total == 0:
        print("No public check could run here (see SKIP above).")
    else:
        print(f"{passed}/{total} public checks pass. The hidden tests that give the grade check much more "
              "(the assignment notebook says what); passing these is a start, not a grade.")
    return 3 if args.strict and passed < total else 0


def _release(args):
    from .release import ReleaseError, release
    ids = sorted(assignments.ASSIGNMENTS) if args.assignment == "all" else [args.assignment]
    for assignment_id in ids:
        try:
            out = release(assignment_id, REPO)
        except (ReleaseError, assignments.UnknownAssignment) as exc:
            print(f"cannot release: {exc.args[0]}", file=sys.stderr)
            return 1
        print(f"released {assignment_id} -> {out}")
    return 0


def _student_repo(args):
    from .student_repo import ExportError, export
    try:
        files = export(REPO, Path(args.dest))
    except ExportError as exc:
        print(f"cannot export: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(files)} files to {args.dest}: lectures, released assignments, the engine and the "
          "public checks; no solutions, hidden suites or tests")
    return 0


def _demo(args):
    from .demo import run_demo
    return run_demo(REPO, Path(args.workdir) if args.workdir else None)


def _list(args):
    for a in assignments.ASSIGNMENTS.values():
        print(f"{a.id}: {a.title} ({a.max_score:g} points; student edits {', '.join(a.modules)})")
        for item in a.items:
            gpu = "  [GPU]" if item.needs_gpu else ""
            print(f"    {item.name:<22} {item.points:>4g}  {item.what}{gpu}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Grading engine of the course 'Neural networks from scratch, then on the GPU'. "
                    "Student code runs only in a separate, limited worker process.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("grade", help="grade a submission folder with the hidden suite (instructors)",
                       description="Grade one submission folder. Exit 0 when grading completed, "
                                   "whatever the score; 1 with a reason when it could not grade.")
    p.add_argument("assignment", help="assignment id, e.g. hw1_activations")
    p.add_argument("folder", help="folder holding the student's module(s)")
    p.add_argument("--json", metavar="FILE", help="write the report as JSON to FILE")
    p.add_argument("--seed", type=int, help="seed of the random inputs (default: fresh; printed in the JSON)")
    p.add_argument("--item", action="append", metavar="NAME", help="grade only this item (repeatable)")
    p.add_argument("--call-timeout", type=float, metavar="SECONDS",
                   help="wall-clock limit for one call into student code (default: the assignment's)")
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="wall-clock limit for all calls of one submission together (default: the assignment's)")
    p.set_defaults(func=_grade)

    p = sub.add_parser("grade-all", help="grade every submission in a folder, in parallel (instructors)",
                       description="Grade FOLDER/<student>/<assignment>/ (nbgrader's submitted/ layout) or "
                                   "FOLDER/<student>/, one process per student, JOBS at a time. Writes a "
                                   "JSON report per student, grades.csv and a score histogram.")
    p.add_argument("assignment", help="assignment id, e.g. hw1_activations")
    p.add_argument("folder", help="folder with one sub-folder per student, e.g. submitted/")
    p.add_argument("--out", default="grades", help="where to write reports, CSV and chart (default: grades/)")
    p.add_argument("--jobs", type=int, help="submissions graded at once (default: number of CPU cores)")
    p.add_argument("--seed", type=int, help="the same random inputs for every student (default: fresh for each)")
    p.set_defaults(func=_grade_all)

    p = sub.add_parser(
        "autograde", help="autograde a whole class through nbgrader, several students at a time (instructors)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run from the course root (the folder with nbgrader_config.py). Autogrades every\n"
                    "submitted/<student>/<assignment>/ as 'nbgrader autograde <assignment>' does with the\n"
                    "course's configuration, N students at a time (--jobs), all into the course's gradebook.\n"
                    "Prints a progress bar, then one line per student: score / max from the gradebook, the\n"
                    "status (graded; items NOT GRADED, e.g. a GPU item on a machine without one; failed,\n"
                    "nbgrader could not autograde the student) and why, then a summary. nbgrader's own log\n"
                    "goes to a file (--log), not the terminal. One student's failure stops nobody else.\n"
                    "At the end each student's grades in the gradebook are checked against the engine's\n"
                    "report (autograded/<student>/<assignment>/autograder_report.json).",
        epilog="exit status: 0 every student autograded and the gradebook agrees with the engine;\n"
               "1 a student failed (the others are still graded) or the gradebook disagrees;\n"
               "2 nothing could start (not a course folder, unknown assignment, no submissions).")
    p.add_argument("assignment", help="assignment id, e.g. hw1_activations")
    p.add_argument("--jobs", type=int, metavar="N", help="students autograded at once (default: number of CPU cores)")
    p.add_argument("--student", action="extend", nargs="+", metavar="NAME",
                   help="autograde only these students (--student a b, or repeated; default: every student "
                        "with a submission)")
    p.add_argument("--log", metavar="FILE",
                   help="where nbgrader's log goes (default: autograde_<assignment>.log in the course root)")
    p.add_argument("--student-timeout", type=float, metavar="SECONDS", default=1800,
                   help="a student still being autograded after this long is stopped and reported failed "
                        "(default: 1800)")
    p.set_defaults(func=_autograde)

    p = sub.add_parser("check", help="run the public checks on your work (students)",
                       description="Run the public checks (not the hidden tests) and say what to fix.")
    p.add_argument("assignment", help="assignment id, e.g. hw1_activations")
    p.add_argument("folder", nargs="?", help="your assignment folder (default: assignments/<assignment>)")
    p.add_argument("--item", action="append", metavar="NAME", help="check only this item (repeatable)")
    p.add_argument("--strict", action="store_true", help="exit with status 3 when a public check fails")
    p.set_defaults(func=_check)

    p = sub.add_parser("release", help="build assignments/<id> from solutions/<id> (instructors)",
                       description="Run nbgrader generate_assignment and strip solution regions from "
                                   "the modules, writing the student release into assignments/.")
    p.add_argument("assignment", help="assignment id, or 'all'")
    p.set_defaults(func=_release)

    p = sub.add_parser("demo", help="the instructor's whole flow on a small demo class",
                       description="Release, collect four sample submissions, run nbgrader autograde, "
                                   "generate feedback, export grades and print a score table.")
    p.add_argument("--workdir", help="course folder to build the demo in (default: a new temp folder)")
    p.set_defaults(func=_demo)

    p = sub.add_parser("student-repo", help="export the repository students receive (instructors)",
                       description="Copy the tracked files students need into DEST, leaving out solutions/, "
                                   "autograder/hidden/, tests/, benchmarks/ and .ci/, then check that no "
                                   "solution line made it through.")
    p.add_argument("dest", help="a new, empty folder")
    p.set_defaults(func=_student_repo)

    p = sub.add_parser("list", help="list assignments and their graded items")
    p.set_defaults(func=_list)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)

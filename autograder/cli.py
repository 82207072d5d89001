"""Command line: ``python -m autograder <command>``. See ``--help`` of each command."""
import argparse
import dataclasses
import math
import os
import shlex
import sys
from pathlib import Path

from . import assignments
from .errors import EXIT_CANNOT, EXIT_CHECKS_FAIL, EXIT_OK, CannotGrade, CourseError
from .report import GRADED, NOT_GRADED_PREFIX

REPO = Path(__file__).resolve().parent.parent


def positive_seconds(text):
    """argparse type: a finite number of seconds above 0 (0, -1, nan and inf would grade nothing)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number of seconds above 0")
    return value


def positive_int(text):
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _output_file_problem(path):
    """Why a report cannot be written to ``path`` (checked before grading, so no grading is wasted), or None."""
    path = Path(path)
    if os.path.isdir(path) and not path.is_symlink():
        return f"{str(path)!r} is a folder; give a file name for the report, e.g. {str(path / 'report.json')!r}"
    parent = path.parent
    if not parent.is_dir():
        return f"the folder {str(parent)!r} for the report does not exist"
    if not os.access(parent, os.W_OK):
        return f"the folder {str(parent)!r} for the report is not writable"
    return None


def _output_folder_problem(path, what):
    """Why ``path`` cannot be (or become) a folder for ``what``, or None."""
    path = Path(path)
    if os.path.lexists(path) and not path.is_dir():
        return f"{str(path)!r} is a file, not a folder for {what}"
    ancestor = path
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if os.path.lexists(ancestor) and not ancestor.is_dir():
        return f"{str(ancestor)!r} is a file, so {str(path)!r} cannot be a folder for {what}"
    return None


def _limits_args(args):
    """The grade options given on the command line, as arguments for ``grade`` (grade-all passes them on)."""
    extra = []
    if args.seed is not None:
        extra += ["--seed", str(args.seed)]
    if args.call_timeout is not None:
        extra += ["--call-timeout", repr(args.call_timeout)]
    if args.time_budget is not None:
        extra += ["--time-budget", repr(args.time_budget)]
    return extra


def _grade(args):
    from .grading import grade
    problem = args.json and _output_file_problem(args.json)
    if problem:
        raise CannotGrade(problem)
    limits = assignments.get(args.assignment).limits
    if args.call_timeout is not None:
        limits = dataclasses.replace(limits, call_timeout_s=args.call_timeout)
    if args.time_budget is not None:
        limits = dataclasses.replace(limits, total_s=args.time_budget)
    report = grade(args.assignment, args.folder, seed=args.seed, items=args.item or None, limits=limits)
    if args.json:
        try:
            report.write_json(args.json)
        except OSError as exc:
            print(report.table())
            print(f"cannot write the report to {args.json}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_CANNOT
    print(report.table())
    if args.json:
        print(f"report written to {args.json}")
    return EXIT_OK


def _grade_all(args):
    from . import batch
    assignment = assignments.get(args.assignment)
    if not Path(args.folder).is_dir():
        raise CannotGrade(f"{args.folder!r} is not a folder")
    problem = _output_folder_problem(args.out, "the reports")
    if problem:
        raise CannotGrade(problem)
    unknown = [name for name in args.item or [] if name not in {item.name for item in assignment.items}]
    if unknown:
        raise CannotGrade(f"unknown item(s) for {args.assignment}: {', '.join(unknown)}")
    extra = _limits_args(args)
    if args.slurm:
        return _grade_all_on_slurm(args, batch, extra)
    if args.sbatch_options or args.chunk:
        raise CannotGrade("--sbatch-options and --chunk go with --slurm")
    return batch.grade_all(args.assignment, args.folder, args.out, jobs=args.jobs, extra=extra,
                           students=args.student, items=args.item, not_graded_only=args.not_graded_only)


def _grade_all_on_slurm(args, batch, extra):
    """Hand the class to Slurm (autograder.slurm), students already chosen; it merges and summarises itself."""
    try:
        from .slurm import grade_all_on_slurm
    except ImportError:
        print("cannot grade on Slurm: this installation has no autograder.slurm module; "
              "run grade-all without --slurm", file=sys.stderr)
        return EXIT_CANNOT
    submissions = batch.find_submissions(args.folder, args.assignment)
    try:
        students = batch.select_students(submissions, args.student)
    except ValueError as exc:
        raise CannotGrade(f"{exc} in {args.folder}") from None
    items = args.item or []
    if args.not_graded_only:
        # Each task grades into an empty staging folder, so it is told the items: those NOT GRADED for any
        # chosen student (an item graded again for a student who had it graded is simply graded afresh).
        plan = batch.plan_grading(assignments.get(args.assignment), args.out, students, args.item,
                                  not_graded_only=True)
        students = list(plan)
        if any(wanted is None for wanted in plan.values()):
            items = args.item or []  # a student with no report yet: every item (or those asked for)
        else:
            items = sorted({n for wanted in plan.values() for n in wanted},
                           key=[i.name for i in assignments.get(args.assignment).items].index)
    grade_args = [*extra, *[a for name in items for a in ("--item", name)]]
    if args.jobs is not None:  # students graded at once inside each array task
        grade_args += ["--jobs", str(args.jobs)]
    if not students:
        print("nothing to grade")
        return batch.write_summary(args.assignment, args.out)
    try:
        sbatch_options = shlex.split(args.sbatch_options or "")
    except ValueError as exc:
        raise CannotGrade(f"--sbatch-options: {exc}") from None
    return grade_all_on_slurm(args.assignment, args.folder, args.out, students, grade_args, sbatch_options,
                              args.chunk)


def _autograde(args):
    from .class_autograde import autograde_class
    return autograde_class(args.assignment, jobs=args.jobs, students=args.student, log_path=args.log,
                           student_timeout=args.student_timeout, not_graded_only=args.not_graded_only,
                           execute_notebooks=False if args.no_execute else None)


def _check(args):
    from .grading import grade
    folder = args.folder or REPO / "assignments" / args.assignment
    report = grade(args.assignment, folder, suite="public", items=args.item or None)
    print(f"Public checks for {args.assignment} in {folder}")
    name_w = max(len(i.name) for i in report.items)
    for item in report.items:
        if item.status != GRADED:  # every check skipped, e.g. a GPU item on a machine without one
            reason = item.feedback.removeprefix(NOT_GRADED_PREFIX)
            print(f"  SKIP {item.name:<{name_w}}  not checked here: {reason}")
            continue
        mark = "PASS" if item.checks_passed == item.checks_total and item.checks_total else "FIX "
        print(f"  {mark} {item.name:<{name_w}}  {item.feedback}")
    passed = sum(i.checks_passed for i in report.items)
    total = sum(i.checks_total for i in report.items)
    if total == 0 and all(i.status != GRADED for i in report.items):
        print("No public check could run here (see SKIP above).")
    elif total == 0:
        print("No public check could run on this folder: fix what the FIX lines above say first "
              "(usually the module is missing or in the wrong folder).")
    else:
        print(f"{passed}/{total} public checks pass. The hidden tests that give the grade check much more "
              "(the assignment notebook says what); passing these is a start, not a grade.")
    return EXIT_CHECKS_FAIL if args.strict and passed < total else EXIT_OK


def _release(args):
    from .release import release
    ids = sorted(assignments.ASSIGNMENTS) if args.assignment == "all" else [args.assignment]
    for assignment_id in ids:
        out = release(assignment_id, REPO)
        print(f"released {assignment_id} -> {out}")
    return EXIT_OK


def _student_repo(args):
    from .errors import ExportError
    from .student_repo import export
    problem = _output_folder_problem(args.dest, "the export")
    if problem:
        raise ExportError(problem)
    try:
        files = export(REPO, Path(args.dest), git=args.git)
    except OSError as exc:
        print(f"cannot export to {args.dest}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_CANNOT
    print(f"wrote {len(files)} files to {args.dest}: lectures, released assignments, the engine and the "
          "public checks; no solutions, hidden suites or tests")
    return EXIT_OK


def _demo(args):
    from .demo import run_demo
    problem = args.workdir and _output_folder_problem(args.workdir, "the demo course")
    if problem:
        raise CourseError(problem)
    return run_demo(REPO, Path(args.workdir) if args.workdir else None)


def _list(args):
    for a in assignments.ASSIGNMENTS.values():
        print(f"{a.id}: {a.title} ({a.max_score:g} points; student edits {', '.join(a.modules)})")
        for item in a.items:
            gpu = "  [GPU]" if item.needs_gpu else ""
            print(f"    {item.name:<22} {item.points:>4g}  {item.what}{gpu}")
    return EXIT_OK


def _add_limit_options(p):
    p.add_argument("--call-timeout", type=positive_seconds, metavar="SECONDS",
                   help="wall-clock limit for one call into student code, above 0 (default: the assignment's)")
    p.add_argument("--time-budget", type=positive_seconds, metavar="SECONDS",
                   help="wall-clock limit for all calls of one submission together, above 0 "
                        "(default: the assignment's)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Grading engine of the course 'Neural networks from scratch, then on the GPU'. "
                    "Student code runs only in a separate, limited worker process.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("grade", help="grade a submission folder with the hidden suite (instructors)",
                       description="Grade one submission folder. The table and the JSON report say the "
                                   "status (graded / items not graded) and, for a score below full, why "
                                   "(module not found, syntax error at line N, import failed, timed out, "
                                   "items NOT GRADED). The --json path is checked before grading starts. "
                                   "Exit 0 when grading completed, whatever the score; 1 with a one-line "
                                   "reason when it could not grade.",
                       epilog="example: python -m autograder grade hw1_activations submitted/alice/hw1_activations "
                              "--json alice.json --call-timeout 20")
    p.add_argument("assignment", help="assignment id, e.g. hw1_activations")
    p.add_argument("folder", help="folder holding the student's module(s)")
    p.add_argument("--json", metavar="FILE", help="write the report as JSON to FILE")
    p.add_argument("--seed", type=int, help="seed of the random inputs (default: fresh; printed in the JSON)")
    p.add_argument("--item", action="append", metavar="NAME", help="grade only this item (repeatable)")
    _add_limit_options(p)
    p.set_defaults(func=_grade, verb="grade")

    p = sub.add_parser(
        "grade-all", help="grade every submission in a folder, in parallel; regrade some (instructors)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Grade FOLDER/<student>/<assignment>/ (nbgrader's submitted/ layout) or FOLDER/<student>/,\n"
                    "one process per student, JOBS at a time. Writes OUT/reports/<student>.json, OUT/grades.csv\n"
                    "(student, status, score, max_score, why, not_graded, one column per item) and a score\n"
                    "histogram, then prints students per status (graded / items not graded / could not grade)\n"
                    "and why for each student not fully graded or scored 0.\n\n"
                    "Grading into an OUT folder that already has reports merges: only the students (--student)\n"
                    "and items (--item, --not-graded-only) graded now change; every other row stays, and each\n"
                    "replaced report is kept in OUT/reports/earlier/<student>.<UTC time>.json.",
        epilog="examples:\n"
               "  python -m autograder grade-all hw1_activations submitted/ --out grades/hw1\n"
               "  # regrade two students after fixing their folders (other rows stay):\n"
               "  python -m autograder grade-all hw1_activations submitted/ --out grades/hw1 --student alice bob\n"
               "  # on a GPU machine, grade only what was NOT GRADED (e.g. hw4's GPU items), same --out:\n"
               "  python -m autograder grade-all hw4_gpu submitted/ --out grades/hw4 --not-graded-only\n"
               "  # regrade one item for everyone with a longer call limit:\n"
               "  python -m autograder grade-all hw2_backprop submitted/ --out grades/hw2 --item speed "
               "--call-timeout 60\n\n"
               "score counts an item NOT GRADED as 0; the status column says the grade is incomplete.\n"
               "exit status: 0 every student has a report; 1 some student could not be graded (they still\n"
               "have a row and a report saying why) or nothing could start.")
    p.add_argument("assignment", help="assignment id, e.g. hw1_activations")
    p.add_argument("folder", help="folder with one sub-folder per student, e.g. submitted/")
    p.add_argument("--out", default="grades", help="where to write reports, CSV and chart (default: grades/); "
                                                   "reports already there are merged with, never lost")
    p.add_argument("--jobs", type=positive_int, help="submissions graded at once (default: number of CPU cores)")
    p.add_argument("--student", action="extend", nargs="+", metavar="NAME",
                   help="grade only these students (--student a b, or repeated); the others' rows are kept")
    p.add_argument("--item", action="extend", nargs="+", metavar="ITEM",
                   help="grade only these items; the student's other items are kept from the current report")
    p.add_argument("--not-graded-only", action="store_true",
                   help="grade only the items NOT GRADED in each student's current report in OUT "
                        "(students with none are skipped, saying so)")
    p.add_argument("--seed", type=int, help="the same random inputs for every student (default: fresh for each)")
    _add_limit_options(p)
    p.add_argument("--slurm", action="store_true",
                   help="grade on a Slurm cluster (sbatch array jobs), then merge and summarise as here")
    p.add_argument("--sbatch-options", metavar='"STRING"',
                   help='extra sbatch options for --slurm, e.g. --sbatch-options="--partition=gpu --gres=gpu:1" '
                        '(write it with "=": a value starting with "--" is otherwise taken for an option)')
    p.add_argument("--chunk", type=positive_int, metavar="N", help="students per Slurm array task (with --slurm)")
    p.set_defaults(func=_grade_all, verb="grade")

    p = sub.add_parser(
        "autograde", help="autograde a whole class through nbgrader, several students at a time (instructors)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run from the course root (the folder with nbgrader_config.py). Autogrades every\n"
                    "submitted/<student>/<assignment>/ as 'nbgrader autograde <assignment>' does with the\n"
                    "course's configuration, N students at a time (--jobs), all into the course's gradebook.\n"
                    "Prints a progress bar, then one line per student: score / max from the gradebook, the\n"
                    "status (graded; items not graded, e.g. a GPU item on a machine without one; could not\n"
                    "grade, nbgrader could not autograde the student) and why, then a summary. nbgrader's own log\n"
                    "goes to a file (--log), not the terminal. One student's failure stops nobody else.\n"
                    "At the end each student's grades in the gradebook are checked against the engine's\n"
                    "report (autograded/<student>/<assignment>/autograder_report.json).\n\n"
                    "Items NOT GRADED (hw4's GPU items on a machine without a CUDA GPU) are finished on a\n"
                    "machine that has one, into the same gradebook: run there (or on a copy of the course\n"
                    "folder, copied back afterwards) with --not-graded-only, or with --student NAME ...;\n"
                    "those students are autograded again (every item), nobody else is touched.",
        epilog="examples:\n"
               "  python -m autograder autograde hw4_gpu --jobs 2\n"
               "  # on the GPU machine, same course folder (or a copy of it, copied back):\n"
               "  python -m autograder autograde hw4_gpu --not-graded-only\n"
               "  python -m autograder autograde hw4_gpu --student alice bob\n\n"
               "exit status: 0 every student autograded and the gradebook agrees with the engine;\n"
               "1 a student could not be graded (the others are still graded) or the gradebook disagrees;\n"
               "2 nothing could start (not a course folder, unknown assignment, no submissions).")
    p.add_argument("assignment", help="assignment id, e.g. hw1_activations")
    p.add_argument("--jobs", type=int, metavar="N", help="students autograded at once (default: number of CPU cores)")
    p.add_argument("--student", action="extend", nargs="+", metavar="NAME",
                   help="autograde only these students (--student a b, or repeated; default: every student "
                        "with a submission)")
    p.add_argument("--not-graded-only", action="store_true",
                   help="autograde only students whose last autograded report has an item NOT GRADED (or who "
                        "were never autograded); the others are skipped, saying so")
    p.add_argument("--log", metavar="FILE",
                   help="where nbgrader's log goes (default: autograde_<assignment>.log in the course root)")
    p.add_argument("--student-timeout", type=float, metavar="SECONDS", default=1800,
                   help="a student still being autograded after this long is stopped and reported as could not "
                        "grade (default: 1800)")
    p.add_argument("--no-execute", action="store_true",
                   help="do not run the students' notebooks: the engine grades the modules as always and the "
                        "feedback says the notebooks were not run (the same as "
                        "c.CourseAutograde.execute_notebooks = False in nbgrader_config.py)")
    p.set_defaults(func=_autograde)

    p = sub.add_parser("check", help="run the public checks on your work (students)",
                       description="Run the public checks (not the hidden tests) and say what to fix.")
    p.add_argument("assignment", help="assignment id, e.g. hw1_activations")
    p.add_argument("folder", nargs="?", help="your assignment folder (default: assignments/<assignment>)")
    p.add_argument("--item", action="append", metavar="NAME", help="check only this item (repeatable)")
    p.add_argument("--strict", action="store_true",
                   help=f"exit with status {EXIT_CHECKS_FAIL} when a public check fails")
    p.set_defaults(func=_check, verb="check")

    p = sub.add_parser("release", help="build assignments/<id> from solutions/<id> (instructors)",
                       description="Run nbgrader generate_assignment and strip solution regions from "
                                   "the modules, writing the student release into assignments/.")
    p.add_argument("assignment", help="assignment id, or 'all'")
    p.set_defaults(func=_release, verb="release")

    p = sub.add_parser("demo", help="the instructor's whole flow on a small demo class",
                       description="Release, collect four sample submissions, run nbgrader autograde, "
                                   "generate feedback, export grades and print a score table.")
    p.add_argument("--workdir", help="course folder to build the demo in (default: a new temp folder)")
    p.set_defaults(func=_demo, verb="run the demo")

    p = sub.add_parser("student-repo", help="export the repository students receive (instructors)",
                       description="Copy the tracked files students need into DEST, leaving out solutions/, "
                                   "autograder/hidden/, tests/, benchmarks/ and .ci/, write a README for "
                                   "students in place of this one, then check that no solution line made it "
                                   "through.")
    p.add_argument("dest", help="a new, empty folder")
    p.add_argument("--git", action="store_true",
                   help="also make DEST a git repository with one commit (e.g. a GitHub Classroom template)")
    p.set_defaults(func=_student_repo, verb="export")

    p = sub.add_parser("list", help="list assignments and their graded items")
    p.set_defaults(func=_list)

    # Where grades go next; each module adds its own command (they import only the standard library here).
    from . import canvas, gradescope
    gradescope.add_command(sub)
    canvas.add_command(sub)
    return parser


def print_cannot(verb, exc):
    """The one way a CourseError reaches the terminal: "cannot <verb>: <why>", then any detail (a tool's log)."""
    print(f"cannot {verb}: {exc}", file=sys.stderr)
    if exc.detail:
        print(exc.detail, file=sys.stderr)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CourseError as exc:
        print_cannot(getattr(args, "verb", args.command), exc)
        return EXIT_CANNOT

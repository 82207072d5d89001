"""Canvas: turn a grade-all results folder into a CSV for Canvas's gradebook import.

``python -m autograder canvas grades/ --roster roster.csv --assignment-column "HW1 (123456)" --out canvas.csv``

* Grades come from ``grades/reports/<student>.json`` (grade-all's current reports; ``reports/earlier/`` is
  ignored), or from ``grades/grades.csv`` for students without a report.
* The roster is Canvas's own gradebook export (Grades > Export): columns Student, ID, SIS User ID,
  (SIS Login ID), Section, and any assignments. The course's student ids (the submission folder names)
  are matched to one roster column, by default "SIS User ID" (``--match-by`` picks another, e.g.
  "SIS Login ID"), ignoring case and surrounding spaces.
* The CSV has Student, ID, SIS User ID, (SIS Login ID,) Section and the assignment column, with the
  "Points Possible" row as Canvas exports it, in UTF-8 with a byte-order mark as Canvas writes it.

A blank cell leaves the student ungraded in Canvas. By default a student whose grade is incomplete
(status "items not graded" or "could not grade") and a roster student with no submission get a blank,
and are listed on stderr; ``--incomplete partial`` and ``--missing zero`` export a number instead.
A graded submission with no roster row is an ERROR line (its grade has nowhere to go): the CSV is still
written for everyone on the roster, and the exit status is 1.
"""
import argparse
import csv
import io
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import CourseError
from .report import STUDENT_GRADED, STUDENT_NOT_GRADED, STUDENT_PARTLY_GRADED

IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
REQUIRED_COLUMNS = ("Student", "ID", "SIS User ID", "Section")
POINTS_POSSIBLE = "    Points Possible"   # how Canvas's export writes the row (leading spaces included)
INCOMPLETE = (STUDENT_PARTLY_GRADED, STUDENT_NOT_GRADED)
CANVAS_ASSIGNMENT = re.compile(r".+\(\d+\)\s*$")


class CanvasError(CourseError):
    """Bad input; the message is one line."""


@dataclass
class Grade:
    student: str
    score: float
    max_score: float
    status: str
    why: str


# ---------------------------------------------------------------- reading grades

def _report_status(report):
    if report.get("status"):
        return report["status"]
    return STUDENT_PARTLY_GRADED if report.get("not_graded") else STUDENT_GRADED


def _grade_from_report(student, path):
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        return Grade(student, float(report["score"]), float(report["max_score"]), _report_status(report),
                     str(report.get("why", "")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CanvasError(f"report {path} cannot be read ({type(exc).__name__}: {exc})") from None


def _grades_from_csv(path):
    grades = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CanvasError(f"{path} cannot be read ({exc})") from None
    for number, row in enumerate(rows, start=2):
        try:
            student = row["student"]
            status = row.get("status") or (STUDENT_PARTLY_GRADED if row.get("not_graded") else STUDENT_GRADED)
            grades[student] = Grade(student, float(row["score"]), float(row["max_score"]), status,
                                    row.get("why") or "")
        except (KeyError, TypeError, ValueError):
            raise CanvasError(f"{path} line {number}: needs student, score and max_score columns with numbers") from None
    return grades


def read_grades(folder):
    """student -> Grade from ``folder/reports/*.json``, then ``folder/grades.csv`` for anyone else."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CanvasError(f"grades folder {str(folder)!r} does not exist")
    grades = {}
    reports = folder / "reports"
    if reports.is_dir():
        for path in sorted(reports.glob("*.json")):
            if path.is_file() and not path.is_symlink():
                grades[path.stem] = _grade_from_report(path.stem, path)
    if (folder / "grades.csv").is_file():
        for student, grade in _grades_from_csv(folder / "grades.csv").items():
            grades.setdefault(student, grade)
    if not grades:
        raise CanvasError(f"{folder} holds no reports/<student>.json and no grades.csv "
                          f"(write them with `python -m autograder grade-all <id> submitted/ --out {folder}`)")
    maxima = sorted({g.max_score for g in grades.values()})
    if len(maxima) > 1:
        raise CanvasError(f"the grades in {folder} have different maximum scores ({', '.join(f'{m:g}' for m in maxima)}): "
                          f"are two assignments mixed in one folder?")
    return grades


# ---------------------------------------------------------------- reading the roster

def read_roster(path, match_by):
    """(columns, data rows, key -> row) from Canvas's gradebook export; the Points Possible row is skipped."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            rows = list(reader)
    except FileNotFoundError:
        raise CanvasError(f"roster {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CanvasError(f"roster {path} cannot be read as a UTF-8 CSV ({exc})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CanvasError(f"roster {path} lacks the column(s) {', '.join(missing)}: export it from Canvas "
                          f"(Grades > Export > CSV); it has {', '.join(columns) or 'no header'}")
    if match_by not in columns:
        raise CanvasError(f"roster {path} has no column {match_by!r} to match student ids by "
                          f"(--match-by takes one of {', '.join(c for c in IDENTITY_COLUMNS if c in columns)})")
    students, by_key = [], {}
    for number, row in enumerate(rows, start=2):
        if (row.get("Student") or "").strip() in ("Points Possible", "Manual Posting") or not (row.get("ID") or "").strip():
            continue   # Canvas's Points Possible / posting rows, not students
        key = _key(row.get(match_by))
        students.append(row)
        if not key:   # e.g. Canvas's Test Student: it cannot be matched, and is listed as such
            continue
        if key in by_key:
            raise CanvasError(f"roster {path}: {match_by!r} {row.get(match_by)!r} is on two rows "
                              f"({by_key[key]['Student']} and {row['Student']}); student ids must be unique")
        by_key[key] = row
    return columns, students, by_key


def _key(value):
    return (value or "").strip().casefold()


# ---------------------------------------------------------------- the CSV Canvas imports

def _number(value):
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def resolve_assignment_column(name, roster_columns):
    """The assignment column's full header: the given one, or the roster's only column that starts with it."""
    name = name.strip()
    if not name:
        raise CanvasError("--assignment-column is empty; give the column as Canvas names it, e.g. 'HW1 (123456)'")
    if name in roster_columns or CANVAS_ASSIGNMENT.match(name):
        return name, None
    matches = [c for c in roster_columns if c.startswith(name) and CANVAS_ASSIGNMENT.match(c)]
    if len(matches) == 1:
        return matches[0], f"using the roster's column {matches[0]!r} for {name!r}"
    return name, (f"{name!r} has no Canvas assignment id in parentheses; Canvas will create a new assignment "
                  f"of that name on import (copy the header from a gradebook export to update an existing one)")


def build_rows(grades, roster_columns, students, by_key, match_by, assignment_column, *, points=None,
               incomplete="blank", missing="blank"):
    """(CSV rows, messages for stderr, error lines)."""
    max_score = next(iter(grades.values())).max_score
    points = max_score if points is None else points
    scale = points / max_score if max_score else 1.0
    identity = [c for c in IDENTITY_COLUMNS if c in roster_columns]
    rows = [identity + [assignment_column], [POINTS_POSSIBLE] + [""] * (len(identity) - 1) + [_number(points)]]
    graded_keys = {_key(s): s for s in grades}
    if len(graded_keys) < len(grades):
        same = sorted(s for s in grades if sum(_key(t) == _key(s) for t in grades) > 1)
        raise CanvasError(f"student ids {', '.join(same)} differ only in case and cannot be told apart on the roster")
    left_blank, partial, absent, unmatchable = [], [], [], []
    for row in students:
        grade = grades.get(graded_keys.get(_key(row[match_by]), None))
        label = f"{row['Student']} ({match_by} {row[match_by]})"
        if not _key(row[match_by]):
            cell = ""
            unmatchable.append(f"{row['Student']} (ID {row.get('ID', '')})")
        elif grade is None:
            cell = "0" if missing == "zero" else ""
            absent.append(label)
        elif grade.status in INCOMPLETE and incomplete == "blank":
            cell = ""
            left_blank.append(f"{label}: {grade.status}" + (f": {grade.why}" if grade.why else ""))
        else:
            cell = _number(grade.score * scale)
            if grade.status in INCOMPLETE:
                partial.append(f"{label}: {cell} ({grade.status}" + (f": {grade.why})" if grade.why else ")"))
        rows.append([row.get(c, "") for c in identity] + [cell])

    messages = []
    if left_blank:
        messages.append(f"{len(left_blank)} incomplete grade(s) left blank (Canvas leaves them ungraded; "
                        f"--incomplete partial exports the partial score):")
        messages += [f"  {line}" for line in left_blank]
    if partial:
        messages.append(f"{len(partial)} incomplete grade(s) exported as partial scores:")
        messages += [f"  {line}" for line in partial]
    if absent:
        what = "0" if missing == "zero" else "blank"
        messages.append(f"{len(absent)} roster student(s) with no submission, left {what}"
                        + ("" if missing == "zero" else " (--missing zero gives them 0)") + ":")
        messages += [f"  {line}" for line in absent]
    if unmatchable:
        messages.append(f"{len(unmatchable)} roster student(s) with an empty {match_by!r}, left blank:")
        messages += [f"  {line}" for line in unmatchable]
    errors = [f"ERROR: {student} was graded but has no roster row with {match_by} {student!r}; "
              f"their grade is not in the CSV" for student in sorted(grades) if _key(student) not in by_key]
    return rows, messages, errors


def write_csv(path, rows):
    """Write ``rows`` to ``path`` through a fresh file renamed into place (UTF-8 with BOM, as Canvas exports)."""
    path = Path(path)
    if path.is_dir():
        raise CanvasError(f"{path} is a folder; give the CSV's file name")
    if not path.parent.is_dir():
        raise CanvasError(f"folder {path.parent} does not exist")
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    fd, fresh = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
            f.write(text.getvalue())
        os.chmod(fresh, 0o644)
        os.replace(fresh, path)
    finally:
        if os.path.exists(fresh):
            os.unlink(fresh)


def export(args):
    grades = read_grades(args.grades)
    columns, students, by_key = read_roster(args.roster, args.match_by)
    assignment_column, note = resolve_assignment_column(args.assignment_column, columns)
    if args.points is not None and args.points <= 0:
        raise CanvasError("--points must be more than 0")
    rows, messages, errors = build_rows(grades, columns, students, by_key, args.match_by, assignment_column,
                                        points=args.points, incomplete=args.incomplete, missing=args.missing)
    write_csv(args.out, rows)
    return rows, [note] if note else [], messages, errors


def _canvas(args):
    try:
        rows, notes, messages, errors = export(args)
    except CanvasError as exc:
        print(f"cannot write the Canvas CSV: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot write the Canvas CSV: {exc.strerror or exc}: {exc.filename or args.out}", file=sys.stderr)
        return 1
    for line in notes + messages + errors:
        print(line, file=sys.stderr)
    cells = [r[-1] for r in rows[2:]]
    print(f"wrote {args.out}: {len(cells)} roster students, {sum(1 for c in cells if c != '')} with a grade "
          f"in {rows[0][-1]!r} (out of {rows[1][-1]}). Import it in Canvas: Grades > Import.")
    return 1 if errors else 0


def add_command(subparsers):
    p = subparsers.add_parser(
        "canvas", help="write a Canvas gradebook-import CSV from a grade-all folder (instructors)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write a CSV for Canvas's gradebook import (Grades > Import) from grade-all's results\n"
                    "(GRADES/reports/<student>.json, or GRADES/grades.csv) and Canvas's gradebook export as the\n"
                    "roster. Student ids (the submission folder names) are matched to the roster column\n"
                    "--match-by, ignoring case. A blank cell leaves a student ungraded in Canvas: incomplete\n"
                    "grades (items NOT GRADED, or could not grade) and roster students without a submission\n"
                    "are blank by default and listed on stderr.",
        epilog="exit status: 0 written; 1 bad input (nothing written), or written but a graded submission\n"
               "has no roster row (an ERROR line names it); 2 bad options.")
    p.add_argument("grades", metavar="GRADES", help="grade-all's --out folder (holds reports/ and grades.csv)")
    p.add_argument("--roster", required=True, metavar="CSV",
                   help="Canvas's gradebook export (columns Student, ID, SIS User ID, Section, ...)")
    p.add_argument("--assignment-column", required=True, metavar="NAME",
                   help="the assignment's column as Canvas names it, e.g. 'HW1 (123456)'; a prefix of a roster "
                        "column such as 'HW1' picks that column")
    p.add_argument("--out", required=True, metavar="CSV", help="the CSV to write (replaced if it exists)")
    p.add_argument("--match-by", default="SIS User ID", metavar="COLUMN",
                   help="roster column holding the course's student ids (default: 'SIS User ID'; e.g. "
                        "'SIS Login ID' or 'ID')")
    p.add_argument("--incomplete", choices=("blank", "partial"), default="blank",
                   help="incomplete grades: blank (default; Canvas leaves them ungraded) or the partial score "
                        "(NOT GRADED items count 0)")
    p.add_argument("--missing", choices=("blank", "zero"), default="blank",
                   help="roster students with no submission: blank (default) or 0")
    p.add_argument("--points", type=float, metavar="N",
                   help="the assignment's points in Canvas; scores are scaled from the autograder's maximum "
                        "(default: the autograder's maximum)")
    p.set_defaults(func=_canvas)
    return p

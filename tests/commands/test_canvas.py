"""The Canvas gradebook-import CSV, read back with a real CSV parser."""
import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import canvas

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "solutions" / "hw1_activations" / "activations.py"
COLUMN = "HW1 Activations (123456)"

ROSTER = [
    # Student, ID, SIS User ID, SIS Login ID, Section
    ("Doe, Jane", "1001", "jdoe", "jane.doe", "Section A, Monday"),
    ('O\'Brien, Ted "Teddy"', "1002", "tobrien", "ted.obrien", "Section A, Monday"),
    ("Ångström, Zoë", "1003", "zangstrom", "zoe.a", "Séction B"),
    ("李, 小龙", "1004", "xli", "xiaolong.li", "Section B"),
    ("Student, Test", "1005", "", "", "Section A, Monday"),   # Canvas's test student: no SIS id
    ("Absent, Anna", "1006", "aabsent", "anna.absent", "Section B"),
]


def write_roster(path, rows=ROSTER, extra_columns=("Other HW (999)",), points_row=True, bom=True):
    """A roster as Canvas exports it: BOM, header, a Points Possible row, one row per student."""
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *extra_columns]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    if points_row:
        writer.writerow(["    Points Possible", "", "", "", "", *["10"] * len(extra_columns)])
    for row in rows:
        writer.writerow([*row, *["7"] * len(extra_columns)])
    path.write_text(text.getvalue(), encoding="utf-8-sig" if bom else "utf-8")
    return path


def report(score, status="graded", why="", max_score=14.0, not_graded=()):
    return {"assignment": "hw1_activations", "score": score, "max_score": max_score, "status": status, "why": why,
            "not_graded": list(not_graded), "items": [], "seed": 1}


def write_reports(folder, reports):
    (folder / "reports").mkdir(parents=True, exist_ok=True)
    for student, r in reports.items():
        (folder / "reports" / f"{student}.json").write_text(json.dumps(r))
    return folder


GRADES = {
    "jdoe": report(14.0),
    "tobrien": report(10.5, why="softmax lost 1.5 points: it overflows for large z"),
    "zangstrom": report(9.0, "items not graded", "NOT GRADED: softmax (the machine was too busy)", not_graded=["softmax"]),
    "xli": report(0.0, "could not grade", "timed out"),
}


def run(*args):
    done = subprocess.run([sys.executable, "-m", "autograder", "canvas", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def read_back(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


@pytest.fixture
def course(tmp_path):
    grades = write_reports(tmp_path / "grades", GRADES)
    roster = write_roster(tmp_path / "roster.csv")
    return grades, roster, tmp_path / "canvas.csv"


def test_canvas_csv_has_the_import_columns_the_points_row_and_the_grades(course):
    grades, roster, out = course
    done = run(grades, "--roster", roster, "--assignment-column", COLUMN, "--out", out)
    assert done.returncode == 0, done.stderr
    rows = read_back(out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")   # UTF-8 with BOM, as Canvas's export
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COLUMN]
    assert rows[1] == ["    Points Possible", "", "", "", "", "14"]
    cells = {r[0]: r for r in rows[2:]}
    assert list(cells) == [r[0] for r in ROSTER]   # roster order, names with commas, quotes, unicode intact
    assert cells["Doe, Jane"] == ["Doe, Jane", "1001", "jdoe", "jane.doe", "Section A, Monday", "14"]
    assert cells['O\'Brien, Ted "Teddy"'][-1] == "10.5"
    assert cells["Ångström, Zoë"][-1] == "" and cells["Ångström, Zoë"][-2] == "Séction B"
    assert cells["李, 小龙"][-1] == ""               # could not grade: blank
    assert cells["Absent, Anna"][-1] == ""           # no submission: blank
    assert "Other HW (999)" not in rows[0]           # other assignments are not re-imported
    err = done.stderr
    assert "2 incomplete grade(s) left blank" in err
    assert "Ångström, Zoë (SIS User ID zangstrom): items not graded: NOT GRADED: softmax" in err
    assert "李, 小龙 (SIS User ID xli): could not grade: timed out" in err
    assert "1 roster student(s) with no submission, left blank" in err and "Absent, Anna" in err
    assert "with an empty 'SIS User ID', left blank:\n  Student, Test (ID 1005)" in err
    assert cells["Student, Test"][-1] == ""
    assert "ERROR" not in err


def test_partial_scores_and_zeros_on_request(course):
    grades, roster, out = course
    done = run(grades, "--roster", roster, "--assignment-column", COLUMN, "--out", out,
               "--incomplete", "partial", "--missing", "zero")
    assert done.returncode == 0, done.stderr
    cells = {r[0]: r[-1] for r in read_back(out)[2:]}
    assert cells["Ångström, Zoë"] == "9" and cells["李, 小龙"] == "0" and cells["Absent, Anna"] == "0"
    assert cells["Student, Test"] == ""   # no SIS User ID: cannot be matched, never given a 0
    assert "exported as partial scores" in done.stderr and "left 0" in done.stderr


def test_a_submission_not_on_the_roster_is_an_error_line(course):
    grades, roster, out = course
    write_reports(grades, {"ghost": report(12.0)})
    done = run(grades, "--roster", roster, "--assignment-column", COLUMN, "--out", out)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and "ghost" in errors[0] and "SIS User ID" in errors[0]
    assert "12" not in [r[-1] for r in read_back(out)[2:]]   # everyone on the roster is still written


def test_match_by_login_ignores_case_and_spaces(tmp_path):
    grades = write_reports(tmp_path / "grades", {"Jane.Doe": report(13.0), " ted.obrien": report(2.0)})
    roster = write_roster(tmp_path / "roster.csv")
    out = tmp_path / "c.csv"
    done = run(grades, "--roster", roster, "--assignment-column", COLUMN, "--out", out, "--match-by", "SIS Login ID")
    assert done.returncode == 0, done.stderr
    cells = {r[0]: r[-1] for r in read_back(out)[2:]}
    assert cells["Doe, Jane"] == "13" and cells['O\'Brien, Ted "Teddy"'] == "2"


def test_scaled_to_the_points_in_canvas(course):
    grades, roster, out = course
    assert run(grades, "--roster", roster, "--assignment-column", COLUMN, "--out", out, "--points", "100").returncode == 0
    rows = read_back(out)
    assert rows[1][-1] == "100"
    assert {r[0]: r[-1] for r in rows[2:]}['O\'Brien, Ted "Teddy"'] == "75"


def test_a_column_prefix_picks_the_rosters_assignment(course):
    grades, roster, out = course
    done = run(grades, "--roster", roster, "--assignment-column", "Other HW", "--out", out)
    assert done.returncode == 0
    assert read_back(out)[0][-1] == "Other HW (999)" and "using the roster's column" in done.stderr
    done = run(grades, "--roster", roster, "--assignment-column", "HW1", "--out", out)
    assert done.returncode == 0 and "Canvas will create a new assignment" in done.stderr
    assert read_back(out)[0][-1] == "HW1"


def test_grades_csv_alone_with_and_without_the_status_column(tmp_path):
    roster = write_roster(tmp_path / "roster.csv")
    new = tmp_path / "new"
    new.mkdir()
    (new / "grades.csv").write_text(
        "student,status,score,max_score,why,not_graded,relu\n"
        "jdoe,graded,14,14,,,1\n"
        "tobrien,items not graded,3,14,NOT GRADED: softmax,softmax,1\n", encoding="utf-8")
    old = tmp_path / "old"
    old.mkdir()
    (old / "grades.csv").write_text("student,score,max_score,not_graded,relu\n"
                                    "jdoe,12.25,14,,1\ntobrien,3,14,softmax,1\n", encoding="utf-8")
    for folder, jdoe in ((new, "14"), (old, "12.25")):
        out = tmp_path / f"{folder.name}.csv"
        done = run(folder, "--roster", roster, "--assignment-column", COLUMN, "--out", out)
        assert done.returncode == 0, done.stderr
        cells = {r[2]: r[-1] for r in read_back(out)[2:]}
        assert cells["jdoe"] == jdoe and cells["tobrien"] == ""
        assert "tobrien" in done.stderr


def test_a_real_report_from_the_engine(tmp_path):
    submission = tmp_path / "sub"
    submission.mkdir()
    shutil.copy(REFERENCE, submission / "activations.py")
    (tmp_path / "grades" / "reports").mkdir(parents=True)
    graded = subprocess.run([sys.executable, "-m", "autograder", "grade", "hw1_activations", submission, "--json",
                             tmp_path / "grades" / "reports" / "xli.json"], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert graded.returncode == 0, graded.stderr
    roster = write_roster(tmp_path / "roster.csv")
    out = tmp_path / "c.csv"
    assert run(tmp_path / "grades", "--roster", roster, "--assignment-column", COLUMN, "--out", out).returncode == 0
    rows = read_back(out)
    assert rows[1][-1] == "14" and {r[2]: r[-1] for r in rows[2:]}["xli"] == "14"


def _bad(tmp_path, what):
    grades = write_reports(tmp_path / "grades", GRADES)
    roster = write_roster(tmp_path / "roster.csv")
    args = [grades, "--roster", roster, "--assignment-column", COLUMN, "--out", tmp_path / "c.csv"]
    if what == "no roster":
        args[2] = tmp_path / "nope.csv"
    elif what == "roster without columns":
        roster.write_text("name,email\nJane,j@x\n", encoding="utf-8")
    elif what == "duplicate id":
        write_roster(roster, ROSTER + [("Doe, John", "1007", "jdoe", "john.doe", "Section A")])
    elif what == "no grades folder":
        args[0] = tmp_path / "missing"
    elif what == "empty grades folder":
        shutil.rmtree(grades / "reports")
    elif what == "broken report":
        (grades / "reports" / "jdoe.json").write_text("{cut short")
    elif what == "mixed assignments":
        write_reports(grades, {"other": report(3.0, max_score=19.0)})
    elif what == "no match column":
        args += ["--match-by", "Email"]
    elif what == "out folder missing":
        args[-1] = tmp_path / "no" / "c.csv"
    elif what == "empty column":
        args[4] = "  "
    return args


@pytest.mark.parametrize("what, says", [
    ("no roster", "does not exist"),
    ("roster without columns", "lacks the column(s) Student, ID, SIS User ID, Section"),
    ("duplicate id", "is on two rows"),
    ("no grades folder", "does not exist"),
    ("empty grades folder", "no reports/<student>.json and no grades.csv"),
    ("broken report", "jdoe.json cannot be read"),
    ("mixed assignments", "different maximum scores"),
    ("no match column", "no column 'Email'"),
    ("out folder missing", "does not exist"),
    ("empty column", "--assignment-column is empty"),
])
def test_bad_input_is_one_line_exit_1_and_nothing_written(tmp_path, what, says):
    args = _bad(tmp_path, what)
    done = run(*args)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr
    assert not (tmp_path / "c.csv").exists()
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_a_failed_export_leaves_the_previous_csv(course):
    grades, roster, out = course
    out.write_text("last week's import\n")
    done = run(grades, "--roster", roster.with_name("missing.csv"), "--assignment-column", COLUMN, "--out", out)
    assert done.returncode == 1 and out.read_text() == "last week's import\n"


def test_missing_options_are_argparse_errors(course):
    grades, roster, out = course
    done = run(grades, "--roster", roster, "--out", out)
    assert done.returncode == 2 and "--assignment-column" in done.stderr


def test_help_explains_blanks_and_matching():
    done = run("--help")
    assert done.returncode == 0
    for words in ("--match-by", "--incomplete", "--missing", "--points", "ungraded", "roster"):
        assert words in done.stdout


def test_number_format():
    assert [canvas._number(x) for x in (14.0, 10.5, 0.0, 1 / 3, -0.0)] == ["14", "10.5", "0", "0.3333", "0"]

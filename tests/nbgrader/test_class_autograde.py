"""`python -m autograder autograde`: a whole class through nbgrader, two students at a time.

A small class (the reference, the untouched stub, two sample submissions, two
mutants) is autograded for real; each student's gradebook total must equal
the engine's report and the score the course knows for that submission. A
student whose autograding raises (a stale file where their autograded folder
goes) is reported as could not grade while the others are graded.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.class_gradebook import check_gradebook
from autograder.class_outcome import Outcome
from autograder.class_setup import with_busy_timeout
from autograder.class_summary import student_line
from autograder.class_workers import failure_reason
from autograder.nbgrader_hooks import REPORT_NAME
from autograder.release import release
from autograder.report import STUDENT_GRADED
from helpers import REPO, SUBMISSIONS, gradebook_totals, run_cli
from mutants_hw1 import MUTANTS, mutant_source

ASSIGNMENT = "hw1_activations"
MODULE = "activations.py"
MUTANT_STUDENTS = {"erin": "softmax_unstable", "frank": "relu_prime_one_at_zero"}
KNOWN_TOTALS = {"alice": 14.0, "bob": 0.0, "carol": 8.0}  # as the demo shows
KNOWN_LOSSES = {"dave": {"relu_prime", "softmax", "numerical_gradient"},  # three subtle bugs
                **{student: {MUTANTS[mutant][0]} for student, mutant in MUTANT_STUDENTS.items()}}
GRADED_STUDENTS = ["alice", "bob", "carol", "dave", *MUTANT_STUDENTS]


def new_course(root):
    """A course folder with hw1 released (gradebook included) and no submissions."""
    root.mkdir(parents=True)
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, root / "solutions" / ASSIGNMENT)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    release(ASSIGNMENT, root)
    return root


def submit(course, student, module_text=None):
    """submitted/<student>/hw1_activations/: the released folder, with ``module_text`` as the module if given."""
    dest = course / "submitted" / student / ASSIGNMENT
    shutil.copytree(course / "assignments" / ASSIGNMENT, dest)
    if module_text is not None:
        (dest / MODULE).write_text(module_text)
    (dest / "timestamp.txt").write_text("2026-09-15 09:00:00.000000 UTC")


def processes_working_in(folder):
    """Pids of processes whose working folder is ``folder`` or inside it."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if proc.name.isdigit() and (cwd == str(folder) or cwd.startswith(f"{folder}/")):
            found.append(int(proc.name))
    return found


def report(course, student):
    return json.loads((course / "autograded" / student / ASSIGNMENT / REPORT_NAME).read_text())


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("class") / "course")
    submit(course, "alice", (REPO / "solutions" / ASSIGNMENT / MODULE).read_text())
    submit(course, "bob")  # the untouched stub
    submit(course, "carol", (SUBMISSIONS / ASSIGNMENT / "partial" / MODULE).read_text())
    submit(course, "dave", (SUBMISSIONS / ASSIGNMENT / "subtle" / MODULE).read_text())
    for student, mutant in MUTANT_STUDENTS.items():
        submit(course, student, mutant_source(mutant))
    # mallory's autograding raises inside nbgrader: a stale file sits where her autograded folder goes.
    submit(course, "mallory", (REPO / "solutions" / ASSIGNMENT / MODULE).read_text())
    (course / "autograded").mkdir()
    (course / "autograded" / "mallory").write_text("not a folder")
    result = run_cli("autograde", ASSIGNMENT, "--jobs", "2", cwd=course, timeout=900)
    return course, result


@pytest.mark.slow
def test_every_student_gets_the_engines_score_in_the_gradebook(graded_class):
    course, result = graded_class
    totals = gradebook_totals(course)
    assert set(GRADED_STUDENTS) <= set(totals), result.stdout
    for student in GRADED_STUDENTS:
        assert totals[student] == pytest.approx(report(course, student)["score"], abs=1e-3), student
    for student, total in KNOWN_TOTALS.items():
        assert totals[student] == pytest.approx(total, abs=1e-3), student
    for student, items in KNOWN_LOSSES.items():
        lost = {i["name"] for i in report(course, student)["items"] if i["score"] < i["max_score"]}
        assert lost == items, (student, lost)
        assert 0 < totals[student] < 14


@pytest.mark.slow
def test_one_line_per_student_and_a_summary(graded_class):
    course, result = graded_class
    out = result.stdout
    totals = gradebook_totals(course)
    for student in GRADED_STUDENTS:
        assert re.search(rf"^{student}\s+{totals[student]:.2f} / 14\s+graded\b", out, re.M), (student, out)
    assert re.search(r"^mallory\s+- / 14\s+could not grade\s+NotADirectoryError\b.*autograded/mallory", out, re.M), out
    assert "7 students in" in out and "6 graded, 0 with items not graded, 1 could not grade" in out
    mean = sum(totals[s] for s in GRADED_STUDENTS) / len(GRADED_STUDENTS)
    assert f"mean {mean:.2f} / 14" in out
    assert "gradebook checked: every autograded student's grades equal the engine's report" in out
    assert "100%" in out  # the progress bar reached the end


@pytest.mark.slow
def test_a_failing_student_sets_the_exit_status_and_stops_nobody(graded_class):
    course, result = graded_class
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mallory" not in gradebook_totals(course)
    assert not (course / "autograded" / "mallory" / ASSIGNMENT).exists()


@pytest.mark.slow
def test_library_noise_goes_to_the_log_not_the_terminal(graded_class):
    course, result = graded_class
    terminal = result.stdout + result.stderr
    for noise in ("[NbGrader", "INFO", "WARNING", "Traceback", "SAWarning", "Copying"):
        assert noise not in terminal, noise
    log = course / f"autograde_{ASSIGNMENT}.log"
    assert f"nbgrader's log: {log}" in result.stdout
    text = log.read_text()
    assert "Course autograder: grading alice/hw1_activations" in text
    assert "NotADirectoryError" in text and "Traceback" in text


@pytest.mark.slow
def test_the_check_catches_a_gradebook_that_disagrees_with_the_engine(graded_class, tmp_path):
    from nbgrader.coursedir import CourseDirectory
    course = tmp_path / "copy"
    shutil.copytree(graded_class[0], course)
    with sqlite3.connect(course / "gradebook.db") as db:  # carol's numerical_gradient cell: full marks she did not earn
        db.execute("UPDATE grade SET auto_score = 3 WHERE id IN (SELECT grade.id FROM grade "
                   "JOIN base_cell ON grade.cell_id = base_cell.id "
                   "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
                   "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
                   "WHERE submitted_assignment.student_id = 'carol' AND base_cell.name = 'numerical_gradient')")
    outcomes = [Outcome(s, STUDENT_GRADED) for s in ("alice", "carol")]
    check_gradebook(CourseDirectory(root=str(course)), ASSIGNMENT, outcomes)
    alice, carol = outcomes
    assert not alice.mismatch and alice.score == pytest.approx(14)
    assert "numerical_gradient 3 (engine 0)" in carol.mismatch
    assert carol.score == pytest.approx(11) and carol.engine == pytest.approx(8)


@pytest.mark.slow
def test_a_student_past_the_time_limit_is_stopped_and_reported(graded_class, tmp_path):
    course = tmp_path / "copy"
    shutil.copytree(graded_class[0], course)
    result = run_cli("autograde", ASSIGNMENT, "--jobs", "1", "--student", "alice", "bob", "--student-timeout", "2",
                     cwd=course, timeout=300)
    assert result.returncode == 1
    for student in ("alice", "bob"):  # the second student gets a fresh worker after the first was stopped
        assert re.search(rf"^{student}\s+- / 14\s+could not grade\s+stopped after 2 s", result.stdout, re.M), \
            result.stdout
    assert not processes_working_in(course)  # no worker, kernel or engine process left behind
    assert not list(course.glob(".autograder_staged_*"))  # nor the stopped workers' copies of submissions


# ----------------------------------------------------------------------------- arguments
def one_line_error(result):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(lines) == 1 and lines[0].startswith("cannot autograde: "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def bare_course(tmp_path_factory):
    """A course folder whose gradebook knows hw1 (added directly, no release) and has no submissions."""
    from nbgrader.api import Gradebook
    root = tmp_path_factory.mktemp("bare")
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "nn-from-scratch") as gb:
        gb.add_assignment(ASSIGNMENT)
    return root


def test_outside_a_course_folder(tmp_path):
    assert "is not a course folder" in one_line_error(run_cli("autograde", ASSIGNMENT, cwd=tmp_path))


def test_unknown_and_unreleased_assignments(bare_course):
    assert "no assignment 'hw9_nothing'" in one_line_error(run_cli("autograde", "hw9_nothing", cwd=bare_course))
    line = one_line_error(run_cli("autograde", "hw2_backprop", cwd=bare_course))
    assert "hw2_backprop is not in the gradebook" in line


def test_no_submissions_and_unknown_students(bare_course):
    assert "no submissions of hw1_activations" in one_line_error(run_cli("autograde", ASSIGNMENT, cwd=bare_course))
    submit_dir = bare_course / "submitted" / "zoe" / ASSIGNMENT
    submit_dir.mkdir(parents=True)
    try:
        line = one_line_error(run_cli("autograde", ASSIGNMENT, "--student", "zoe", "nobody", "--student", "noone",
                                      cwd=bare_course))
        assert line.endswith("from: nobody, noone")
    finally:
        shutil.rmtree(bare_course / "submitted")


def test_bad_jobs(bare_course):
    assert "--jobs must be at least 1" in one_line_error(run_cli("autograde", ASSIGNMENT, "--jobs", "0",
                                                                 cwd=bare_course))


def test_help_explains_the_command():
    out = run_cli("autograde", "--help").stdout
    for words in ("nbgrader_config.py", "--jobs", "--student", "log", "exit status", "autograder_report.json"):
        assert words in out, words


def test_failure_reason_is_the_students_exception_not_nbgraders_summary():
    log = ("[ERROR] There was an error processing assignment: /c/submitted/x/hw1\n"
           "[ERROR] Traceback (most recent call last):\n"
           "      File \"x.py\", line 1, in f\n"
           "        os.makedirs(dest)\n"
           "    NotADirectoryError: [Errno 20] Not a directory: 'autograded/x/hw1'\n"
           "[ERROR] There was an error processing assignment 'hw1' for student 'x'\n")
    error = ("Traceback (most recent call last):\n  File \"u.py\", line 2, in capture_log\n"
             "nbgrader.converters.base.NbGraderException: Please see the the above traceback for details\n")
    reason = failure_reason({"success": False, "log": log, "error": error})
    assert reason == "NotADirectoryError: [Errno 20] Not a directory: 'autograded/x/hw1'"


def test_busy_timeout_is_added_to_sqlite_urls_only():
    assert with_busy_timeout("sqlite:////c/gradebook.db") == "sqlite:////c/gradebook.db?timeout=300"
    assert with_busy_timeout("sqlite:////c/g.db?timeout=5") == "sqlite:////c/g.db?timeout=5"
    assert with_busy_timeout("postgresql://h/db") == "postgresql://h/db"


@pytest.mark.slow
def test_benchmark_runs_on_a_tiny_class():
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "nbgrader_class_time.py"),
                             "--students", "3", "--compare-students", "1"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.count("gradebook equals the engine's score") == 3, out
    assert "gradebook equals the engine's score for all 3 students" in out
    assert re.search(r"seconds per student: nbgrader [\d.]+, --jobs 1 [\d.]+, --jobs 2 [\d.]+", out), out
    assert "extrapolated: 200 students" in out and "1,000 students" in out


def test_a_configuration_without_the_course_hooks_grades_nobody(bare_course, tmp_path):
    course = tmp_path / "plain"
    shutil.copytree(bare_course, course)
    (course / "nbgrader_config.py").write_text("c = get_config()\nraise RuntimeError('a typo in the config')\n")
    (course / "submitted" / "zoe" / ASSIGNMENT).mkdir(parents=True)
    line = one_line_error(run_cli("autograde", ASSIGNMENT, cwd=course))
    assert "did not apply the course's configuration" in line
    assert "a typo in the config" in (course / f"autograde_{ASSIGNMENT}.log").read_text()


@pytest.mark.slow
def test_items_the_engine_could_not_grade_are_named(graded_class, tmp_path):
    from nbgrader.coursedir import CourseDirectory
    course = tmp_path / "copy"
    shutil.copytree(graded_class[0], course)
    path = course / "autograded" / "alice" / ASSIGNMENT / REPORT_NAME
    data = json.loads(path.read_text())  # as the engine reports an item it could not grade here (e.g. no GPU)
    data["not_graded"] = ["softmax"]
    for item in data["items"]:
        if item["name"] == "softmax":
            item.update(status="not graded", feedback="not graded: no usable GPU on this machine")
    path.write_text(json.dumps(data))
    outcomes = [Outcome("alice", STUDENT_GRADED)]
    check_gradebook(CourseDirectory(root=str(course)), ASSIGNMENT, outcomes)
    [alice] = outcomes
    assert alice.status == "items not graded" and not alice.mismatch
    assert alice.reason == "softmax: not graded: no usable GPU on this machine"
    line = student_line(alice, 14, 7)
    assert re.match(r"alice\s+14.00 / 14\s+items not graded\s+softmax: not graded", line), line

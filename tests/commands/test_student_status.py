"""Every report and every grades.csv row says the student's status and why, through the real command line.

A class of the usual ways to score 0 (the stub, a syntax error, an empty module,
a missing module, no assignment folder, a zip unpacked one level too deep, an
import that fails, a module that never finishes importing) is graded once with
grade-all; each row must name its own cause, which the test knows from how it
built the submission.
"""
import csv
import json

import pytest

from autograder import assignments, batch
from autograder.report import STUDENT_GRADED, STUDENT_NOT_GRADED, STUDENT_PARTLY_GRADED
from helpers import REPO, run_cli, write_submission
from mutants_hw1 import REFERENCE

ASSIGNMENT = "hw1_activations"
MODULE = "activations.py"
STUB = (REPO / "assignments" / ASSIGNMENT / MODULE).read_text()
SYNTAX_ERROR_LINE = 7
BROKEN = "\n".join(["import numpy as np", "", "", "def relu(z):", "    return np.maximum(z, 0)", "",
                    "def relu_prime(z:", "    return (z > 0).astype(z.dtype)", ""])
assert BROKEN.splitlines()[SYNTAX_ERROR_LINE - 1].startswith("def relu_prime(z:")


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {row["student"]: row for row in rows}, list(rows[0]) if rows else []


@pytest.fixture(scope="module")
def class_graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("status") / "submitted"
    write_submission(root / "alice", ASSIGNMENT, {MODULE: REFERENCE.read_text()})
    write_submission(root / "bob", ASSIGNMENT, {MODULE: STUB})
    write_submission(root / "carol", ASSIGNMENT, {MODULE: BROKEN})
    write_submission(root / "dan", ASSIGNMENT, {MODULE: ""})
    write_submission(root / "erin", ASSIGNMENT, {"notes.txt": "forgot the module"})
    write_submission(root, "fred", {"README.md": "no hw1 folder at all"})
    write_submission(root / "gina" / ASSIGNMENT, ASSIGNMENT, {MODULE: REFERENCE.read_text()})  # unzipped too deep
    write_submission(root / "hank", ASSIGNMENT, {MODULE: "import numpy as np\nx = undefined_name + 1\n"})
    out = root.parent / "grades"
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--jobs", "2", timeout=600)
    rows, columns = read_csv(out / "grades.csv")
    reports = {p.stem: json.loads(p.read_text()) for p in (out / "reports").glob("*.json")}
    return result, rows, columns, reports, out


def test_csv_columns_are_the_agreed_ones(class_graded):
    _, _, columns, _, _ = class_graded
    items = [item.name for item in assignments.get(ASSIGNMENT).items]
    assert columns == ["student", "status", "score", "max_score", "why", "not_graded", *items]


def test_every_student_has_a_row_and_a_report_with_the_same_status_and_why(class_graded):
    result, rows, _, reports, _ = class_graded
    assert result.returncode == 0, result.stderr
    assert set(rows) == set(reports) == {"alice", "bob", "carol", "dan", "erin", "fred", "gina", "hank"}
    for student, row in rows.items():
        assert row["status"] == reports[student]["status"] == STUDENT_GRADED, student
        assert row["why"] == reports[student]["why"], student
        assert float(row["score"]) == reports[student]["score"], student


def test_full_marks_need_no_why_and_zeros_say_their_own_cause(class_graded):
    _, rows, _, _, _ = class_graded
    assert float(rows["alice"]["score"]) == 14 and rows["alice"]["why"] == ""
    zeros = [s for s in rows if s != "alice"]
    assert all(float(rows[s]["score"]) == 0 for s in zeros)
    assert "NotImplementedError" in rows["bob"]["why"]
    assert rows["carol"]["why"].startswith(f"syntax error in {MODULE} at line {SYNTAX_ERROR_LINE}")
    assert rows["dan"]["why"] == f"{MODULE} is empty (nothing was submitted in it)"
    assert rows["erin"]["why"] == f"{MODULE} not found in the submission"
    assert rows["fred"]["why"] == f"{MODULE} not found in the submission"
    assert rows["hank"]["why"].startswith(f"import of {MODULE} failed: NameError")
    assert "undefined_name" in rows["hank"]["why"]
    assert len({rows[s]["why"] for s in zeros if s != "fred"}) == len(zeros) - 1  # each names its own cause


def test_a_module_one_folder_down_is_found_and_the_fix_named(class_graded):
    _, rows, _, reports, _ = class_graded
    why = rows["gina"]["why"]
    assert why.startswith(f"{MODULE} not found in the submission (found {ASSIGNMENT}/{MODULE} one folder down")
    assert "move" in why
    assert all(f"{ASSIGNMENT}/{MODULE} one folder down" in i["feedback"] for i in reports["gina"]["items"])


def test_summary_counts_students_per_status_and_says_why_for_the_zeros(class_graded):
    result, rows, _, _, _ = class_graded
    assert "8 students: 8 graded, 0 with items not graded, 0 could not grade" in result.stdout
    assert "graded, scored 0 (7):" in result.stdout
    for student in ["bob", "carol", "gina", "hank"]:
        assert f"  {student}: {rows[student]['why']}" in result.stdout


def test_timeouts_are_named(tmp_path):
    folder = write_submission(tmp_path, "ivan", {MODULE: "while True:\n    pass\n"})
    result = run_cli("grade", ASSIGNMENT, folder, "--json", tmp_path / "ivan.json", "--call-timeout", "1",
                     "--time-budget", "3")
    report = json.loads((tmp_path / "ivan.json").read_text())
    assert result.returncode == 0 and report["score"] == 0
    assert report["why"].startswith(f"timed out while importing {MODULE}"), report["why"]
    slow = REFERENCE.read_text() + "\n\ndef relu(z):\n    while True:\n        pass\n"
    folder = write_submission(tmp_path, "jane", {MODULE: slow})
    run_cli("grade", ASSIGNMENT, folder, "--json", tmp_path / "jane.json", "--call-timeout", "1", "--item", "relu",
            "--item", "softmax")
    report = json.loads((tmp_path / "jane.json").read_text())
    assert report["score"] == 3 and report["why"].startswith("timed out in relu ("), report["why"]


def test_grade_json_and_table_carry_status_and_why(tmp_path):
    folder = write_submission(tmp_path, "carol", {MODULE: BROKEN})
    result = run_cli("grade", ASSIGNMENT, folder, "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert result.returncode == 0 and report["status"] == STUDENT_GRADED and report["score"] == 0
    assert report["why"].startswith(f"syntax error in {MODULE} at line {SYNTAX_ERROR_LINE}")
    assert f"why: syntax error in {MODULE} at line {SYNTAX_ERROR_LINE}" in result.stdout


def test_a_link_one_folder_down_is_not_followed(tmp_path):
    folder = tmp_path / "sub"
    (folder / "inner").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / MODULE).write_text(REFERENCE.read_text())
    (folder / "linked").symlink_to(tmp_path / "elsewhere")
    result = run_cli("grade", ASSIGNMENT, folder, "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert result.returncode == 0 and report["why"] == f"{MODULE} not found in the submission"


def test_items_not_graded_are_a_status_and_score_stays_their_zero(tmp_path):
    root = tmp_path / "submitted"
    write_submission(root, "alice", {"gpu_network.py": (REPO / "solutions" / "hw4_gpu" / "gpu_network.py").read_text()})
    out = tmp_path / "grades"
    result = run_cli("grade-all", "hw4_gpu", root, "--out", out, env={"AUTOGRADER_CUPY_STAND_IN": ""})
    assert result.returncode == 0, result.stderr
    rows, _ = read_csv(out / "grades.csv")
    alice = rows["alice"]
    assert alice["status"] == STUDENT_PARTLY_GRADED and float(alice["score"]) == 12  # 19 less 7 GPU points
    assert alice["why"].startswith("NOT GRADED: gpu_correctness no_host_transfers gpu_speedup (")
    assert "no usable CUDA GPU" in alice["why"]
    assert "1 students: 0 graded, 1 with items not graded, 0 could not grade" in result.stdout
    assert f"items not graded (1):\n  alice: {alice['why']}" in result.stdout


def test_a_student_the_engine_could_not_grade_keeps_a_row_and_a_report(tmp_path):
    """A submission whose grading process fails (here: its folder is gone when grading starts) is not lost."""
    assignment = assignments.get(ASSIGNMENT)
    root = tmp_path / "submitted"
    write_submission(root, "alice", {MODULE: REFERENCE.read_text()})
    staging = tmp_path / "staging"
    staging.mkdir()
    fresh = batch.grade_into(assignment, {"alice": None, "ghost": None},
                             {"alice": root / "alice", "ghost": root / "ghost"}, staging, 2, [])
    out = tmp_path / "grades"
    batch.merge_reports(ASSIGNMENT, out, fresh)
    ghost = json.loads((out / "reports" / "ghost.json").read_text())
    assert ghost["status"] == STUDENT_NOT_GRADED and ghost["score"] == 0
    assert "does not exist" in ghost["why"] and ghost["why"].startswith("could not grade: ")
    # grade-all then keeps the row (regrading alice only) and names the student in its summary.
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--student", "alice")
    rows, _ = read_csv(out / "grades.csv")
    assert rows["ghost"]["status"] == STUDENT_NOT_GRADED and rows["ghost"]["why"] == ghost["why"]
    assert float(rows["alice"]["score"]) == 14 and rows["alice"]["status"] == STUDENT_GRADED
    assert result.returncode == 1  # someone could not be graded; said in one line
    assert f"could not grade (1):\n  ghost: {ghost['why']}" in result.stdout
    assert "ghost" in result.stderr and "Traceback" not in result.stderr

"""grade-all: a class graded in parallel, one process per student, with a CSV and a chart."""
import csv
import json

from helpers import REPO, SUBMISSIONS, run_cli, write_submission
from mutants_hw1 import REFERENCE

ASSIGNMENT = "hw1_activations"


def test_grade_all_writes_csv_reports_and_chart(tmp_path):
    root = tmp_path / "submitted"
    write_submission(root / "alice", ASSIGNMENT, {"activations.py": REFERENCE.read_text()})   # nbgrader layout
    write_submission(root, "bob", {"activations.py": (REPO / "assignments" / ASSIGNMENT / "activations.py").read_text()})
    write_submission(root, "dave", {"activations.py": (SUBMISSIONS / ASSIGNMENT / "subtle" / "activations.py").read_text()})
    write_submission(root, "erin", {"notes.txt": "forgot the module"})
    out = tmp_path / "grades"
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert float(rows["alice"]["score"]) == 14 and float(rows["bob"]["score"]) == 0
    assert 9.7 < float(rows["dave"]["score"]) < 9.72 and float(rows["dave"]["relu_prime"]) < 1
    assert float(rows["erin"]["score"]) == 0
    assert sorted(p.name for p in (out / "reports").iterdir()) == [f"{s}.json" for s in ["alice", "bob", "dave", "erin"]]
    assert (out / "scores.png").stat().st_size > 1000
    assert "4 graded" in result.stdout
    assert {row["status"] for row in rows.values()} == {"graded"}
    assert rows["alice"]["why"] == "" and rows["erin"]["why"] == "activations.py not found in the submission"
    assert rows["dave"]["why"].startswith("lost points on relu_prime (")
    assert "  erin: activations.py not found in the submission" in result.stdout  # the zeros, with why


def test_grade_all_passes_grades_options_on(tmp_path):
    root = tmp_path / "submitted"
    write_submission(root, "alice", {"activations.py": REFERENCE.read_text()})
    out = tmp_path / "grades"
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--seed", "7", "--item", "relu",
                     "--call-timeout", "5", "--time-budget", "30")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "reports" / "alice.json").read_text())
    assert report["seed"] == 7 and [i["name"] for i in report["items"]] == ["relu"] and report["score"] == 1
    # --call-timeout reaches every student's grading: a relu that takes 1.5 s per call now times out.
    slow = REFERENCE.read_text() + "\n\ndef relu(z):\n    import time\n    time.sleep(1.5)\n    return z * (z > 0)\n"
    write_submission(root, "bob", {"activations.py": slow})
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--student", "bob", "--item", "relu",
                     "--call-timeout", "0.5")
    rows = {row["student"]: row for row in csv.DictReader(open(out / "grades.csv", newline=""))}
    assert float(rows["bob"]["relu"]) == 0 and rows["bob"]["why"].startswith("timed out in relu ("), rows["bob"]


def test_grade_all_of_a_missing_folder_is_clear(tmp_path):
    result = run_cli("grade-all", ASSIGNMENT, tmp_path / "nope")
    assert result.returncode == 1 and "is not a folder" in result.stderr


def test_grade_all_without_a_gpu_says_so_loudly(tmp_path):
    root = tmp_path / "submitted"
    write_submission(root, "alice", {"gpu_network.py": (REPO / "solutions" / "hw4_gpu" / "gpu_network.py").read_text()})
    write_submission(root, "bob", {"gpu_network.py": (REPO / "assignments" / "hw4_gpu" / "gpu_network.py").read_text()})
    out = tmp_path / "grades"
    result = run_cli("grade-all", "hw4_gpu", root, "--out", out, "--jobs", "2", env={"AUTOGRADER_CUPY_STAND_IN": ""})
    assert result.returncode == 0, result.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert rows["alice"]["not_graded"] == "gpu_correctness no_host_transfers gpu_speedup"
    assert float(rows["alice"]["score"]) == 12 and float(rows["bob"]["score"]) == 0
    assert "WARNING: gpu_correctness, no_host_transfers, gpu_speedup NOT GRADED for 2 student(s)" in result.stdout
    assert "no usable CUDA GPU" in result.stdout and "machine with a CUDA GPU" in result.stdout
    assert "gpu_speedup            below full for 0 of 2, NOT GRADED for 2" in result.stdout

"""grade-all: a class graded in parallel, one process per student, with a CSV and a chart."""
import csv

from conftest import REPO, SUBMISSIONS, run_cli, write_submission
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

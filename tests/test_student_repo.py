"""The students' repository: no solutions, no hidden suites, and the public checks still work."""
import subprocess
import sys

from autograder.student_repo import leaks, secret_lines
from conftest import REPO, run_cli


def test_export_leaves_out_everything_that_grades(tmp_path):
    dest = tmp_path / "student"
    result = run_cli("student-repo", dest)
    assert result.returncode == 0, result.stderr
    for secret in ["solutions", "autograder/hidden", "tests", "benchmarks", ".ci"]:
        assert not (dest / secret).exists()
    assert (dest / "assignments" / "hw1_activations" / "activations.py").exists()
    assert (dest / "autograder" / "public" / "test_hw1_activations.py").exists()
    assert not leaks(dest, secret_lines(REPO / "solutions"))
    check = subprocess.run([sys.executable, "-m", "autograder", "check", "hw1_activations"], cwd=dest,
                           capture_output=True, text=True)
    assert check.returncode == 0 and "0/11 public checks pass" in check.stdout
    grade = subprocess.run([sys.executable, "-m", "autograder", "grade", "hw1_activations",
                            "assignments/hw1_activations"], cwd=dest, capture_output=True, text=True)
    assert grade.returncode == 1 and "hidden suite" in grade.stderr


def test_export_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("keep me")
    result = run_cli("student-repo", tmp_path)
    assert result.returncode == 1 and "not empty" in result.stderr
    assert (tmp_path / "x").read_text() == "keep me"


def test_the_leak_check_finds_a_solution_line(tmp_path):
    (tmp_path / "notes.py").write_text("    shifted = z - np.max(z, axis=0, keepdims=True)\n")
    assert leaks(tmp_path, secret_lines(REPO / "solutions"))

"""The command-line contract of python -m autograder."""
import json

from conftest import run_cli, write_submission
from mutants_hw1 import REFERENCE


def test_help_lists_every_command():
    out = run_cli("--help").stdout
    for command in ["grade", "check", "release", "demo", "list"]:
        assert command in out
    assert "--json" in run_cli("grade", "--help").stdout


def test_unknown_assignment_is_one_line_and_exit_1(tmp_path):
    result = run_cli("grade", "hw9_nope", tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "unknown assignment 'hw9_nope'" in result.stderr and "Traceback" not in result.stderr


def test_missing_folder_is_one_line_and_exit_1(tmp_path):
    result = run_cli("grade", "hw1_activations", tmp_path / "nowhere")
    assert result.returncode == 1 and "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_missing_module_is_a_zero_with_feedback(tmp_path):
    (tmp_path / "README.txt").write_text("I forgot my file")
    out = tmp_path / "r.json"
    result = run_cli("grade", "hw1_activations", tmp_path, "--json", out)
    assert result.returncode == 0
    report = json.loads(out.read_text())
    assert report["score"] == 0 and report["max_score"] == 14
    assert all("activations.py not found" in i["feedback"] for i in report["items"])


def test_unknown_item_is_refused(tmp_path):
    result = run_cli("grade", "hw1_activations", tmp_path, "--item", "tanh")
    assert result.returncode == 1 and "unknown item" in result.stderr


def test_grade_prints_a_table_and_writes_json(tmp_path):
    folder = write_submission(tmp_path, "ref", {"activations.py": REFERENCE.read_text()})
    result = run_cli("grade", "hw1_activations", folder, "--item", "relu", "--json", tmp_path / "o.json")
    assert result.returncode == 0
    assert "hw1_activations: 1.00 / 1" in result.stdout and "ok relu" in result.stdout
    assert json.loads((tmp_path / "o.json").read_text())["items"][0]["name"] == "relu"


def test_list_shows_items_and_points():
    out = run_cli("list").stdout
    assert "hw1_activations" in out and "softmax" in out and "14 points" in out


def test_check_of_missing_folder_is_clear(tmp_path):
    result = run_cli("check", "hw1_activations", tmp_path / "nope")
    assert result.returncode == 1 and "cannot check" in result.stderr


def test_check_strict_exit_code(tmp_path):
    assert run_cli("check", "hw1_activations", "--strict", "--item", "relu").returncode == 3  # the stub
    folder = write_submission(tmp_path, "ref", {"activations.py": REFERENCE.read_text()})
    assert run_cli("check", "hw1_activations", folder, "--strict").returncode == 0

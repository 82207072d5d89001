"""The command-line contract of python -m autograder."""
import json

import pytest

from helpers import run_cli, write_submission
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


def one_line_error(result):
    """The command refused with exit 1 or 2 and a single stderr line (argparse adds its usage above it)."""
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    return lines[-1]


def test_bad_report_paths_are_refused_before_grading(tmp_path):
    folder = write_submission(tmp_path, "ref", {"activations.py": REFERENCE.read_text()})
    line = one_line_error(run_cli("grade", "hw1_activations", folder, "--json", tmp_path / "missing" / "dir" / "r.json"))
    assert line == f"cannot grade: the folder '{tmp_path / 'missing' / 'dir'}' for the report does not exist"
    result = run_cli("grade", "hw1_activations", folder, "--json", tmp_path)
    assert one_line_error(result).startswith(f"cannot grade: '{tmp_path}' is a folder")
    assert result.stdout == ""  # refused before grading: no table


def test_output_folders_that_are_files_are_one_line(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    write_submission(tmp_path / "submitted", "ref", {"activations.py": REFERENCE.read_text()})
    line = one_line_error(run_cli("grade-all", "hw1_activations", tmp_path / "submitted", "--out", a_file))
    assert line == f"cannot grade: '{a_file}' is a file, not a folder for the reports"
    line = one_line_error(run_cli("grade-all", "hw1_activations", tmp_path / "submitted", "--out", a_file / "sub"))
    assert line.startswith(f"cannot grade: '{a_file}' is a file")
    assert one_line_error(run_cli("student-repo", a_file)).startswith("cannot export: ")
    assert one_line_error(run_cli("demo", "--workdir", a_file)).startswith("cannot run the demo: ")
    assert a_file.read_text() == "not a folder"


def test_limits_that_would_grade_nothing_are_refused(tmp_path):
    folder = write_submission(tmp_path, "ref", {"activations.py": REFERENCE.read_text()})
    for option in ["--call-timeout", "--time-budget"]:
        for value in ["-1", "0", "nan", "inf", "soon"]:
            line = one_line_error(run_cli("grade", "hw1_activations", folder, option, value))
            assert f"argument {option}:" in line and value in line, line
            line = one_line_error(run_cli("grade-all", "hw1_activations", tmp_path, option, value))
            assert f"argument {option}:" in line, line
    line = one_line_error(run_cli("grade-all", "hw1_activations", tmp_path, "--jobs", "0"))
    assert "argument --jobs: '0' must be at least 1" in line


def test_check_of_an_empty_folder_says_what_to_fix(tmp_path):
    result = run_cli("check", "hw1_activations", tmp_path)
    assert result.returncode == 0
    assert "SKIP" not in result.stdout and "see SKIP above" not in result.stdout
    assert all(line.startswith("  FIX ") for line in result.stdout.splitlines()[1:-1])
    assert "fix what the FIX lines above say first" in result.stdout


def test_grade_all_has_grades_options_and_its_help_shows_a_regrade():
    out = run_cli("grade-all", "--help").stdout
    for option in ["--student", "--item", "--not-graded-only", "--call-timeout", "--time-budget", "--seed",
                   "--slurm", "--sbatch-options", "--chunk"]:
        assert option in out
    assert "grade-all hw4_gpu submitted/ --out grades/hw4 --not-graded-only" in out
    assert "--student alice bob" in out and "reports/earlier/" in out
    out = run_cli("autograde", "--help").stdout
    assert "autograde hw4_gpu --not-graded-only" in out


def test_slurm_without_its_module_is_one_line(tmp_path):
    import importlib.util
    if importlib.util.find_spec("autograder.slurm") is not None:
        pytest.skip("autograder.slurm is installed here")
    write_submission(tmp_path / "submitted", "ref", {"activations.py": REFERENCE.read_text()})
    line = one_line_error(run_cli("grade-all", "hw1_activations", tmp_path / "submitted", "--out", tmp_path / "o",
                                  "--slurm"))
    assert line.startswith("cannot grade on Slurm: this installation has no autograder.slurm module")


def test_slurm_gets_the_chosen_students_and_the_grade_arguments(tmp_path, monkeypatch):
    """--slurm hands over, as agreed: chosen students, grade-all's arguments, shlex-split sbatch options, chunk."""
    import sys
    import types

    from autograder import cli
    calls = []
    fake = types.ModuleType("autograder.slurm")
    fake.grade_all_on_slurm = lambda *args: calls.append(args) or 0
    monkeypatch.setitem(sys.modules, "autograder.slurm", fake)
    root = tmp_path / "submitted"
    for student in ["alice", "bob", "carl"]:
        write_submission(root, student, {"activations.py": REFERENCE.read_text()})
    code = cli.main(["grade-all", "hw1_activations", str(root), "--out", str(tmp_path / "o"), "--slurm",
                     "--student", "carl", "alice", "--seed", "7", "--item", "relu", "--call-timeout", "5",
                     "--sbatch-options", "--partition=gpu --comment='two words'", "--chunk", "3", "--jobs", "2"])
    assert code == 0
    assert calls == [("hw1_activations", str(root), str(tmp_path / "o"), ["carl", "alice"],
                      ["--seed", "7", "--call-timeout", "5.0", "--item", "relu", "--jobs", "2"],
                      ["--partition=gpu", "--comment=two words"], 3)]

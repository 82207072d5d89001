"""The students' repository: no solutions, no hidden suites, the public checks still work, a README
and a course.py for students, and optionally a git repository (a GitHub Classroom template)."""
import os
import re
import subprocess
import sys

import pytest

from autograder.assignments import ASSIGNMENTS
from autograder.student_repo import ExportError, course_table, export, leaks, secret_lines
from helpers import REPO, run_cli


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


# --- what the export gives students: their README, their course.py, and a git repository ----------
INSTRUCTOR_ONLY_TEXT = ["grade-all", "student-repo", "gpu-check", "course.py test", "course.py demo",
                        "autograder/hidden", "solutions/", "gradebook", "formgrader", "Instructor guide"]
INSTRUCTOR_ONLY_WORDS = ["release", "autograde", "nbgrader_config"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    dest = tmp_path_factory.mktemp("export") / "student"
    result = run_cli("student-repo", dest)
    assert result.returncode == 0, result.stderr
    return dest


def test_the_export_has_the_students_readme_not_the_instructors(exported):
    readme = (exported / "README.md").read_text()
    assert readme != (REPO / "README.md").read_text()
    template = (REPO / "autograder" / "student_readme.md").read_text()
    for paragraph in template.split("\n\n"):
        if "{{" not in paragraph:
            assert paragraph in readme
    assert "{{" not in readme
    assert not (exported / "autograder" / "student_readme.md").exists()
    for text in INSTRUCTOR_ONLY_TEXT:
        assert text not in readme, text
    for word in INSTRUCTOR_ONLY_WORDS:
        assert not re.search(rf"\b{word}\b", readme), word


def test_the_students_readme_covers_set_up_work_check_and_submit(exported):
    readme = (exported / "README.md").read_text()
    for text in ["python3 course.py setup", "conda env create -f environment.yml",
                 "python3 course.py check hw1_activations", "python -m autograder check hw1_activations",
                 "python3 course.py lectures", "not your grade", "## 4. Submit", "NVIDIA GPU", ".venv/pip.log"]:
        assert text in readme, text
    released = [p.name for p in (exported / "assignments").iterdir()]
    assert "hw1_activations" in released
    for assignment_id in released:
        assert f"| `{assignment_id}` | " in readme
        assert all(f"`{module}`" in readme for module in ASSIGNMENTS[assignment_id].modules)
    for lecture in (exported / "lectures").glob("*.ipynb"):
        assert f"`{lecture.name}`" in readme
    assert "`hw4_gpu` runs on the GPU" in readme


def test_the_course_table_pairs_lectures_and_assignments_by_week(tmp_path):
    for name in ["lectures/01_neurons.ipynb", "lectures/06_pytorch.ipynb", "assignments/hw1_activations/a.py",
                 "assignments/hw5_cross_entropy/cross_entropy.py", "lectures/extra_reading.ipynb"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    rows = course_table(tmp_path).splitlines()[2:]
    assert rows == ["| 1 | `01_neurons.ipynb` | `hw1_activations` | `activations.py` |",
                    "| 5 | - | `hw5_cross_entropy` | `cross_entropy.py` |",
                    "| 6 | `06_pytorch.ipynb` | - | - |",
                    "|  | `extra_reading.ipynb` | - | - |"]


def test_every_course_py_command_in_the_students_readme_works_there(exported):
    readme = (exported / "README.md").read_text()
    mentioned = set(re.findall(r"course\.py (\w[\w-]*)", readme))
    assert mentioned >= {"setup", "check", "lectures"}
    help_text = subprocess.run([sys.executable, "course.py", "help"], cwd=exported, capture_output=True,
                               text=True).stdout
    for command in mentioned - {"help"}:
        assert re.search(rf"^    {command}\b", help_text, re.M), command


def test_course_py_in_the_export_offers_only_student_commands(exported):
    for command in ["test", "demo", "gpu-check", "site"]:
        done = subprocess.run([sys.executable, "course.py", command], cwd=exported, capture_output=True, text=True)
        assert done.returncode != 0
        assert len(done.stdout.strip().splitlines()) == 1 and "instructor's repository" in done.stdout
    assert not (exported / ".venv").exists()


@pytest.mark.parametrize("where", ["a file", "the repository", "a folder inside the repository"])
def test_export_refuses_a_file_or_a_place_inside_the_repository(tmp_path, where):
    dest = {"a file": tmp_path / "notes.txt", "the repository": REPO,
            "a folder inside the repository": REPO / "build" / "student-export-test"}[where]
    if where == "a file":
        dest.write_text("keep me")
    with pytest.raises(ExportError) as refused:
        export(REPO, dest)
    assert "\n" not in str(refused.value) and str(dest) in str(refused.value)
    result = run_cli("student-repo", dest)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "cannot export" in result.stderr
    if where == "a file":
        assert dest.read_text() == "keep me"
    else:
        assert not (REPO / "build" / "student-export-test").exists()


def git_in(folder, *args, home):
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize("configured", [None, ("Ada Lovelace", "ada@example.org")])
def test_export_with_git_commits_everything_once(tmp_path, monkeypatch, configured):
    home = tmp_path / "home"
    home.mkdir()
    if configured:
        (home / ".gitconfig").write_text(f"[user]\n\tname = {configured[0]}\n\temail = {configured[1]}\n")
    for key, value in {"HOME": home, "XDG_CONFIG_HOME": home / ".config", "GIT_CONFIG_NOSYSTEM": "1"}.items():
        monkeypatch.setenv(key, str(value))
    dest = tmp_path / "classroom-template"
    files = export(REPO, dest, git=True)
    log = git_in(dest, "log", "--format=%an|%ae|%s", home=home).strip().splitlines()
    assert len(log) == 1
    author, _, message = log[0].split("|")
    assert author == (configured[0] if configured else "Course staff")
    assert message and not re.search(r"solution|hidden|test", message, re.I)
    committed = set(git_in(dest, "ls-files", home=home).split("\n")) - {""}
    on_disk = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert committed == on_disk == set(files)
    assert git_in(dest, "status", "--porcelain", home=home) == ""
    assert git_in(dest, "branch", "--show-current", home=home).strip() == "main"


def test_student_repo_git_from_the_command_line_is_a_template_repository(tmp_path):
    dest = tmp_path / "classroom"
    result = run_cli("student-repo", dest, "--git")
    assert result.returncode == 0, result.stderr
    log = subprocess.run(["git", "-C", str(dest), "log", "--oneline"], capture_output=True, text=True, check=True)
    assert len(log.stdout.strip().splitlines()) == 1
    assert not (dest / "solutions").exists() and (dest / "README.md").is_file()
    assert subprocess.run(["git", "-C", str(dest), "status", "--porcelain"], capture_output=True, text=True).stdout == ""

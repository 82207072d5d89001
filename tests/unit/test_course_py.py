"""course.py: the commands each repository offers, and a set-up that prints one line per step.

Most tests run a copy of course.py in a temporary folder: with solutions/ beside it, it is the
instructor's; with the marker the student export writes, it is a student's. A stand-in for the venv's
Python plays pip, so that the quiet set-up is tested in seconds; the slow tests set up real venvs.
"""
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from helpers import REPO

STUDENT_MARKER = ".student-repository"
INSTRUCTOR_ONLY = ["demo", "test", "gpu-check", "site"]


def course_copy(folder, student):
    """course.py and pyproject.toml in ``folder``, as the instructor's or as a student's repository."""
    folder.mkdir(exist_ok=True)
    shutil.copy(REPO / "course.py", folder / "course.py")
    shutil.copy(REPO / "pyproject.toml", folder / "pyproject.toml")
    if student:
        (folder / STUDENT_MARKER).write_text("students' copy\n")
    else:
        (folder / "solutions").mkdir()
    return folder


def run_course(folder, *args, timeout=120, env=None):
    return subprocess.run([sys.executable, str(folder / "course.py"), *args], cwd=folder, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def load_course(folder, monkeypatch):
    """course.py from ``folder`` as a module whose set-up does nothing and whose venv calls are recorded."""
    spec = importlib.util.spec_from_file_location(f"course_{folder.name}", folder / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls = []
    monkeypatch.setattr(module, "setup", lambda student=False: calls.append(("setup", student)))
    monkeypatch.setattr(module, "run_in_venv", lambda *args: calls.append(args) or 0)
    return module, calls


# --- which commands each repository offers ------------------------------------------------------

@pytest.mark.parametrize("command", INSTRUCTOR_ONLY)
def test_the_student_copy_refuses_instructor_commands_in_one_line(tmp_path, command):
    folder = course_copy(tmp_path / "student", student=True)
    done = run_course(folder, command, "-x")
    assert done.returncode != 0
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "instructor's repository" in lines[0] and f"'{command}'" in lines[0]
    assert not (folder / ".venv").exists()  # refused before any set-up


def test_the_student_help_lists_only_student_commands(tmp_path):
    done = run_course(course_copy(tmp_path / "student", student=True), "help")
    assert done.returncode == 0
    for command in ["setup", "check ASSIGNMENT [FOLDER]", "lectures"]:
        assert f"    {command}" in done.stdout
    for command in INSTRUCTOR_ONLY:
        assert f"    {command} " not in done.stdout


def test_a_copy_without_solutions_or_marker_is_a_students(tmp_path):
    folder = course_copy(tmp_path / "bare", student=True)
    (folder / STUDENT_MARKER).unlink()
    done = run_course(folder, "test")
    assert done.returncode != 0 and "instructor's repository" in done.stdout


def test_the_instructor_help_keeps_every_command_and_adds_site(tmp_path):
    done = run_course(course_copy(tmp_path / "instructor", student=False), "--help")
    assert done.returncode == 0
    for command in ["demo", "test", "setup", "gpu-check", "site"]:
        assert f"    {command} " in done.stdout
    assert "    lectures" not in done.stdout


def test_an_unknown_command_prints_help_and_fails(tmp_path):
    for student in (True, False):
        done = run_course(course_copy(tmp_path / f"repo{student}", student=student), "bogus")
        assert done.returncode == 2 and "usage: python3 course.py" in done.stdout


def test_student_commands_run_in_the_venv(tmp_path, monkeypatch):
    folder = course_copy(tmp_path / "student", student=True)
    course, calls = load_course(folder, monkeypatch)
    assert course.main(["check", "hw1_activations", "my/folder"]) == 0
    assert calls == [("setup", True), ("-m", "autograder", "check", "hw1_activations", "my/folder")]
    calls.clear()
    assert course.main(["lectures", "--port", "8890"]) == 0
    assert calls[0] == ("setup", True)
    assert calls[1][:3] == ("-m", "jupyter", "lab") and calls[1][-2:] == ("--port", "8890")
    assert f"--ServerApp.root_dir={folder}" in calls[1]  # assignments/ is reachable from the lectures
    assert "--LabApp.default_url=/lab/tree/lectures" in calls[1]


def test_the_instructor_commands_are_unchanged(tmp_path, monkeypatch):
    folder = course_copy(tmp_path / "instructor", student=False)
    course, calls = load_course(folder, monkeypatch)
    course.main(["demo", "--workdir", "w"])
    course.main(["test", "-m", "not slow"])
    course.main(["gpu-check", "--out", "g"])
    assert calls == [("setup", False), ("-m", "autograder", "demo", "--workdir", "w"),
                     ("setup", False), ("-m", "pytest", "-m", "not slow"),
                     ("setup", False), (str(folder / "benchmarks" / "gpu_check.py"), "--out", "g")]
    assert course.main(["check", "hw1_activations"]) == 2  # not an instructor command


def test_site_runs_course_site_with_the_remaining_arguments(tmp_path, monkeypatch):
    folder = course_copy(tmp_path / "instructor", student=False)
    (folder / "course_site.py").write_text("print('site')\n")
    course, calls = load_course(folder, monkeypatch)
    assert course.main(["site", "--out", "public"]) == 0
    assert calls == [("setup", False), (str(folder / "course_site.py"), "--out", "public")]


def test_site_without_course_site_says_so_in_one_line(tmp_path):
    folder = course_copy(tmp_path / "instructor", student=False)
    done = run_course(folder, "site")
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and "course_site.py" in lines[0]
    assert not (folder / ".venv").exists()


# --- the quiet set-up, with a stand-in Python that plays pip --------------------------------------

FAKE_PYTHON = """#!/bin/sh
# Plays the venv's python -m pip: a page of build warnings, then success or failure as asked.
case "$*" in
  *--editable*)
    i=0
    while [ $i -lt 80 ]; do echo "SetuptoolsDeprecationWarning: line $i"; i=$((i+1)); done
    if [ "$FAKE_PIP_FAILS" = 1 ]; then echo "ERROR: No matching distribution found for nbgrader"; exit 1; fi
    echo "Successfully installed nn-course";;
  *) echo "Requirement already satisfied: pip";;
esac
"""


def with_fake_venv(folder):
    python = folder / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return folder


@pytest.mark.skipif(os.name == "nt", reason="the stand-in Python is a shell script")
def test_setup_prints_one_line_per_step_and_keeps_pip_output_in_a_log(tmp_path):
    folder = with_fake_venv(course_copy(tmp_path / "student", student=True))
    done = run_course(folder, "setup")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert [line.split(" ")[1] for line in lines] == ["upgrading", "installing", "packages", "ready:"]
    assert all(line.startswith("[course] ") for line in lines)
    log = (folder / ".venv" / "pip.log").read_text()
    assert log.count("SetuptoolsDeprecationWarning") == 80 and "Successfully installed" in log
    again = run_course(folder, "setup")  # installed: nothing to do but say so
    assert again.stdout.strip().splitlines() == [lines[-1]]


@pytest.mark.skipif(os.name == "nt", reason="the stand-in Python is a shell script")
def test_a_failing_pip_shows_the_tail_of_its_output_and_where_the_log_is(tmp_path):
    folder = with_fake_venv(course_copy(tmp_path / "student", student=True))
    done = run_course(folder, "setup", env={"FAKE_PIP_FAILS": "1"})
    assert done.returncode != 0
    assert "ERROR: No matching distribution found for nbgrader" in done.stderr
    assert 0 < done.stderr.count("SetuptoolsDeprecationWarning") < 80  # the tail, not all of it
    assert str(folder / ".venv" / "pip.log") in done.stderr.strip().splitlines()[-1]
    assert not (folder / ".venv" / ".course-installed").exists()  # the next set-up tries again


# --- real venvs (minutes: pip installs jupyter and nbgrader, from this machine's pip cache) --------

def timed_setup(folder):
    started = time.monotonic()
    done = run_course(folder, "setup", timeout=1800)
    return done, time.monotonic() - started


@pytest.mark.slow
def test_a_fresh_clone_sets_up_quietly(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    done, seconds = timed_setup(clone)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) <= 6 and all(line.startswith("[course] ") for line in lines), lines
    venv_python = clone / ".venv" / "bin" / "python"
    imported = subprocess.run([str(venv_python), "-c", "import autograder, nbgrader, yaml, mnist_loader"],
                              cwd=tmp_path, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    print(f"fresh set-up of the instructor's clone: {seconds:.0f} s")


@pytest.mark.slow
def test_the_student_export_sets_up_and_checks_end_to_end(tmp_path):
    student = tmp_path / "student"
    exported = subprocess.run([sys.executable, "-m", "autograder", "student-repo", str(student)], cwd=REPO,
                              capture_output=True, text=True)
    assert exported.returncode == 0, exported.stderr
    done, seconds = timed_setup(student)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) <= 6 and all(line.startswith("[course] ") for line in lines), lines
    check = run_course(student, "check", "hw1_activations", timeout=600)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0/11 public checks pass" in check.stdout
    refused = run_course(student, "test")
    assert refused.returncode != 0 and len(refused.stdout.strip().splitlines()) == 1
    print(f"fresh set-up of the student export: {seconds:.0f} s")

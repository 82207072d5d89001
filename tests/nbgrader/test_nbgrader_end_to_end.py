"""Real nbgrader, end to end: the demo flow, then students who attack the notebook kernel.

The grade must come from the engine: a notebook cell that prints numbers,
patches subprocess/numpy/the helper, or kills its kernel changes nothing.
"""
import csv
import json
import re
import shutil
import time

import nbformat
import pytest

from autograder import sandbox
from autograder.nbgrader_hooks import REPORT_NAME
from autograder.release import run_nbgrader
from helpers import REPO, run_cli
from mutants_hw1 import REFERENCE

pytestmark = pytest.mark.slow
ASSIGNMENT = "hw1_activations"

TAMPERING_CELL = '''
import subprocess, sys, numpy, json, os
print("14.0")
subprocess.run = lambda *a, **k: None
numpy.allclose = lambda *a, **k: True
import autograder.notebook
autograder.notebook.public_checks = lambda *a, **k: print(2.0)
json.dump({"score": 14}, open("autograder_report.json", "w"))
open("activations.py", "w").write(open("activations.py").read())  # rewriting the module changes nothing
'''


SNOOPING_CELL = """
import glob, os, sqlite3, subprocess, sys
found = []
for pattern in ["{root}/solutions/*/*.py", "{repo}/solutions/*/*.py", "{repo}/autograder/hidden/*.py"]:
    for path in glob.glob(pattern):
        try:
            found.append(open(path).read())
        except OSError as exc:
            print("cannot read", path, exc)
print("\\n".join(found))
for attempt in [lambda: sqlite3.connect("{root}/gradebook.db").execute("delete from grade").connection.commit(),
                lambda: open("{root}/submitted/alice/hw1_activations/activations.py", "w").write("broken"),
                lambda: open("{outside}/victim.txt", "a").write("tampered")]:
    try:
        attempt()
        print("tampering succeeded")
    except Exception as exc:
        print("tampering failed:", type(exc).__name__)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3); open('{root}/daemon-was-here', 'w')"],
                 start_new_session=True)
"""


def add_student(course, student, module_text, extra_cell=None):
    dest = course / "submitted" / student / ASSIGNMENT
    shutil.copytree(course / "assignments" / ASSIGNMENT, dest)
    (dest / "activations.py").write_text(module_text)
    if extra_cell:
        path = dest / f"{ASSIGNMENT}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(2, nbformat.v4.new_code_cell(extra_cell))
        nbformat.write(nb, path)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("course")
    demo = run_cli("demo", "--workdir", workdir, timeout=900)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    stub = (workdir / "assignments" / ASSIGNMENT / "activations.py").read_text()
    add_student(workdir, "mallory", stub, TAMPERING_CELL)
    add_student(workdir, "eve", REFERENCE.read_text(), "import os\nos._exit(1)")
    if sandbox.sandbox_available():
        outside = tmp_path_factory.mktemp("outside")
        (outside / "victim.txt").write_text("untouched")
        add_student(workdir, "trudy", stub, SNOOPING_CELL.format(root=workdir, repo=REPO, outside=outside))
    for student in ("mallory", "eve", "trudy"):
        if not (workdir / "submitted" / student).exists():
            continue
        run_nbgrader(workdir, "autograde", ASSIGNMENT, "--student", student, "--force")
    time.sleep(4)  # give trudy's background process the time it asked for
    run_nbgrader(workdir, "generate_feedback", ASSIGNMENT, "--force")
    run_nbgrader(workdir, "export", "--to", str(workdir / "grades_all.csv"))
    return workdir, demo.stdout


def gradebook(workdir, name="grades_all.csv"):
    with open(workdir / name, newline="") as f:
        return {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(f)}


def test_demo_prints_scores_and_paths(course):
    workdir, out = course
    for student, score in [("alice", "14.00"), ("bob", "0.00"), ("carol", "8.00"), ("dave", "9.71")]:
        assert re.search(rf"^{student}\s.*\s{re.escape(score)}\s+{re.escape(score)}\s", out, re.M), out
    assert "Gradebook CSV" in out and (workdir / "grades.csv").exists()
    assert (workdir / "scores.png").stat().st_size > 1000


def test_gradebook_holds_partial_credit(course):
    scores = gradebook(course[0])
    assert scores["alice"] == 14 and scores["bob"] == 0 and scores["carol"] == 8
    assert 9.7 < scores["dave"] < 9.72


def test_tampering_in_the_kernel_changes_nothing(course):
    workdir, _ = course
    assert gradebook(workdir)["mallory"] == 0
    report = json.loads((workdir / "autograded" / "mallory" / ASSIGNMENT / REPORT_NAME).read_text())
    assert report["score"] == 0


def test_a_dead_kernel_does_not_drop_the_student(course):
    assert gradebook(course[0])["eve"] == 14


def test_feedback_shows_engine_feedback_but_no_hidden_tests(course):
    workdir, _ = course
    html = (workdir / "feedback" / "dave" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "checks passed" in html and "relu_prime" in html
    hidden = (REPO / "autograder" / "hidden" / f"test_{ASSIGNMENT}.py").read_text()
    for marker in ["def test_", "check_derivative", "DERIVATIVE_RTOL", "BEGIN HIDDEN"]:
        assert marker in hidden or marker == "BEGIN HIDDEN"
        assert marker not in html


def test_autograded_module_is_the_students(course):
    workdir, _ = course
    graded = (workdir / "autograded" / "bob" / ASSIGNMENT / "activations.py").read_text()
    assert "NotImplementedError" in graded


@pytest.mark.skipif(not sandbox.sandbox_available(), reason="the notebook kernel sandbox needs bubblewrap")
def test_sandboxed_kernel_sees_and_changes_nothing_outside_its_folder(course):
    workdir, _ = course
    scores = gradebook(workdir)
    assert scores["trudy"] == 0 and scores["alice"] == 14 and 9.7 < scores["dave"] < 9.72
    assert (workdir / "submitted" / "alice" / ASSIGNMENT / "activations.py").read_text() != "broken"
    victim = next(workdir.parent.glob("outside*/victim.txt"))
    assert victim.read_text() == "untouched"
    assert not (workdir / "daemon-was-here").exists()
    nb = nbformat.read(workdir / "autograded" / "trudy" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert printed.count("tampering failed") == 3 and "tampering succeeded" not in printed
    html = (workdir / "feedback" / "trudy" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    for secret in ["BEGIN SOLUTION", "check_derivative", "expm1(np.minimum"]:
        assert secret not in printed and secret not in html

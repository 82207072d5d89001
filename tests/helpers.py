"""What the tests share: grading submissions through the real command line, as instructors do, and
reading the reports. Every test module imports from here (``from helpers import ...``); tests/conftest.py
holds only pytest's fixtures and hooks."""
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.release import nbgrader_env

REPO = Path(__file__).resolve().parent.parent
SUBMISSIONS = REPO / "tests" / "submissions"


def run_cli(*args, timeout=300, cwd=REPO, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd,
                          env={**nbgrader_env(), **(env or {})}, capture_output=True, text=True, timeout=timeout)


def grade_folder(assignment, folder, *extra, env=None):
    """Grade ``folder`` with the CLI; returns (completed process, report dict or None).

    The report is written beside the folder, so the folder must not be inside the
    repository (copy it into a temporary folder: see copied()).
    """
    # Next to the folder as named: a symlinked folder must not put reports beside its target.
    out = Path(os.path.abspath(folder)).parent / f"{Path(folder).name}.report.json"
    if REPO in out.parents:
        raise ValueError(f"{folder}: grade a link to it from a temporary folder, not the repository's own folder")
    result = run_cli("grade", assignment, folder, "--json", out, *extra, env=env)
    report = json.loads(out.read_text()) if out.exists() else None
    return result, report


def copied(tmp_path, folder, name=None):
    """A copy of ``folder`` in ``tmp_path`` (so that reports are not written into the repository; a link
    would be refused: grading never follows a linked submission folder)."""
    copy = Path(tmp_path) / (name or Path(folder).name)
    shutil.copytree(folder, copy)
    return copy


def tree_fingerprint(root):
    """{relative path: (kind, sha256 or link target)} of everything under root, following nothing:
    equal before and after means nothing there was changed, added, removed or relinked."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                value = ("link", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                value = ("file", hashlib.sha256(Path(path).read_bytes()).hexdigest())
            else:
                value = (stat.S_IFMT(st.st_mode), "")
            found[os.path.relpath(path, root)] = value
    return found


def write_submission(root, name, files):
    """A submission folder ``root/name`` holding ``files`` ({filename: text})."""
    folder = Path(root) / name
    folder.mkdir(parents=True)
    for filename, text in files.items():
        (folder / filename).write_text(text)
    return folder


def grade_many(assignment, folders, *extra, env=None):
    """Grade several folders, one per core up to 8 (two on the 2-core CI machine)."""
    with ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2))) as pool:
        results = list(pool.map(lambda f: grade_folder(assignment, f, *extra, env=env), folders))
    return dict(zip([Path(f).name for f in folders], results))


def grade_class(assignment, root, samples, mutants, mutant_source, env=None):
    """Grade the reference, the released stub, the named sample submissions and every mutant.

    Returns {name: report}; every grading must complete (exit 0).
    """
    from autograder import assignments
    module = assignments.get(assignment).modules[0]
    sources = {"reference": (REPO / "solutions" / assignment / module).read_text(),
               "stub": (REPO / "assignments" / assignment / module).read_text()}
    sources.update({name: (SUBMISSIONS / assignment / name / module).read_text() for name in samples})
    sources.update({name: mutant_source(name) for name in mutants})
    graded = grade_many(assignment, [write_submission(root, name, {module: text}) for name, text in sources.items()],
                        env=env)
    for name, (result, _) in graded.items():
        assert result.returncode == 0, f"{name}: grading did not complete: {result.stderr}"
    return {name: report for name, (_, report) in graded.items()}


def lost(report):
    """Names of the items a report scores below full."""
    return {i["name"] for i in report["items"] if i["score"] < i["max_score"]}


def assert_loses(report, must, may, name):
    """A mutant's report: short of full, losing every item in ``must`` and nothing outside ``must | may``,
    with feedback for each lost item."""
    assert report["score"] < report["max_score"], f"{name} scored full marks"
    feedback = {i["name"]: i["feedback"] for i in report["items"] if i["score"] < i["max_score"]}
    assert must <= lost(report) <= must | may, feedback
    assert all(feedback.values()), "a lost point needs feedback"


def item_scores(report):
    return {i["name"]: i["score"] for i in report["items"]}


# A CuPy stand-in that computes with NumPy: lets the tests run the GPU items where no GPU exists.
# On a GPU machine, AUTOGRADER_TEST_ON_GPU=1 (set by benchmarks/gpu_check.py) runs the same tests on real CuPy.
GPU_STAND_IN = {"AUTOGRADER_CUPY_STAND_IN": "" if os.environ.get("AUTOGRADER_TEST_ON_GPU") == "1"
                else str(REPO / "tests" / "gpu_stand_in")}


def gradebook_totals(course):
    """student -> total score, read straight from the gradebook's tables (not through nbgrader or the command)."""
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute(
            "SELECT student.id, SUM(COALESCE(grade.manual_score, grade.auto_score)) FROM grade "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
            "JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id").fetchall()
    return dict(rows)

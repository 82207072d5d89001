"""A messy class through real nbgrader: nobody is dropped, nothing a student controls is followed.

Twenty-one students, each with something a real class brings (a copied grade cell,
a cell that hangs, a dying kernel, a truncated, old-format or missing notebook,
edited nbgrader metadata, links in place of the student's folder, the
assignment folder, the notebook or the module, a pipe, a kernel that leaves links to the solutions and the gradebook),
go through ``nbgrader autograde``, ``generate_feedback`` and ``export`` in one
run. Every one of them must be in the export with exactly the score that
``python -m autograder grade`` gives their module alone (the modules are chosen
so that this score does not depend on the random inputs), the same as in
``grade-all``'s grades.csv; classmates' files and the gradebook stay intact,
and each feedback folder holds only files the course generated, with one line
saying what was wrong with the notebook.

The quick tests at the end check the notebook checks and the configuration
without nbgrader.
"""
import copy
import csv
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys

import nbformat
import pytest

from autograder.nbgrader_hooks import REPORT_NAME, notebook_problem
from autograder.release import nbgrader_env, release, run_nbgrader
from helpers import REPO, SUBMISSIONS, grade_many, run_cli, tree_fingerprint

A = "hw1_activations"
NB = f"{A}.ipynb"
TIMEOUT_S = 5  # passed as --Execute.timeout: the hanging cell is stopped after this
MODULES = {
    "reference": ((REPO / "solutions" / A / "activations.py").read_text(), 14.0),
    "partial": ((SUBMISSIONS / A / "partial" / "activations.py").read_text(), 8.0),
    "stub": ((REPO / "assignments" / A / "activations.py").read_text(), 0.0),
    "syntax": ((REPO / "solutions" / A / "activations.py").read_text().replace("def relu(", "def relu((", 1), 0.0),
}
FEEDBACK_FILES = {f"{A}.html", "activations.py", REPORT_NAME, "timestamp.txt"}  # all the course generates

HANG = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)  # not even an interrupt stops it\n" \
       "while True:\n    time.sleep(1)"
EXIT = "import os\nos._exit(3)"
KILL = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
LEAVE_LINKS = '''import os
def attempt(action):
    try:
        action()
    except OSError as exc:
        print("refused:", exc)
attempt(lambda: os.symlink("{root}/solutions/{A}/activations.py", "leak.html"))
attempt(lambda: os.symlink("{root}/gradebook.db", "{report}"))
attempt(lambda: os.mkfifo("pipe.html"))
attempt(lambda: open("made.html", "w").write("made by the kernel"))
attempt(lambda: open("notes.html", "w").write("made by the kernel"))
attempt(lambda: os.link("notes.html", "hard.html"))
attempt(lambda: os.unlink("{nb}"))
attempt(lambda: os.symlink("../../finn/{A}/activations.py", "{nb}"))
'''


def edit_notebook(folder, change):
    path = folder / NB
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)


def add_cell(source):
    return lambda nb: nb.cells.insert(2, nbformat.v4.new_code_cell(source))


def copy_grade_cell(nb):
    nb.cells.append(nbformat.from_dict(json.loads(json.dumps(next(c for c in nb.cells if c.metadata.get("nbgrader"))))))


def tamper_metadata(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader.update(points=100, schema_version=1)


def truncate(folder):
    text = (folder / NB).read_text()
    (folder / NB).write_text(text[: len(text) // 2])


def old_format(folder):
    nb = nbformat.read(folder / NB, as_version=4)
    nbformat.write(nbformat.convert(nb, 3), folder / NB)


def replace_with(folder, name, make):
    os.unlink(folder / name)
    make(folder / name)


# student: (module, what is done to the folder, the note the feedback must give, or None)
CLASS = {
    "abby": ("reference", lambda f, root: edit_notebook(f, copy_grade_cell), "has the cell 'sigmoid_prime' 2 times"),
    "adam": ("partial", lambda f, root: edit_notebook(f, add_cell(HANG)), f"ran longer than {TIMEOUT_S} s"),
    "alex": ("reference", lambda f, root: edit_notebook(f, add_cell(EXIT)), "the kernel of your notebook died"),
    "amos": ("partial", lambda f, root: edit_notebook(f, add_cell(KILL)), "the kernel of your notebook died"),
    "anna": ("reference", lambda f, root: truncate(f), "is not valid JSON"),
    "arno": ("stub", lambda f, root: edit_notebook(f, tamper_metadata), "nbgrader metadata of the cell"),
    "beth": ("partial", lambda f, root: os.unlink(f / NB), "has no notebook"),
    "carl": ("reference", lambda f, root: old_format(f), "old notebook format (nbformat 3)"),
    "dora": ("partial", lambda f, root: edit_notebook(f, lambda nb: nb.metadata.pop("kernelspec")),
             "kernel specification removed"),
    "eric": ("syntax", lambda f, root: None, None),
    "finn": ("reference", lambda f, root: None, None),
    "gina": (None, lambda f, root: (shutil.rmtree(f), f.symlink_to(root / "solutions" / A)),
             "submission folder is a symbolic link"),
    "hugo": (None, lambda f, root: (shutil.rmtree(f), f.symlink_to(f"../finn/{A}")),
             "submission folder is a symbolic link"),
    "iris": ("partial", lambda f, root: replace_with(f, NB, lambda p: p.symlink_to(f"../../finn/{A}/activations.py")),
             "is a symbolic link, so it was not read"),
    "jack": (None, lambda f, root: replace_with(f, "activations.py",
                                                lambda p: p.symlink_to(root / "solutions" / A / "activations.py")),
             None),
    "kate": (None, lambda f, root: replace_with(f, "activations.py",
                                                lambda p: os.link(root / "solutions" / A / "activations.py", p)),
             None),
    "liam": ("reference", lambda f, root: replace_with(f, NB, os.mkfifo), "is a named pipe"),
    "mona": ("reference", lambda f, root: edit_notebook(f, add_cell(LEAVE_LINKS.format(
        root=root, A=A, report=REPORT_NAME, nb=NB))), None),
    "nick": ("partial", lambda f, root: (replace_with(f, "timestamp.txt", os.mkfifo),
                                        (f / "data.html").symlink_to("/dev/zero")), None),
    "olga": ("stub", lambda f, root: None, None),
    "pete": (None, lambda f, root: (shutil.rmtree(f.parent), f.parent.symlink_to("finn")),
             "student folder is a symbolic link"),
}


def book(path):
    with open(path, newline="") as f:
        return {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(f)}


def note_lines(html):
    return [line for line in html.splitlines() if "Note from the course autograder" in line]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy")
    shutil.copytree(REPO / "solutions" / A, root / "solutions" / A)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    released = release(A, root)
    for student, (module, mess, _) in CLASS.items():
        folder = root / "submitted" / student / A
        shutil.copytree(released, folder)
        (folder / "timestamp.txt").write_text("2026-09-15 09:00:00.000000 UTC")
        if module:
            (folder / "activations.py").write_text(MODULES[module][0])
        mess(folder, root)
    before = {"submitted": tree_fingerprint(root / "submitted"), "solutions": tree_fingerprint(root / "solutions")}
    log = run_nbgrader(root, "autograde", A, "--force", f"--Execute.timeout={TIMEOUT_S}")  # raises unless exit 0
    finn_graded = (root / "autograded" / "finn" / A / "activations.py").read_bytes()
    run_nbgrader(root, "generate_feedback", A, "--force")
    run_nbgrader(root, "export", "--to", str(root / "export.csv"))
    grade_all = run_cli("grade-all", A, root / "submitted", "--out", root / "grade-all", "--jobs", "2")
    assert grade_all.returncode == 0, grade_all.stderr
    return {"root": root, "log": log, "before": before, "finn_graded": finn_graded}


@pytest.fixture(scope="module")
def alone(course, tmp_path_factory):
    """student -> the score `grade` gives their module alone (a folder holding only it), or their folder as it is."""
    tmp = tmp_path_factory.mktemp("alone")
    folders = []
    for module, (text, _) in MODULES.items():
        (tmp / module).mkdir()
        (tmp / module / "activations.py").write_text(text)
        folders.append(tmp / module)
    by_module = {name: report for name, (_, report) in grade_many(A, folders).items()}
    for module, (_, expected) in MODULES.items():
        assert by_module[module]["score"] == expected, (module, by_module[module])  # the chosen modules' scores
    scores = {}
    for student, (module, _, _) in CLASS.items():
        if module is None:  # a link in place of a folder or the module: grade what was submitted, as it is
            submitted = course["root"] / "submitted" / student
            folder = submitted if submitted.is_symlink() else submitted / A
            scores[student] = grade_report(folder, tmp / f"{student}.json")["score"]
        else:
            scores[student] = by_module[module]["score"]
    return scores


def grade_report(folder, out):
    result = run_cli("grade", A, folder, "--json", out)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


@pytest.mark.slow
def test_nobody_is_dropped_and_the_gradebook_holds_the_engines_scores(course, alone):
    exported = book(course["root"] / "export.csv")
    assert sorted(exported) == sorted(CLASS), course["log"][-3000:]
    assert exported == {s: pytest.approx(alone[s], abs=1e-4) for s in CLASS}
    for student, (module, _, _) in CLASS.items():
        if module is None:  # links in place of the folder or the module score nothing, as `grade` says
            assert exported[student] == 0, student
        else:
            assert exported[student] == MODULES[module][1], student
    for student in CLASS:
        report = json.loads((course["root"] / "autograded" / student / A / REPORT_NAME).read_text())
        assert report["score"] == pytest.approx(exported[student], abs=1e-4), student


@pytest.mark.slow
def test_grade_all_gives_every_student_the_same_score(course):
    with open(course["root"] / "grade-all" / "grades.csv", newline="") as f:
        rows = {row["student"]: float(row["score"]) for row in csv.DictReader(f)}
    assert rows == book(course["root"] / "export.csv")


@pytest.mark.slow
def test_each_feedback_says_in_one_line_what_was_wrong_with_the_notebook(course):
    for student, (_, _, note) in CLASS.items():
        html = (course["root"] / "feedback" / student / A / f"{A}.html").read_text()
        lines = note_lines(html)
        if note is None:
            assert lines == [], (student, lines)
        else:
            assert len(lines) == 1 and note.lower() in lines[0].lower(), (student, lines)
    gina = (course["root"] / "feedback" / "gina" / A / f"{A}.html").read_text()
    assert "submit the folder itself" in gina and "BEGIN SOLUTION" not in gina
    jack = json.loads((course["root"] / "autograded" / "jack" / A / REPORT_NAME).read_text())
    kate = json.loads((course["root"] / "autograded" / "kate" / A / REPORT_NAME).read_text())
    assert {i["feedback"] for i in jack["items"]} == {"activations.py is a symbolic link; submit the file itself"}
    assert {i["feedback"] for i in kate["items"]} == {
        "activations.py is a hard link to another file; submit the file itself"}


@pytest.mark.slow
def test_feedback_and_autograded_folders_hold_only_what_the_course_made(course):
    root = course["root"]
    for student, (module, _, _) in CLASS.items():
        for place, allowed in [("feedback", FEEDBACK_FILES), ("autograded", FEEDBACK_FILES - {f"{A}.html"} | {NB})]:
            folder = root / place / student / A
            entries = list(folder.iterdir())
            assert {p.name for p in entries} <= allowed, (place, student, [p.name for p in entries])
            assert all(stat.S_ISREG(os.lstat(p).st_mode) and os.lstat(p).st_nlink == 1 for p in entries), \
                (place, student)
        copied = (root / "feedback" / student / A / "activations.py")
        assert copied.exists() == (module is not None), student  # a linked module is never copied
    secret = (root / "solutions" / A / "activations.py").read_text()
    for student in ("gina", "hugo", "jack", "kate", "mona"):
        for path in (root / "feedback" / student / A).iterdir():
            if student != "mona" or path.suffix == ".html":  # mona's own module is the reference itself
                assert "### BEGIN SOLUTION" not in path.read_text() and path.read_text() != secret


@pytest.mark.slow
def test_classmates_files_solutions_and_gradebook_are_intact(course):
    root = course["root"]
    assert tree_fingerprint(root / "submitted") == course["before"]["submitted"]
    assert tree_fingerprint(root / "solutions") == course["before"]["solutions"]
    assert course["finn_graded"] == MODULES["reference"][0].encode()
    assert (root / "autograded" / "finn" / A / "activations.py").read_bytes() == course["finn_graded"]
    with sqlite3.connect(root / "gradebook.db") as db:
        students = {row[0] for row in db.execute("select id from student")}
    assert students == set(CLASS)
    assert not list(root.glob(".autograder_staged_*")), "the staging folder was left behind"


@pytest.mark.slow
def test_without_a_sandbox_the_kernels_links_are_removed_before_anything_reads_them(course):
    """AUTOGRADER_NO_SANDBOX=1: mona's kernel writes in its real folder; the scrub must catch all of it."""
    root = course["root"]
    for args in (["autograde", A, "--student", "mona", "--force"], ["generate_feedback", A, "--student", "mona",
                                                                     "--force"]):
        result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, capture_output=True, text=True,
                                env={**nbgrader_env(), "AUTOGRADER_NO_SANDBOX": "1"}, timeout=600)
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        if args[0] == "autograde":
            log = result.stdout + result.stderr
    for name, reason in [(REPORT_NAME, "is a symbolic link"), ("leak.html", "is a symbolic link"),
                         ("pipe.html", "is a named pipe"), ("made.html", "was not put there by the course"),
                         ("notes.html", "is a hard link to another file"),
                         ("hard.html", "is a hard link to another file")]:
        assert f"removed {name} from mona's autograded folder: it {reason}" in log, log[-3000:]
    graded = root / "autograded" / "mona" / A
    assert {p.name for p in graded.iterdir()} == {NB, "activations.py", REPORT_NAME, "timestamp.txt"}
    assert all(stat.S_ISREG(os.lstat(p).st_mode) for p in graded.iterdir())
    assert json.loads((graded / REPORT_NAME).read_text())["score"] == 14
    assert book_after_export(root)["mona"] == 14
    assert {p.name for p in (root / "feedback" / "mona" / A).iterdir()} <= FEEDBACK_FILES
    assert (root / "autograded" / "finn" / A / "activations.py").read_bytes() == course["finn_graded"]
    assert (root / "solutions" / A / "activations.py").read_text() == MODULES["reference"][0]
    assert tree_fingerprint(root / "submitted") == course["before"]["submitted"]


def book_after_export(root):
    run_nbgrader(root, "export", "--to", str(root / "export-again.csv"))
    return book(root / "export-again.csv")


# ----------------------------------------------------------------------------- quick checks, no nbgrader run
RELEASED = nbformat.read(REPO / "assignments" / A / NB, as_version=4)


def problem_of(change):
    nb = nbformat.read(REPO / "assignments" / A / NB, as_version=4)
    change(nb)
    return notebook_problem(nbformat.writes(nb).encode(), RELEASED)


def first_grade_cell(nb):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))


def to_markdown(nb):
    cell = first_grade_cell(nb)
    nb.cells[nb.cells.index(cell)] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)


@pytest.mark.parametrize("change, expected", [
    (copy_grade_cell, "has the cell 'sigmoid_prime' 2 times"),
    (lambda nb: nb.cells.remove(first_grade_cell(nb)), "lost the cell 'sigmoid_prime'"),
    (lambda nb: first_grade_cell(nb).metadata.pop("nbgrader"), "lost the cell 'sigmoid_prime'"),
    (lambda nb: first_grade_cell(nb).metadata.nbgrader.update(points=100), "nbgrader metadata of the cell"),
    (lambda nb: first_grade_cell(nb).metadata.nbgrader.update(schema_version=1), "nbgrader metadata of the cell"),
    (to_markdown, "changed from a code cell to a markdown cell"),
    (lambda nb: nb.cells[0].metadata.update(nbgrader={"grade": True}), "nbgrader metadata that the released"),
    (lambda nb: nb.cells[0].metadata.update(nbgrader="points"), "nbgrader metadata that the released"),
])
def test_notebooks_nbgrader_cannot_grade_are_replaced(change, expected):
    problem, replace = problem_of(change)
    assert replace and expected in problem, problem


def test_notebook_checks_tell_what_is_wrong():
    released = (REPO / "assignments" / A / NB).read_bytes()
    assert notebook_problem(released, RELEASED) == (None, False)
    assert notebook_problem(released[: len(released) // 2], RELEASED) == (
        "is not valid JSON (it may have been cut short while saving)", True)
    assert notebook_problem(b"\xff\xfe", RELEASED)[1] is True
    assert notebook_problem(b"[1, 2]", RELEASED) == ("is not a notebook", True)
    assert notebook_problem(b'{"cells": [{"cell_type": "code"}], "nbformat": 4, "nbformat_minor": 5, '
                            b'"metadata": {}}', RELEASED)[0].startswith("does not follow the notebook format")
    v3 = nbformat.writes(nbformat.convert(copy.deepcopy(RELEASED), 3)).encode()  # convert changes its input
    assert notebook_problem(v3, RELEASED) == (
        "was saved in an old notebook format (nbformat 3) and was converted", False)
    assert problem_of(lambda nb: nb.metadata.pop("kernelspec"))[1] is False
    assert "kernel specification" in problem_of(lambda nb: nb.metadata.pop("kernelspec"))[0]
    # A student's own work in ordinary cells, and another Jupyter's kernel display name, are fine.
    assert problem_of(lambda nb: (nb.cells.insert(3, nbformat.v4.new_code_cell("x = 1")),
                                  nb.metadata.kernelspec.update(display_name="Python 3 (ipykernel)"))) == (None, False)


def test_configure_keeps_a_cell_timeout_set_the_nbgrader_way():
    from nbgrader.apps import api, autogradeapp, generatefeedbackapp
    from traitlets.config import Config

    from autograder.nbgrader_hooks import CourseAutograde, CourseGenerateFeedback, configure
    assert configure(Config()).Execute.timeout == 120
    c = Config()
    c.Execute.timeout = 300
    assert configure(c).Execute.timeout == 300
    assert autogradeapp.Autograde is CourseAutograde and api.Autograde is CourseAutograde
    assert generatefeedbackapp.GenerateFeedback is CourseGenerateFeedback

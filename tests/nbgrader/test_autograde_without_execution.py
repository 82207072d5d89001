"""Autograding without running the notebooks (c.CourseAutograde.execute_notebooks = False), through real nbgrader.

The same small class (the reference, the untouched stub, a mutant, a notebook
that is not valid JSON, and a stub whose saved outputs claim full marks) is
autograded twice with ``python -m autograder autograde``: once as nbgrader
does by default (notebooks run), once with the notebooks not run. The
gradebook must hold the engine's scores, the same in both, and the known
scores of the reference and the stub; the feedback must say the notebook was
not run; nothing a student saved as output may show up.
"""
import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.nbgrader_hooks import NOT_RUN_SENTENCE, REPORT_NAME
from autograder.release import run_nbgrader
from helpers import REPO, run_cli
from mutants_hw1 import mutant_source
from helpers import gradebook_totals
from test_class_autograde import ASSIGNMENT, MODULE, new_course, submit

NOTEBOOK = f"{ASSIGNMENT}.ipynb"
NOT_RUN_LINE = "c.CourseAutograde.execute_notebooks = False"
FORGED = "forged by the student"
KNOWN_TOTALS = {"alice": 14.0, "bob": 0.0, "grace": 0.0, "broken": 14.0}
STUDENTS = ["alice", "bob", "erin", "broken", "grace"]


def reference():
    return (REPO / "solutions" / ASSIGNMENT / MODULE).read_text()


def forge_outputs(path):
    """Give every code cell of the notebook at ``path`` saved outputs claiming full marks."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        points = cell.metadata.get("nbgrader", {}).get("points", 14)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{points} / {points}. {FORGED}\n"),
                        nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(points))},
                                               execution_count=1)]
        cell.execution_count = 1
    nbformat.write(nb, path)


def class_course(root, run_notebooks):
    course = new_course(root)
    if not run_notebooks:
        with open(course / "nbgrader_config.py", "a") as f:
            f.write(f"\nc = get_config()  # noqa: F821\n{NOT_RUN_LINE}\n")
    submit(course, "alice", reference())
    submit(course, "bob")  # the untouched stub
    submit(course, "erin", mutant_source("softmax_unstable"))
    submit(course, "broken", reference())
    (course / "submitted" / "broken" / ASSIGNMENT / NOTEBOOK).write_text('{"cells": [')  # cut short
    submit(course, "grace")  # the stub, with a notebook whose saved outputs claim full marks
    forge_outputs(course / "submitted" / "grace" / ASSIGNMENT / NOTEBOOK)
    return course


# ----------------------------------------------------------------------------- the option itself
def autograde_converter(tmp_path, **settings):
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from autograder.nbgrader_hooks import CourseAutograde, configure
    config = configure(Config())
    for name, value in settings.items():
        setattr(config.CourseAutograde, name, value)
    return CourseAutograde(coursedir=CourseDirectory(root=str(tmp_path), config=config), config=config)


def autograde_preprocessors(converter):
    """Names of the preprocessors the converter runs in its autograde stage (as its start() sets them up)."""
    converter.exporter = converter.exporter_class(parent=converter, config=converter.config)
    converter._sanitizing = False
    converter._init_preprocessors()
    return [type(p).__name__ for p in converter.exporter._preprocessors]


def test_notebooks_are_run_unless_the_configuration_says_otherwise(tmp_path):
    from autograder.nbgrader_hooks import CourseAutograde
    trait = CourseAutograde.class_traits()["execute_notebooks"]
    assert trait.default() is True and trait.metadata.get("config") is True
    assert NOT_RUN_LINE in " ".join(trait.help.split())
    assert "ExecuteKeepGoing" in autograde_preprocessors(autograde_converter(tmp_path))
    not_run = autograde_preprocessors(autograde_converter(tmp_path, execute_notebooks=False))
    assert "ExecuteKeepGoing" not in not_run and not_run[0] == "WriteEngineGrades"


def test_a_plain_execute_configured_instead_is_dropped_too(tmp_path):
    from nbgrader.preprocessors import Execute

    from autograder.nbgrader_hooks import WriteEngineGrades
    converter = autograde_converter(tmp_path, execute_notebooks=False)
    converter.autograde_preprocessors = [Execute, WriteEngineGrades]
    assert autograde_preprocessors(converter) == ["WriteEngineGrades"]


# ----------------------------------------------------------------------------- a class, through real nbgrader
@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    """{run_notebooks: (course, result of autograde)}, both classes autograded and their feedback generated."""
    found = {}
    for run_notebooks in (True, False):
        course = class_course(tmp_path_factory.mktemp("class") / "course", run_notebooks)
        result = run_cli("autograde", ASSIGNMENT, "--jobs", "2", cwd=course, timeout=900)
        assert result.returncode == 0, result.stdout + result.stderr
        run_nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
        found[run_notebooks] = course, result
    return found


def report(course, student):
    return json.loads((course / "autograded" / student / ASSIGNMENT / REPORT_NAME).read_text())


def autograded(course, student):
    return nbformat.read(course / "autograded" / student / ASSIGNMENT / NOTEBOOK, as_version=4)


def feedback(course, student):
    return (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def printed(cell):
    return "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)


@pytest.mark.slow
def test_the_gradebook_is_the_same_with_and_without_running_the_notebooks(classes):
    run, not_run = gradebook_totals(classes[True][0]), gradebook_totals(classes[False][0])
    assert set(run) == set(not_run) == set(STUDENTS)
    for student in STUDENTS:
        engine = report(classes[False][0], student)["score"]
        assert not_run[student] == pytest.approx(engine, abs=1e-3), student
        assert not_run[student] == pytest.approx(run[student], abs=1e-3), student
    for student, total in KNOWN_TOTALS.items():
        assert not_run[student] == pytest.approx(total, abs=1e-3), student
    assert 0 < not_run["erin"] < 14  # the mutant loses its softmax item only
    assert "every autograded student's grades equal the engine's report" in classes[False][1].stdout


@pytest.mark.slow
def test_the_command_says_the_notebooks_are_not_run(classes):
    assert NOT_RUN_LINE in classes[False][1].stdout
    assert NOT_RUN_LINE not in classes[True][1].stdout


@pytest.mark.slow
def test_the_feedback_says_the_notebook_was_not_run_in_its_first_cell(classes):
    course = classes[False][0]
    for student in STUDENTS:
        nb = autograded(course, student)
        assert nb.cells[0].cell_type == "markdown" and NOT_RUN_SENTENCE in nb.cells[0].source, student
        assert NOT_RUN_SENTENCE not in "".join(c.source for c in nb.cells[1:])  # said once
        assert report(course, student)["notebook_run"] is False
        assert "was not run during grading" in feedback(course, student)
    broken = autograded(course, "broken")
    assert "is not valid JSON" in broken.cells[1].source  # the student's own note comes right after
    for student in STUDENTS:
        nb = autograded(classes[True][0], student)
        assert all(NOT_RUN_SENTENCE not in c.source for c in nb.cells)
        assert "notebook_run" not in report(classes[True][0], student)
        assert "was not run during grading" not in feedback(classes[True][0], student)


@pytest.mark.slow
def test_the_notebooks_really_were_not_run(classes):
    for run_notebooks, course_result in classes.items():
        nb = autograded(course_result[0], "alice")
        plotted = [c for c in nb.cells if c.cell_type == "code" and "nbgrader" not in c.metadata and c.outputs]
        assert bool(plotted) == run_notebooks  # the plotting cells have output only when the kernel ran them


@pytest.mark.slow
def test_saved_outputs_cannot_change_what_the_grade_cells_show(classes):
    course = classes[False][0]
    engine = {item["name"]: item for item in report(course, "grace")["items"]}
    nb = autograded(course, "grace")
    graded = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    assert {c.metadata.nbgrader.grade_id for c in graded} == set(engine)
    for cell in graded:
        item = engine[cell.metadata.nbgrader.grade_id]
        points = cell.metadata.nbgrader.points
        assert item["score"] == 0  # the stub earns nothing, whatever its notebook shows
        assert printed(cell).startswith(f"{item['name']}: 0 / {points:g}. "), printed(cell)
        assert item["feedback"] in printed(cell)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell not in graded:
            assert cell.outputs == [] and cell.execution_count is None  # the student's saved outputs are gone
    assert FORGED not in json.dumps(nb) and FORGED not in feedback(course, "grace")


@pytest.mark.slow
def test_nbgraders_own_command_line_option_is_honoured(classes, tmp_path):
    course = tmp_path / "copy"
    shutil.copytree(classes[True][0], course)  # autograded with the notebooks run
    run_nbgrader(course, "autograde", ASSIGNMENT, "--student", "erin", "--force",
                 "--CourseAutograde.execute_notebooks=False")
    assert NOT_RUN_SENTENCE in autograded(course, "erin").cells[0].source
    assert gradebook_totals(course)["erin"] == pytest.approx(report(course, "erin")["score"], abs=1e-3)
    assert gradebook_totals(course)["erin"] == pytest.approx(gradebook_totals(classes[True][0])["erin"], abs=1e-3)


@pytest.mark.slow
def test_the_class_command_can_be_told_not_to_run_the_notebooks(classes, tmp_path):
    """What ``python -m autograder autograde --no-execute`` would pass: it overrides nbgrader_config.py."""
    course = tmp_path / "copy"
    shutil.copytree(classes[True][0], course)  # its nbgrader_config.py runs the notebooks
    code = ("import sys; from autograder.class_autograde import autograde_class; "
            f"sys.exit(autograde_class({ASSIGNMENT!r}, jobs=1, students=['alice'], execute_notebooks=False))")
    result = subprocess.run([sys.executable, "-c", code], cwd=course, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert NOT_RUN_LINE in result.stdout
    assert NOT_RUN_SENTENCE in autograded(course, "alice").cells[0].source
    assert NOT_RUN_SENTENCE not in autograded(course, "bob").cells[0].source  # not autograded again
    assert gradebook_totals(course)["alice"] == pytest.approx(14, abs=1e-3)

"""Lectures and assignment notebooks run top to bottom without errors."""
import os
import shutil
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import REPO

pytestmark = pytest.mark.slow
LECTURES = sorted((REPO / "lectures").glob("*.ipynb"))


def execute(path, cwd, allow_errors=False):
    nb = nbformat.read(path, as_version=4)
    os.environ.pop("MPLBACKEND", None)  # plots go inline into the notebook
    # The kernel must find this environment's Python (and autograder) first.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def outputs_text(nb):
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_there_is_a_lecture_per_assignment():
    from autograder import assignments
    numbers = {p.name[:2] for p in LECTURES}
    for assignment_id in assignments.ASSIGNMENTS:
        assert assignment_id[2:3].zfill(2) in numbers


@pytest.mark.parametrize("path", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_runs(path):
    nb = execute(path, path.parent)
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 1, "a lecture should show at least one plot"


def test_lecture_01_shows_the_graph_numbers():
    text = outputs_text(execute(REPO / "lectures" / "01_sigmoid_neurons_and_activations.ipynb", REPO / "lectures"))
    assert "f = 21.0855" in text
    assert "df/dw1 = 20.0855   df/dw0 = 20.0855   df/dx = 40.1711" in text


@pytest.mark.parametrize("folder", ["solutions", "assignments"])
def test_hw1_notebook_runs_with_reference_and_with_stub(folder, tmp_path):
    work = tmp_path / "hw1"
    shutil.copytree(REPO / folder / "hw1_activations", work)
    nb = execute(work / "hw1_activations.ipynb", work, allow_errors=folder == "assignments")
    text = outputs_text(nb)
    errors = [o.ename for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    if folder == "solutions":
        assert "not implemented yet" not in text and "PASS sigmoid_prime" in text and not errors
    else:
        # Before any work, the lesson cells run and every grade cell turns red.
        assert "not implemented yet" in text and "FIX  sigmoid_prime" in text
        assert errors == ["PublicChecksFailed"] * 9


@pytest.mark.parametrize("folder,failed", [("solutions", 0), ("assignments", 9)])
def test_nbgrader_validate_tells_the_truth(folder, failed, tmp_path):
    """Students press Validate: it must fail on the stub and pass on finished work."""
    from nbgrader.validator import Validator
    work = tmp_path / "hw1"
    shutil.copytree(REPO / folder / "hw1_activations", work)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    cwd = os.getcwd()
    os.chdir(work)  # the notebook imports activations.py from its own folder
    try:
        result = Validator().validate(str(work / "hw1_activations.ipynb"))
    finally:
        os.chdir(cwd)
    assert len(result.get("failed", [])) == failed, result

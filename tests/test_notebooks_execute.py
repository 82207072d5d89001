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


def test_lecture_02_shows_the_graph_bp_checks_and_learning():
    text = outputs_text(execute(REPO / "lectures" / "02_backpropagation_and_minibatches.ipynb", REPO / "lectures"))
    assert text.count("df/dw1 = 20.0855   df/dw0 = 20.0855   df/dx = 40.1711") == 2  # by hand and by the engine
    assert "[4, 4, 4]  graph gradients vs central differences" in text and "same gradients: True" in text
    if "epoch 5:" in text:  # MNIST present
        final = float(text.split("epoch 5: ")[1].split("%")[0])
        assert final > 85.0, text


def test_lecture_03_compares_inits_l2_and_optimizers():
    text = outputs_text(execute(REPO / "lectures" / "03_initialisation_regularisation_and_optimizers.ipynb",
                                REPO / "lectures"))
    assert "relu  He sqrt(2/n_in)" in text and "Rosenbrock Adam" in text
    if "MNIST      Adam" in text:  # MNIST present
        assert "lambda = 0.003" in text


# Per assignment: a line the finished notebook prints, a line the untouched one prints, and how many grade
# cells fail on the untouched one (every item, except GPU items on a machine without a GPU: they say SKIP).
NOTEBOOKS = {
    "hw1_activations": ("PASS sigmoid_prime", "FIX  sigmoid_prime", 9),
    "hw2_backprop": ("PASS backprop_batch", "FIX  backprop_batch", 6),
    "hw3_optimizers": ("PASS adam", "FIX  adam", 7),
    "hw4_gpu": ("PASS train_epoch", "FIX  train_epoch", 5),
}


@pytest.mark.parametrize("folder", ["solutions", "assignments"])
@pytest.mark.parametrize("assignment_id", sorted(NOTEBOOKS))
def test_assignment_notebook_runs_with_reference_and_with_stub(assignment_id, folder, tmp_path):
    work = tmp_path / assignment_id
    shutil.copytree(REPO / folder / assignment_id, work)
    nb = execute(work / f"{assignment_id}.ipynb", work, allow_errors=folder == "assignments")
    text = outputs_text(nb)
    errors = [o.ename for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    passed, to_fix, items = NOTEBOOKS[assignment_id]
    if folder == "solutions":
        assert "not implemented yet" not in text and passed in text and not errors, (text, errors)
    else:
        # Before any work, the lesson cells run and every grade cell turns red.
        assert "not implemented yet" in text and to_fix in text
        assert errors == ["PublicChecksFailed"] * items


def test_every_assignment_notebook_is_exercised():
    from autograder import assignments
    assert set(NOTEBOOKS) == set(assignments.ASSIGNMENTS)


@pytest.mark.parametrize("folder", ["solutions", "assignments"])
@pytest.mark.parametrize("assignment_id", sorted(NOTEBOOKS))
def test_nbgrader_validate_tells_the_truth(assignment_id, folder, tmp_path):
    """Students press Validate: it must fail on the stub and pass on finished work."""
    from nbgrader.validator import Validator
    work = tmp_path / assignment_id
    shutil.copytree(REPO / folder / assignment_id, work)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    cwd = os.getcwd()
    os.chdir(work)  # the notebook imports the student's module from its own folder
    try:
        result = Validator().validate(str(work / f"{assignment_id}.ipynb"))
    finally:
        os.chdir(cwd)
    failed = 0 if folder == "solutions" else NOTEBOOKS[assignment_id][2]
    assert len(result.get("failed", [])) == failed, result


def test_lecture_04_runs_the_cpu_path_and_says_what_it_skipped():
    text = outputs_text(execute(REPO / "lectures" / "04_training_on_the_gpu_with_cupy.ipynb", REPO / "lectures"))
    assert "FLOP per byte" in text and "GFLOP/s" in text and "(a silent upcast)" in text
    if "no usable GPU" in text:  # the GPU cells say so instead of failing
        for skipped in ("GPU kernel: skipped, no GPU", "GPU timing: skipped, no GPU", "GPU curve: skipped, no GPU"):
            assert skipped in text
    else:
        assert "speedup" in text and "CUDA events median" in text
    if "NumPy: held-out accuracy" in text:  # MNIST present
        final = float(text.split("NumPy: held-out accuracy per epoch ")[1].split("]")[0].split("'")[-2].rstrip("%"))
        assert final > 88.0, text

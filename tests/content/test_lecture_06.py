"""Lecture 06 (from NumPy to PyTorch): PyTorch agrees with hw2's backprop and hw3's optimizers.

PyTorch is an optional extra (pip install -e ".[torch]"): the comparison test skips without it, and
the lecture is also run with PyTorch hidden, as a student without it would run it.
"""
import importlib.util
import os
import re
import shutil
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import REPO

pytestmark = pytest.mark.slow
LECTURE = REPO / "lectures" / "06_from_numpy_to_pytorch.ipynb"
CHECK = re.compile(r"^check (\w+): max abs difference (\S+)", re.MULTILINE)
# Every comparison the lecture prints, and how far apart (float64 rounding) the two sides may be.
TOLERANCES = {
    "autograd_graph": 1e-12,
    "gradient_layer1": 1e-10,
    "gradient_layer2": 1e-10,
    "SGD": 1e-10,
    "SGD_momentum": 1e-10,
    "SGD_nesterov_weight_decay": 1e-10,
    "Adam": 1e-10,
    "Adam_amsgrad": 1e-10,
    "one_epoch_of_training": 1e-9,  # 800 steps of rounding
}
SKIPPED_LINE = "PyTorch cells skipped: PyTorch is not installed"


def run_lecture(path, cwd):
    """(printed text, number of images, error names) of the executed lecture."""
    nb = nbformat.read(path, as_version=4)
    os.environ.pop("MPLBACKEND", None)  # plots go inline into the notebook
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs)
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    return text, images, errors


def hide_torch(tmp_path, monkeypatch):
    """The kernel's `import torch` raises ImportError, as where PyTorch is not installed."""
    fake = tmp_path / "no_torch" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("No module named \'torch\'")\n')
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))


def test_torch_agrees_with_hw2_backprop_and_hw3_optimizers():
    if importlib.util.find_spec("torch") is None:
        pytest.skip('PyTorch is not installed (optional extra: pip install -e ".[torch]")')
    text, images, errors = run_lecture(LECTURE, LECTURE.parent)
    assert not errors, errors
    differences = {name: float(value) for name, value in CHECK.findall(text)}
    assert set(differences) == set(TOLERANCES), text
    too_far = {name: d for name, d in differences.items() if not d <= TOLERANCES[name]}
    assert not too_far, text
    assert "df/dw1 = 20.0855   df/dw0 = 20.0855   df/dx = 40.1711" in text  # lecture 1's numbers
    assert "(reference solution)" in text and SKIPPED_LINE not in text
    assert images >= 1
    if "MNIST course subset" in text:  # MNIST present: the device run learns as hw2 does
        final = float(text.split("held-out accuracy per epoch:")[2].split("%']")[0].split("'")[-1])
        assert final > 85.0, text


def test_without_torch_the_lecture_says_once_what_it_skipped(tmp_path, monkeypatch):
    hide_torch(tmp_path, monkeypatch)
    text, images, errors = run_lecture(LECTURE, LECTURE.parent)
    assert not errors, errors
    skipped = [line for line in text.splitlines() if "skipped" in line]
    assert len(skipped) == 1 and skipped[0].startswith(SKIPPED_LINE), text
    assert 'pip install -e ".[torch]"' in skipped[0]
    assert not CHECK.findall(text), text  # no torch cell ran
    assert images >= 1  # the NumPy curve is still drawn


def test_in_a_student_copy_it_compares_with_the_students_own_files(tmp_path):
    """Students have no solutions/: the lecture uses their assignment files and says what is not done yet."""
    for folder in ("lectures", "assignments"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    text, images, errors = run_lecture(tmp_path / "lectures" / LECTURE.name, tmp_path / "lectures")
    assert not errors, errors
    assert "assignments/hw2_backprop/network.py (your own work)" in text
    assert "NumPy run skipped: update_mini_batch in assignments/hw2_backprop/network.py" in text
    assert not any(name.startswith(("gradient", "SGD", "Adam", "one_epoch")) for name, _ in CHECK.findall(text)), text
    assert images >= 1


def test_the_lecture_holds_no_solution_line():
    """The lecture reaches students: it imports the reference, it never copies it."""
    from autograder.student_repo import secret_lines
    source = "\n".join(cell.source for cell in nbformat.read(LECTURE, as_version=4).cells)
    secrets = secret_lines(REPO / "solutions")
    assert secrets  # the search has something to look for
    assert [line for line in secrets if line in source] == []

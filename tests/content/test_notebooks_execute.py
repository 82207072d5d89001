"""Lectures and assignment notebooks run top to bottom without errors."""
import os
import re
import shutil
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import REPO

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
    # The derivation's claims, measured: sigma' = sigma (1 - sigma), at most 1/4; central vs forward differences.
    assert "largest sigmoid slope: 0.25" in text
    assert numbers_after(text, "sigma(1 - sigma) vs measured slope")[-1] < 1e-9
    central, forward = numbers_after(text, "h = 1e-5: central difference relative error")
    assert central < 1e-9 and 1e-6 < forward < 1e-4


def test_lecture_02_shows_the_graph_bp_checks_and_learning():
    text = outputs_text(execute(REPO / "lectures" / "02_backpropagation_and_minibatches.ipynb", REPO / "lectures"))
    assert text.count("df/dw1 = 20.0855   df/dw0 = 20.0855   df/dx = 40.1711") == 2  # by hand and by the engine
    assert "[4, 4, 4]  graph gradients vs central differences" in text and "same gradients: True" in text
    assert "layer 1: dC/dW = delta 4x1 @ a^T 1x3 -> (4, 3), same as W (4, 3)" in text
    assert numbers_after(text, "BP1-BP4 by hand vs the engine: largest difference")[-1] < 1e-12
    raw, standardised = (numbers_after(text, name) for name in ("raw features", "standardised"))
    assert raw[0] > 1e6 and "not converged after 10,000 steps" in text and standardised[0] < 2 and standardised[1] < 20
    if "batch     1:" in text:  # MNIST present: noise falls with the batch size; progress follows the updates
        runs = {size: numbers_after(text, f"batch {size:5d}:") for size in (1, 10, 100, 8000)}
        spreads = [runs[size][3] for size in (1, 10, 100, 8000)]
        assert spreads == sorted(spreads, reverse=True) and spreads[-1] == 0
        held_out = {size: numbers[-1] for size, numbers in runs.items()}
        assert held_out[10] > held_out[1] > held_out[100] > held_out[8000] and held_out[8000] < 20
        assert all(abs(numbers[-2] - numbers[-1]) < 4.5 for numbers in runs.values())
        assert abs(runs[10][-2] - runs[10][-1]) < 1.5
    if "epoch 5:" in text:  # MNIST present
        final = float(text.split("epoch 5: ")[1].split("%")[0])
        assert final > 85.0, text


def init_spread(text, label):
    """(first layer, tenth layer, ratio per layer) from lecture 03's line for label."""
    _, first, _, last, ratio = numbers_after(text, label)
    return first, last, ratio


def numbers_after(text, label):
    """The numbers on the printed line that starts with label, in order."""
    line = next(line for line in text.splitlines() if line.startswith(label))
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", line[len(label):])]


def test_lecture_03_compares_inits_l2_and_optimizers():
    text = outputs_text(execute(REPO / "lectures" / "03_initialisation_regularisation_and_optimizers.ipynb",
                                REPO / "lectures"))
    # Initialisation: the sentences quote these numbers (first layer, tenth layer, ratio per layer).
    first, last, ratio = init_spread(text, "relu  LeCun = Glorot")
    assert first == pytest.approx(0.58, abs=0.03) and last == pytest.approx(0.019, rel=0.3)
    assert 0.62 <= ratio <= 0.76, "the variance, not the std, halves per ReLU layer"
    first, last, ratio = init_spread(text, "relu  He sqrt(2/n_in)")
    assert 0.75 <= first <= 0.9 and 0.75 <= last <= 0.9 and 0.95 <= ratio <= 1.05
    first, last, ratio = init_spread(text, "tanh  LeCun = Glorot")
    assert first == pytest.approx(0.63, abs=0.03) and last == pytest.approx(0.22, abs=0.04) and ratio < 0.92
    first, last, ratio = init_spread(text, "tanh  He sqrt(2/n_in)")
    assert 0.5 <= last <= 0.75 and first <= 0.75 and ratio >= 0.94
    assert init_spread(text, "relu  normal N(0, 1)")[2] == pytest.approx(11, abs=1.5)
    assert init_spread(text, "tanh  normal N(0, 1)")[1] > 0.95
    # Rosenbrock: SGD crawls, momentum and Nesterov below 1e-3, Adagrad above RMSprop, Adam lowest.
    f = {name: numbers_after(text, f"Rosenbrock {name}  ")[-1]
         for name in ("SGD", "SGD lr 2e-3", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adam")}
    assert f["SGD"] > 1 and f["momentum"] < 1e-3 and f["Nesterov"] < 1e-3 and f["Adagrad"] > f["RMSprop"]
    assert f["SGD lr 2e-3"] < 1e-3 and f["Adam"] == min(f.values())
    diverged = next(line for line in text.splitlines() if line.startswith("Rosenbrock SGD lr 5e-3"))
    assert "nan" in diverged or "inf" in diverged
    if "MNIST      Adam" not in text:  # MNIST absent
        return
    # L2: lambda chosen on validation; it shrinks the weights and the test loss, not the accuracy.
    norms = [numbers_after(text, f"lambda = {l2:<6g}")[-1] for l2 in (0, 1e-3, 3e-3, 1e-2, 3e-2)]
    assert norms == sorted(norms, reverse=True) and norms[0] == pytest.approx(18.0, abs=1)
    assert "chosen on validation loss: lambda = 0.01" in text
    assert norms[3] == pytest.approx(7.6, abs=0.5)
    acc0, loss0 = numbers_after(text, "test, lambda = 0 ")
    acc, loss = numbers_after(text, "test, lambda = 0.01")
    assert abs(acc - acc0) <= 1.0, "the text says L2 does not change accuracy here"
    assert loss0 == pytest.approx(0.44, abs=0.03) and loss == pytest.approx(0.37, abs=0.03)
    # Optimizers: momentum at lr 0.01 behind SGD at 0.1 at first, level by step 100.
    _, _, _, s20, s100, _, _, m20, m100, _ = numbers_after(text, "same effective step")
    assert m20 > s20 + 0.15 and abs(m100 - s100) < 0.05
    tuned = {name: numbers_after(text, f"MNIST      {name} ")
             for name in ("SGD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adam")}
    step100 = {name: numbers[-1] for name, numbers in tuned.items()}
    assert max(step100[n] for n in ("Adagrad", "RMSprop", "Adam")) < min(step100[n] for n in ("SGD", "momentum", "Nesterov"))
    assert numbers_after(text, "tuned validation accuracies span")[0] <= 1.5
    test_acc = numbers_after(text, "test accuracy of each tuned optimizer")
    assert max(test_acc) - min(test_acc) <= 2.5 and min(test_acc) > 90
    assert max(step100[n] for n in ("Adagrad", "RMSprop", "Adam")) <= 0.35 and 0.4 <= step100["SGD"] <= 0.5


# Per assignment: a line the finished notebook prints, a line the untouched one prints, and how many grade
# cells fail on the untouched one (every item, except GPU items on a machine without a GPU: they say SKIP).
NOTEBOOKS = {
    "hw1_activations": ("PASS sigmoid_prime", "FIX  sigmoid_prime", 9),
    "hw2_backprop": ("PASS backprop_batch", "FIX  backprop_batch", 6),
    "hw3_optimizers": ("PASS adam", "FIX  adam", 7),
    "hw4_gpu": ("PASS train_epoch", "FIX  train_epoch", 5),
    "hw5_cross_entropy": ("PASS binary_cross_entropy", "FIX  binary_cross_entropy", 8),
}


def test_every_assignment_notebook_is_run_here():
    from autograder import assignments
    assert set(NOTEBOOKS) == set(assignments.ASSIGNMENTS)


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
    assert "sigmoid and its derivative as array expressions: 6 operations " \
           "(negative, exp, add, divide, subtract, multiply)" in text
    if "no usable GPU" in text:  # the GPU cells say so instead of failing
        for skipped in ("GPU kernel: skipped, no GPU", "GPU timing: skipped, no GPU", "GPU curve: skipped, no GPU"):
            assert skipped in text
    else:
        assert "speedup" in text and "CUDA events median" in text
    if "NumPy: held-out accuracy" in text:  # MNIST present
        final = float(text.split("NumPy: held-out accuracy per epoch ")[1].split("]")[0].split("'")[-2].rstrip("%"))
        assert final > 88.0, text

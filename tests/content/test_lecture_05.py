"""Lecture 05 runs top to bottom, and every number its sentences quote is the number its cells compute.

It runs twice: with MNIST where the machine has it, and with MNIST hidden (an empty MNIST_DIR), where the
lecture must fall back to its synthetic stand-in and still run cleanly.
"""
import re

import nbformat
import pytest

from helpers import REPO
from test_notebooks_execute import execute, outputs_text

pytestmark = pytest.mark.slow
LECTURE = REPO / "lectures" / "05_cross_entropy_softmax_and_regularisation.ipynb"


def number_after(text, label):
    match = re.search(re.escape(label) + r"\s*(-?[0-9.]+(?:e-?[0-9]+)?)(%?)", text)
    assert match, f"{label!r} not in the lecture's output:\n{text}"
    value = float(match.group(1))
    return value / 100 if match.group(2) else value


@pytest.fixture(scope="module")
def lecture():
    nb = execute(LECTURE, LECTURE.parent)
    return nb, outputs_text(nb)


def markdown(nb):
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_runs_cleanly_with_plots(lecture):
    nb, text = lecture
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert "Warning" not in text, text
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 2  # the one-neuron curves and the early-stopping curves


def test_likelihood_is_cross_entropy_and_the_product_underflows(lecture):
    _, text = lecture
    assert "same: True" in text
    assert number_after(text, "-ln(likelihood) / m =") == number_after(text, "binary cross-entropy =")
    assert "product of 2,000 probabilities: 0.0 " in text


def test_softmax_delta_and_the_stable_cost(lecture):
    _, text = lecture
    assert number_after(text, "largest difference") < 1e-7
    assert "naive nan, stable 2000.0" in text


def test_one_neuron_numbers_match_the_text(lecture):
    nb, text = lecture
    prose = markdown(nb)
    output, slope = number_after(text, "start: output"), number_after(text, "sigma'(4) =")
    assert round(output, 2) == 0.98 and r"\sigma(4) \approx 0.98" in prose
    assert round(slope, 3) == 0.018 and r"\sigma'(4) \approx 0.018" in prose
    slow = int(number_after(text, "quadratic    : output below 0.5 after"))
    fast = int(number_after(text, "cross-entropy: output below 0.5 after"))
    assert (slow, fast) == (232, 17)
    assert f"{slow} epochs before its output falls below 0.5, against {fast} with cross-entropy" in prose
    assert "for more than 200 epochs" in prose and slow > 200
    assert number_after(text, "cross-entropy: output below 0.5 after 17 epochs, output after 300 epochs") < 0.05


def test_weight_decay_is_the_gradient_step(lecture):
    _, text = lecture
    assert number_after(text, "decay factor") == 1 - 0.5 * 5.0 / 1000
    assert number_after(text, "differ by at most") < 1e-12


def test_inverted_dropout_keeps_the_mean(lecture):
    _, text = lecture
    plain = number_after(text, "without dropout")
    assert abs(number_after(text, "inverted dropout in training") - plain) < 0.01 * plain
    assert number_after(text, "at test time") == plain
    assert abs(number_after(text, "without the 1/p scaling, in training:") - 0.5 * plain) < 0.01 * plain


def check_early_stopping(text, prose):
    for name in ("no regularisation", "L2, lambda = 1", "dropout, p = 0.8"):
        stopped = int(number_after(text, f"{name:18s}: stopped after epoch"))
        best = int(number_after(text, f"{name:18s}: stopped after epoch {stopped}, best epoch"))
        assert best + 6 == stopped < 39, (name, best, stopped)  # patience 6, stopped before the last epoch
    chosen = re.search(r"validation picks: (.+) \(epoch", text).group(1)
    assert chosen in ("no regularisation", "L2, lambda = 1", "dropout, p = 0.8")
    spread = number_after(text, "best validation accuracies lie within")
    return chosen, spread


def test_mnist_run_chooses_on_validation_and_tests_once(lecture):
    nb, text = lecture
    if "MNIST: training 1000" not in text:
        pytest.skip("MNIST is not on this machine (the stand-in run is tested below)")
    chosen, spread = check_early_stopping(text, markdown(nb))
    assert spread <= 0.02 and "within a point or two" in markdown(nb)
    assert number_after(text, "test accuracy of the chosen model, measured once:") > 0.85


def test_the_test_set_is_touched_once_in_the_code(lecture):
    nb, _ = lecture
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    # One evaluation on the test set; stopping and choosing use the validation set.
    assert len(re.findall(r"(?:accuracy|predict)\([^\n]*X_test", source)) == 1
    assert source.count("accuracy((weights, biases), X_val, y_val)") == 1


def test_runs_on_the_stand_in_without_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))  # an empty folder: MNIST is not found
    nb = execute(LECTURE, LECTURE.parent)
    text = outputs_text(nb)
    assert "MNIST not found" in text and "synthetic stand-in: training 1000" in text
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    check_early_stopping(text, markdown(nb))
    assert number_after(text, "test accuracy of the chosen model, measured once:") > 0.5

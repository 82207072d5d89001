"""The arithmetic the hw2 grader trusts is itself checked: against finite differences,
against the per-example definition, and against the lecture's numbers."""
import importlib.util

import numpy as np
import pytest

from autograder import network_checks as nc
from autograder.hidden import reference_sgd
from helpers import REPO, grade_folder, item_scores, write_submission

spec = importlib.util.spec_from_file_location("hidden_hw2", REPO / "autograder" / "hidden" / "test_hw2_backprop.py")
hidden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hidden)


@pytest.mark.parametrize("sizes", [[3, 2], [3, 4, 2], [4, 4, 4], [2, 5, 5, 5, 3]])
def test_reference_backprop_matches_finite_differences(sizes):
    rng = np.random.default_rng(len(sizes))
    weights, biases = nc.random_net(rng, sizes)
    x, y = rng.uniform(size=(sizes[0], 1)), rng.uniform(size=(sizes[-1], 1))
    got_b, got_w = hidden.reference_backprop(weights, biases, x, y)
    fd_b, fd_w = nc.finite_differences(weights, biases, x, y)
    for got, fd in zip(got_b + got_w, fd_b + fd_w):
        assert np.allclose(got, fd, rtol=1e-8, atol=1e-11)


def test_batch_gradients_equal_the_per_example_sum():
    rng = np.random.default_rng(7)
    weights, biases = nc.random_net(rng, [6, 5, 5, 3])
    X, Y = rng.uniform(size=(6, 9)), rng.uniform(size=(3, 9))
    for got, expected in zip(sum(reference_sgd.batch_gradients(weights, biases, X, Y), []),
                             sum(hidden.per_example_sum(weights, biases, X, Y), [])):
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_the_loop_baseline_is_nielsens_rule():
    namespace = {}
    exec(hidden.BASELINES, namespace)
    rng = np.random.default_rng(8)
    weights, biases = nc.random_net(rng, [5, 4, 3])
    X, Y = rng.uniform(size=(5, 6)), rng.uniform(size=(3, 6))
    expected_w, expected_b = hidden.sgd_step(weights, biases, X, Y, 0.7)
    for kind in ("LoopNetwork", "MatrixNetwork"):
        net = namespace[kind]([w.copy() for w in weights], [b.copy() for b in biases])
        net.update_mini_batch(nc.pairs(X, Y), 0.7)
        for got, expected in zip(net.weights + net.biases, expected_w + expected_b):
            assert np.allclose(got, expected, rtol=1e-12, atol=1e-15), kind


def test_the_computational_graph_of_lecture_01():
    """f = 1 + exp(w1 x + w0) at x=1, w1=2, w0=1: df/dw1 = x e^3, df/dw0 = e^3 (central differences)."""
    f = lambda w1, w0, x: 1 + np.exp(w1 * x + w0)  # noqa: E731
    h = 1e-6
    assert abs((f(2 + h, 1, 1) - f(2 - h, 1, 1)) / (2 * h) - np.exp(3)) < 1e-6
    assert abs((f(2, 1 + h, 1) - f(2, 1 - h, 1)) / (2 * h) - np.exp(3)) < 1e-6


def test_the_sigmoid_never_overflows():
    with np.errstate(all="raise"):
        assert nc.sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist() == [0.0, 0.5, 1.0]


def test_learning_is_not_graded_without_mnist(tmp_path, monkeypatch):
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    monkeypatch.setenv("MNIST_DIR", str(empty))
    folder = write_submission(tmp_path, "reference", {
        "network.py": (REPO / "solutions" / "hw2_backprop" / "network.py").read_text()})
    result, report = grade_folder("hw2_backprop", folder, "--item", "learning", "--item", "sigmoid_prime")
    assert result.returncode == 0, result.stderr
    learning = next(i for i in report["items"] if i["name"] == "learning")
    assert learning["status"] == "not graded" and "MNIST is not available" in learning["feedback"]
    assert item_scores(report) == {"sigmoid_prime": 1.0, "learning": 0.0}
    assert "NOT GRADED" in result.stdout and any("learning" in w for w in report["warnings"])


def test_batch_gradients_match_finite_differences_of_the_summed_cost():
    rng = np.random.default_rng(9)
    weights, biases = nc.random_net(rng, [4, 4, 4])
    X, Y = rng.uniform(size=(4, 5)), rng.uniform(size=(4, 5))
    fd_b, fd_w = nc.finite_differences(weights, biases, X, Y)  # the cost sums over the columns
    got_b, got_w = reference_sgd.batch_gradients(weights, biases, X, Y)
    for got, fd in zip(got_b + got_w, fd_b + fd_w):
        assert np.allclose(got, fd, rtol=1e-7, atol=1e-10)


def test_replay_sgd_takes_the_rule_step_per_mini_batch():
    rng = np.random.default_rng(10)
    weights, biases = nc.random_net(rng, [3, 4, 2])
    X, Y = rng.uniform(size=(3, 7)), rng.uniform(size=(2, 7))
    batches, etas = [np.array([0, 3, 5]), np.array([1, 2, 4, 6])], [0.5, 2.0]
    w, b = weights, biases
    for batch, eta in zip(batches, etas):
        total_b, total_w = hidden.per_example_sum(w, b, X[:, batch], Y[:, batch])
        w = [p - eta / len(batch) * g for p, g in zip(w, total_w)]
        b = [p - eta / len(batch) * g for p, g in zip(b, total_b)]
    got_w, got_b = reference_sgd.replay_sgd(weights, biases, X, Y, batches, etas)
    for got, expected in zip(got_w + got_b, w + b):
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-15)

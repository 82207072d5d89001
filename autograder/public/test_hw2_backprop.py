"""Public checks for hw2_backprop: what ``python -m autograder check hw2_backprop`` runs.

Small fixed networks checked against central finite differences, the shapes
of what you return, one SGD step, and a short training run on MNIST. The
hidden tests that give the grade check much more (several depths, square
layers, many batch sizes, exact steps to 1e-10, timing against the
per-example loop, a full training run), so passing these is a start.
"""
import numpy as np
import pytest

from autograder.checks import assert_close, assert_number, describe, float_result, float_results
from autograder.network_checks import accuracy, build_network, finite_differences, pairs, random_net
from autograder.wire_datasets import ColumnPairs, Pick

SIZES = [3, 4, 4, 2]  # square hidden layers: a forgotten transpose shows up


def small_case(seed=0, m=1):
    rng = np.random.default_rng(seed)
    weights, biases = random_net(rng, SIZES)
    return weights, biases, rng.uniform(size=(SIZES[0], m)), rng.uniform(size=(SIZES[-1], m))


def as_gradient_lists(value, weights, biases, what):
    """(nabla_b, nabla_w) as lists of float64 arrays shaped like the biases / weights. Pair and lengths are
    checked here, in this suite's words, before checks.float_results looks at any entry."""
    assert isinstance(value, (list, tuple)) and len(value) == 2, \
        f"{what} should return a pair (nabla_b, nabla_w), got {describe(value)}"
    nabla_b, nabla_w = value
    for name, got, like in (("nabla_b", nabla_b, biases), ("nabla_w", nabla_w, weights)):
        assert isinstance(got, (list, tuple)) and len(got) == len(like), \
            f"{what}: {name} should be a list of {len(like)} arrays, got {describe(got)}"
    return float_results(nabla_b, biases, f"{what} nabla_b"), float_results(nabla_w, weights, f"{what} nabla_w")


def assert_gradients_close(nabla_b, nabla_w, expected, what):
    fd_b, fd_w = expected
    for i in range(len(nabla_w)):
        assert_close(nabla_w[i], fd_w[i], what.format(f"nabla_w[{i}]"), 1e-7, 1e-10)
        assert_close(nabla_b[i], fd_b[i], what.format(f"nabla_b[{i}]"), 1e-7, 1e-10)


def summed_finite_differences(weights, biases, X, Y):
    per_example = [finite_differences(weights, biases, X[:, i:i + 1], Y[:, i:i + 1]) for i in range(X.shape[1])]
    return ([sum(g[0][l] for g in per_example) for l in range(len(biases))],
            [sum(g[1][l] for g in per_example) for l in range(len(weights))])


@pytest.mark.item("sigmoid_prime")
def test_sigmoid_prime_at_zero_is_a_quarter(student):
    got = float_result(student.sigmoid_prime(0.0), 0.0, "sigmoid_prime(0.0)")
    assert_number(float(got), 0.25, "sigmoid_prime(0.0)", tol=1e-12)  # a float prints as the number alone


@pytest.mark.item("sigmoid_prime")
def test_sigmoid_prime_keeps_the_shape(student):
    z = np.array([[-2.0, 0.0], [0.5, 3.0]])
    float_result(student.sigmoid_prime(z), z, "sigmoid_prime on a (2, 2) array")


@pytest.mark.item("backprop")
def test_backprop_matches_finite_differences(student):
    weights, biases, x, y = small_case()
    net = build_network(student, weights, biases)
    nabla_b, nabla_w = as_gradient_lists(net.backprop(x, y), weights, biases, "backprop on [3, 4, 4, 2]")
    assert_gradients_close(nabla_b, nabla_w, finite_differences(weights, biases, x, y),
                           "backprop {} vs finite differences")


@pytest.mark.item("backprop_batch")
def test_backprop_batch_sums_over_the_batch(student):
    weights, biases, X, Y = small_case(seed=1, m=4)  # m = 4 = hidden width: a wrong axis shows up
    net = build_network(student, weights, biases)
    nabla_b, nabla_w = as_gradient_lists(net.backprop_batch(X, Y), weights, biases, "backprop_batch, m=4")
    assert_gradients_close(nabla_b, nabla_w, summed_finite_differences(weights, biases, X, Y),
                           "backprop_batch {} vs summed finite differences")


@pytest.mark.item("update_mini_batch")
def test_update_mini_batch_takes_one_step(student):
    weights, biases, X, Y = small_case(seed=2, m=3)
    net = build_network(student, weights, biases)
    net.update_mini_batch(pairs(X, Y), 0.5)
    fd_b, fd_w = summed_finite_differences(weights, biases, X, Y)
    for name, before, grads in (("weights", weights, fd_w), ("biases", biases, fd_b)):
        after = net.get(name)
        assert isinstance(after, list) and len(after) == len(before), f"{name} should stay a list of arrays"
        for i, (a, b, g) in enumerate(zip(after, before, grads)):
            a = float_result(a, b, f"{name}[{i}] after update_mini_batch")
            assert_close(a - b, -(0.5 / 3) * g, f"the step on {name}[{i}] (w <- w - eta/m * sum of gradients)",
                         1e-6, 1e-10)


@pytest.mark.item("speed")
def test_update_mini_batch_handles_a_realistic_batch(student):
    """Only that it works on [784, 30, 10] with 100 examples; the hidden test times it."""
    rng = np.random.default_rng(3)
    weights, biases = random_net(rng, [784, 30, 10])
    net = build_network(student, weights, biases)
    X = rng.uniform(size=(784, 100))
    net.update_mini_batch(pairs(X, np.eye(10)[:, rng.integers(0, 10, 100)]), 0.1)
    assert not np.array_equal(net.get("weights")[0], weights[0]), "update_mini_batch did not change the weights"


@pytest.mark.item("learning")
def test_two_epochs_on_part_of_mnist(student):
    import mnist_loader
    try:
        X_train, y_train, X_test, y_test = mnist_loader.load_course_subset()
    except mnist_loader.MnistError as exc:
        pytest.skip(str(exc).splitlines()[0])
    rng = np.random.default_rng(4)
    X_train, Y_train = X_train[:, :2000], mnist_loader.one_hot(y_train[:2000])
    weights, biases = random_net(rng, [784, 30, 10])
    data = student.store(ColumnPairs(X_train, Y_train))
    net = build_network(student, weights, biases)
    for epoch in range(2):
        order = rng.permutation(2000)
        net.call_many("update_mini_batch", [((Pick(data, order[k:k + 10]), 3.0), {}) for k in range(0, 2000, 10)])
    got_w, got_b = net.get("weights"), net.get("biases")
    # float_results checks the lists' lengths too: a network that lost a layer is not scored on what is left.
    score = accuracy(float_results(got_w, weights, "weights", label=lambda i: "weights"),
                     float_results(got_b, biases, "biases", label=lambda i: "biases"), X_test, y_test)
    assert score >= 0.6, f"after 2 epochs on 2,000 images the held-out accuracy is {score:.1%}; expected 60% or more"

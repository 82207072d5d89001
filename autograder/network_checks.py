"""Trusted network arithmetic for the hw2 and hw4 suites: forward pass, cost, finite differences.

Nothing here is an answer to an assignment: the forward pass is given code in
network.py, and central differences are how every gradient in the course is
checked. Everything is float64 and works on lists of weight and bias arrays
(Nielsen's layout: ``weights[l]`` (n_out, n_in), ``biases[l]`` (n_out, 1)).
A network in the worker is built from such lists, and its lists are read back
and checked against them.
"""
import numpy as np

from .checks import array_results, float_results

FD_STEP = 1e-5


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow


def forward(weights, biases, X):
    """(activations, zs) for a column or a batch of columns X."""
    activations, zs = [X], []
    for w, b in zip(weights, biases):
        zs.append(w @ activations[-1] + b)
        activations.append(sigmoid(zs[-1]))
    return activations, zs


def cost(weights, biases, x, y):
    """Quadratic cost 1/2 ||a - y||^2 (summed over the columns of a batch)."""
    return 0.5 * float(np.sum((forward(weights, biases, x)[0][-1] - y) ** 2))


def finite_differences(weights, biases, x, y, h=FD_STEP):
    """(nabla_b, nabla_w) by central differences of the cost, one parameter at a time."""
    grads = []
    for params in (biases, weights):
        grads.append([])
        for p in params:
            g = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                saved = p[i]
                p[i] = saved + h
                up = cost(weights, biases, x, y)
                p[i] = saved - h
                down = cost(weights, biases, x, y)
                p[i] = saved
                g[i] = (up - down) / (2 * h)
            grads[-1].append(g)
    return grads[0], grads[1]


def random_net(rng, sizes):
    """Standard-normal weights and biases, as Nielsen initialises them."""
    weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
    return weights, biases


def pairs(X, Y):
    """Columns of X and Y as Nielsen's list of (x, y) pairs of column vectors."""
    return [(X[:, i:i + 1].copy(), Y[:, i:i + 1].copy()) for i in range(X.shape[1])]


def accuracy(weights, biases, X, labels):
    """Fraction of columns of X whose largest output is the label."""
    return float(np.mean(np.argmax(forward(weights, biases, X)[0][-1], axis=0) == labels))


def build_network(student, weights, biases):
    """``Network(sizes)`` in the worker, then given these weights and biases.

    Only ``sizes`` is passed, so Nielsen's original constructor works too.
    """
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    net = student.new("Network", sizes)
    net.set("weights", [w.copy() for w in weights])
    net.set("biases", [b.copy() for b in biases])
    return net


def parameter_list(value, like, what, xp=None):
    """A network's list of weights or biases, checked against the grader's list ``like``: float64 NumPy
    arrays of the same shapes when ``xp`` is None (checks.float_results), else arrays on the device of
    ``xp`` ("numpy" or "cupy") in their own dtype (checks.array_results)."""
    return float_results(value, like, what) if xp is None else array_results(value, xp, like, what)


def parameters_result(fetched, weights, biases, what, xp=None):
    """(weights, biases) from a pair of lists already read from a network, each checked (see parameter_list)."""
    return (parameter_list(fetched[0], weights, f"{what}: weights", xp),
            parameter_list(fetched[1], biases, f"{what}: biases", xp))


def fetch_parameters(net, weights, biases, what, xp=None):
    """The ``weights`` and ``biases`` of ``net`` (a network in the worker), read and checked against the
    grader's lists of the same shapes (see parameter_list)."""
    return parameters_result((net.get("weights"), net.get("biases")), weights, biases, what, xp)

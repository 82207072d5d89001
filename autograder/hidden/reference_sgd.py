"""The hidden suites' reference for batch gradients and SGD. Instructors only: never released.

It is an answer to hw2's backprop_batch and hw4's backprop and train_epoch,
which is why it lives here and not in network_checks.py (which students
get with the public checks). The course's tests check it against finite
differences and against the per-example definition.
"""
import numpy as np

from autograder.network_checks import forward


def batch_gradients(weights, biases, X, Y):
    """The summed gradients of a batch in matrix form (checked equal to per_example_sum by the course's tests)."""
    activations, zs = forward(weights, biases, X)
    s = activations[-1]
    delta = (s - Y) * s * (1 - s)
    nabla_b, nabla_w = [None] * len(weights), [None] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        nabla_b[layer] = delta.sum(axis=1, keepdims=True)
        nabla_w[layer] = delta @ activations[layer].T
        if layer > 0:
            s = activations[layer]
            delta = (weights[layer].T @ delta) * s * (1 - s)
    return nabla_b, nabla_w


def _sigmoid_in_place(z):
    """The logistic function 0.5 * (1 + tanh(z / 2)) (no overflow), computed in ``z`` itself."""
    z *= 0.5
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


def replay_sgd(weights, biases, X, Y, batches, etas):
    """Weights and biases after plain SGD on these mini-batches (columns of X, Y) with these etas.

    The same arithmetic as ``batch_gradients`` step after step, written for speed, since the
    learning item replays thousands of steps for every student: examples are gathered as
    contiguous rows (one copy of X transposed, made once), activations are computed in place,
    and each layer's step is applied in place right after the delta below it is computed.
    The course's tests check it against the per-example rule and against ``batch_gradients``.
    """
    rows_x, rows_y = np.ascontiguousarray(X.T, dtype=np.float64), np.ascontiguousarray(Y.T, dtype=np.float64)
    weights = [np.array(w, dtype=np.float64) for w in weights]
    bias_rows = [np.array(b, dtype=np.float64).reshape(-1) for b in biases]
    layers = range(len(weights) - 1, -1, -1)
    for batch, eta in zip(batches, etas):
        activations = [rows_x[batch]]
        for w, b in zip(weights, bias_rows):
            z = activations[-1] @ w.T
            z += b
            activations.append(_sigmoid_in_place(z))
        s = activations[-1]
        delta = (s - rows_y[batch]) * s * (1.0 - s)
        scale = eta / len(batch)
        for layer in layers:
            step_w, step_b = delta.T @ activations[layer], delta.sum(axis=0)
            if layer > 0:  # the delta below uses this layer's weights before their step
                s = activations[layer]
                delta = (delta @ weights[layer]) * s * (1.0 - s)
            step_w *= scale
            weights[layer] -= step_w
            step_b *= scale
            bias_rows[layer] -= step_b
    return weights, [b.reshape(np.shape(original)) for b, original in zip(bias_rows, biases)]

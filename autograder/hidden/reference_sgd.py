"""The hidden suites' reference for batch gradients and SGD. Instructors only: never released.

It is an answer to hw2's backprop_batch and hw4's backprop and train_epoch,
which is why it lives here and not in network_checks.py (which students
get with the public checks). The course's tests check it against finite
differences and against the per-example definition.
"""
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


def replay_sgd(weights, biases, X, Y, batches, etas):
    """Weights and biases after plain SGD on these mini-batches (columns of X, Y) with these etas."""
    for batch, eta in zip(batches, etas):
        nabla_b, nabla_w = batch_gradients(weights, biases, X[:, batch], Y[:, batch])
        weights = [w - (eta / len(batch)) * g for w, g in zip(weights, nabla_w)]
        biases = [b - (eta / len(batch)) * g for b, g in zip(biases, nabla_b)]
    return weights, biases

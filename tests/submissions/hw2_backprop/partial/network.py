"""A sigmoid network trained by mini-batch SGD, in the style of Nielsen's network.py
(assignment hw2_backprop).

Conventions (as in Nielsen's book and the lectures):
- One example is a column vector: an input x of shape (n_in, 1), a target y of
  shape (n_out, 1). A batch stacks examples as columns: X of shape (n_in, m).
- ``weights[l]`` has shape (n_out, n_in) of layer l, ``biases[l]`` shape (n_out, 1).
  Both are plain lists of float64 arrays that a caller may replace.
- The cost of one example is the quadratic cost C = 1/2 ||a - y||^2, where a is
  the output activation.

Fill in ``sigmoid_prime``, ``Network.backprop``, ``Network.backprop_batch`` and
``Network.update_mini_batch``. Check your work with
``python -m autograder check hw2_backprop``.
"""
import random

import numpy as np


class Network:

    def __init__(self, sizes, seed=None):
        """sizes: neurons per layer, e.g. [784, 30, 10]. Weights and biases are
        drawn from the standard normal distribution (seeded when ``seed`` is given)."""
        rng = np.random.default_rng(seed)
        self.num_layers = len(sizes)
        self.sizes = list(sizes)
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        self._shuffle = random.Random(seed).shuffle

    def feedforward(self, a):
        """Output of the network for input a of shape (n_in, 1), or a batch (n_in, m)."""
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        """Train with mini-batch stochastic gradient descent.

        training_data: list of (x, y) with x of shape (n_in, 1), y of shape (n_out, 1).
        test_data: optional list of (x, label) with an int label; when given, the
        network is evaluated after each epoch and the accuracies (fractions) are returned.
        """
        training_data = list(training_data)
        accuracies = []
        for epoch in range(epochs):
            self._shuffle(training_data)
            for k in range(0, len(training_data), mini_batch_size):
                self.update_mini_batch(training_data[k:k + mini_batch_size], eta)
            if test_data:
                correct = self.evaluate(test_data)
                accuracies.append(correct / len(test_data))
                print(f"Epoch {epoch}: {correct} / {len(test_data)}")
        return accuracies

    def update_mini_batch(self, mini_batch, eta):
        """One gradient-descent step on a mini-batch, a list of (x, y) pairs:
        w <- w - (eta / m) * (sum of the m per-example gradients), likewise for b.

        Use ``backprop_batch`` on the whole mini-batch at once (no loop over examples).
        """
        # YOUR CODE HERE
        raise NotImplementedError("not implemented yet")

    def backprop(self, x, y):
        """Gradient of the cost of one example (x, y), by backpropagation.

        x: (n_in, 1), y: (n_out, 1). Returns (nabla_b, nabla_w): lists shaped
        like ``self.biases`` and ``self.weights`` (BP1 to BP4 in the lecture).
        """
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = w @ activation + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
        for layer in range(1, self.num_layers):
            if layer > 1:
                delta = (self.weights[-layer + 1].T @ delta) * sigmoid_prime(zs[-layer])
            nabla_b[-layer] = delta
            nabla_w[-layer] = delta @ activations[-layer - 1].T
        return nabla_b, nabla_w

    def backprop_batch(self, X, Y):
        """backprop for a whole batch at once, with no Python loop over examples.

        X: (n_in, m), Y: (n_out, m), one example per column. Returns (nabla_b,
        nabla_w) shaped like ``self.biases`` and ``self.weights``: the gradients
        summed over the m examples.
        """
        # YOUR CODE HERE
        raise NotImplementedError("not implemented yet")

    def evaluate(self, test_data):
        """Number of (x, label) pairs whose label is the index of the largest output."""
        return sum(int(np.argmax(self.feedforward(x)) == label) for x, label in test_data)

    def cost_derivative(self, output_activations, y):
        """dC/da for the quadratic cost: a - y."""
        return output_activations - y


def sigmoid(z):
    """The logistic function, elementwise (given)."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """Derivative of the sigmoid, elementwise; z of any shape."""
    s = sigmoid(z)
    return s * (1.0 - s)

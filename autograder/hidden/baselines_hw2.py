"""What hw2's speed item times the student's update_mini_batch against. Instructors only.

Trusted course code, run by the hidden suite in a worker of its own (one BLAS thread, the same protocol
as the student's), never with student code: Nielsen's per-example update_mini_batch, and the course's
matrix form, which shows what this machine can do (on a slow or busy machine even a perfect matrix form
may not reach 5x). The worker imports this file as ``baselines``; it needs NumPy only.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class LoopNetwork:
    def __init__(self, weights, biases):
        self.weights, self.biases = weights, biases

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            zs.append(np.dot(w, activation) + b)
            activation = sigmoid(zs[-1])
            activations.append(activation)
        return self.backward(activations, y)

    def backward(self, activations, y):
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        s = activations[-1]
        delta = (activations[-1] - y) * s * (1 - s)
        nabla_b[-1], nabla_w[-1] = delta.sum(axis=1, keepdims=True), np.dot(delta, activations[-2].T)
        for l in range(2, len(self.weights) + 1):
            s = activations[-l]
            delta = np.dot(self.weights[-l + 1].T, delta) * s * (1 - s)
            nabla_b[-l], nabla_w[-l] = delta.sum(axis=1, keepdims=True), np.dot(delta, activations[-l - 1].T)
        return nabla_b, nabla_w


class MatrixNetwork(LoopNetwork):
    def update_mini_batch(self, mini_batch, eta):
        X = np.hstack([x for x, _ in mini_batch])
        Y = np.hstack([y for _, y in mini_batch])
        nabla_b, nabla_w = self.backprop(X, Y)
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

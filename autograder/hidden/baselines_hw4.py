"""What hw4's gpu_speedup item times the student's epoch against. Instructors only.

Trusted course code, run by the hidden suite in workers of its own with no student code: the course's
matrix form, the same code on both devices (NumPy on every CPU core, and CuPy). The worker imports this
file as ``baselines``; CuPy is needed only for the GPU one.
"""

import numpy

try:
    import cupy
except ImportError:
    cupy = None

_kernel = None


def sigmoid_and_prime(z, xp):
    global _kernel
    if xp is numpy:
        s = 0.5 * (1 + numpy.tanh(0.5 * z))
        return s, s * (1 - s)
    if _kernel is None:
        _kernel = cupy.ElementwiseKernel("T z", "T s, T ds", "T e = exp(-z); s = 1 / (1 + e); ds = s * (1 - s);",
                                         "course_sigmoid_and_prime")
    return _kernel(z)


class MatrixNetwork:
    def __init__(self, sizes, xp):
        self.xp = xp
        self.weights, self.biases = [], []

    def train_epoch(self, X, Y, mini_batch_size, eta, rng):
        perm = rng.permutation(X.shape[1])
        for k in range(0, X.shape[1], mini_batch_size):
            batch = perm[k:k + mini_batch_size]
            activations, primes = [X[:, batch]], []
            for w, b in zip(self.weights, self.biases):
                a, da = sigmoid_and_prime(w @ activations[-1] + b, self.xp)
                activations.append(a)
                primes.append(da)
            delta = (activations[-1] - Y[:, batch]) * primes[-1]
            step = eta / len(batch)
            for layer in range(len(self.weights) - 1, -1, -1):
                nabla_b = delta.sum(axis=1, keepdims=True)
                nabla_w = delta @ activations[layer].T
                if layer > 0:
                    delta = (self.weights[layer].T @ delta) * primes[layer - 1]
                self.weights[layer] = self.weights[layer] - step * nabla_w
                self.biases[layer] = self.biases[layer] - step * nabla_b

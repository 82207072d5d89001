"""Activation functions and their derivatives (assignment hw1_activations).

Conventions used throughout the course:
- ``z`` may be a Python float, a vector of shape (n,) or (n, 1), or a batch of
  shape (features, batch) where each column is one example.
- Every function returns a new float64 array of the same shape as ``z`` (a
  number for a scalar ``z``) and never modifies ``z`` in place.
- At a kink (z == 0) a derivative takes the value of its ``z <= 0`` branch.
- Inputs as large as |z| = 1000 must give exact results with no overflow,
  no nan and no NumPy warning.

Check your work with ``python -m autograder check hw1_activations``.
"""
import numpy as np


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), given to you.

    Written so that exp never overflows: for z < 0 it uses exp(z) / (1 + exp(z)).
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out[()] if out.ndim == 0 else out


def sigmoid_prime(z):
    """Derivative of the sigmoid with respect to z, written with sigmoid(z).

    z: float or array of any shape. Returns the same shape.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def relu(z):
    """Rectified linear unit, max(0, z), elementwise.

    z: float or array of any shape. Returns the same shape (float).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def relu_prime(z):
    """Derivative of relu: 1.0 where z > 0, 0.0 where z <= 0.

    z: float or array of any shape. Returns the same shape (float, not bool).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def leaky_relu(z, alpha=0.01):
    """z where z > 0, alpha * z where z <= 0.

    z: float or array of any shape; alpha: the slope for negative z.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def leaky_relu_prime(z, alpha=0.01):
    """Derivative of leaky_relu: 1.0 where z > 0, alpha where z <= 0."""
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def elu(z, alpha=1.0):
    """Exponential linear unit: z where z > 0, alpha * (exp(z) - 1) where z <= 0.

    Must not overflow for large positive z (exp(1000) is inf).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def elu_prime(z, alpha=1.0):
    """Derivative of elu: 1.0 where z > 0, alpha * exp(z) where z <= 0."""
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def softmax(z):
    """Softmax over axis 0: each column of z is one example's scores.

    z: array of shape (n,) or (n, batch). Returns the same shape; every
    column is positive and sums to 1. Subtract each column's maximum before
    exponentiating, so that z = 1000 does not overflow.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function f at x by central differences.

    f: function taking an array shaped like x and returning a float.
    x: float64 array of any shape; it may be changed while you work but must
       hold exactly its original values when you return (keep the old value
       of each entry and put it back).
    h: the step. Each entry of the gradient is (f(x + h e_i) - f(x - h e_i)) / (2h).
    Returns an array of the same shape as x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")

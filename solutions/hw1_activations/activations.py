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
    ### BEGIN SOLUTION
    s = sigmoid(z)
    return s * (1.0 - s)
    ### END SOLUTION


def relu(z):
    """Rectified linear unit, max(0, z), elementwise.

    z: float or array of any shape. Returns the same shape (float).
    """
    ### BEGIN SOLUTION
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)[()]
    ### END SOLUTION


def relu_prime(z):
    """Derivative of relu: 1.0 where z > 0, 0.0 where z <= 0.

    z: float or array of any shape. Returns the same shape (float, not bool).
    """
    ### BEGIN SOLUTION
    return (np.asarray(z) > 0).astype(np.float64)[()]
    ### END SOLUTION


def leaky_relu(z, alpha=0.01):
    """z where z > 0, alpha * z where z <= 0.

    z: float or array of any shape; alpha: the slope for negative z.
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z, alpha * z)[()]
    ### END SOLUTION


def leaky_relu_prime(z, alpha=0.01):
    """Derivative of leaky_relu: 1.0 where z > 0, alpha where z <= 0."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, float(alpha))[()]
    ### END SOLUTION


def elu(z, alpha=1.0):
    """Exponential linear unit: z where z > 0, alpha * (exp(z) - 1) where z <= 0.

    Must not overflow for large positive z (exp(1000) is inf).
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    negative_part = alpha * np.expm1(np.minimum(z, 0.0))
    return np.where(z > 0, z, negative_part)[()]
    ### END SOLUTION


def elu_prime(z, alpha=1.0):
    """Derivative of elu: 1.0 where z > 0, alpha * exp(z) where z <= 0."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))[()]
    ### END SOLUTION


def softmax(z):
    """Softmax over axis 0: each column of z is one example's scores.

    z: array of shape (n,) or (n, batch). Returns the same shape; every
    column is positive and sums to 1. Subtract each column's maximum before
    exponentiating, so that z = 1000 does not overflow.
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    shifted = z - np.max(z, axis=0, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=0, keepdims=True)
    ### END SOLUTION


def numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function f at x by central differences.

    f: function taking an array shaped like x and returning a float.
    x: float64 array of any shape; it may be changed while you work but must
       hold exactly its original values when you return (keep the old value
       of each entry and put it back).
    h: the step. Each entry of the gradient is (f(x + h e_i) - f(x - h e_i)) / (2h).
    Returns an array of the same shape as x.
    """
    ### BEGIN SOLUTION
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
    ### END SOLUTION

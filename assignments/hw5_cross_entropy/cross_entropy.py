"""Cross-entropy, softmax outputs, L2 and dropout, early stopping (assignment hw5_cross_entropy).

Conventions used throughout the course:
- A batch has shape (n, m): each of its m columns is one example with n
  entries. A vector of shape (n,) is a single example (m = 1).
- ``a`` are the network's outputs (probabilities), ``z`` the output layer's
  weighted inputs (logits, any real numbers), ``y`` the targets, shaped like
  ``a`` or ``z``: one-hot columns for classes, or any probabilities.
- A cost is the mean over the m examples of each example's cost (Nielsen's
  C = (1/m) sum_x C_x). It is returned as a Python float.
- Functions never modify their arguments in place. Arrays are float64.
- Logits as large as |z| = 1000 and outputs of exactly 0 or 1 must give exact,
  finite results with no overflow, no nan and no NumPy warning.

Check your work with ``python -m autograder check hw5_cross_entropy``.
"""
import numpy as np


def examples(a):
    """The number of examples m in an array shaped like a batch: columns, or 1 for a vector."""
    a = np.asarray(a)
    return a.shape[1] if a.ndim == 2 else 1


def softmax(z):
    """Softmax over axis 0 (each column is one example's logits), given to you.

    The column maximum is subtracted first, so that exp never overflows.
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


# ---------------------------------------------------------------- cross-entropy costs
def binary_cross_entropy(a, y):
    """Cross-entropy of sigmoid outputs a against targets y in [0, 1].

    C = -(1/m) sum over examples and outputs of [y ln a + (1 - y) ln(1 - a)]
    a, y: arrays of the same shape (n, m) or (n,); a in [0, 1].
    Returns a float. A term whose weight is zero contributes nothing, even
    where its logarithm is -inf: a = 1 with y = 1 costs exactly 0, not nan.
    (np.log(0) warns, so do not take the log of an entry whose term you drop.)
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def categorical_cross_entropy(a, y):
    """Cross-entropy of softmax outputs a (columns sum to 1) against targets y.

    C = -(1/m) sum over examples of sum_j y_j ln a_j
    a, y: arrays of the same shape (n, m) or (n,). Returns a float. An entry
    with y_j = 0 contributes nothing, even where a_j = 0 (no nan, no warning).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def log_softmax(z):
    """The logarithm of softmax(z), column by column, computed without overflow.

    log_softmax(z)_j = z_j - log(sum_k exp(z_k)) = (z_j - c) - log(sum_k exp(z_k - c))
    with c the column's maximum. z: shape (n, m) or (n,). Returns the same shape.
    At |z| = 1000 the result is exact: log(softmax(z)) would give -inf where
    softmax underflows to 0.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def softmax_cross_entropy(z, y):
    """Categorical cross-entropy of softmax(z) against y, straight from the logits z.

    C = -(1/m) sum over examples of sum_j y_j log_softmax(z)_j
    z, y: shape (n, m) or (n,). Returns a float, finite for |z| up to 1000.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def softmax_cross_entropy_delta(z, y):
    """The output error delta = dC_x/dz of a softmax layer with cross-entropy, per example.

    For each example (column) x, with C_x = -sum_j y_j ln softmax(z)_j, the
    derivative is softmax(z) - y (that is, a - y), provided each column of y
    sums to 1. Shape (n, m) or (n,), as z. Not divided by m: like Nielsen's
    delta, it is the error of each example on its own.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


# ---------------------------------------------------------------- L2 regularisation
def l2_cost(data_cost, weights, lmbda, n):
    """The regularised cost C = C0 + (lmbda / (2 n)) * sum of every squared weight.

    data_cost: C0, a float. weights: a list of weight matrices (no biases).
    lmbda: the regularisation parameter; n: the size of the whole training set.
    Returns a float.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def l2_gradient(nabla_w, weights, lmbda, n):
    """The gradient of the regularised cost: dC/dw = dC0/dw + (lmbda / n) * w, layer by layer.

    nabla_w: a list of arrays dC0/dw, each shaped like its weight matrix.
    Returns a new list of arrays.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def weight_decay_update(w, nabla_w, eta, lmbda, n):
    """One gradient step on the regularised cost, written as weight decay.

    w <- (1 - eta * lmbda / n) * w - eta * nabla_w
    w: a weight matrix; nabla_w: dC0/dw for the mini-batch (already averaged
    over it); eta: the learning rate. Returns the new matrix; w is unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


# ---------------------------------------------------------------- inverted dropout
def dropout_mask(u, keep_prob):
    """An inverted-dropout mask from uniform random numbers u in [0, 1).

    A unit is kept where u < keep_prob. Kept units are scaled by 1 / keep_prob,
    so that the expected value of mask * a is a: mask is 1 / keep_prob where
    u < keep_prob and 0 elsewhere. In training, u = rng.random(a.shape).
    u: array of any shape; keep_prob in (0, 1]. Returns a float array like u.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def dropout_forward(a, mask, train=True):
    """Apply inverted dropout to activations a.

    train=True: returns a * mask (mask from dropout_mask, shaped like a).
    train=False (evaluation, testing): returns a unchanged, as a new array;
    no scaling, since the training-time scaling already keeps the expectation.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def dropout_backward(da, mask):
    """Gradient through dropout in training: dC/da_in = dC/da_out * mask.

    da: the gradient with respect to dropout_forward's output; mask as used in
    the forward pass. Returns an array shaped like da.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


# ---------------------------------------------------------------- early stopping
def best_epoch(validation_accuracies, patience):
    """Early stopping on validation accuracy: when to stop and which epoch to keep.

    validation_accuracies: a list of floats, the accuracy on the validation set
    after epochs 0, 1, 2, ... (training would go on while this is called).
    An epoch improves when its accuracy is strictly greater than every earlier
    one. Training stops at the first epoch that is `patience` epochs after the
    last improvement; if that never happens, at the last epoch given.
    Returns (best, stop), two ints: the index of the best epoch seen up to
    `stop` (the first one, if several tie), and the epoch at which training
    stops. Epochs after `stop` are never looked at: training has ended.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")

"""The hw2 network in matrix form, written once for the CPU and the GPU (assignment hw4_gpu).

Every array lives on the device of the array module ``xp``: ``numpy`` on the
CPU, ``cupy`` on an NVIDIA GPU. The code never names either module inside
the computations: it uses ``self.xp``, or ``get_array_module(z)`` for a free
function, so the CPU run and the GPU run execute the same lines.

Conventions (as in hw2 and the lectures):
- A batch stacks examples as columns: X of shape (n_in, m), Y of shape (n_out, m).
- ``weights[l]`` has shape (n_out, n_in), ``biases[l]`` shape (n_out, 1).
- The cost is the quadratic cost summed over the batch, C = 1/2 sum ||a - y||^2.
- Every array keeps the network's ``dtype`` (float32 by default): never let a
  float64 constant or array promote a float32 computation to float64.

Fill in ``numpy_sigmoid_and_prime``, ``kernel_operation``, ``MatrixNetwork.feedforward``,
``MatrixNetwork.backprop`` and ``MatrixNetwork.train_epoch``. Check your work with
``python -m autograder check hw4_gpu`` (the GPU checks run only where CuPy finds a GPU).
"""
import numpy

try:
    import cupy
except Exception:  # not installed, or a broken install: everything except the GPU path works
    cupy = None


def get_array_module(*arrays):
    """``cupy`` if any argument is a CuPy array, else ``numpy`` (given; works without CuPy)."""
    if cupy is not None:
        return cupy.get_array_module(*arrays)
    return numpy


def find_gpu():
    """(cupy, device name) when CuPy can compute on a GPU here, else (None, why not) (given).

    Never raises: ``import cupy`` succeeds on machines without a driver, and
    only the first real CUDA call fails.
    """
    if cupy is None:
        return None, "CuPy is not installed (pip install -e '.[gpu]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None, "CuPy finds no CUDA device"
        cupy.arange(4).sum().item()
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        return cupy, name.decode() if isinstance(name, bytes) else str(name)
    except Exception as exc:  # no driver, no libnvrtc, unsupported PTX, ...
        return None, f"{type(exc).__name__}: {exc}"


def device_rng(xp, seed=None):
    """A random generator whose ``permutation(n)`` returns indices on the device of ``xp`` (given)."""
    if xp is numpy:
        return numpy.random.default_rng(seed)
    return xp.random.RandomState(seed)


# ---------------------------------------------------------------- the fused kernel
KERNEL_INPUTS = "T z"           # one input; T is its dtype (float32 or float64)
KERNEL_OUTPUTS = "T s, T ds"    # two outputs of the same dtype: sigmoid(z) and sigmoid'(z)


def kernel_operation():
    """The CUDA C body of the elementwise kernel, run once per element.

    It reads ``z`` and writes ``s`` = sigmoid(z) and ``ds`` = sigmoid'(z) =
    s * (1 - s), computing the exponential only once. ``T`` is the element type;
    CUDA's ``exp`` works for float and double. Declare a temporary with
    ``T name = ...;``. Example of the syntax (not this kernel): ``"T u = z * z; s = u; ds = 2 * z;"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


def numpy_sigmoid_and_prime(z):
    """The NumPy fallback of the kernel: (sigmoid(z), sigmoid'(z)) for a NumPy array z.

    Same shape and dtype as z (float32 stays float32), and no overflow warning
    for large |z| (for example z = -100 in float32, where exp(100) overflows).
    """
    # YOUR CODE HERE
    raise NotImplementedError("not implemented yet")


_kernels = {}


def fused_sigmoid_prime(z):
    """(sigmoid(z), sigmoid'(z)) in one pass over z: a CuPy ElementwiseKernel on the GPU (given).

    z: an array of any shape on either device; both results have its shape,
    dtype and device.
    """
    xp = get_array_module(z)
    if xp is numpy:
        return numpy_sigmoid_and_prime(z)
    if xp not in _kernels:  # built once; CuPy compiles it on the first call per dtype
        _kernels[xp] = xp.ElementwiseKernel(KERNEL_INPUTS, KERNEL_OUTPUTS, kernel_operation(), "fused_sigmoid_prime")
    return _kernels[xp](z)


# ---------------------------------------------------------------- the network
class MatrixNetwork:

    def __init__(self, sizes, xp=numpy, dtype=numpy.float32, seed=None):
        """sizes: neurons per layer, e.g. [784, 30, 10]; xp: numpy or cupy; dtype: float32 or float64.

        The initial values are drawn on the host from ``seed`` (so a NumPy and a
        CuPy network with the same seed start equal) and copied to the device
        once: weights from N(0, 1/n_in) (lecture 3), biases from N(0, 1) (given).
        """
        rng = numpy.random.default_rng(seed)
        self.xp = xp
        self.dtype = numpy.dtype(dtype)
        self.sizes = list(sizes)
        self.num_layers = len(sizes)
        self.weights = [xp.asarray(rng.standard_normal((n_out, n_in)) / numpy.sqrt(n_in), dtype=self.dtype)
                        for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        self.biases = [xp.asarray(rng.standard_normal((n_out, 1)), dtype=self.dtype) for n_out in sizes[1:]]

    def feedforward(self, X):
        """Output activations for a batch X of shape (n_in, m): shape (n_out, m), dtype kept."""
        # YOUR CODE HERE
        raise NotImplementedError("not implemented yet")

    def backprop(self, X, Y):
        """Gradients of the cost summed over the batch: (nabla_b, nabla_w).

        X: (n_in, m), Y: (n_out, m). The results are lists shaped like
        ``self.biases`` and ``self.weights``, on the same device and of the
        same dtype. Use ``fused_sigmoid_prime`` for the activations and their
        derivatives (one kernel per layer) and no loop over examples.
        """
        # YOUR CODE HERE
        raise NotImplementedError("not implemented yet")

    def train_epoch(self, X, Y, mini_batch_size, eta, rng):
        """One epoch of mini-batch SGD over the columns of X (n_in, n) and Y (n_out, n).

        The order of the examples is what ``rng.permutation(n)`` returns (call it
        exactly once, at the start); the mini-batches are its slices
        ``[k:k + mini_batch_size]`` for k = 0, mini_batch_size, 2 * mini_batch_size,
        ... (the last one may be smaller).
        Each step is w <- w - (eta / len(batch)) * nabla_w, likewise for b.

        Everything stays on the device: no copy to the host (``.get()``,
        ``float(...)``, ``cupy.asnumpy``) and none from it (``cupy.asarray`` of a
        NumPy array) inside this method. ``rng`` comes from ``device_rng``.
        """
        # YOUR CODE HERE
        raise NotImplementedError("not implemented yet")

    def accuracy(self, X, labels):
        """Fraction of the columns of X whose largest output is the label (given).

        labels: integer array of shape (m,) on the same device. One number comes
        back to the host, after the whole computation.
        """
        guesses = self.xp.argmax(self.feedforward(X), axis=0)
        return float((guesses == labels).mean())

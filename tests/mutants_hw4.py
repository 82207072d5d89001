"""Deliberately wrong versions of the hw4 reference gpu_network.py, as text edits of it.

Each mutant is (items it must lose, items it may also lose, [(text, replacement), ...]).
The GPU items are graded on the CuPy stand-in (tests/gpu_stand_in), so the
mistakes only a GPU check can see (a copy to the host, the kernel's formula,
a loop that is too slow) are caught on machines without a GPU too.
"""
from pathlib import Path

from mutation import apply_edits

REFERENCE = Path(__file__).resolve().parent.parent / "solutions" / "hw4_gpu" / "gpu_network.py"
GPU = {"gpu_correctness", "no_host_transfers", "gpu_speedup"}  # all three run a GPU epoch

MUTANTS = {
    "kernel_formula_wrong": (GPU, set(), [
        ("ds = sig * (1 - sig);", "ds = sig * (1 + sig);")]),
    "fallback_overflows_for_large_negative_z": ({"sigmoid_kernel"}, set(), [
        ("    e = numpy.exp(-numpy.abs(z))          # in (0, 1]: never overflows\n"
         "    s = numpy.where(z >= 0, 1 / (1 + e), e / (1 + e))\n",
         "    s = 1 / (1 + numpy.exp(-z))\n")]),
    "fallback_upcasts_to_float64": ({"dtype"}, set(), [
        ("numpy.where(z >= 0, 1 / (1 + e), e / (1 + e))", "numpy.where(z >= 0, numpy.float64(1) / (1 + e), e / (1 + e))")]),
    "step_upcasts_with_a_numpy_float64": ({"dtype", "gpu_correctness"}, {"gpu_speedup"}, [
        ("step = eta / len(batch)", "step = numpy.float64(eta) / len(batch)")]),
    "missing_transpose": ({"backprop", "train_epoch"} | GPU, {"dtype"}, [
        ("delta = (self.weights[layer].T @ delta)", "delta = (self.weights[layer] @ delta)")]),
    "bias_gradient_averaged": ({"backprop", "train_epoch"} | GPU, set(), [
        ("nabla_b[layer] = delta.sum(axis=1, keepdims=True)", "nabla_b[layer] = delta.mean(axis=1, keepdims=True)")]),
    "no_shuffle": ({"train_epoch"} | GPU, set(), [
        ("        perm = rng.permutation(n)\n", "        perm = self.xp.arange(n)\n")]),
    "shuffle_on_the_host": ({"train_epoch"} | GPU, set(), [
        ("        perm = rng.permutation(n)\n",
         "        perm = self.xp.asarray(numpy.random.default_rng(0).permutation(n))\n")]),
    "order_indexed_on_the_host": ({"no_host_transfers"}, set(), [
        ("        perm = rng.permutation(n)\n",
         "        perm = rng.permutation(n)\n        perm = perm if self.xp is numpy else perm.get()\n"),
        ("            batch = perm[k:k + mini_batch_size]\n",
         "            batch = self.xp.asarray(perm[k:k + mini_batch_size])\n")]),
    "cost_read_back_every_step": ({"no_host_transfers"}, {"gpu_speedup"}, [
        ("            self.biases = [b - step * nb for b, nb in zip(self.biases, nabla_b)]\n",
         "            self.biases = [b - step * nb for b, nb in zip(self.biases, nabla_b)]\n"
         "            self.cost = float(((self.feedforward(X[:, batch]) - Y[:, batch]) ** 2).sum()) / 2\n")]),
    "loop_over_examples": ({"gpu_speedup"}, set(), [
        ("            nabla_b, nabla_w = self.backprop(X[:, batch], Y[:, batch])\n",
         "            grads = [self.backprop(X[:, batch[i:i + 1]], Y[:, batch[i:i + 1]]) for i in range(len(batch))]\n"
         "            nabla_b = [sum(g[0][l] for g in grads) for l in range(len(self.biases))]\n"
         "            nabla_w = [sum(g[1][l] for g in grads) for l in range(len(self.weights))]\n")]),
    "last_mini_batch_dropped": ({"train_epoch", "gpu_correctness"}, set(), [
        ("for k in range(0, n, mini_batch_size):", "for k in range(0, n - mini_batch_size + 1, mini_batch_size):")]),
    "eta_not_divided_by_the_batch_size": ({"train_epoch"} | GPU, set(), [
        ("step = eta / len(batch)", "step = eta")]),
    # Hostile: the timed epoch hands back the previous call's result instead of computing.
    "replays_the_previous_epoch": ({"gpu_speedup"}, set(), [
        ("        n = X.shape[1]\n        perm = rng.permutation(n)\n",
         "        if getattr(self, '_previous', None) is not None:\n"
         "            self.weights, self.biases = self._previous\n            return\n"
         "        n = X.shape[1]\n        perm = rng.permutation(n)\n"),
        ("            self.biases = [b - step * nb for b, nb in zip(self.biases, nabla_b)]\n",
         "            self.biases = [b - step * nb for b, nb in zip(self.biases, nabla_b)]\n"
         "        self._previous = (self.weights, self.biases)\n")]),
    "feedforward_skips_the_last_layer": ({"feedforward", "gpu_correctness"}, {"dtype"}, [
        ("        for w, b in zip(self.weights, self.biases):\n            A, _ = fused_sigmoid_prime(w @ A + b)",
         "        for w, b in zip(self.weights[:-1], self.biases[:-1]):\n            A, _ = fused_sigmoid_prime(w @ A + b)")]),
    # Host arrays where device arrays belong: right with NumPy, a TypeError (or a host result) with CuPy.
    "feedforward_returns_a_host_array": ({"gpu_correctness"}, set(), [
        ("            A, _ = fused_sigmoid_prime(w @ A + b)\n        return A\n",
         "            A, _ = fused_sigmoid_prime(w @ A + b)\n        return A.get() if hasattr(A, 'get') else A\n")]),
    "backprop_accumulates_in_numpy_zeros": (GPU, set(), [
        ("        nabla_b = [None] * len(self.biases)\n        nabla_w = [None] * len(self.weights)\n",
         "        nabla_b = [numpy.zeros(b.shape, dtype=b.dtype) for b in self.biases]\n"
         "        nabla_w = [numpy.zeros(w.shape, dtype=w.dtype) for w in self.weights]\n"),
        ("            nabla_b[layer] = delta.sum(axis=1, keepdims=True)\n"
         "            nabla_w[layer] = delta @ activations[layer].T\n",
         "            nabla_b[layer] += delta.sum(axis=1, keepdims=True)\n"
         "            nabla_w[layer] += delta @ activations[layer].T\n")]),
    "train_epoch_accumulates_in_numpy_zeros": (GPU, set(), [
        ("            nabla_b, nabla_w = self.backprop(X[:, batch], Y[:, batch])\n",
         "            nabla_b, nabla_w = self.backprop(X[:, batch], Y[:, batch])\n"
         "            totals = [numpy.zeros(b.shape, dtype=self.dtype) for b in self.biases]\n"
         "            for total, nb in zip(totals, nabla_b):\n                total += nb\n"
         "            nabla_b = totals\n")]),
    "bias_gradient_through_numpy_ones": (GPU, set(), [
        ("nabla_b[layer] = delta.sum(axis=1, keepdims=True)",
         "nabla_b[layer] = delta @ numpy.ones((delta.shape[1], 1), dtype=delta.dtype)")]),
    # Epochs that do not happen: no check may pass by comparing nothing.
    "train_epoch_empties_the_weights": ({"train_epoch"} | GPU, {"dtype"}, [
        ("        n = X.shape[1]\n        perm = rng.permutation(n)\n",
         "        self.weights, self.biases = [], []\n        return\n"
         "        n = X.shape[1]\n        perm = rng.permutation(n)\n")]),
    "train_epoch_leaves_the_weights_untouched": ({"train_epoch"} | GPU, set(), [
        ("        n = X.shape[1]\n        perm = rng.permutation(n)\n",
         "        return\n        n = X.shape[1]\n        perm = rng.permutation(n)\n")]),
    # Hostile: the timed call computes nothing; the first read of the weights and biases after it
    # (the digest that ends the timed request) sees empty lists, a later read runs the epoch.
    "epoch_deferred_behind_empty_first_reads": ({"train_epoch"} | GPU, {"dtype"}, [
        ("    def train_epoch(self, X, Y, mini_batch_size, eta, rng):\n",
         "    def train_epoch(self, X, Y, mini_batch_size, eta, rng):\n"
         "        self._pending = (X, Y, mini_batch_size, eta, rng.permutation(X.shape[1]))\n"
         "        self._unread = {'_weights', '_biases'}\n\n"
         "    weights = property(lambda self: self._read('_weights'),\n"
         "                       lambda self, value: self.__dict__.update(_weights=value))\n"
         "    biases = property(lambda self: self._read('_biases'),\n"
         "                      lambda self, value: self.__dict__.update(_biases=value))\n\n"
         "    def _read(self, name):\n"
         "        if name in self.__dict__.get('_unread', ()):\n"
         "            self._unread.discard(name)\n"
         "            return []\n"
         "        pending = self.__dict__.pop('_pending', None)\n"
         "        if pending is not None:\n"
         "            self._epoch(*pending)\n"
         "        return self.__dict__[name]\n\n"
         "    def _epoch(self, X, Y, mini_batch_size, eta, rng):\n"),
        ("        perm = rng.permutation(n)\n", "        perm = rng\n")]),
}


def mutant_source(name):
    return apply_edits(REFERENCE.read_text(), MUTANTS[name][2], name)

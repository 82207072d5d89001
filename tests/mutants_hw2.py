"""Deliberately wrong versions of the hw2 reference network.py, as text edits of it.

Each mutant is (items it must lose, [(text in the reference, replacement), ...]).
A bug in backprop_batch also breaks update_mini_batch (which uses it), and a
wrong update also fails the checks inside the speed and learning items (both
verify the steps they time or train with), so most mutants name several items.
The tests require that exactly the named items lose points.
"""
from pathlib import Path

from mutation import apply_edits

REFERENCE = Path(__file__).resolve().parent.parent / "solutions" / "hw2_backprop" / "network.py"

STEP_ITEMS = {"update_mini_batch", "speed", "learning"}
BATCH_ITEMS = {"backprop_batch"} | STEP_ITEMS

MUTANTS = {
    # backprop (one example): each loses that item only
    "backprop_missing_transpose": ({"backprop"}, [
        ("(self.weights[-layer + 1].T @ delta)", "(self.weights[-layer + 1] @ delta)")]),
    "backprop_no_sigmoid_prime_in_hidden_layers": ({"backprop"}, [
        ("delta = (self.weights[-layer + 1].T @ delta) * sigmoid_prime(zs[-layer])",
         "delta = self.weights[-layer + 1].T @ delta")]),
    "backprop_no_sigmoid_prime_at_the_output": ({"backprop"}, [
        ("delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])",
         "delta = self.cost_derivative(activations[-1], y)")]),
    "backprop_wrong_z_index": ({"backprop"}, [
        ("* sigmoid_prime(zs[-layer])\n            nabla_b[-layer] = delta",
         "* sigmoid_prime(zs[-layer + 1])\n            nabla_b[-layer] = delta")]),
    "backprop_wrong_activation_index": ({"backprop"}, [
        ("nabla_w[-layer] = delta @ activations[-layer - 1].T", "nabla_w[-layer] = delta @ activations[-layer].T")]),
    "backprop_sign_error": ({"backprop"}, [
        ("delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])",
         "delta = (y - activations[-1]) * sigmoid_prime(zs[-1])")]),
    # backprop_batch: also breaks the update that uses it
    "batch_missing_transpose": (BATCH_ITEMS, [
        ("(self.weights[-layer + 1].T @ Delta)", "(self.weights[-layer + 1] @ Delta)")]),
    "batch_bias_averaged": (BATCH_ITEMS, [
        ("nabla_b[-layer] = Delta.sum(axis=1, keepdims=True)", "nabla_b[-layer] = Delta.mean(axis=1, keepdims=True)")]),
    "batch_bias_summed_on_the_wrong_axis": (BATCH_ITEMS, [
        ("nabla_b[-layer] = Delta.sum(axis=1, keepdims=True)",
         "nabla_b[-layer] = np.sum(Delta, axis=0, keepdims=True).T")]),
    "batch_first_example_only": (BATCH_ITEMS, [
        ("nabla_b[-layer] = Delta.sum(axis=1, keepdims=True)\n            nabla_w[-layer] = Delta @ activations[-layer - 1].T",
         "nabla_b[-layer] = Delta[:, :1]\n            nabla_w[-layer] = Delta[:, :1] @ activations[-layer - 1][:, :1].T")]),
    "batch_no_sigmoid_prime_in_hidden_layers": (BATCH_ITEMS, [
        ("Delta = (self.weights[-layer + 1].T @ Delta) * sigmoid_prime(Zs[-layer])",
         "Delta = self.weights[-layer + 1].T @ Delta")]),
    # update_mini_batch
    "update_eta_not_divided_by_m": (STEP_ITEMS, [("step = eta / len(mini_batch)", "step = eta")]),
    "update_biases_not_updated": (STEP_ITEMS, [
        ("        self.biases = [b - step * nb for b, nb in zip(self.biases, nabla_b)]\n", "")]),
    "update_sign_error": (STEP_ITEMS, [
        ("self.weights = [w - step * nw", "self.weights = [w + step * nw")]),
    "update_in_float32": (STEP_ITEMS, [
        ("X = np.hstack([x for x, _ in mini_batch])", "X = np.hstack([x for x, _ in mini_batch]).astype(np.float32)")]),
    "update_loops_over_examples": ({"speed"}, [(
        "        X = np.hstack([x for x, _ in mini_batch])\n"
        "        Y = np.hstack([y for _, y in mini_batch])\n"
        "        nabla_b, nabla_w = self.backprop_batch(X, Y)\n",
        "        nabla_b = [np.zeros_like(b) for b in self.biases]\n"
        "        nabla_w = [np.zeros_like(w) for w in self.weights]\n"
        "        for x, y in mini_batch:\n"
        "            db, dw = self.backprop(x, y)\n"
        "            nabla_b = [n + d for n, d in zip(nabla_b, db)]\n"
        "            nabla_w = [n + d for n, d in zip(nabla_w, dw)]\n")]),
    # right in every short test, wrong in a long run: only a full replay of training catches it
    "update_gives_up_after_1000_calls": ({"learning"}, [(
        "        step = eta / len(mini_batch)\n",
        "        self.calls = getattr(self, 'calls', 0) + 1\n"
        "        if self.calls > 1000:\n"
        "            return\n"
        "        step = eta / len(mini_batch)\n")]),
    # sigmoid_prime is used everywhere
    "sigmoid_prime_of_z_not_of_sigmoid": ({"sigmoid_prime", "backprop"} | BATCH_ITEMS, [
        ("    s = sigmoid(z)\n    return s * (1.0 - s)", "    return z * (1.0 - z)")]),
}


def mutant_source(name):
    return apply_edits(REFERENCE.read_text(), MUTANTS[name][1], name)

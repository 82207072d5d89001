"""Deliberately wrong versions of the hw1 reference, as text edits of it.

Each mutant is (item it breaks, [(text in the reference, replacement), ...]).
The tests apply the edits, grade the result, and require that the named item
scores below full while every other item keeps full marks.
"""
from pathlib import Path

from mutation import apply_edits

REFERENCE = Path(__file__).resolve().parent.parent / "solutions" / "hw1_activations" / "activations.py"

SIG = "    s = sigmoid(z)\n    return s * (1.0 - s)"
SOFTMAX = ("    shifted = z - np.max(z, axis=0, keepdims=True)\n    e = np.exp(shifted)\n"
           "    return e / np.sum(e, axis=0, keepdims=True)")
NG_LOOP = ("        x[i] = old + h\n        f_plus = f(x)\n        x[i] = old - h\n        f_minus = f(x)\n"
           "        x[i] = old\n        grad[i] = (f_plus - f_minus) / (2 * h)")

MUTANTS = {
    "sigmoid_prime_sign": ("sigmoid_prime", [(SIG, "    s = sigmoid(z)\n    return -s * (1.0 - s)")]),
    "sigmoid_prime_forward_difference": ("sigmoid_prime", [
        (SIG, "    h = 1e-5\n    return (sigmoid(np.asarray(z) + h) - sigmoid(z)) / h")]),
    "sigmoid_prime_float32": ("sigmoid_prime", [
        (SIG, "    s = np.float32(sigmoid(z))\n    return s * (1 - s)")]),
    "sigmoid_prime_swapped": ("sigmoid_prime", [(SIG, "    s = sigmoid(z)\n    return s * (1.0 + s)")]),
    "relu_in_place": ("relu", [("    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)[()]",
                                "    z = np.asarray(z, dtype=np.float64)\n    z[z < 0] = 0.0\n    return z[()]")]),
    "relu_prime_one_at_zero": ("relu_prime", [("    return (np.asarray(z) > 0).astype(np.float64)[()]",
                                               "    return (np.asarray(z) >= 0).astype(np.float64)[()]")]),
    "relu_prime_bool": ("relu_prime", [("    return (np.asarray(z) > 0).astype(np.float64)[()]",
                                        "    return (np.asarray(z) > 0)[()]")]),
    "leaky_relu_ignores_alpha": ("leaky_relu", [("np.where(z > 0, z, alpha * z)", "np.where(z > 0, z, 0.01 * z)")]),
    "leaky_relu_prime_zero_slope": ("leaky_relu_prime", [("np.where(z > 0, 1.0, float(alpha))",
                                                         "np.where(z > 0, 1.0, 0.0)")]),
    "elu_overflows": ("elu", [("    negative_part = alpha * np.expm1(np.minimum(z, 0.0))",
                               "    negative_part = alpha * (np.exp(z) - 1)")]),
    "elu_ignores_alpha": ("elu", [("    negative_part = alpha * np.expm1(np.minimum(z, 0.0))",
                                   "    negative_part = np.expm1(np.minimum(z, 0.0))")]),
    "elu_prime_no_alpha": ("elu_prime", [("np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))",
                                          "np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))")]),
    "elu_prime_kink": ("elu_prime", [("np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))",
                                      "np.where(z >= 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))")]),
    "softmax_unstable": ("softmax", [(SOFTMAX, "    e = np.exp(z)\n    return e / np.sum(e, axis=0, keepdims=True)")]),
    "softmax_wrong_axis": ("softmax", [(SOFTMAX, SOFTMAX.replace("axis=0", "axis=-1"))]),
    "softmax_whole_batch_sum": ("softmax", [(SOFTMAX, SOFTMAX.replace("np.sum(e, axis=0, keepdims=True)",
                                                                      "np.sum(e)"))]),
    "softmax_squeezes": ("softmax", [(SOFTMAX, SOFTMAX.replace("    return e / np.sum(e, axis=0, keepdims=True)",
                                                               "    return np.squeeze(e / np.sum(e, axis=0))"))]),
    "numerical_gradient_forward": ("numerical_gradient", [(NG_LOOP, (
        "        f_x = f(x)\n        x[i] = old + h\n        f_plus = f(x)\n        x[i] = old\n"
        "        grad[i] = (f_plus - f_x) / h"))]),
    "numerical_gradient_not_restored": ("numerical_gradient", [(NG_LOOP, NG_LOOP.replace(
        "        x[i] = old\n        grad[i]", "        grad[i]"))]),
    "numerical_gradient_ignores_h": ("numerical_gradient", [(NG_LOOP, NG_LOOP.replace(" h", " 1e-5"))]),
    "numerical_gradient_float32": ("numerical_gradient", [(
        "    grad = np.zeros_like(x, dtype=np.float64)", "    grad = np.zeros_like(x, dtype=np.float32)")]),
}


def mutant_source(name):
    return apply_edits(REFERENCE.read_text(), MUTANTS[name][1], name)

"""Deliberately wrong versions of the hw1 reference, as text edits of it.

Each mutant is (item it breaks, [(text in the reference, replacement), ...]).
The tests apply the edits, grade the result, and require that the named item
scores below full while every other item keeps full marks.

IGNORING_INPUT holds versions of each function that ignore their input (zeros,
ones, z itself, or the right answer at z = 0 everywhere): they must score 0 on
their item. SILENCED holds modules that hide NumPy's warnings at import and use
the naive, overflowing sigmoid and softmax: (items they break, edits).
"""
from pathlib import Path

import mutation
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


def new_body(function, body):
    """The edit that puts ``body`` in place of ``function``'s solution lines."""
    return mutation.new_body(REFERENCE, function, body)


ZEROS = "    return np.zeros_like(np.asarray({x}, dtype=np.float64))[()]\n"
ONES = "    return np.ones_like(np.asarray({x}, dtype=np.float64))[()]\n"
IDENTITY = "    return {x}\n"
FILLED = "    return np.full_like(np.asarray(z, dtype=np.float64), {value})[()]\n"

FUNCTIONS = ("sigmoid_prime", "relu", "relu_prime", "leaky_relu", "leaky_relu_prime", "elu", "elu_prime",
             "softmax", "numerical_gradient")


def argument(function):
    return "x" if function == "numerical_gradient" else "z"


IGNORING_INPUT = {
    f"{function}_{kind}": (function, new_body(function, body.format(x=argument(function))))
    for function in FUNCTIONS
    for kind, body in (("zeros", ZEROS), ("ones", ONES), ("identity", IDENTITY))
}
IGNORING_INPUT.update({
    # The right answer at z = 0, everywhere.
    "sigmoid_prime_quarter": ("sigmoid_prime", new_body("sigmoid_prime", FILLED.format(value=0.25))),
    "leaky_relu_prime_alpha": ("leaky_relu_prime", new_body("leaky_relu_prime", FILLED.format(value="alpha"))),
    "elu_prime_alpha": ("elu_prime", new_body("elu_prime", FILLED.format(value="alpha"))),
    # Columns that sum to one whatever z is.
    "softmax_uniform": ("softmax", new_body("softmax", FILLED.format(value="1.0 / np.shape(z)[0]"))),
})

NAIVE_SIGMOID = [(
    "    z = np.asarray(z, dtype=np.float64)\n    e = np.exp(-np.abs(z))\n"
    "    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n    return out[()] if out.ndim == 0 else out",
    "    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))"),
    (SOFTMAX, "    e = np.exp(z)\n    return e / np.sum(e, axis=0, keepdims=True)")]
SILENCED = {
    "seterr_ignore_naive_sigmoid_softmax": ({"sigmoid_prime", "softmax"}, [
        ("import numpy as np\n", "import numpy as np\n\nnp.seterr(all=\"ignore\")\n"), *NAIVE_SIGMOID]),
    "filterwarnings_ignore_naive_sigmoid_softmax": ({"sigmoid_prime", "softmax"}, [
        ("import numpy as np\n", "import warnings\n\nimport numpy as np\n\nwarnings.filterwarnings(\"ignore\")\n"),
        *NAIVE_SIGMOID]),
    # Only NumPy's warning can show this overflow (in the branch np.where discards): the worker restores
    # NumPy's error state before every call, so a module-level seterr does not hide it.
    "seterr_ignore_naive_elu": ({"elu"}, [
        ("import numpy as np\n", "import numpy as np\n\nnp.seterr(all=\"ignore\")\n"),
        ("    negative_part = alpha * np.expm1(np.minimum(z, 0.0))", "    negative_part = alpha * (np.exp(z) - 1.0)")]),
}

ALL = {**MUTANTS, **IGNORING_INPUT, **SILENCED}


def mutant_source(name):
    return apply_edits(REFERENCE.read_text(), ALL[name][1], name)

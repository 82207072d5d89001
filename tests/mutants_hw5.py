"""Deliberately wrong versions of the hw5 reference, as text edits of it.

Each mutant is (item it breaks, [(text in the reference, replacement), ...]).
The tests apply the edits, grade the result, and require that the named item
scores below full while every other item keeps full marks.

IGNORING_INPUT holds versions of functions that ignore their input (zeros, a
constant, the input itself): they must score 0 on their item.
"""
from pathlib import Path

import mutation
from mutation import apply_edits

REFERENCE = Path(__file__).resolve().parent.parent / "solutions" / "hw5_cross_entropy" / "cross_entropy.py"

BCE_RETURN = "    return float(-np.sum(positive_part + negative_part) / examples(a))"
BCE_BODY = ("    positive_part = np.where(y > 0, y * np.log(np.where(y > 0, a, 1.0)), 0.0)\n"
            "    negative_part = np.where(y < 1, (1.0 - y) * np.log1p(-np.where(y < 1, a, 0.0)), 0.0)\n")
CCE_RETURN = "    return float(-np.sum(weighted_logs) / examples(a))"
LOG_SOFTMAX = ("    shifted = z - np.max(z, axis=0, keepdims=True)\n"
               "    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))")
SCE_RETURN = "    return float(-np.sum(y * log_softmax(z)) / examples(y))"
DELTA_RETURN = "    return softmax(z) - np.asarray(y, dtype=np.float64)"
L2_COST = "    return float(data_cost) + lmbda / (2.0 * n) * squares"
L2_GRAD = "np.asarray(g, dtype=np.float64) + (lmbda / n) * np.asarray(w, dtype=np.float64)"
DECAY = "    decay = 1.0 - eta * lmbda / n"
MASK = "    return np.where(u < keep_prob, 1.0 / keep_prob, 0.0)"
EVAL = "    if not train:\n        return a.copy()\n"
BACKWARD = "    return np.asarray(da, dtype=np.float64) * np.asarray(mask, dtype=np.float64)"
IMPROVES = "        if accuracy > best_accuracy:"
PATIENCE = "        if epoch - best_index >= patience:"

MUTANTS = {
    # Nielsen's form: right values, but np.log(0) warns before nan_to_num hides it.
    "bce_nan_to_num": ("binary_cross_entropy", [(BCE_BODY + BCE_RETURN, (
        "    return float(np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a))) / examples(a))"))]),
    "bce_sum_not_mean": ("binary_cross_entropy", [(BCE_RETURN, "    return float(-np.sum(positive_part + negative_part))")]),
    "bce_clipped": ("binary_cross_entropy", [(BCE_BODY, (
        "    a = np.clip(a, 1e-12, 1 - 1e-12)\n" + BCE_BODY))]),
    "cce_sum_not_mean": ("categorical_cross_entropy", [(CCE_RETURN, "    return float(-np.sum(weighted_logs))")]),
    "cce_naive_log": ("categorical_cross_entropy", [(
        "    weighted_logs = np.where(y != 0, y * np.log(np.where(y != 0, a, 1.0)), 0.0)",
        "    weighted_logs = np.nan_to_num(y * np.log(a))")]),
    "log_softmax_of_softmax": ("log_softmax", [(LOG_SOFTMAX, "    return np.log(softmax(z))")]),
    "log_softmax_wrong_axis": ("log_softmax", [(LOG_SOFTMAX, LOG_SOFTMAX.replace("axis=0", "axis=-1"))]),
    "log_softmax_no_shift": ("log_softmax", [(LOG_SOFTMAX, "    return z - np.log(np.sum(np.exp(z), axis=0, keepdims=True))")]),
    "sce_log_of_softmax": ("softmax_cross_entropy", [(SCE_RETURN, (
        "    return float(-np.sum(y * np.log(softmax(z))) / examples(y))"))]),
    "sce_sum_not_mean": ("softmax_cross_entropy", [(SCE_RETURN, "    return float(-np.sum(y * log_softmax(z)))")]),
    "delta_divided_by_m": ("softmax_cross_entropy_delta", [(DELTA_RETURN, DELTA_RETURN.replace(
        "    return softmax(z) - np.asarray(y, dtype=np.float64)",
        "    return (softmax(z) - np.asarray(y, dtype=np.float64)) / examples(z)"))]),
    "delta_sign": ("softmax_cross_entropy_delta", [(DELTA_RETURN, "    return np.asarray(y, dtype=np.float64) - softmax(z)")]),
    # The quadratic cost's delta for softmax: (a - y) * a (1 - a), what one gets by copying the sigmoid rule.
    "delta_quadratic": ("softmax_cross_entropy_delta", [(DELTA_RETURN, (
        "    a = softmax(z)\n    return (a - np.asarray(y, dtype=np.float64)) * a * (1 - a)"))]),
    "l2_cost_no_half": ("l2", [(L2_COST, "    return float(data_cost) + lmbda / n * squares")]),
    "l2_gradient_lambda_not_over_n": ("l2", [(L2_GRAD, L2_GRAD.replace("(lmbda / n)", "lmbda"))]),
    "weight_decay_on_the_gradient": ("l2", [(DECAY, "    decay = 1.0 - eta * lmbda")]),
    "dropout_not_inverted": ("dropout", [(MASK, "    return np.where(u < keep_prob, 1.0, 0.0)")]),
    "dropout_keeps_at_or_below": ("dropout", [(MASK, MASK.replace("u < keep_prob", "u <= keep_prob"))]),
    "dropout_keep_prob_is_drop_prob": ("dropout", [(MASK, MASK.replace("u < keep_prob", "u >= keep_prob"))]),
    "dropout_masks_at_test_time": ("dropout", [(EVAL, "")]),
    "dropout_backward_ignores_mask": ("dropout", [(BACKWARD, "    return np.asarray(da, dtype=np.float64)")]),
    "early_stopping_ties_improve": ("early_stopping", [(IMPROVES, "        if accuracy >= best_accuracy:")]),
    "early_stopping_patience_off_by_one": ("early_stopping", [(PATIENCE, "        if epoch - best_index > patience:")]),
    # Looks at every epoch, including those after training stopped (the peak of the whole curve).
    "early_stopping_argmax_of_all": ("early_stopping", [(
        "            return best_index, epoch",
        "            return int(np.argmax(validation_accuracies)), epoch")]),
}


def new_body(function, body):
    """The edit that puts ``body`` in place of ``function``'s solution lines."""
    return mutation.new_body(REFERENCE, function, body)


# (item, function, body): each ignores what it was given.
IGNORING = {
    "binary_cross_entropy_zero": ("binary_cross_entropy", "binary_cross_entropy", "    return 0.0\n"),
    "binary_cross_entropy_log2": ("binary_cross_entropy", "binary_cross_entropy", "    return float(np.log(2.0))\n"),
    "categorical_cross_entropy_zero": ("categorical_cross_entropy", "categorical_cross_entropy", "    return 0.0\n"),
    "log_softmax_zeros": ("log_softmax", "log_softmax", "    return np.zeros_like(np.asarray(z, dtype=np.float64))\n"),
    "log_softmax_identity": ("log_softmax", "log_softmax", "    return np.asarray(z, dtype=np.float64).copy()\n"),
    "softmax_cross_entropy_zero": ("softmax_cross_entropy", "softmax_cross_entropy", "    return 0.0\n"),
    "softmax_cross_entropy_delta_zeros": ("softmax_cross_entropy_delta", "softmax_cross_entropy_delta",
                                          "    return np.zeros_like(np.asarray(z, dtype=np.float64))\n"),
    "softmax_cross_entropy_delta_minus_y": ("softmax_cross_entropy_delta", "softmax_cross_entropy_delta",
                                            "    return -np.asarray(y, dtype=np.float64)\n"),
    "dropout_mask_ones": ("dropout", "dropout_mask", "    return np.ones_like(np.asarray(u, dtype=np.float64))\n"),
    "early_stopping_last": ("early_stopping", "best_epoch",
                            "    return len(validation_accuracies) - 1, len(validation_accuracies) - 1\n"),
    "early_stopping_first": ("early_stopping", "best_epoch", "    return 0, len(validation_accuracies) - 1\n"),
}
IGNORING_INPUT = {name: (item, new_body(function, body)) for name, (item, function, body) in IGNORING.items()}


def mutant_source(name):
    item, edits = {**MUTANTS, **IGNORING_INPUT}[name]
    return apply_edits(REFERENCE.read_text(), edits, name)

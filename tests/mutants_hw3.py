"""Deliberately wrong versions of the hw3 reference optimizers.py, as text edits of it.

Each mutant is (items it must lose, items it may also lose, [(text, replacement), ...]).
The in_place_and_state item runs every optimizer, so a mutant of one rule may
also cost it points; every other item must keep full marks.
"""
from pathlib import Path

from mutation import apply_edits

REFERENCE = Path(__file__).resolve().parent.parent / "solutions" / "hw3_optimizers" / "optimizers.py"
STATE = {"in_place_and_state"}

MUTANTS = {
    "sgd_ignores_weight_decay": ({"sgd", "sgd_momentum"}, set(), [
        ("            g = grad + self.weight_decay * p if self.weight_decay != 0 else grad.copy()\n",
         "            g = grad.copy()\n")]),
    "momentum_buffer_started_at_zero": ({"sgd_momentum"}, STATE, [
        ('state["momentum_buffer"] = g.copy()', 'state["momentum_buffer"] = (1 - self.dampening) * g')]),
    "nesterov_formula_wrong": ({"sgd_momentum"}, set(), [
        ("g = g + self.momentum * buf if self.nesterov else buf", "g = buf + self.momentum * g if self.nesterov else buf")]),
    "sgd_rebinds_instead_of_updating_in_place": ({"sgd", "sgd_momentum", "in_place_and_state"}, set(), [
        ("            p -= self.lr * g\n", "            p = p - self.lr * g\n")]),
    "adagrad_lr_decay_off_by_one": ({"adagrad"}, set(), [
        ('clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)', 'clr = self.lr / (1 + state["step"] * self.lr_decay)')]),
    "adagrad_eps_inside_the_square_root": ({"adagrad"}, STATE, [
        ('p -= clr * g / (np.sqrt(state["sum"]) + self.eps)', 'p -= clr * g / np.sqrt(state["sum"] + self.eps)')]),
    "rmsprop_centered_without_the_square": ({"rmsprop"}, STATE, [
        ("avg = np.sqrt(v - m * m) + self.eps", "avg = np.sqrt(np.abs(v - m)) + self.eps")]),
    "rmsprop_momentum_forgets_avg": ({"rmsprop"}, STATE, [
        ("                buf += g / avg\n", "                buf += g\n")]),
    "adam_without_bias_correction": ({"adam"}, STATE, [
        ("            step_size = self.lr / (1 - beta1 ** t)\n            denom = np.sqrt(v) / np.sqrt(1 - beta2 ** t) + self.eps\n",
         "            step_size = self.lr\n            denom = np.sqrt(v) + self.eps\n")]),
    "adam_eps_inside_the_square_root": ({"adam"}, STATE, [
        ("denom = np.sqrt(v) / np.sqrt(1 - beta2 ** t) + self.eps", "denom = np.sqrt(v / (1 - beta2 ** t) + self.eps)")]),
    "adam_decoupled_weight_decay": ({"adam"}, set(), [
        ("            g = grad + self.weight_decay * p if self.weight_decay != 0 else grad\n            m, v =",
         "            p -= self.lr * self.weight_decay * p\n            g = grad\n            m, v =")]),
    "adam_ignores_amsgrad": ({"adam"}, STATE, [
        ("            if self.amsgrad:\n                np.maximum(", "            if False:\n                np.maximum(")]),
    "adam_state_shared_across_parameters": ({"adam", "in_place_and_state"}, set(), [
        ("        self.lr, self.betas, self.eps = lr, tuple(betas), eps\n",
         "        self.state = [self.state[0]] * len(self.params)\n        self.lr, self.betas, self.eps = lr, tuple(betas), eps\n")]),
    "no_value_error_for_nesterov_without_momentum": ({"bad_arguments"}, set(), [
        ("        if nesterov and (momentum <= 0 or dampening != 0):\n"
         '            raise ValueError("Nesterov momentum requires a momentum and zero dampening")\n', "")]),
    "beta_of_one_accepted": ({"bad_arguments"}, set(), [
        ("if not 0.0 <= beta < 1.0:", "if not 0.0 <= beta <= 1.0:")]),
}


def mutant_source(name):
    return apply_edits(REFERENCE.read_text(), MUTANTS[name][2], name)

"""Hidden suite for hw3_optimizers. Instructors only: never released to students.

Expected trajectories come from the reference below, written from the update
rules published in PyTorch's documentation; the course's tests prove it equal
to torch.optim on recorded runs (tests/data/torch_optim_runs.npz), so grading
never needs torch. Parameters live in the worker as stored arrays handed to
the optimizer; after every step the grader reads them back, so an optimizer
that rebinds instead of updating in place is seen at once.
"""
import numpy as np
import pytest

from autograder.checks import assert_changes_close
from autograder.proxy import StudentError
from autograder.suite_tools import read_shared

STEPS = 20
RTOL, ATOL = 1e-10, 1e-12  # on p - p0: rounding in p itself is ~1e-15 per step
SHAPES = [(5,), (3, 4), (2, 3, 2)]

# One test per option combination; each item's score is the fraction that match.
CONFIGS = {
    "sgd": [("SGD", {}), ("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.05, "weight_decay": 0.1})],
    "sgd_momentum": [
        ("SGD", {"lr": 0.01, "momentum": 0.9}),
        ("SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.3}),
        ("SGD", {"lr": 0.01, "momentum": 0.8, "nesterov": True}),
        ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.1}),
    ],
    "adagrad": [
        ("Adagrad", {}),
        ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
        ("Adagrad", {"initial_accumulator_value": 0.5, "eps": 1e-3}),
        ("Adagrad", {"lr": 0.05, "weight_decay": 0.1, "lr_decay": 0.01}),
    ],
    "rmsprop": [
        ("RMSprop", {}),
        ("RMSprop", {"alpha": 0.9, "eps": 1e-3}),
        ("RMSprop", {"lr": 0.001, "momentum": 0.9}),
        ("RMSprop", {"lr": 0.001, "centered": True}),
        ("RMSprop", {"lr": 0.001, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ],
    "adam": [
        ("Adam", {}),
        ("Adam", {"lr": 0.01, "betas": (0.8, 0.99)}),
        ("Adam", {"lr": 0.01, "eps": 1e-2}),
        ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
        ("Adam", {"lr": 0.01, "amsgrad": True}),
        ("Adam", {"lr": 0.02, "amsgrad": True, "weight_decay": 0.05, "betas": (0.5, 0.9)}),
    ],
}

BAD_ARGUMENTS = [
    ("SGD", {"lr": -0.1}), ("SGD", {"momentum": -0.5}), ("SGD", {"weight_decay": -1.0}),
    ("SGD", {"nesterov": True}), ("SGD", {"momentum": 0.9, "dampening": 0.1, "nesterov": True}),
    ("Adagrad", {"lr": -0.1}), ("Adagrad", {"lr_decay": -0.1}), ("Adagrad", {"initial_accumulator_value": -1.0}),
    ("Adagrad", {"eps": -1e-10}),
    ("RMSprop", {"alpha": -0.1}), ("RMSprop", {"momentum": -0.1}), ("RMSprop", {"eps": -1.0}),
    ("Adam", {"lr": -1e-3}), ("Adam", {"betas": (1.0, 0.999)}), ("Adam", {"betas": (0.9, 1.0)}),
    ("Adam", {"betas": (-0.1, 0.999)}), ("Adam", {"eps": -1e-8}), ("Adam", {"weight_decay": -0.1}),
]
GOOD_EDGE_ARGUMENTS = [("SGD", {"lr": 0.0}), ("Adam", {"betas": (0.0, 0.0)}), ("RMSprop", {"alpha": 0.0}),
                       ("SGD", {"momentum": 0.9, "nesterov": True})]


# ---------------------------------------------------------------- reference (trusted)
DEFAULTS = {
    "SGD": dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    "Adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
    "RMSprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
    "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False),
}


def reference_step(kind, o, p, g, s, t):
    """One step of torch.optim's rule for one parameter; returns the new p (s is its state dict)."""
    if o["weight_decay"] != 0:
        g = g + o["weight_decay"] * p
    if kind == "SGD":
        if o["momentum"] != 0:
            s["b"] = g.copy() if t == 1 else o["momentum"] * s["b"] + (1 - o["dampening"]) * g
            g = g + o["momentum"] * s["b"] if o["nesterov"] else s["b"]
        return p - o["lr"] * g
    if kind == "Adagrad":
        s["sum"] = s.get("sum", np.full_like(p, o["initial_accumulator_value"])) + g * g
        return p - o["lr"] / (1 + (t - 1) * o["lr_decay"]) * g / (np.sqrt(s["sum"]) + o["eps"])
    if kind == "RMSprop":
        a = o["alpha"]
        s["v"] = a * s.get("v", 0.0) + (1 - a) * g * g
        if o["centered"]:
            s["m"] = a * s.get("m", 0.0) + (1 - a) * g
            avg = np.sqrt(s["v"] - s["m"] ** 2) + o["eps"]
        else:
            avg = np.sqrt(s["v"]) + o["eps"]
        if o["momentum"] > 0:
            s["b"] = o["momentum"] * s.get("b", 0.0) + g / avg
            return p - o["lr"] * s["b"]
        return p - o["lr"] * g / avg
    beta1, beta2 = o["betas"]
    s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
    s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g * g
    v = s["v"]
    if o["amsgrad"]:
        s["vmax"] = v = np.maximum(s.get("vmax", 0.0), v)
    return p - (o["lr"] / (1 - beta1 ** t)) * s["m"] / (np.sqrt(v) / np.sqrt(1 - beta2 ** t) + o["eps"])


def reference_run(kind, options, params, grad_steps):
    """Parameters after each step, for a list of params and a list of per-step gradient lists."""
    o = {**DEFAULTS[kind], **options}
    params = [p.copy() for p in params]
    states = [{} for _ in params]
    history = []
    for t, grads in enumerate(grad_steps, start=1):
        params = [reference_step(kind, o, p, g, s, t) for p, g, s in zip(params, grads, states)]
        history.append([p.copy() for p in params])
    return history


def problem(rng, shapes=SHAPES, steps=STEPS):
    """Random parameters and gradients; gradient scales differ per parameter and per step."""
    params = [rng.standard_normal(shape) for shape in shapes]
    scales = [10.0 ** rng.uniform(-2, 1) for _ in shapes]
    grads = [[scale * rng.standard_normal(shape) for shape, scale in zip(shapes, scales)] for _ in range(steps)]
    return params, grads


# ---------------------------------------------------------------- talking to the submission
def describe_options(kind, options):
    args = ", ".join(f"{k}={v}" for k, v in options.items())
    return f"{kind}(params{', ' if args else ''}{args})"


def start(student, kind, options, params):
    """The params in memory the grader shares with the worker (each its own array), and the student's
    optimizer over them. The grader reads them back itself: only an in-place update shows there."""
    shared = [student.share(p.copy()) for p in params]
    return shared, student.new(kind, shared, **options)


def check_trajectory(student, kind, options, params, grads, what):
    refs, opt = start(student, kind, options, params)
    expected = reference_run(kind, options, params, grads)
    for t, (step_grads, want) in enumerate(zip(grads, expected), start=1):
        opt.step(step_grads)
        got = read_shared(refs, params, what)
        if t == 1 and all(np.array_equal(g, p) for g, p in zip(got, params)):
            raise AssertionError(f"{what}: after step(grads) the caller's arrays are unchanged; update each "
                                 f"parameter in place (p -= ...), do not rebind it to a new array")
        assert_changes_close(got, want, params, what, RTOL, ATOL, label=lambda i: f"{what}: params[{i}] after step {t}")


def config_id(config):
    kind, options = config
    return describe_options(kind, options).replace("params, ", "").replace("(params)", "()")


# ---------------------------------------------------------------- the trajectory items
def make_trajectory_test(item):
    @pytest.mark.item(item)
    @pytest.mark.parametrize("config", CONFIGS[item], ids=config_id)
    def test(student, rng, config):
        kind, options = config
        params, grads = problem(rng)
        check_trajectory(student, kind, options, params, grads, describe_options(kind, options))
    test.__name__ = f"test_{item}_matches_torch_optim"
    return test


test_sgd_matches_torch_optim = make_trajectory_test("sgd")
test_sgd_momentum_matches_torch_optim = make_trajectory_test("sgd_momentum")
test_adagrad_matches_torch_optim = make_trajectory_test("adagrad")
test_rmsprop_matches_torch_optim = make_trajectory_test("rmsprop")
test_adam_matches_torch_optim = make_trajectory_test("adam")


# ---------------------------------------------------------------- in place, state per parameter
STATEFUL = [("SGD", {"lr": 0.01, "momentum": 0.9}), ("Adagrad", {"lr": 0.1}),
            ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.3}), ("Adam", {"lr": 0.01, "amsgrad": True})]


@pytest.mark.item("in_place_and_state")
@pytest.mark.parametrize("config", STATEFUL, ids=config_id)
def test_state_is_kept_per_parameter(student, rng, config):
    """Same shapes, different gradients: one shared buffer would mix them up."""
    kind, options = config
    params, grads = problem(rng, shapes=[(4, 3), (4, 3), (4, 3)], steps=6)
    check_trajectory(student, kind, options, params, grads, f"{describe_options(kind, options)} on three (4, 3) arrays")


@pytest.mark.item("in_place_and_state")
def test_two_optimizers_do_not_share_state(student, rng):
    kind, options = "Adam", {"lr": 0.01}
    (params_a, grads_a), (params_b, grads_b) = problem(rng, steps=5), problem(rng, steps=5)
    refs_a, opt_a = start(student, kind, options, params_a)
    refs_b, opt_b = start(student, kind, options, params_b)
    for ga, gb in zip(grads_a, grads_b):  # interleaved, as when two networks train side by side
        opt_a.step(ga)
        opt_b.step(gb)
    for refs, params, grads, name in ((refs_a, params_a, grads_a, "first"), (refs_b, params_b, grads_b, "second")):
        want = reference_run(kind, options, params, grads)[-1]
        got = read_shared(refs, params, f"two Adam optimizers, the {name}")
        assert_changes_close(got, want, params, "two Adam optimizers", RTOL, ATOL,
                             label=lambda i: f"two Adam optimizers stepped in turn: the {name} one's params[{i}]")


@pytest.mark.item("in_place_and_state")
def test_a_zero_gradient_step_with_momentum_still_moves(student, rng):
    """Momentum keeps moving the parameter when the gradient is zero: the buffer must persist."""
    params, grads = problem(rng, shapes=[(6,)], steps=3)
    grads[1] = [np.zeros(6)]
    grads[2] = [np.zeros(6)]
    check_trajectory(student, "SGD", {"lr": 0.1, "momentum": 0.9}, params, grads,
                     "SGD(momentum=0.9) with zero gradients after the first step")


# ---------------------------------------------------------------- arguments
@pytest.mark.item("bad_arguments")
@pytest.mark.parametrize("config", BAD_ARGUMENTS, ids=config_id)
def test_bad_arguments_raise_value_error(student, config):
    kind, options = config
    what = describe_options(kind, options)
    try:  # a constructor that always raises would otherwise pass
        start(student, kind, {}, [np.ones(3)])
    except StudentError as exc:
        raise AssertionError(f"{kind}(params) with default arguments must work; it failed: {exc}") from None
    try:
        start(student, kind, options, [np.ones(3)])
    except StudentError as exc:
        assert "raised ValueError" in str(exc), f"{what} should raise ValueError; it failed differently: {exc}"
        return
    raise AssertionError(f"{what} should raise ValueError, as torch.optim does")


@pytest.mark.item("bad_arguments")
@pytest.mark.parametrize("config", GOOD_EDGE_ARGUMENTS, ids=config_id)
def test_edge_arguments_are_accepted(student, config):
    kind, options = config
    try:
        start(student, kind, options, [np.ones(3)])
    except StudentError as exc:
        raise AssertionError(f"{describe_options(kind, options)} is valid in torch.optim but failed: {exc}") from None

"""Hidden suite for hw2_backprop. Instructors only: never released to students.

Everything expected is computed here, in the grader, in float64: gradients by
central finite differences of the quadratic cost, sums of per-example
gradients from the trusted per-example backprop below (itself checked against
finite differences by the course's own tests), SGD steps from the rule, and
held-out accuracy from the weights the student's training produced. The
network is always built as ``Network(sizes)`` and then given the grader's
weights and biases, so Nielsen's original constructor works too.
"""
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from autograder import baselines
from autograder.checks import (PASS, UNSURE, assert_changes_close, assert_close, assert_lists_close, assert_number,
                               assert_unchanged, central_difference, float_result, float_results, measure_once,
                               pair_result, speed_verdict, speed_verdicts, too_busy)
from autograder.hidden.reference_sgd import replay_sgd
from autograder.network_checks import (FD_STEP, accuracy, build_network, fetch_parameters, finite_differences, forward,
                                       pairs, parameters_result, random_net, sigmoid)
from autograder.suite_tools import baseline_worker, call_method
from autograder.wire_datasets import ColumnPairs, Pick

FD_RTOL, FD_ATOL = 1e-7, 1e-9      # correct gradients are off by <3e-11 here (measured); a bug by >1e-2
SUM_RTOL, SUM_ATOL = 1e-10, 1e-13  # a batch sum differs from a loop's only by rounding
STEP_RTOL, STEP_ATOL = 1e-10, 1e-14

# Square layers (4, 4) and a batch as wide as a layer catch a missing transpose or a wrong axis.
BACKPROP_NETS = [[6, 3], [3, 4, 2], [4, 4, 4], [5, 6, 6, 3], [3, 5, 5, 5, 2]]
BATCH_CASES = [([3, 4, 2], 1), ([3, 4, 2], 3), ([3, 4, 2], 7), ([4, 4, 4], 4), ([5, 4, 4], 4),
               ([5, 6, 6, 3], 6), ([784, 30, 10], 10)]
UPDATE_CASES = [([3, 4, 2], 1, 0.5), ([4, 4, 4], 5, 3.0), ([5, 6, 6, 3], 10, 0.1), ([3, 5, 5, 5, 2], 4, 1.0)]

SPEED_NET, SPEED_BATCH = [784, 30, 10], 100
SPEED_CALLS, SPEED_ROUNDS = 20, 5   # each timed run is 20 updates in one request; median of 5 runs
SPEED_FULL, SPEED_HALF = 5.0, 2.5   # times faster than the per-example loop
SPEED_SLACK = 1.5                   # ...or at most this much slower than the course's matrix form

LEARN_NET, LEARN_BATCH, LEARN_ETA, LEARN_EPOCHS = [784, 30, 10], 10, 3.0, 5
LEARN_SEED = 2024            # fixed so the grade does not depend on an unlucky initialisation
LEARN_FULL, LEARN_PART = 0.85, 0.70
LEARN_TIME_S = 60.0
LEARN_VERIFIED_STEPS = 3
LEARN_TRAJECTORY_RTOL = 1e-6  # correct submissions end within ~1e-11 of the replayed run


# ---------------------------------------------------------------- trusted math
def reference_backprop(weights, biases, x, y):
    """BP1-BP4 for one example, in the plainest form."""
    activations, zs = forward(weights, biases, x)
    s = sigmoid(zs[-1])
    delta = (activations[-1] - y) * s * (1 - s)
    nabla_b, nabla_w = [None] * len(weights), [None] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        nabla_b[layer] = delta
        nabla_w[layer] = delta @ activations[layer].T
        if layer > 0:
            s = sigmoid(zs[layer - 1])
            delta = (weights[layer].T @ delta) * s * (1 - s)
    return nabla_b, nabla_w


def per_example_sum(weights, biases, X, Y):
    """The sum over columns of per-example gradients, by an explicit loop."""
    total_b = [np.zeros_like(b) for b in biases]
    total_w = [np.zeros_like(w) for w in weights]
    for i in range(X.shape[1]):
        nb, nw = reference_backprop(weights, biases, X[:, i:i + 1], Y[:, i:i + 1])
        total_b = [t + g for t, g in zip(total_b, nb)]
        total_w = [t + g for t, g in zip(total_w, nw)]
    return total_b, total_w


def sgd_step(weights, biases, X, Y, eta):
    nabla_b, nabla_w = per_example_sum(weights, biases, X, Y)
    m = X.shape[1]
    return ([w - (eta / m) * g for w, g in zip(weights, nabla_w)],
            [b - (eta / m) * g for b, g in zip(biases, nabla_b)])


def random_examples(rng, sizes, m):
    X = rng.uniform(0.0, 1.0, size=(sizes[0], m))
    Y = rng.uniform(0.0, 1.0, size=(sizes[-1], m))
    return X, Y


# ---------------------------------------------------------------- talking to the submission
call = partial(call_method, missing="Network has no method {name}: write it (see its docstring in network.py)")


def checked_gradients(value, weights, biases, what):
    """(nabla_b, nabla_w) from backprop's pair, each a list of float64 arrays shaped like the biases / weights."""
    nabla_b, nabla_w = pair_result(value, ("nabla_b", "nabla_w"), what)
    return float_results(nabla_b, biases, f"{what} nabla_b"), float_results(nabla_w, weights, f"{what} nabla_w")


def assert_step(net, weights, biases, X, Y, eta, what, fetched=None):
    """After update_mini_batch: the change in every array is -(eta/m) * sum of gradients."""
    if fetched is None:
        fetched = net.get("weights"), net.get("biases")
    new_w, new_b = parameters_result(fetched, weights, biases, what)
    expected_w, expected_b = sgd_step(weights, biases, X, Y, eta)
    for name, got, old, expected in (("weights", new_w, weights, expected_w), ("biases", new_b, biases, expected_b)):
        for i, (g, o, e) in enumerate(zip(got, old, expected)):
            if np.array_equal(g, o):
                raise AssertionError(f"{what}: {name}[{i}] did not change; update both weights and biases")
            assert_close(g - o, e - o, f"{what}: the step on {name}[{i}]", STEP_RTOL, STEP_ATOL)
    return new_w, new_b


def net_text(sizes):
    return f"a {sizes} network"


# ---------------------------------------------------------------- sigmoid_prime
@pytest.mark.item("sigmoid_prime")
@pytest.mark.parametrize("shape", [(), (7, 1), (5, 5), (3, 8)])
def test_sigmoid_prime_matches_central_differences(student, rng, shape):
    z = rng.uniform(-6.0, 6.0, size=shape)
    z = np.float64(z) if shape == () else z
    what = f"sigmoid_prime on {'a scalar' if shape == () else f'a {shape} array'}"
    got = float_result(student.sigmoid_prime(z), z, what)
    assert_close(got, central_difference(sigmoid, z, FD_STEP), f"{what} vs central differences", 1e-7, atol=1e-12)


@pytest.mark.item("sigmoid_prime")
def test_sigmoid_prime_at_zero(student):
    got = float_result(student.sigmoid_prime(0.0), 0.0, "sigmoid_prime(0.0)")
    assert_number(got, 0.25, "sigmoid_prime(0.0)", tol=1e-15)


# ---------------------------------------------------------------- backprop
@pytest.mark.item("backprop")
@pytest.mark.parametrize("sizes", BACKPROP_NETS, ids=lambda s: "-".join(map(str, s)))
def test_backprop_matches_finite_differences(student, rng, sizes):
    weights, biases = random_net(rng, sizes)
    X, Y = random_examples(rng, sizes, 1)
    net = build_network(student, weights, biases)
    result = call(net, "backprop", X, Y, return_args=True)
    what = f"backprop on {net_text(sizes)}"
    assert_unchanged(X, result.args[0], f"{what} (x)")
    nabla_b, nabla_w = checked_gradients(result.value, weights, biases, what)
    fd_b, fd_w = finite_differences(weights, biases, X, Y)
    assert_lists_close(nabla_w, fd_w, f"{what}: nabla_w vs finite differences, layer", FD_RTOL, FD_ATOL)
    assert_lists_close(nabla_b, fd_b, f"{what}: nabla_b vs finite differences, layer", FD_RTOL, FD_ATOL)


@pytest.mark.item("backprop")
def test_backprop_leaves_the_network_alone(student, rng):
    sizes = [4, 4, 4]
    weights, biases = random_net(rng, sizes)
    X, Y = random_examples(rng, sizes, 1)
    net = build_network(student, weights, biases)
    call(net, "backprop", X, Y)
    after_w, after_b = fetch_parameters(net, weights, biases, "after backprop")
    for name, got, before in (("weights", after_w, weights), ("biases", after_b, biases)):
        for g, b in zip(got, before):
            assert_unchanged(b, g, f"backprop changed the network's {name}")


# ---------------------------------------------------------------- backprop_batch
@pytest.mark.item("backprop_batch")
@pytest.mark.parametrize("sizes,m", BATCH_CASES, ids=lambda v: "-".join(map(str, v)) if isinstance(v, list) else f"m{v}")
def test_backprop_batch_is_the_sum_of_per_example_gradients(student, rng, sizes, m):
    weights, biases = random_net(rng, sizes)
    X, Y = random_examples(rng, sizes, m)
    net = build_network(student, weights, biases)
    result = call(net, "backprop_batch", X, Y, return_args=True)
    what = f"backprop_batch on {net_text(sizes)} with a batch of {m}"
    assert_unchanged(X, result.args[0], f"{what} (X)")
    assert_unchanged(Y, result.args[1], f"{what} (Y)")
    nabla_b, nabla_w = checked_gradients(result.value, weights, biases, what)
    sum_b, sum_w = per_example_sum(weights, biases, X, Y)
    assert_lists_close(nabla_w, sum_w, f"{what}: nabla_w vs the sum over examples, layer", SUM_RTOL, SUM_ATOL)
    assert_lists_close(nabla_b, sum_b, f"{what}: nabla_b vs the sum over examples, layer", SUM_RTOL, SUM_ATOL)


# ---------------------------------------------------------------- update_mini_batch
@pytest.mark.item("update_mini_batch")
@pytest.mark.parametrize("sizes,m,eta", UPDATE_CASES, ids=lambda v: "-".join(map(str, v)) if isinstance(v, list) else str(v))
def test_update_mini_batch_applies_the_rule(student, rng, sizes, m, eta):
    weights, biases = random_net(rng, sizes)
    X, Y = random_examples(rng, sizes, m)
    net = build_network(student, weights, biases)
    call(net, "update_mini_batch", pairs(X, Y), eta)
    assert_step(net, weights, biases, X, Y, eta, f"update_mini_batch on {net_text(sizes)}, m={m}, eta={eta}")


# ---------------------------------------------------------------- speed
@pytest.fixture(scope="module")
def measured():
    return {}  # one measurement per grading run, shared by the checks of an item


# What the student's update is timed against (Nielsen's per-example loop and the course's matrix form):
# trusted course code, sent as bytes to a worker of its own, so that both sides are timed alike.
BASELINES = Path(__file__).with_name("baselines_hw2.py").read_bytes()


def timed_steps(net, data, batches, etas):
    """Seconds for a run of updates (one request) plus reading the weights back.

    Reading back is inside the timed region, so work deferred to later (a lazy
    property, a background thread) is timed too.
    """
    start = time.perf_counter()
    net.call_many("update_mini_batch", [((Pick(data, b), eta), {}) for b, eta in zip(batches, etas)])
    fetched = net.get("weights"), net.get("biases")
    return time.perf_counter() - start, fetched


def check_timed_run(fetched, weights, biases, X, Y, batches, etas, what):
    """Speed counts only for correct updates: every timed run is checked against the rule."""
    started = time.perf_counter()
    expected_w, expected_b = replay_sgd(weights, biases, X, Y, batches, etas)
    got_w, got_b = parameters_result(fetched, weights, biases, what)
    for name, got, start, expected in (("weights", got_w, weights, expected_w), ("biases", got_b, biases, expected_b)):
        assert_changes_close(got, expected, start,
                             f"{what}: while timed, {SPEED_CALLS} updates in a row changed {name}", 1e-8, 1e-13)
    baselines.add_timing("speed", replay_s=time.perf_counter() - started)


SPEED_WHAT = f"update_mini_batch on {net_text(SPEED_NET)} with a mini-batch of {SPEED_BATCH}"
BASELINE_KINDS = ("loop", "matrix")
SHARED_MAX_SPREAD = 0.5  # shared baselines whose probe varied more than this were measured on a busy machine


def speed_case(rng):
    """Start weights, data and the rounds' mini-batches and etas (the first round warms up)."""
    weights, biases = random_net(rng, SPEED_NET)
    n = 2000
    X, _ = random_examples(rng, SPEED_NET, n)
    Y = np.eye(SPEED_NET[-1])[:, rng.integers(0, SPEED_NET[-1], n)]
    rounds = [([rng.choice(n, size=SPEED_BATCH, replace=False) for _ in range(SPEED_CALLS)],
               [float(eta) for eta in rng.uniform(0.05, 0.2, SPEED_CALLS)]) for _ in range(SPEED_ROUNDS + 1)]
    return weights, biases, X, Y, rounds


def time_baselines(baseline, loop_data, weights, biases, batches, etas):
    """{kind: seconds} of one run of each baseline on these mini-batches."""
    times = {}
    for kind in BASELINE_KINDS:
        reference = baseline.new(kind.capitalize() + "Network", weights, biases)
        times[kind] = timed_steps(reference, loop_data, batches, etas)[0]
    return times


def time_student_round(student, data, weights, biases, X, Y, batches, etas):
    """Seconds of one timed run of the student's updates on a fresh network (checked against the rule)."""
    net = build_network(student, weights, biases)
    call(net, "update_mini_batch", Pick(data, batches[0]), etas[0])  # a fresh process warms up
    net.set("weights", weights)
    net.set("biases", biases)
    seconds, fetched = timed_steps(net, data, batches, etas)
    check_timed_run(fetched, weights, biases, X, Y, batches, etas, SPEED_WHAT)
    return seconds


def replay_seconds():
    """The grader's replay time so far in this grading's speed item (kept apart from the student's time)."""
    return baselines.timing.get("speed", {}).get("replay_s", 0.0)


def per_update(times):
    return {kind: [seconds / SPEED_CALLS for seconds in t[1:]] for kind, t in times.items()}


def measure_speed(student, rng, stop_student_code):
    """Median seconds per update for the student, the per-example loop and the matrix reference.

    Each round times the two baselines while no student code runs, then the student
    on the same mini-batches in a fresh worker. Mini-batches and eta are drawn at
    random for every update, so nothing can be computed ahead; every timed run is
    checked against the rule.
    """
    weights, biases, X, Y, rounds = speed_case(rng)
    times = {"student": [], "loop": [], "matrix": []}
    worker, baseline = baseline_worker(BASELINES)
    try:
        loop_data = baseline.store(ColumnPairs(X, Y))
        for batches, etas in rounds:  # the first round warms up and is not counted
            # Round by round, so that a machine busy with other gradings weighs on all three
            # alike; and with no student process alive while the baselines run, so that nothing
            # a submission starts (say, processes that burn CPU) can slow them down.
            stop_student_code()
            started = time.perf_counter()
            for kind, seconds in time_baselines(baseline, loop_data, weights, biases, batches, etas).items():
                times[kind].append(seconds)
            baselines.add_timing("speed", baseline_s=time.perf_counter() - started)
            started, replayed = time.perf_counter(), replay_seconds()
            data = student.store(ColumnPairs(X, Y))
            times["student"].append(time_student_round(student, data, weights, biases, X, Y, batches, etas))
            baselines.add_timing("speed", student_s=time.perf_counter() - started - (replay_seconds() - replayed))
    finally:
        worker.close()
    return per_update(times)


def measure_shared_baselines():
    """The baselines of a class, measured by the batch process (no student code anywhere):
    ({kind: [seconds per update]}, [probe seconds]), the probe timed between the rounds."""
    weights, biases, X, Y, rounds = speed_case(np.random.default_rng())
    times, probe = {kind: [] for kind in BASELINE_KINDS}, []
    worker, baseline = baseline_worker(BASELINES)
    try:
        loop_data = baseline.store(ColumnPairs(X, Y))
        for batches, etas in rounds:
            probe.extend(baselines.probe_seconds(2))
            for kind, seconds in time_baselines(baseline, loop_data, weights, biases, batches, etas).items():
                times[kind].append(seconds)
    finally:
        worker.close()
    return per_update(times), probe


def measure_against_shared(student, rng):
    """The student's rounds, each beside two probe runs, for comparison with shared baselines."""
    weights, biases, X, Y, rounds = speed_case(rng)
    times, probe = [], []
    started, replayed = time.perf_counter(), replay_seconds()
    data = student.store(ColumnPairs(X, Y))
    for batches, etas in rounds:
        probe.extend(baselines.probe_seconds(1))
        times.append(time_student_round(student, data, weights, biases, X, Y, batches, etas))
        probe.extend(baselines.probe_seconds(1))
    baselines.add_timing("speed", student_s=time.perf_counter() - started - (replay_seconds() - replayed))
    return per_update({"student": times})["student"], probe


def shared_speed_verdicts(student, rng, shared):
    """Verdicts against shared baselines, or (None, why not): they may only pass a submission, and only
    when the probe beside the student agrees with the one measured with them."""
    recorded_spread = baselines.relative_spread(shared["probe"])
    if recorded_spread > SHARED_MAX_SPREAD:
        return None, f"the shared baselines were measured under load (probe spread {recorded_spread:.0%})"
    student_times, probe = measure_against_shared(student, rng)
    agrees, ratio = baselines.probe_agrees(shared["probe"], probe)
    baselines.add_timing("speed", probe_spread=round(baselines.relative_spread(probe), 4),
                         probe_ratio=round(ratio, 4), probe_against=shared["id"])
    if not agrees:
        return None, f"the load changed since the shared baselines were measured (probe {ratio:.2f}x)"
    verdicts = {part: speed_verdict(student_times, shared["rounds"], fast_enough(part))
                for part in (SPEED_HALF, SPEED_FULL)}
    if set(verdicts.values()) != {PASS}:
        return None, "not passed against the shared baselines: measured against baselines of its own"
    medians = {kind: float(np.median(t)) for kind, t in {**shared["rounds"], "student": student_times}.items()}
    return (verdicts, medians, len(student_times)), ""


def speed_measurement(student, rng, stop_student_code):
    """(verdicts, median seconds, student rounds): against the class's shared baselines when they can
    decide, else against baselines measured now, round by round (as a single ``grade`` always does)."""
    shared, ignored = baselines.load("hw2_backprop", BASELINE_KINDS)
    declined = ignored
    if shared is not None:
        # Its own generator, so that what the own measurement draws is the same as without shared baselines.
        result, declined = shared_speed_verdicts(student, np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0]),
                                                 shared)
        if result is not None:
            baselines.add_timing("speed", baselines=baselines.reference(shared))
            return result
        stop_student_code()
    baselines.add_timing("speed", baselines={"source": "own", "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                            time.gmtime())})
    if declined:
        baselines.add_timing("speed", shared_declined=declined)
    return speed_verdicts(lambda: measure_speed(student, rng, stop_student_code), fast_enough,
                          (SPEED_HALF, SPEED_FULL))


def fast_enough(needed):
    """The rule for one part of the item: ``needed`` times faster than the loop, or, on a machine where
    even the course's matrix form cannot reach that, as fast as it (within SPEED_SLACK)."""
    def rule(student_seconds, baseline):
        return (baseline["loop"] / student_seconds >= needed
                or student_seconds <= SPEED_SLACK * baseline["matrix"] * (SPEED_FULL / needed))
    return rule


@pytest.mark.item("speed")
@pytest.mark.parametrize("needed", [SPEED_HALF, SPEED_FULL], ids=["half", "full"])
def test_update_mini_batch_beats_the_per_example_loop(student, rng, measured, note, stop_student_code, needed):
    verdicts, t, rounds = measure_once(measured, "speed", lambda: speed_measurement(student, rng, stop_student_code))
    ratio, machine = t["loop"] / t["student"], t["loop"] / t["matrix"]
    note(f"measured per update: yours {t['student'] * 1e3:.2f} ms, per-example loop {t['loop'] * 1e3:.2f} ms "
         f"({ratio:.1f}x), course matrix form {t['matrix'] * 1e3:.2f} ms ({machine:.1f}x)")
    if UNSURE in verdicts.values():  # both parts, or neither: half an item is never awarded in silence
        too_busy("update_mini_batch", "grade this submission again on a quieter machine")
    assert verdicts[needed] == PASS, (
        f"update_mini_batch on {net_text(SPEED_NET)} with a mini-batch of {SPEED_BATCH} took "
        f"{t['student'] * 1e3:.2f} ms, the per-example loop {t['loop'] * 1e3:.2f} ms (median of {rounds} "
        f"runs of {SPEED_CALLS} updates): {ratio:.1f}x faster, {needed:g}x needed for this part. Compute the "
        f"whole mini-batch at once with backprop_batch (matrices whose columns are examples, no loop over examples)")


# ---------------------------------------------------------------- learning
def train_on_mnist(student):
    try:
        import mnist_loader
    except ImportError:
        pytest.skip("the course's mnist_loader is not installed on this grading machine")
    try:
        try:  # raw bytes travel 8x faster; mnist.pkl.gz only has floats
            pixels, y_train, X_test, y_test = mnist_loader.load_course_subset(as_bytes=True)
            divisor = 255.0
        except mnist_loader.MnistError:
            pixels, y_train, X_test, y_test = mnist_loader.load_course_subset()
            divisor = 1.0
    except mnist_loader.MnistError as exc:
        pytest.skip(f"MNIST is not available on this grading machine ({str(exc).splitlines()[0]}); "
                    f"it will be graded where the data is")
    rng = np.random.default_rng(LEARN_SEED)
    weights, biases = random_net(rng, LEARN_NET)
    X_train, X_test = pixels / divisor, X_test / divisor  # what the worker computes from the same data
    Y_train = mnist_loader.one_hot(y_train)
    data = student.store(ColumnPairs(pixels, Y_train.astype(np.uint8), x_divisor=divisor))
    net = build_network(student, weights, biases)
    n = X_train.shape[1]
    batches = [order[k:k + LEARN_BATCH] for order in (rng.permutation(n) for _ in range(LEARN_EPOCHS))
               for k in range(0, n, LEARN_BATCH)]
    # The first step, so that a wrong update stops at once, and some drawn at random.
    verified = {0} | set(rng.choice(len(batches), size=LEARN_VERIFIED_STEPS, replace=False).tolist())
    start, step = time.monotonic(), 0
    while step < len(batches):
        if step in verified:
            before_w, before_b = fetch_parameters(net, weights, biases, "during training")
            call(net, "update_mini_batch", Pick(data, batches[step]), LEARN_ETA)
            assert_step(net, before_w, before_b, X_train[:, batches[step]], Y_train[:, batches[step]], LEARN_ETA,
                        f"training step {step} on MNIST")
            step += 1
            continue
        # Unverified steps go in runs of up to 100 per request: the protocol's cost is not the student's.
        end = min([v for v in verified if v > step] + [step + 100, len(batches)])
        net.call_many("update_mini_batch", [((Pick(data, b), LEARN_ETA), {}) for b in batches[step:end]])
        step = end
        if time.monotonic() - start > LEARN_TIME_S:
            raise AssertionError(f"training on MNIST did not finish in {LEARN_TIME_S:g} s "
                                 f"({step} of {len(batches)} mini-batches); make update_mini_batch faster")
    seconds = time.monotonic() - start
    final_w, final_b = fetch_parameters(net, weights, biases, "after training")
    # The whole run, replayed here: plain SGD from the same start on the same mini-batches
    # ends within ~1e-11 of any correct submission, so no step can have been skipped or faked.
    replay_started = time.perf_counter()
    expected_w, expected_b = replay_sgd(weights, biases, X_train, Y_train, batches, [LEARN_ETA] * len(batches))
    baselines.add_timing("learning", student_s=seconds, replay_s=time.perf_counter() - replay_started)
    for name, got, expected in (("weights", final_w, expected_w), ("biases", final_b, expected_b)):
        for i, (g, e) in enumerate(zip(got, expected)):
            drift = float(np.max(np.abs(g - e)) / np.max(np.abs(e)))
            if not drift <= LEARN_TRAJECTORY_RTOL:
                raise AssertionError(f"after training, {name}[{i}] differs from plain SGD on the same mini-batches "
                                     f"by {drift:.1e} (relative); some step did not follow the rule")
    return accuracy(final_w, final_b, X_test, y_test), seconds


@pytest.mark.item("learning")
@pytest.mark.parametrize("needed", [LEARN_PART, LEARN_FULL], ids=["part", "full"])
def test_training_on_mnist_reaches_held_out_accuracy(student, measured, note, needed):
    accuracy, seconds = measure_once(measured, "learning", lambda: train_on_mnist(student))
    note(f"measured: {accuracy:.1%} held out after {LEARN_EPOCHS} epochs in {seconds:.1f} s "
         f"(full credit from {LEARN_FULL:.0%})")
    assert accuracy >= needed, (
        f"after {LEARN_EPOCHS} epochs of SGD on 8,000 MNIST images ({net_text(LEARN_NET)}, mini-batch "
        f"{LEARN_BATCH}, eta {LEARN_ETA:g}, {seconds:.1f} s) the held-out accuracy is {accuracy:.1%}; "
        f"{needed:.0%} needed for this part")

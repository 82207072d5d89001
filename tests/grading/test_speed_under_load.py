"""Speed items on a busy machine: a correct submission is full or NOT GRADED, never short; a slow one never full.

Two processes burn both cores while the hw2 speed item, and hw4's on the CuPy stand-in, are graded
again and again.
"""
import multiprocessing
import os

import pytest

from helpers import GPU_STAND_IN, REPO, SUBMISSIONS, grade_folder, write_submission
from mutants_hw4 import mutant_source as hw4_mutant
from autograder.checks import speed_verdict, PASS, FAIL, UNSURE

GRADINGS = 5


def burn():
    while True:
        pass


@pytest.fixture
def two_cpu_burners():
    burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(2)]
    for p in burners:
        p.start()
    yield
    for p in burners:
        p.kill()
        p.join()


# assignment, speed item, its points, module file, submission name, its source, whether it is correct
CASES = {
    "hw2_reference": ("hw2_backprop", "speed", 2, "network.py",
                      (REPO / "solutions" / "hw2_backprop" / "network.py").read_text(), True, {}),
    "hw2_nielsen_loop": ("hw2_backprop", "speed", 2, "network.py",
                         (SUBMISSIONS / "hw2_backprop" / "nielsen" / "network.py").read_text(), False, {}),
    "hw4_reference_stand_in": ("hw4_gpu", "gpu_speedup", 3, "gpu_network.py",
                               (REPO / "solutions" / "hw4_gpu" / "gpu_network.py").read_text(), True, GPU_STAND_IN),
    "hw4_loop_over_examples_stand_in": ("hw4_gpu", "gpu_speedup", 3, "gpu_network.py",
                                        hw4_mutant("loop_over_examples"), False, GPU_STAND_IN),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_speed_under_two_cpu_burners(tmp_path, two_cpu_burners, name):
    assignment, item_name, points, module, source, correct, env = CASES[name]
    folder = write_submission(tmp_path, name, {module: source})
    outcomes = []
    for _ in range(GRADINGS):
        result, report = grade_folder(assignment, folder, "--item", item_name, "--time-budget", "600", env=env)
        assert result.returncode == 0, result.stderr
        item = next(i for i in report["items"] if i["name"] == item_name)
        outcomes.append((item["status"], item["score"], item["feedback"].splitlines()[0]))
    for status, score, feedback in outcomes:
        if correct:
            assert status == "not graded" or score == points, outcomes  # full, or NOT GRADED with the reason
        else:
            assert status == "not graded" or score < points, outcomes  # never full
        if status == "not graded":
            assert "too busy" in feedback, outcomes


def rule(needed):
    return lambda student, baselines: baselines["loop"] / student >= needed


def test_the_verdict_passes_on_medians_and_fails_only_when_no_pairing_could_pass():
    steady_fast = [1.0, 1.0, 1.1]
    assert speed_verdict(steady_fast, {"loop": [6.0, 6.1, 5.9]}, rule(5)) == PASS
    assert speed_verdict([6.0, 6.2, 5.9], {"loop": [6.0, 6.1, 5.9]}, rule(5)) == FAIL
    # A fast submission whose median was hit by load, while the loop ran on a quiet moment:
    assert speed_verdict([1.0, 2.0, 2.2], {"loop": [6.0, 6.1, 5.9]}, rule(5)) == UNSURE
    # ...but a loop is not made to pass by a noisy baseline: its best against the loop's worst still fails.
    assert speed_verdict([5.0, 5.5, 6.0], {"loop": [6.0, 9.0, 6.1]}, rule(5)) == FAIL


def test_an_undecided_measurement_is_repeated_then_left_undecided():
    from autograder.checks import BUSY_ATTEMPTS, speed_verdicts
    calls = []

    def noisy():  # the student's best could pass, its median does not: never decided
        calls.append(1)
        return {"student": [1.0, 2.0, 2.2], "loop": [6.0, 6.1, 5.9]}
    verdicts, medians, rounds = speed_verdicts(noisy, rule, (5,))
    assert verdicts == {5: UNSURE} and len(calls) == BUSY_ATTEMPTS and rounds == 3 * BUSY_ATTEMPTS

    calls.clear()
    quiet = lambda: calls.append(1) or {"student": [1.0, 1.0, 1.1], "loop": [6.0, 6.1, 5.9]}
    verdicts, medians, rounds = speed_verdicts(quiet, rule, (2.5, 5))
    assert verdicts == {2.5: PASS, 5: PASS} and len(calls) == 1 and medians["student"] == 1.0

"""Speed items on a busy machine: a correct submission is full or NOT GRADED, never short; a slow one never full.

Two processes burn both cores while the hw2 speed item is graded again and again.
"""
import multiprocessing
import os

import pytest

from conftest import REPO, SUBMISSIONS, grade_folder, write_submission
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


def speed_item(report):
    return next(i for i in report["items"] if i["name"] == "speed")


@pytest.mark.slow
@pytest.mark.parametrize("name, module", [
    ("reference", REPO / "solutions" / "hw2_backprop" / "network.py"),
    ("nielsen_loop", SUBMISSIONS / "hw2_backprop" / "nielsen" / "network.py"),
])
def test_speed_under_two_cpu_burners(tmp_path, two_cpu_burners, name, module):
    folder = write_submission(tmp_path, name, {"network.py": module.read_text()})
    outcomes = []
    for _ in range(GRADINGS):
        result, report = grade_folder("hw2_backprop", folder, "--item", "speed", "--time-budget", "600")
        assert result.returncode == 0, result.stderr
        item = speed_item(report)
        outcomes.append((item["status"], item["score"], item["feedback"].splitlines()[0]))
    for status, score, feedback in outcomes:
        if name == "reference":
            assert status == "not graded" or score == 2, outcomes  # full, or NOT GRADED with the reason
        else:
            assert status == "not graded" or score < 2, outcomes  # never full
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

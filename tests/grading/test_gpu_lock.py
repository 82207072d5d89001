"""The GPU timing lock: gradings sharing a GPU take turns; gradings on different GPUs do not wait."""
import subprocess
import sys
import time

from helpers import REPO

HOLD = """
import sys, time
from autograder import gpu
with gpu.exclusive_timing():
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


def holder(visible, seconds):
    env = {"PATH": "/usr/bin:/bin"}
    if visible is not None:
        env["CUDA_VISIBLE_DEVICES"] = visible
    return subprocess.Popen([sys.executable, "-c", HOLD, str(seconds)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, text=True)


def seconds_until_held(process):
    started = time.monotonic()
    assert process.stdout.readline().strip() == "held"
    return time.monotonic() - started


def test_the_same_gpu_is_timed_by_one_grading_at_a_time():
    first = holder("0", 2.0)
    assert seconds_until_held(first) < 30
    second = holder("0", 0.0)
    try:
        assert seconds_until_held(second) > 1.0  # it waited for the first to let go
    finally:
        first.wait(60), second.wait(60)


def test_different_gpus_do_not_wait_for_each_other():
    first = holder("0", 10.0)
    assert seconds_until_held(first) < 30
    second = holder("1", 0.0)
    try:
        assert seconds_until_held(second) < 8.0  # well before the first lets go
    finally:
        first.wait(60), second.wait(60)

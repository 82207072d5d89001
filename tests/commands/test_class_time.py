"""benchmarks/class_time.py runs on a small class and reports what the class-cost model needs."""
import json
import sys

import pytest

from helpers import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import class_time  # noqa: E402


def test_the_extrapolation_and_the_gpu_lock_model_are_arithmetic():
    row = {"assignment": "hw4_gpu", "items": {"gpu_speedup": {"total_s": 9.0, "lock_held_s": 6.0},
                                              "feedforward": {"total_s": 1.0}}}
    held, class_held = class_time.gpu_lock_model(row, students=200)
    assert held == 6.0 and class_held == 1200.0  # the GPU items of 200 gradings, one after another
    # 200 students at 2 s, and the shared baselines measured 1 + 200 // 25 times at 3 s each
    assert class_time.class_seconds(2.0, 3.0, 200) == 400 + 9 * 3.0
    assert class_time.class_seconds(2.0, 0.0, 200) == 400


@pytest.mark.slow
def test_the_benchmark_runs_on_a_small_class(tmp_path):
    out, png = tmp_path / "rows.json", tmp_path / "class.png"
    code = class_time.main(["--students", "2", "--assignments", "hw1_activations", "hw2_backprop",
                            "--paths", "grade-all", "nbgrader", "--json", str(out), "--png", str(png)])
    rows = json.loads(out.read_text())
    assert code == 0 and png.stat().st_size > 0
    assert [(r["assignment"], r["path"]) for r in rows] == [
        ("hw1_activations", "grade-all"), ("hw1_activations", "nbgrader"),
        ("hw2_backprop", "grade-all"), ("hw2_backprop", "nbgrader")]
    for r in rows:
        assert r["all_full_marks"] and r["students"] == 2 and r["per_student_s"] > 0
        expected = class_time.class_seconds(r["per_student_s"], r["measuring_s"] / max(1, r["baseline_measurements"]),
                                            200) / 60
        assert r["class_200_min"] == pytest.approx(expected, abs=0.06)
        assert r["load_before"] >= 0
    for r in rows[2:]:  # hw2: the timed items split into baselines, the student's runs, the grader's replay
        assert {"student_s", "replay_s"} <= set(r["items"]["speed"]) and "total_s" in r["items"]["speed"]
        assert {"student_s", "replay_s"} <= set(r["items"]["learning"])
        assert sum(r["baselines"].values()) == 2

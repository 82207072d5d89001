"""Baselines shared across a class: measured by the batch while no grading runs, re-measured when due,
passed to each grading as a signed grader-side file that is ignored when anything about it is wrong,
and never changing a grade (shared baselines can only pass a submission, and only when the load probe
agrees; anything else is measured again by the grading itself)."""
import json
import threading
import time
from pathlib import Path

import pytest

from helpers import REPO, SUBMISSIONS, run_cli, write_submission
from mutants_hw2 import mutant_source
from autograder import baselines, batch

ASSIGNMENT = "hw2_backprop"
KINDS = ("loop", "matrix")


def fake_measure(loop=8e-3, matrix=1.2e-3, probe=1e-3):
    return lambda: ({"loop": [loop] * 5, "matrix": [matrix] * 5}, [probe] * 10)


def shared(tmp_path, every=3, measure=None):
    return baselines.SharedBaselines(ASSIGNMENT, tmp_path, every=every, measure=measure or fake_measure())


# ---------------------------------------------------------------- the file
def test_a_written_file_is_read_back_with_its_measurement_number(tmp_path):
    s = shared(tmp_path)
    s.measure_now()
    s.measure_now()
    record, why = baselines.load(ASSIGNMENT, KINDS, s.environment())
    assert why == "" and record["id"] == 2 and record["rounds"]["loop"] == [8e-3] * 5
    assert baselines.reference(record)["source"] == "shared" and baselines.reference(record)["id"] == 2


def test_no_file_named_means_the_grading_measures_its_own():
    assert baselines.load(ASSIGNMENT, KINDS, {}) == (None, "")


def tampered(tmp_path, change):
    s = shared(tmp_path)
    s.measure_now()
    data = json.loads(s.path.read_text())
    change(data)
    s.path.write_text(json.dumps(data))
    return baselines.load(ASSIGNMENT, KINDS, s.environment())


@pytest.mark.parametrize("change", [
    lambda d: d["record"]["rounds"]["loop"].__setitem__(0, 5.0),   # a slower loop, not signed by the batch
    lambda d: d.__setitem__("hmac", "0" * 64),
    lambda d: d.pop("hmac"),
], ids=["changed-value", "bad-signature", "no-signature"])
def test_a_changed_file_is_ignored(tmp_path, change):
    record, why = tampered(tmp_path, change)
    assert record is None and "ignored" in why and "signature" in why


def signed(tmp_path, record):
    key = b"k" * 32
    path = Path(tmp_path) / "b.json"
    baselines.write_record(path, record, key)
    return baselines.load(ASSIGNMENT, KINDS, {baselines.FILE_ENV: str(path), baselines.KEY_ENV: key.hex()})


GOOD = {"format": 1, "assignment": ASSIGNMENT, "id": 1, "rounds": {"loop": [8e-3], "matrix": [1e-3]},
        "probe": [1e-3, 1.1e-3]}


@pytest.mark.parametrize("change,reason", [
    ({"rounds": {"loop": [8e-3]}}, "not exactly"),
    ({"rounds": {"loop": [0.0], "matrix": [1e-3]}}, "not a time"),
    ({"rounds": {"loop": [float("nan")], "matrix": [1e-3]}}, "not a time"),
    ({"rounds": {"loop": [1e9], "matrix": [1e-3]}}, "not a time"),
    ({"rounds": {"loop": "fast", "matrix": [1e-3]}}, "not a list"),
    ({"probe": []}, "not a list"),
    ({"assignment": "hw4_gpu"}, "not hw2_backprop"),
    ({"format": 99}, "format"),
    ({"id": True}, "number"),
    ({"measured_at": 0}, "too long ago"),
], ids=["missing-kind", "zero", "nan", "huge", "not-list", "no-probe", "other-assignment", "format", "id",
        "stale"])
def test_fields_and_ranges_are_checked(tmp_path, change, reason):
    record, why = signed(tmp_path, {**GOOD, "measured_at": time.time(), **change})
    assert record is None and reason in why, why
    assert signed(tmp_path, {**GOOD, "measured_at": time.time()})[0] is not None  # the unchanged record is fine


# ---------------------------------------------------------------- when to measure again
def test_a_re_measure_is_due_every_k_students(tmp_path):
    s = shared(tmp_path, every=3)
    assert s.due()
    s.measure_now()
    assert [s.after_student(None) for _ in range(3)] == [False, False, True]
    assert "3 students" in s.due_reason


def test_a_growing_probe_spread_triggers_a_re_measure(tmp_path):
    s = shared(tmp_path, every=100, measure=lambda: ({"loop": [8e-3], "matrix": [1e-3]},
                                                      [1.0e-3, 1.02e-3, 1.04e-3, 1.06e-3]))
    s.measure_now()
    recorded = baselines.relative_spread(s.record["probe"])
    assert s.needs_remeasure(recorded) is None
    assert s.needs_remeasure(0.05) is None                      # noise of a quiet machine
    assert "spread grew" in s.needs_remeasure(0.8)
    report = {"timing": {"speed": {"probe_spread": 0.8, "baselines": {"source": "shared", "id": 1}}}}
    stale = {"timing": {"speed": {"probe_spread": 0.8, "probe_against": 0}}}  # compared with an older measurement
    assert not s.after_student(stale)
    assert s.after_student(report) and "spread grew" in s.due_reason
    s.measure_now()
    assert not s.due() and [i for i, _, _ in s.history] == [1, 2]


def test_the_probe_agrees_only_within_the_recorded_range():
    recorded = [1.0, 1.05, 1.1, 1.0, 1.02]
    assert baselines.probe_agrees(recorded, [1.03, 1.0, 1.1])[0]
    assert not baselines.probe_agrees(recorded, [2.0, 2.1, 1.9])[0]   # busier now than when measured
    assert not baselines.probe_agrees(recorded, [0.5, 0.55, 0.5])[0]  # quieter now: the baselines are inflated


def test_the_batch_measures_only_while_no_grading_runs(tmp_path, monkeypatch):
    running, lock, seen_env, at_measure = [0], threading.Lock(), [], []

    def fake_grade(assignment, folder, out_json, extra, environment=None):
        with lock:
            running[0] += 1
        seen_env.append(dict(environment or {}))
        time.sleep(0.05)
        spread = 0.9 if Path(folder).name == "s05" else 0.0  # this grading saw the load come and go
        out_json.write_text(json.dumps({"items": [], "timing": {"speed": {"probe_spread": spread}}}))
        with lock:
            running[0] -= 1

    def measure():
        at_measure.append(running[0])
        return {"loop": [8e-3], "matrix": [1e-3]}, [1e-3, 1.01e-3]

    monkeypatch.setattr(batch, "_grade_one", fake_grade)
    s = baselines.SharedBaselines(ASSIGNMENT, tmp_path, every=4, measure=measure)
    plan = {f"s{n:02d}": None for n in range(10)}
    from autograder import assignments
    fresh = batch.grade_into(assignments.get(ASSIGNMENT), plan, {k: tmp_path / k for k in plan}, tmp_path, 2, [],
                             shared=s)
    assert len(fresh) == 10 and at_measure and set(at_measure) == {0}
    reasons = [why for _, _, why in s.history]
    assert reasons[0] == "first measurement" and any("spread grew" in r for r in reasons), reasons
    assert any("4 students" in r for r in reasons), reasons
    assert all(e[baselines.FILE_ENV] == str(s.path) and e[baselines.KEY_ENV] == s.key.hex() for e in seen_env)


# ---------------------------------------------------------------- grades do not change
def item_scores(report):
    return {i["name"]: (i["status"], i["score"]) for i in report["items"]}


@pytest.mark.slow
def test_shared_baselines_give_the_same_items_as_per_student_grading(tmp_path):
    module = "network.py"
    sources = {"reference": (REPO / "solutions" / ASSIGNMENT / module).read_text(),
               "stub": (REPO / "assignments" / ASSIGNMENT / module).read_text(),
               "nielsen": (SUBMISSIONS / ASSIGNMENT / "nielsen" / module).read_text(),
               "update_loops_over_examples": mutant_source("update_loops_over_examples")}
    sources["reference2"] = sources["reference"]
    root = tmp_path / "class"
    for name, text in sources.items():
        write_submission(root, name, {module: text})
    graded = {}
    for label, env in (("shared", {}), ("own", {batch.NO_SHARED_ENV: "1"})):
        result = run_cli("grade-all", ASSIGNMENT, root, "--out", tmp_path / label, "--jobs", "2", "--seed", "11",
                         env=env, timeout=1800)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        graded[label] = {name: json.loads((tmp_path / label / "reports" / f"{name}.json").read_text())
                         for name in sources}
    for name in sources:
        shared_items, own_items = item_scores(graded["shared"][name]), item_scores(graded["own"][name])
        for item, (status, score) in own_items.items():
            other_status, other_score = shared_items[item]
            if item == "speed" and "not graded" in (status, other_status):
                continue  # the machine was too busy for one of them: NOT GRADED, never a lower score
            assert (status, score) == (other_status, other_score), (name, item, own_items, shared_items)
    # What each speed measurement was compared with is in the report.
    for name in ("reference", "reference2", "nielsen", "update_loops_over_examples"):
        timing = graded["shared"][name]["timing"]["speed"]
        assert timing["baselines"]["source"] in ("shared", "own")
        if timing["baselines"]["source"] == "shared":
            assert timing["baselines"]["id"] >= 1 and item_scores(graded["shared"][name])["speed"] == ("graded", 2.0)
        else:
            assert timing["shared_declined"]
        assert graded["own"][name]["timing"]["speed"]["baselines"]["source"] == "own"
    for name in ("nielsen", "update_loops_over_examples"):  # a slow update never passes on shared baselines
        assert graded["shared"][name]["timing"]["speed"]["baselines"]["source"] == "own"


@pytest.mark.slow
def test_a_single_grade_ignores_a_tampered_file_and_measures_its_own(tmp_path):
    s = baselines.SharedBaselines(ASSIGNMENT, tmp_path, measure=fake_measure(loop=9.0))
    s.measure_now()
    data = json.loads(s.path.read_text())
    data["record"]["id"] = 7
    s.path.write_text(json.dumps(data))
    folder = write_submission(tmp_path, "nielsen", {"network.py": (SUBMISSIONS / ASSIGNMENT / "nielsen" /
                                                                   "network.py").read_text()})
    out = tmp_path / "report.json"
    result = run_cli("grade", ASSIGNMENT, folder, "--item", "speed", "--json", out, env=s.environment())
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    timing = report["timing"]["speed"]
    assert timing["baselines"]["source"] == "own" and "ignored" in timing["shared_declined"]
    assert report["items"][0]["score"] < 2  # the per-example loop is still too slow


def test_a_failed_measurement_leaves_every_grading_to_measure_its_own(tmp_path):
    def broken():
        raise RuntimeError("no sandbox")
    s = shared(tmp_path, measure=broken)
    assert s.measure_now() is None and not s.due() and s.environment() == {}
    assert not any(s.after_student(None) for _ in range(10))  # never measured again


def test_sharing_stops_when_gradings_keep_declining_it(tmp_path):
    s = shared(tmp_path, every=1000)
    s.measure_now()
    declined = {"timing": {"speed": {"baselines": {"source": "own"}, "probe_against": 1,
                                     "shared_declined": "not passed against the shared baselines"}}}
    for _ in range(baselines.STOP_AFTER_DECLINES - 1):
        s.after_student(declined)
    assert s.environment() != {}
    s.after_student({"timing": {"speed": {"baselines": {"source": "shared", "id": 1}, "probe_against": 1}}})
    for _ in range(baselines.STOP_AFTER_DECLINES):  # a used one in between starts the count again
        s.after_student(declined)
    assert s.environment() == {} and "in a row" in s.failed and not s.due() and not s.path.exists()

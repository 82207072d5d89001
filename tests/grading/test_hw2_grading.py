"""The hw2 hidden suite gives the right grade: reference full, stub zero, Nielsen's
network.py partial, every mutant short on exactly the items it breaks.

All submissions are graded once per session through the command line, two at a
time (as grade-all would on the CI machine), then each test reads its report.
"""
import pytest

from helpers import assert_loses, grade_class, item_scores, lost
from mutants_hw2 import MUTANTS, mutant_source

ASSIGNMENT = "hw2_backprop"
MAX_SCORE = 15


@pytest.fixture(scope="session")
def reports(tmp_path_factory):
    return grade_class(ASSIGNMENT, tmp_path_factory.mktemp("hw2_submissions"), ('nielsen', 'partial'), MUTANTS, mutant_source)


def feedback(report, item):
    return next(i["feedback"] for i in report["items"] if i["name"] == item)


def test_reference_scores_full(reports):
    report = reports["reference"]
    assert report["score"] == report["max_score"] == MAX_SCORE
    assert all(i["checks_passed"] == i["checks_total"] > 0 for i in report["items"]), report["items"]
    assert "measured per update" in feedback(report, "speed")


def test_grading_takes_under_a_minute(reports):
    assert reports["reference"]["elapsed_s"] < 60
    assert reports["nielsen"]["elapsed_s"] < 60


def test_released_stub_scores_zero(reports):
    report = reports["stub"]
    assert report["score"] == 0
    assert all("NotImplementedError" in i["feedback"] for i in report["items"])


def test_nielsens_network_py_earns_the_per_example_items_only(reports):
    """His original: per-example backprop, a looping update, no backprop_batch, Network(sizes) only."""
    report = reports["nielsen"]
    assert lost(report) == {"backprop_batch", "speed"}
    assert item_scores(report)["speed"] == 0
    assert "Network has no method backprop_batch" in feedback(report, "backprop_batch")
    assert "no loop over examples" in feedback(report, "speed")


def test_partial_submission_gets_exactly_its_finished_items(reports):
    scores = item_scores(reports["partial"])
    assert {n for n, s in scores.items() if s > 0} == {"sigmoid_prime", "backprop"}
    assert reports["partial"]["score"] == 5


def test_there_are_enough_mutants():
    assert len(MUTANTS) >= 15


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_the_items_it_breaks(reports, name):
    expected, _ = MUTANTS[name]
    assert_loses(reports[name], expected, set(), name)


def test_a_looping_update_is_told_why_it_lost_the_speed_item(reports):
    text = feedback(reports["update_loops_over_examples"], "speed")
    assert "needed for this part" in text and "backprop_batch" in text

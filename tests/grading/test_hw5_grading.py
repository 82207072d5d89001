"""The hw5 hidden suite gives the right grade: reference full, stub zero, every mutant short.

All submissions are graded once per session through the command line, two at
a time, then each test reads its report.
"""
import pytest

from autograder import assignments

from helpers import REPO, assert_loses, grade_many, item_scores, run_cli, write_submission
from mutants_hw5 import IGNORING_INPUT, MUTANTS, REFERENCE, mutant_source

ASSIGNMENT = "hw5_cross_entropy"
MODULE = "cross_entropy.py"
MAX_SCORE = 16
# Items graded through one function only: a function that ignores its input earns nothing there. dropout has
# three functions (the identity is right at test time), so there it must only lose.
ONE_FUNCTION_ITEMS = {"binary_cross_entropy", "categorical_cross_entropy", "log_softmax", "softmax_cross_entropy",
                      "softmax_cross_entropy_delta", "early_stopping"}
# The reference computes softmax_cross_entropy with log_softmax (as students are told to), so a broken
# log_softmax may cost that item too; no other item depends on another.
ALSO_BROKEN = {"log_softmax": {"softmax_cross_entropy"}}


def graded(root, sources):
    done = grade_many(ASSIGNMENT, [write_submission(root, name, {MODULE: text}) for name, text in sources.items()])
    for name, (result, _) in done.items():
        assert result.returncode == 0, f"{name}: grading did not complete: {result.stderr}"
    return {name: report for name, (_, report) in done.items()}


@pytest.fixture(scope="session")
def reports(tmp_path_factory):
    sources = {"reference": REFERENCE.read_text(), "stub": (REPO / "assignments" / ASSIGNMENT / MODULE).read_text()}
    sources.update({name: mutant_source(name) for name in MUTANTS})
    return graded(tmp_path_factory.mktemp("hw5_submissions"), sources)


@pytest.fixture(scope="session")
def ignoring_reports(tmp_path_factory):
    """Reports of the modules whose function ignores its input (graded only by the slow tests;
    tests/grading/test_hw5_validity.py checks the same kinds of function quickly, in this process)."""
    return graded(tmp_path_factory.mktemp("hw5_ignoring_input"), {name: mutant_source(name) for name in IGNORING_INPUT})


def test_registry_points():
    assert assignments.get(ASSIGNMENT).max_score == MAX_SCORE
    assert 6 <= len(assignments.get(ASSIGNMENT).items) <= 8


def test_reference_scores_full(reports):
    report = reports["reference"]
    assert report["score"] == report["max_score"] == MAX_SCORE
    assert all(i["checks_passed"] == i["checks_total"] > 0 for i in report["items"])


def test_released_stub_scores_zero(reports):
    report = reports["stub"]
    assert report["score"] == 0
    assert all("NotImplementedError" in i["feedback"] for i in report["items"])


def test_there_are_enough_mutants():
    assert len(MUTANTS) >= 12
    assert {item for item, _ in MUTANTS.values()} == {i.name for i in assignments.get(ASSIGNMENT).items}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_points_on_its_item_only(reports, name):
    broken_item, _ = MUTANTS[name]
    assert_loses(reports[name], must={broken_item}, may=ALSO_BROKEN.get(broken_item, set()), name=name)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(IGNORING_INPUT))
def test_a_function_that_ignores_its_input_loses_its_item(ignoring_reports, name):
    item_name, _ = IGNORING_INPUT[name]
    report = ignoring_reports[name]
    assert_loses(report, must={item_name}, may=ALSO_BROKEN.get(item_name, set()), name=name)
    if item_name in ONE_FUNCTION_ITEMS:
        assert item_scores(report)[item_name] == 0, f"{name} earned points on {item_name}"


def test_overflow_and_warnings_are_named_in_the_feedback(reports):
    feedback = {i["name"]: i["feedback"] for i in reports["bce_nan_to_num"]["items"]}
    assert "warned" in feedback["binary_cross_entropy"]
    feedback = {i["name"]: i["feedback"] for i in reports["log_softmax_of_softmax"]["items"]}
    assert "nan or inf" in feedback["log_softmax"]


def test_a_sum_instead_of_a_mean_is_named(reports):
    feedback = {i["name"]: i["feedback"] for i in reports["sce_sum_not_mean"]["items"]}
    assert "the mean over the examples, not the sum?" in feedback["softmax_cross_entropy"]


def test_public_checks_pass_on_reference_and_fail_on_stub(tmp_path):
    ref = write_submission(tmp_path, "ref", {MODULE: REFERENCE.read_text()})
    good = run_cli("check", ASSIGNMENT, ref)
    assert good.returncode == 0 and "9/9 public checks pass" in good.stdout, good.stdout
    bad = run_cli("check", ASSIGNMENT)  # default folder: the released stub
    assert bad.returncode == 0 and "0/9 public checks pass" in bad.stdout, bad.stdout
    assert "FIX" in bad.stdout and "NotImplementedError" in bad.stdout


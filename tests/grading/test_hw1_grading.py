"""The hw1 hidden suite gives the right grade: reference full, stub zero, every mutant short.

All submissions are graded once per session through the command line, two at
a time, then each test reads its report.
"""
import pytest

from autograder import assignments

from helpers import SUBMISSIONS, assert_loses, grade_class, grade_many, item_scores, run_cli, write_submission
from mutants_hw1 import IGNORING_INPUT, MUTANTS, REFERENCE, SILENCED, mutant_source

ASSIGNMENT = "hw1_activations"


@pytest.fixture(scope="session")
def reports(tmp_path_factory):
    return grade_class(ASSIGNMENT, tmp_path_factory.mktemp("hw1_submissions"), ('partial', 'subtle'),
                       {**MUTANTS, **SILENCED}, mutant_source)


@pytest.fixture(scope="session")
def ignoring_reports(tmp_path_factory):
    """Reports of the modules whose function ignores its input (graded only by the slow tests)."""
    root = tmp_path_factory.mktemp("hw1_ignoring_input")
    graded = grade_many(ASSIGNMENT, [write_submission(root, name, {"activations.py": mutant_source(name)})
                                     for name in IGNORING_INPUT])
    for name, (result, _) in graded.items():
        assert result.returncode == 0, f"{name}: grading did not complete: {result.stderr}"
    return {name: report for name, (_, report) in graded.items()}


def test_reference_scores_full(reports):
    report = reports["reference"]
    assert report["score"] == report["max_score"] == 14
    assert all(i["checks_passed"] == i["checks_total"] > 0 for i in report["items"])


def test_released_stub_scores_zero(reports):
    report = reports["stub"]
    assert report["score"] == 0
    assert all("NotImplementedError" in i["feedback"] for i in report["items"])


def test_partial_submission_gets_exactly_its_finished_items(reports):
    scores = item_scores(reports["partial"])
    done = {"sigmoid_prime", "relu", "relu_prime", "leaky_relu", "softmax"}
    assert {n for n, s in scores.items() if s > 0} == done
    assert reports["partial"]["score"] == 8


def test_subtle_submission_loses_only_where_it_is_wrong(reports):
    lost = {i["name"] for i in reports["subtle"]["items"] if i["score"] < i["max_score"]}
    assert lost == {"relu_prime", "softmax", "numerical_gradient"}
    assert 0 < reports["subtle"]["score"] < 14


def test_there_are_enough_mutants():
    assert len(MUTANTS) >= 12


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_points_on_its_item_only(reports, name):
    broken_item, _ = MUTANTS[name]
    report = reports[name]
    assert report["score"] < report["max_score"], f"{name} scored full marks"
    for item in report["items"]:
        if item["name"] == broken_item:
            assert item["score"] < item["max_score"], f"{name}: {broken_item} kept full marks"
            assert item["feedback"], "a lost point needs feedback"
        else:
            assert item["score"] == item["max_score"], f"{name} also lost {item['name']}: {item['feedback']}"


@pytest.mark.parametrize("name", sorted(SILENCED))
def test_hidden_warnings_do_not_hide_an_overflow(reports, name):
    # Warnings silenced at import: the naive sigmoid and softmax still lose by their values; the naive
    # elu, whose overflow no value shows, by NumPy's warning (the worker restores the error state per call).
    broken, _ = SILENCED[name]
    assert_loses(reports[name], must=broken, may=set(), name=name)
    by_warning = name == "seterr_ignore_naive_elu"
    for item in reports[name]["items"]:
        if item["name"] in broken:
            assert ("warned" in item["feedback"]) == by_warning, item["feedback"]


def test_every_function_has_input_ignoring_mutants():
    items = {item for item, _ in IGNORING_INPUT.values()}
    assert items == {i.name for i in assignments.get(ASSIGNMENT).items}
    for item in items:
        kinds = {name.removeprefix(f"{item}_") for name, (i, _) in IGNORING_INPUT.items() if i == item}
        assert {"zeros", "ones", "identity"} <= kinds, item


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(IGNORING_INPUT))
def test_a_function_that_ignores_its_input_earns_nothing_on_its_item(ignoring_reports, name):
    item_name, _ = IGNORING_INPUT[name]
    report = ignoring_reports[name]
    assert_loses(report, must={item_name}, may=set(), name=name)
    assert item_scores(report)[item_name] == 0, f"{name} earned points on {item_name}"


def test_json_report_has_the_documented_fields(reports):
    report = reports["subtle"]
    assert {"assignment", "score", "max_score", "items"} <= set(report)
    for item in report["items"]:
        assert {"name", "score", "max_score", "feedback"} <= set(item)
        assert isinstance(item["score"], float) and 0 <= item["score"] <= item["max_score"]


def test_same_seed_gives_same_report(tmp_path):
    folder = write_submission(tmp_path, "subtle", {
        "activations.py": (SUBMISSIONS / ASSIGNMENT / "subtle" / "activations.py").read_text()})
    first = run_cli("grade", ASSIGNMENT, folder, "--seed", "7", "--item", "softmax")
    second = run_cli("grade", ASSIGNMENT, folder, "--seed", "7", "--item", "softmax")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout


def test_public_checks_pass_on_reference_and_fail_on_stub(tmp_path):
    ref = write_submission(tmp_path, "ref", {"activations.py": REFERENCE.read_text()})
    good = run_cli("check", ASSIGNMENT, ref)
    assert good.returncode == 0 and "11/11 public checks pass" in good.stdout
    bad = run_cli("check", ASSIGNMENT)  # default folder: the released stub
    assert bad.returncode == 0 and "0/11 public checks pass" in bad.stdout
    assert "FIX" in bad.stdout and "NotImplementedError" in bad.stdout


def test_public_checks_never_show_hidden_test_source(tmp_path):
    sub = write_submission(tmp_path, "subtle", {
        "activations.py": (SUBMISSIONS / ASSIGNMENT / "subtle" / "activations.py").read_text()})
    out = run_cli("check", ASSIGNMENT, sub).stdout
    assert "def test_" not in out and "hidden/" not in out and "assert_close(" not in out

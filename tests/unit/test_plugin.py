"""The pytest plugin that turns a suite into item scores, run on a toy suite and a toy submission."""
import types

import pytest

from autograder import grading
from autograder.limits import Limits
from autograder.plugin import GradingPlugin

TOY_SOURCES = {"toy.py": b"def double(x):\n    return 2 * x\n\n\ndef slow(x):\n    while True:\n        pass\n"}

SUITE = '''
import pytest
from autograder.proxy import StudentError


@pytest.mark.item("double")
def test_double_right(student):
    assert student.double(2) == 4


@pytest.mark.item("double")
def test_double_wrong(student):
    assert student.double(2) == 5, "double(2) should be 5 in this toy"


@pytest.mark.item("missing")
def test_missing(student):
    student.triple(1)


@pytest.mark.item("slow")
@pytest.mark.parametrize("n", [1, 2])
def test_slow(student, n):
    student.slow(n)


@pytest.mark.item("skipped")
def test_skipped():
    pytest.skip("no usable CUDA GPU")


@pytest.mark.item("buggy")
def test_grader_bug():
    {}["no such key"]


def test_without_a_marker():
    pass
'''


def toy_assignment():
    items = [types.SimpleNamespace(name=name) for name in ("double", "missing", "slow", "skipped", "buggy")]
    return types.SimpleNamespace(items=items, modules=["toy.py"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    suite = tmp_path_factory.mktemp("suite") / "test_toy.py"
    suite.write_text(SUITE)
    plugin = GradingPlugin(toy_assignment(), TOY_SOURCES, seed=1, limits=Limits(call_timeout_s=1.0, total_s=60.0))
    grading._run_pytest(suite, plugin)
    return plugin


def test_an_item_counts_the_checks_that_passed_and_keeps_the_failure_message(graded):
    tally = graded.tallies["double"]
    assert (tally.passed, tally.total) == (1, 2)
    assert tally.messages == ["double(2) should be 5 in this toy"]


def test_a_student_error_counts_against_the_student(graded):
    tally = graded.tallies["missing"]
    assert (tally.passed, tally.total) == (0, 1)
    assert tally.messages == ["triple(1) raised AttributeError: module 'toy' has no attribute 'triple'"]


def test_after_a_timeout_the_items_other_checks_are_not_run(graded):
    tally = graded.tallies["slow"]
    assert (tally.passed, tally.total) == (0, 2)
    assert tally.messages[0].startswith("no answer within 1 s while slow(1)")
    assert tally.messages[1] == "not run: an earlier call for this item timed out"


def test_a_skip_is_recorded_as_the_reason_an_item_was_not_graded(graded):
    assert graded.tallies["skipped"].skipped == ["no usable CUDA GPU"]


def test_other_exceptions_and_unmarked_tests_are_grader_bugs(graded):
    bugs = "\n".join(graded.grader_bugs)
    assert "test_grader_bug: KeyError" in bugs
    assert "test_without_a_marker: unknown or missing item marker None" in bugs
    assert graded.tallies["buggy"].messages == ["internal grader error"]


def test_an_import_that_fails_is_remembered_and_not_retried(tmp_path):
    suite = tmp_path / "test_toy.py"
    suite.write_text(SUITE)
    plugin = GradingPlugin(toy_assignment(), {"toy.py": b"raise SystemExit(3)\n"}, seed=1, limits=Limits(),
                           item_filter={"double"})
    grading._run_pytest(suite, plugin)
    assert plugin.import_failure == "importing your module failed: SystemExit: 3 (toy.py, line 1)"
    assert plugin.tallies["double"].messages == [plugin.import_failure]
    assert plugin.tallies["double"].total == 2 and plugin.tallies["missing"].total == 0  # filtered out

"""The hw3 hidden suite gives the right grade: reference full, stub zero, every mutant short
on the items it breaks, and the reference itself equal to torch.optim on recorded runs."""
import pytest

from helpers import assert_loses, grade_class
from mutants_hw3 import MUTANTS, mutant_source

ASSIGNMENT = "hw3_optimizers"


@pytest.fixture(scope="session")
def reports(tmp_path_factory):
    return grade_class(ASSIGNMENT, tmp_path_factory.mktemp("hw3_submissions"), (), MUTANTS, mutant_source)


def test_reference_scores_full(reports):
    report = reports["reference"]
    assert report["score"] == report["max_score"] == 16
    assert all(i["checks_passed"] == i["checks_total"] > 0 for i in report["items"])


def test_released_stub_scores_zero(reports):
    assert reports["stub"]["score"] == 0


def test_there_are_enough_mutants():
    assert len(MUTANTS) >= 12


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_the_items_it_breaks(reports, name):
    must, may, _ = MUTANTS[name]
    assert_loses(reports[name], must, may, name)


def test_rebinding_is_explained(reports):
    text = next(i["feedback"] for i in reports["sgd_rebinds_instead_of_updating_in_place"]["items"] if i["name"] == "sgd")
    assert "in place" in text

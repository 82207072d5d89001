"""Reports: the JSON every tool reads, the table people read, and an item's feedback."""
import json

from autograder.plugin import ItemTally
from autograder.report import (NOT_GRADED, STUDENT_GRADED, STUDENT_PARTLY_GRADED, ItemResult, Report,
                               feedback_for)


def sample_report():
    items = [ItemResult("relu", 2.0, 2.0, "all 3 checks passed", checks_passed=3, checks_total=3),
             ItemResult("softmax", 1.0, 3.0, "1/3 checks passed.\n- softmax(<array of shape (3, 2)>) gave nan"),
             ItemResult("gpu_speedup", 0.0, 5.0, "not graded: no usable CUDA GPU", status=NOT_GRADED)]
    return Report("hw1_activations", items, seed=7, sandbox="bubblewrap", elapsed_s=1.23456)


def test_to_dict_has_scores_status_and_why():
    data = sample_report().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["score"] == 3.0 and data["max_score"] == 10.0
    assert data["status"] == STUDENT_PARTLY_GRADED and data["not_graded"] == ["gpu_speedup"]
    assert data["why"] == ("NOT GRADED: gpu_speedup (no usable CUDA GPU); lost points on softmax (1/3): "
                           "softmax(<array of shape (3, 2)>) gave nan")
    assert data["elapsed_s"] == 1.235 and data["seed"] == 7
    assert [i["name"] for i in data["items"]] == ["relu", "softmax", "gpu_speedup"]


def test_full_marks_all_graded_say_no_why():
    report = Report("hw1_activations", [ItemResult("relu", 2.0, 2.0, "the check passed")])
    assert report.to_dict()["status"] == STUDENT_GRADED and report.to_dict()["why"] == ""


def test_the_table_marks_each_item_and_joins_feedback_on_one_line():
    lines = sample_report().table().splitlines()
    assert lines[0] == "hw1_activations: 3.00 / 10   (1 item(s) NOT GRADED)"
    assert lines[1].startswith("  status: items not graded; why: NOT GRADED: gpu_speedup")
    assert lines[2].split() == ["ok", "relu", "2.00/2", "all", "3", "checks", "passed"]
    assert lines[3].startswith("  XX softmax") and "1/3 checks passed. | softmax(" in lines[3]
    assert lines[4].startswith("  -- gpu_speedup")


def test_the_table_cuts_long_feedback_to_its_width():
    report = Report("a", [ItemResult("x", 0.0, 1.0, "y" * 300)])
    assert report.table(width=40).splitlines()[-1].endswith("y" * 37 + "...")


def test_feedback_for_a_tally():
    assert feedback_for(ItemTally(passed=1, total=1)) == "the check passed"
    assert feedback_for(ItemTally(passed=4, total=4, notes=["12.5x faster"])) == "all 4 checks passed\n  12.5x faster"
    assert feedback_for(ItemTally(passed=1, total=3, messages=["a", "b"])) == "1/3 checks passed.\n- a\n- b"
    assert feedback_for(ItemTally(skipped=["no GPU", "no GPU"])) == "not graded: no GPU"
    assert feedback_for(ItemTally()) == "not graded: no checks ran"

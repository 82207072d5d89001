"""The feedback of an item NOT GRADED says "not graded: " exactly once, whoever wrote the reason."""
from autograder.plugin import ItemTally
from autograder.report import NOT_GRADED_PREFIX, feedback_for
from helpers import REPO, grade_folder, write_submission


def test_a_reason_that_already_has_the_prefix_is_not_prefixed_again():
    assert feedback_for(ItemTally(skipped=["not graded: no GPU", "no GPU"])) == "not graded: no GPU"


def test_hw2_learning_without_mnist_says_not_graded_once(tmp_path):
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    folder = write_submission(tmp_path, "reference", {
        "network.py": (REPO / "solutions" / "hw2_backprop" / "network.py").read_text()})
    result, report = grade_folder("hw2_backprop", folder, "--item", "learning", env={"MNIST_DIR": str(empty)})
    assert result.returncode == 0, result.stderr
    learning = next(i for i in report["items"] if i["name"] == "learning")
    assert learning["status"] == "not graded" and "MNIST is not available" in learning["feedback"]
    assert learning["feedback"].startswith(NOT_GRADED_PREFIX) and learning["feedback"].count("not graded") == 1
    assert "not graded: not graded" not in result.stdout and "not graded: MNIST is not available" in result.stdout

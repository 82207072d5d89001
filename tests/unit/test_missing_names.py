"""A function the submission lacks is named in the feedback: the hidden suites catch proxy.MissingNameError."""
from helpers import REPO, grade_folder, write_submission


def feedback_of(report, item):
    return next(i["feedback"] for i in report["items"] if i["name"] == item)


def test_hw2_names_a_missing_network_method(tmp_path):
    source = (REPO / "solutions" / "hw2_backprop" / "network.py").read_text()
    folder = write_submission(tmp_path, "no_batch", {"network.py": source + "\ndel Network.backprop_batch\n"})
    result, report = grade_folder("hw2_backprop", folder, "--item", "backprop_batch", "--item", "sigmoid_prime")
    assert result.returncode == 0, result.stderr
    scores = {i["name"]: i["score"] for i in report["items"]}
    assert scores["backprop_batch"] == 0 and scores["sigmoid_prime"] == 1
    assert "Network has no method backprop_batch: write it" in feedback_of(report, "backprop_batch")


def test_hw4_names_a_missing_function(tmp_path):
    source = (REPO / "solutions" / "hw4_gpu" / "gpu_network.py").read_text()
    folder = write_submission(tmp_path, "no_epoch",
                              {"gpu_network.py": source + "\ndel MatrixNetwork.train_epoch\n"})
    result, report = grade_folder("hw4_gpu", folder, "--item", "train_epoch", "--item", "feedforward",
                                  env={"AUTOGRADER_CUPY_STAND_IN": ""})
    assert result.returncode == 0, result.stderr
    scores = {i["name"]: i["score"] for i in report["items"]}
    assert scores["train_epoch"] == 0 and scores["feedforward"] == 2, report
    assert "train_epoch is missing from gpu_network.py: write it" in feedback_of(report, "train_epoch")

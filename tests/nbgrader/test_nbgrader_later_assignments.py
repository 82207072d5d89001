"""Real nbgrader on hw2, hw3, hw4 and hw5: release, autograde, export; the gradebook holds the engine's scores.

hw1 has the full end-to-end treatment (tests/nbgrader/test_nbgrader_end_to_end.py); this
checks that the later assignments' notebooks, grade cells and points work the
same way, including hw2's MNIST item (graded by the engine; the sandboxed notebook
kernel sees the data read-only, for the notebook's own cells) and hw4's GPU items (NOT GRADED
where there is no GPU: the gradebook holds the CPU items' points).
"""
import csv
import json
import shutil

import pytest

from autograder.nbgrader_hooks import REPORT_NAME
from autograder.release import release, run_nbgrader
from helpers import REPO, SUBMISSIONS
from mutants_hw3 import mutant_source
from mutants_hw4 import mutant_source as hw4_mutant
from mutants_hw5 import mutant_source as hw5_mutant

pytestmark = pytest.mark.slow

CLASS = {
    "hw2_backprop": {"alice": ((REPO / "solutions" / "hw2_backprop" / "network.py").read_text(), 15.0),
                     "nick": ((SUBMISSIONS / "hw2_backprop" / "nielsen" / "network.py").read_text(), 10.0)},
    "hw3_optimizers": {"alice": ((REPO / "solutions" / "hw3_optimizers" / "optimizers.py").read_text(), 16.0),
                       "bob": (mutant_source("adam_decoupled_weight_decay"), None)},
    "hw4_gpu": {"alice": ((REPO / "solutions" / "hw4_gpu" / "gpu_network.py").read_text(), "full"),
                "bob": (hw4_mutant("bias_gradient_averaged"), None)},
    "hw5_cross_entropy": {"alice": ((REPO / "solutions" / "hw5_cross_entropy" / "cross_entropy.py").read_text(), 16.0),
                          "bob": (hw5_mutant("dropout_not_inverted"), None)},
}
MODULES = {"hw2_backprop": "network.py", "hw3_optimizers": "optimizers.py", "hw4_gpu": "gpu_network.py",
           "hw5_cross_entropy": "cross_entropy.py"}


@pytest.mark.parametrize("assignment_id", sorted(CLASS))
def test_nbgrader_grades_the_assignment(assignment_id, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(REPO / "solutions" / assignment_id, course / "solutions" / assignment_id)
    shutil.copy(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    released = release(assignment_id, course)
    for student, (module_text, _) in CLASS[assignment_id].items():
        dest = course / "submitted" / student / assignment_id
        shutil.copytree(released, dest)
        (dest / MODULES[assignment_id]).write_text(module_text)
    run_nbgrader(course, "autograde", assignment_id, "--force")
    run_nbgrader(course, "export", "--to", str(course / "grades.csv"))
    with open(course / "grades.csv", newline="") as f:
        book = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(f)}
    for student, (_, expected) in CLASS[assignment_id].items():
        report = json.loads((course / "autograded" / student / assignment_id / REPORT_NAME).read_text())
        assert book[student] == pytest.approx(report["score"], abs=1e-3), (student, report)
        not_graded = sum(i["max_score"] for i in report["items"] if i["status"] != "graded")
        for item in (i for i in report["items"] if i["status"] != "graded"):  # said in the student's notebook too
            notebook = (course / "autograded" / student / assignment_id / f"{assignment_id}.ipynb").read_text()
            assert f"{item['name']}: 0 / {item['max_score']:g}. NOT GRADED." in notebook
        if expected == "full":  # all that could be graded here (GPU items only where there is a GPU)
            assert report["score"] == report["max_score"] - not_graded, report
        elif expected is not None:
            assert report["score"] == expected, report
        else:
            assert 0 < report["score"] < report["max_score"] - not_graded

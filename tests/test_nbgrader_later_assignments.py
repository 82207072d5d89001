"""Real nbgrader on hw2 and hw3: release, autograde, export; the gradebook holds the engine's scores.

hw1 has the full end-to-end treatment (tests/test_nbgrader_end_to_end.py); this
checks that the later assignments' notebooks, grade cells and points work the
same way, including hw2's MNIST item (graded by the engine, which has the data,
while the sandboxed notebook kernel does not).
"""
import csv
import json
import shutil

import pytest

from autograder.nbgrader_hooks import REPORT_NAME
from autograder.release import release, run_nbgrader
from conftest import REPO, SUBMISSIONS
from mutants_hw3 import mutant_source

pytestmark = pytest.mark.slow

CLASS = {
    "hw2_backprop": {"alice": ((REPO / "solutions" / "hw2_backprop" / "network.py").read_text(), 15.0),
                     "nick": ((SUBMISSIONS / "hw2_backprop" / "nielsen" / "network.py").read_text(), 10.0)},
    "hw3_optimizers": {"alice": ((REPO / "solutions" / "hw3_optimizers" / "optimizers.py").read_text(), 16.0),
                       "bob": (mutant_source("adam_decoupled_weight_decay"), None)},
}
MODULES = {"hw2_backprop": "network.py", "hw3_optimizers": "optimizers.py"}


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
        if expected is not None:
            assert report["score"] == expected, report
        else:
            assert 0 < report["score"] < report["max_score"]

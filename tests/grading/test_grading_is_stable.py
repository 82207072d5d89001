"""The reference earns full marks whatever the grading seed: tolerances leave room for rounding.

Each grading run draws its inputs from a fresh seed, so a tolerance that is
too tight shows up as an occasional wrong grade. This sweep grades every
reference under many seeds, including one that once cost the hw1 reference
half a point (an absolute floor for central differences was missing).
"""
import shutil

import pytest

from autograder import assignments
from concurrent.futures import ThreadPoolExecutor

from helpers import GPU_STAND_IN, REPO, grade_folder

pytestmark = pytest.mark.slow
SEEDS = {"hw1_activations": [2165668917419200249, *range(1, 8)], "hw2_backprop": [1, 2, 3, 4],
         "hw3_optimizers": list(range(1, 9)), "hw4_gpu": list(range(1, 9)),
         "hw5_cross_entropy": list(range(1, 13))}


def test_every_assignment_is_swept():
    assert set(SEEDS) == set(assignments.ASSIGNMENTS)


@pytest.mark.parametrize("assignment_id", sorted(SEEDS))
def test_reference_is_full_under_many_seeds(assignment_id, tmp_path):
    # hw4's GPU items run on the CuPy stand-in, so their tolerances are swept too.
    folders = []
    for seed in SEEDS[assignment_id]:
        folder = tmp_path / f"seed{seed}"
        shutil.copytree(REPO / "solutions" / assignment_id, folder)
        folders.append((folder, seed))
    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time, as on the CI machine
        graded = list(pool.map(lambda fs: grade_folder(assignment_id, fs[0], "--seed", fs[1], env=GPU_STAND_IN),
                               folders))
    for (folder, _), (result, report) in zip(folders, graded):
        name = folder.name
        assert result.returncode == 0, result.stderr
        short = {i["name"]: i["feedback"] for i in report["items"] if i["score"] < i["max_score"]}
        assert report["score"] == report["max_score"], (name, short)

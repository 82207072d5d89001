"""`course.py gpu-check` on a machine without a usable GPU: it says the GPU path is unverified, and why."""
import subprocess
import sys

import pytest

from helpers import REPO


def test_without_a_gpu_the_check_says_unverified(tmp_path):
    from autograder import gpu
    from autograder.limits import Limits
    if gpu.probe(Limits(gpu=True))["available"]:
        pytest.skip("this machine has a GPU: course.py gpu-check runs the real checks here")
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--out", str(tmp_path / "gc")],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "AUTOGRADER_CUPY_STAND_IN": str(REPO / "tests" / "gpu_stand_in")})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "unverified" in done.stdout
    report = (tmp_path / "gc" / "report.md").read_text()
    assert "UNVERIFIED" in report and "No usable CUDA GPU" in report


def test_out_must_be_a_folder(tmp_path):
    afile = tmp_path / "report"
    afile.write_text("")
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--out", str(afile)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "is a file" in done.stderr and "Traceback" not in done.stderr

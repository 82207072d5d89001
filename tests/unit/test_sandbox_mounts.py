"""The worker's bubblewrap command: mounts in an order that keeps what it needs visible."""
import pytest

from autograder import sandbox


def test_the_private_tmp_is_mounted_before_the_python_installation(tmp_path):
    # A Python installation or a course checkout under /tmp (a CI clone, say) must stay visible:
    # a tmpfs mounted on /tmp after binding them would hide them, and every import would fail.
    if not sandbox.sandbox_available():
        pytest.skip("bubblewrap is not available here")
    scratch = sandbox.Scratch({"m.py": b""})
    try:
        argv, _ = sandbox.worker_command(scratch, ["m"], log_fd=3)
    finally:
        scratch.cleanup()
    tmpfs = [i for i in range(len(argv) - 1) if argv[i] == "--tmpfs" and argv[i + 1] == "/tmp"]
    assert len(tmpfs) == 1
    binds = [i for i in range(len(argv) - 2) if argv[i] in ("--ro-bind", "--bind")]
    assert binds and all(tmpfs[0] < i for i in binds), argv


def test_a_box_where_bubblewrap_cannot_mount_proc_grades_without_it_and_says_so(tmp_path):
    # Inside a container with its own /proc (Docker, Gradescope), bubblewrap starts but cannot
    # mount /proc for the worker. The grader must notice before grading and fall back, with a
    # warning; otherwise every item would fail as if the student's import had failed.
    import json
    import subprocess
    import sys

    from helpers import REPO
    from mutants_hw1 import REFERENCE
    if not sandbox.sandbox_available():
        pytest.skip("bubblewrap is not available here")
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "activations.py").write_text(REFERENCE.read_text())
    report_path = tmp_path / "report.json"
    outer = [sandbox.bubblewrap_path(), "--dev-bind", "/", "/", "--proc", "/proc", "--unshare-pid", "--"]
    probe = subprocess.run([*outer, sandbox.bubblewrap_path(), "--dev-bind", "/", "/", "--proc", "/proc",
                            "--unshare-all", "/bin/true"],
                           capture_output=True)
    if probe.returncode == 0:
        pytest.skip("bubblewrap nests with its own /proc on this machine; nothing to fall back from")
    result = subprocess.run([*outer, sys.executable, "-m", "autograder", "grade", "hw1_activations", str(folder),
                             "--json", str(report_path)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    assert report["sandbox"] == "none" and report["score"] == 14, report
    assert any("bubblewrap is not available" in w for w in report["warnings"])

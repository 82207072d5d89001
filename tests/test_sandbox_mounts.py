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

"""How a worker is started: its scratch folder, its command line and environment, the policy it runs under."""
import stat

import pytest

from autograder import limits, sandbox, worker


def test_limits_are_policy_and_still_importable_from_sandbox():
    assert sandbox.Limits is limits.Limits
    assert limits.Limits().call_timeout_s == 10.0 and limits.Limits().memory_bytes == 2048 * limits.MiB
    with pytest.raises(Exception):
        limits.Limits().gpu = True  # frozen: a grading run cannot loosen its own limits


def test_the_libraries_own_memory_is_added_to_the_students_share():
    MiB = limits.MiB
    cpu, gpu = limits.Limits(), limits.Limits(gpu=True)
    assert cpu.worker_memory_bytes == 2048 * MiB + 64 * MiB  # one BLAS thread's buffer
    assert gpu.worker_memory_bytes == cpu.worker_memory_bytes + 2048 * MiB  # CUDA and CuPy's host memory
    baseline = limits.Limits(blas_threads=16)
    assert baseline.worker_memory_bytes == 2048 * MiB + 16 * 64 * MiB
    assert {cpu.memory_bytes, gpu.memory_bytes, baseline.memory_bytes} == {2048 * MiB}  # the student's share


def test_the_worker_is_started_under_the_whole_limit():
    import resource
    import subprocess
    import sys
    gpu = limits.Limits(gpu=True)
    script = "import resource as r; print(r.getrlimit(r.RLIMIT_DATA)[0], r.getrlimit(r.RLIMIT_AS)[0])"
    read = subprocess.run([sys.executable, "-c", script], preexec_fn=sandbox.apply_limits(gpu),
                          capture_output=True, text=True, timeout=60)
    data, address_space = map(int, read.stdout.split())
    assert data == gpu.worker_memory_bytes, read.stderr
    # On data, not on address space: CUDA reserves far more address space than it uses.
    assert address_space == resource.getrlimit(resource.RLIMIT_AS)[0]


@pytest.fixture
def scratch():
    made = sandbox.Scratch({"activations.py": b"def relu(z):\n    return z\n"})
    yield made
    made.cleanup()


def test_a_scratch_folder_holds_the_submission_and_every_worker_file(scratch):
    assert sorted(p.name for p in scratch.submission.iterdir()) == ["activations.py"]
    assert sorted(p.name for p in scratch.grader.iterdir()) == sorted(worker.WORKER_FILES)
    for name in worker.WORKER_FILES:
        assert (scratch.grader / name).read_bytes() == sandbox.WORKER_SOURCES[name]


def test_the_shared_folder_is_read_only_except_while_the_grader_adds_a_file(scratch):
    assert stat.S_IMODE(scratch.shared.stat().st_mode) == 0o555
    with scratch.shared_writable():
        assert stat.S_IMODE(scratch.shared.stat().st_mode) == 0o755
    assert stat.S_IMODE(scratch.shared.stat().st_mode) == 0o555


def test_cleanup_removes_everything(scratch):
    scratch.cleanup()
    assert not scratch.root.exists()


@pytest.fixture
def no_bubblewrap(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_NO_SANDBOX", "1")
    monkeypatch.setattr(sandbox, "_bwrap_problem", sandbox._NOT_PROBED)  # probed again without, then restored


def test_without_bubblewrap_the_worker_runs_isolated_python_on_the_scratch_copy(scratch, no_bubblewrap):
    argv, env = sandbox.worker_command(scratch, ["activations"], 7)
    assert argv[1:5] == ["-I", "-B", "-X", "faulthandler"]
    assert argv[5:] == [str(scratch.grader / "worker.py"), str(scratch.submission), "activations"]
    assert env["AUTOGRADER_LOG_FD"] == "7" and env["AUTOGRADER_SHARED_DIR"] == str(scratch.shared)
    assert env["OPENBLAS_NUM_THREADS"] == "1" and "AUTOGRADER_GPU" not in env
    assert sandbox.sandbox_name() == "none"
    assert any("files are not hidden" in line for line in sandbox.isolation(limits.Limits()))


def test_the_gpu_is_asked_for_in_the_environment(scratch, no_bubblewrap, monkeypatch):
    monkeypatch.delenv(sandbox.STAND_IN_ENV, raising=False)
    _, env = sandbox.worker_command(scratch, ["gpu_network"], 7, gpu=True, blas_threads=4)
    assert env["AUTOGRADER_GPU"] == "1" and env["OMP_NUM_THREADS"] == "4"
    assert env["CUPY_CACHE_DIR"] == str(scratch.root / "cupy-kernels") and "AUTOGRADER_GPU_PATH" not in env


@pytest.mark.skipif(not sandbox.sandbox_available(), reason="bubblewrap cannot make a sandbox here")
def test_with_bubblewrap_the_worker_sees_only_its_mounts(scratch):
    argv, env = sandbox.worker_command(scratch, ["activations"], 7)
    assert argv[0] == sandbox.bubblewrap_path()
    assert argv[-3:] == ["/grader/worker.py", "/submission", "activations"]
    mounts = [(argv[i], argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a in ("--ro-bind", "--bind")]
    assert ("--ro-bind", str(scratch.submission), "/submission") in mounts
    assert ("--ro-bind", str(scratch.grader), "/grader") in mounts
    assert ("--bind", str(scratch.shared), "/shared") in mounts
    assert "--unshare-all" in argv and env["AUTOGRADER_SHARED_DIR"] == "/shared"

"""How the worker process is started: scratch copy, resource limits, isolation.

On Linux with bubblewrap (``bwrap``, Debian package ``bubblewrap``) the worker
sees a read-only view of the Python installation and its scratch folder and
nothing else: no course repository, no solutions, no hidden suites, no
network. Without bubblewrap it still runs with ``python -I``, resource limits
and its own process group, and the grader warns that files are not hidden.
"""
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import numpy

# Limits is grading policy (limits.py); re-exported here because the hidden suites import it as
# ``from autograder.sandbox import Limits``.
from .limits import MiB, Limits  # noqa: F401
from .worker import WORKER_FILES

HERE = Path(__file__).resolve().parent
# Read once at import: a scratch folder always gets the worker as it was when grading began.
WORKER_SOURCES = {name: (HERE / name).read_bytes() for name in WORKER_FILES}


# A folder holding a `cupy` stand-in package (the course's tests use one on machines
# without a GPU). Grading reports say when GPU items were graded on it.
STAND_IN_ENV = "AUTOGRADER_CUPY_STAND_IN"
GPU_ENV_PASSED = ("CUDA_PATH", "CUDA_HOME", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "CUPY_ACCELERATORS",
                  "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES")


def cupy_stand_in():
    folder = os.environ.get(STAND_IN_ENV)
    return str(Path(folder).resolve()) if folder else None


def bubblewrap_path():
    if os.environ.get("AUTOGRADER_NO_SANDBOX") == "1":
        return None
    return shutil.which("bwrap")


_NOT_PROBED = object()
_bwrap_problem = _NOT_PROBED


def sandbox_problem():
    """None when bubblewrap can make a worker's sandbox on this machine, else why not (bubblewrap's own line)."""
    global _bwrap_problem
    if _bwrap_problem is _NOT_PROBED:
        bwrap = bubblewrap_path()
        if bwrap is None:
            _bwrap_problem = "bubblewrap is not installed (or AUTOGRADER_NO_SANDBOX=1)"
        else:
            import subprocess
            probe = subprocess.run(
                # The worker's own mounts and flags: inside a container (or a box with its own /proc)
                # bubblewrap may start yet fail to mount /proc, and every student would then score 0 for it.
                [bwrap, "--tmpfs", "/tmp", *system_mounts(), "--proc", "/proc", "--dev", "/dev",
                 "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "/bin/true"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=30,
            )
            said = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
            _bwrap_problem = None if probe.returncode == 0 else said
    return _bwrap_problem


def sandbox_available():
    """True when bubblewrap exists and can create a worker's sandbox on this machine."""
    return sandbox_problem() is None


def sandbox_name():
    return "bubblewrap" if sandbox_available() else "none"


def isolation(limits):
    """What bounds and hides a worker here, in words (for every report)."""
    from . import cgroups
    said = []
    if sandbox_available():
        said.append("bubblewrap: only the Python installation and the submission visible; own process, "
                    "network and IPC namespaces; private /dev/shm and /tmp")
    else:
        said.append("no bubblewrap: files are not hidden and the network is reachable")
    box = cgroups.mechanisms_available()
    said.append(f"{' and '.join(box)}: at most {limits.max_processes} processes and threads, "
                f"{limits.worker_memory_bytes >> 20} MiB of memory including shared memory" if box
                else "no cgroup: the number of processes and shared memory are not bounded")
    said.append(f"rlimits: {limits.cpu_time_s} s CPU, {limits.worker_memory_bytes >> 20} MiB "
                f"{'data' if limits.gpu else 'address space'}, {limits.output_bytes >> 10} KiB per file written")
    return said


def python_roots():
    """Folders the worker's Python needs: the installation, and where NumPy lives."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(numpy.__file__).resolve().parent.parent}
    return sorted(str(r) for r in roots)


def system_mounts():
    args = []
    for top in ("/usr", "/etc/alternatives", "/etc/ld.so.cache"):
        if os.path.exists(top):
            args += ["--ro-bind", top, top]
    for link in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    return args


class Scratch:
    """A temporary folder holding the submitted modules (bytes read once) and the worker."""

    def __init__(self, module_sources):
        self.root = Path(tempfile.mkdtemp(prefix="autograder-"))
        self.submission = self.root / "submission"
        self.grader = self.root / "grader"
        self.shared = self.root / "shared"  # arrays the grader shares with the worker (wire.SharedArray)
        self.submission.mkdir()
        self.grader.mkdir()
        self.shared.mkdir()
        for name, source in module_sources.items():  # only the graded modules: no numpy.py, conftest.py, ...
            (self.submission / name).write_bytes(source)
        for name, source in WORKER_SOURCES.items():
            (self.grader / name).write_bytes(source)
        # Read-only to the worker (bubblewrap drops its capabilities, so even its root obeys the mode):
        # it maps the grader's files there but cannot add files of its own. The grader, with its
        # capabilities, still creates them.
        self.shared.chmod(0o555)
        self.output_file = self.root / "output.txt"

    @contextlib.contextmanager
    def shared_writable(self):
        """The shared folder opened for the grader to add a file (needed where the grader is not root)."""
        self.shared.chmod(0o755)
        try:
            yield
        finally:
            self.shared.chmod(0o555)

    def cleanup(self):
        if self.shared.is_dir():
            self.shared.chmod(0o755)
        shutil.rmtree(self.root, ignore_errors=True)


def gpu_mounts():
    """bubblewrap arguments that let CUDA reach the GPU: NVIDIA device files and /sys, and a
    writable, private folder for CuPy's compiled kernels."""
    args = ["--tmpfs", "/cupy-kernels"]
    for device in sorted(Path("/dev").glob("nvidia*")):
        args += ["--dev-bind", str(device), str(device)]
    if os.path.isdir("/sys"):
        args += ["--ro-bind", "/sys", "/sys"]
    return args


def worker_command(scratch, module_names, log_fd, gpu=False, blas_threads=1):
    """The argv that starts a worker for ``scratch``; also returns the env.

    ``log_fd``: the write end of the worker's log (worker_guard), inherited by the worker."""
    env = {
        "AUTOGRADER_LOG_FD": str(log_fd),
        "AUTOGRADER_SHARED_DIR": "/shared" if sandbox_available() else str(scratch.shared),
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": str(blas_threads),
        "OMP_NUM_THREADS": str(blas_threads),
        "MKL_NUM_THREADS": str(blas_threads),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    stand_in = cupy_stand_in() if gpu else None
    if gpu:
        env["AUTOGRADER_GPU"] = "1"
        env["CUPY_CACHE_DIR"] = "/cupy-kernels" if sandbox_available() else str(scratch.root / "cupy-kernels")
        env.update({name: os.environ[name] for name in GPU_ENV_PASSED if name in os.environ})
        if stand_in:
            env["AUTOGRADER_GPU_PATH"] = "/gpu_stand_in" if sandbox_available() else stand_in
    python = [sys.executable, "-I", "-B", "-X", "faulthandler"]
    if not sandbox_available():
        return [*python, str(scratch.grader / "worker.py"), str(scratch.submission), *module_names], env
    # Order matters: later mounts go on top, so the private /tmp comes first (a Python installation or
    # a course checkout under /tmp must stay visible above it).
    argv = [bubblewrap_path(), "--tmpfs", "/tmp", *system_mounts()]
    for root in python_roots():
        argv += ["--ro-bind", root, root]
    if stand_in:
        argv += ["--ro-bind", stand_in, "/gpu_stand_in"]
    argv += [
        "--ro-bind", str(scratch.submission), "/submission",
        "--ro-bind", str(scratch.grader), "/grader",
        "--bind", str(scratch.shared), "/shared",
        # /dev is private: its shm (and the tmpfs /tmp) are memory, counted by the worker's cgroup.
        "--proc", "/proc", "--dev", "/dev",
        *(gpu_mounts() if gpu else []),  # after --dev, which would hide them
        "--remount-ro", "/",
        "--chdir", "/submission",
        "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        *python, "/grader/worker.py", "/submission", *module_names,
    ]
    return argv, env


def apply_limits(limits, box=None):
    """Returns a preexec function that puts the child in ``box`` (a cgroups.ProcessBox) and sets rlimits,
    before exec."""
    import resource

    def preexec():
        if box is not None:
            box.join()
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_time_s, limits.cpu_time_s))
        memory = resource.RLIMIT_DATA if limits.gpu else resource.RLIMIT_AS
        resource.setrlimit(memory, (limits.worker_memory_bytes, limits.worker_memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes, limits.output_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        # A bounded stack makes runaway recursion crash at once instead of eating memory.
        resource.setrlimit(resource.RLIMIT_STACK, (limits.stack_bytes, limits.stack_bytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)

    return preexec

"""The notebook kernel nbgrader starts for each student: sandboxed, bounded, and able to run the course's cells.

Each test starts autograder.kernel_sandbox.SandboxedKernelManager through nbclient
(as nbgrader's Execute does) on a small notebook in a temporary folder, and checks
the result from outside the kernel: the host's own view of the folder, of its
processes, of a service it runs, and the kernel's control group.
"""
import os
import shutil
import socket
import threading
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

from autograder import cgroups, kernel_sandbox, sandbox
from autograder.kernel_sandbox import MiB, SandboxedKernelManager
from helpers import REPO

MECHANISMS = " ".join(cgroups.mechanisms_available())
needs_bwrap = pytest.mark.skipif(not sandbox.sandbox_available(), reason="the kernel sandbox needs bubblewrap")
needs_pids = pytest.mark.skipif("pids" not in MECHANISMS, reason="no writable cgroup pids controller here")
needs_memory = pytest.mark.skipif("memory" not in MECHANISMS, reason="no writable cgroup memory controller here")


class LIMITS:
    """The limits nbgrader's kernels get (the kernel manager's defaults)."""
    max_processes = SandboxedKernelManager.max_processes.default_value
    memory_bytes = SandboxedKernelManager.memory_bytes.default_value
    file_bytes = SandboxedKernelManager.file_bytes.default_value
    scratch_bytes = SandboxedKernelManager.scratch_bytes.default_value


class MeasuredKernelManager(SandboxedKernelManager):
    """Records what the kernel's box saw just before the box is closed."""

    measured = []

    def _end_process_tree(self):
        if self._box is not None:
            MeasuredKernelManager.measured.append({
                "private": str(self._private), "bounds": self.bounds(),
                "process_limit_hit": self._box.process_limit_hit(),
                "memory_limit_hit": self._box.memory_limit_hit(),
                "memory_peak": memory_peak(self._box),
            })
        super()._end_process_tree()


def memory_peak(box):
    """The most memory the box's processes held at once (cgroup v1 or v2), or None."""
    for folder in box.folders:
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            if (folder / name).exists():
                return int((folder / name).read_text())
    return None


def run(cells, folder, timeout=60):
    """Execute ``cells`` in a sandboxed kernel working in ``folder``; (notebook, measurements, died)."""
    MeasuredKernelManager.measured = []
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, raise_on_iopub_timeout=True,  # as nbgrader's Execute
                            kernel_manager_class=MeasuredKernelManager,
                            resources={"metadata": {"path": str(folder)}})
    died = False
    try:
        client.execute()
    except DeadKernelError:
        died = True
    return nb, MeasuredKernelManager.measured[0], died


def texts(nb):
    """The stream text of each code cell."""
    return ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")
            for c in nb.cells if c.cell_type == "code"]


def errors(nb):
    return [o.ename for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


def processes_mentioning(marker):
    """Host pids whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def folder_state(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in Path(folder).rglob("*"))


@pytest.fixture
def work(tmp_path):
    folder = tmp_path / "autograded" / "alice" / "hw0"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("the student's own file\n")
    return folder


@pytest.fixture(params=["bubblewrap", "no sandbox"])
def sandboxing(request, monkeypatch):
    """Run a test with the sandbox and without it (cgroups and rlimits must bind either way)."""
    if request.param == "bubblewrap" and not sandbox.sandbox_available():
        pytest.skip("the kernel sandbox needs bubblewrap")
    if request.param == "no sandbox":
        monkeypatch.setattr(sandbox, "sandbox_available", lambda: False)
    return request.param


# ---------------------------------------------------------------------- the network
class Service:
    """A TCP service on this machine, counting the connections it accepts."""

    def __init__(self):
        self.server = socket.create_server(("0.0.0.0", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self):
        self.server.close()
        self.thread.join(5)


def outward_address():
    """This machine's own non-loopback address, if it has one (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.254.254.254", 9))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


CONNECT = """
import socket
for host in {hosts!r}:
    try:
        socket.create_connection((host, {port}), timeout=3).close()
        print(host, "connected")
    except OSError as exc:
        print(host, "unreachable:", type(exc).__name__)
print("interfaces:", sorted(name for _, name in socket.if_nameindex()))
"""


@needs_bwrap
def test_the_kernel_has_no_network_yet_runs_cells(work):
    service = Service()
    hosts = ["127.0.0.1"] + ([outward_address()] if outward_address() else [])
    try:
        nb, measured, died = run([CONNECT.format(hosts=hosts, port=service.port), "print(6 * 7)"], work)
        reached_from_the_kernel = service.accepted
        socket.create_connection(("127.0.0.1", service.port), timeout=3).close()  # the service does answer
        for _ in range(50):
            if service.accepted:
                break
            threading.Event().wait(0.05)
    finally:
        service.close()
    connect, answer = texts(nb)
    assert not died and answer == "42\n", texts(nb)
    assert reached_from_the_kernel == 0 and service.accepted == 1
    assert "connected" not in connect and connect.count("unreachable") == len(hosts), connect
    assert "interfaces: ['lo']" in connect


# ---------------------------------------------------------------------- processes
FORK_BOMB = """
import os, time
children = 0
try:
    for _ in range(300):
        if os.fork() == 0:
            time.sleep(120)
            os._exit(0)
        children += 1
except OSError as exc:
    print("fork refused:", exc.strerror)
print("children:", children)
"""


@needs_pids
def test_a_fork_bomb_stops_at_the_process_limit_and_ends_with_the_kernel(work, sandboxing, caplog):
    nb, measured, died = run([FORK_BOMB, "print('still here')"], work)
    bomb, after = texts(nb)
    children = int(bomb.split("children:")[1])
    assert "fork refused" in bomb and 10 < children < LIMITS.max_processes, bomb
    assert measured["process_limit_hit"] and not died and after == "still here\n"
    # Every child ran the kernel's command line, which names the kernel's private folder.
    assert processes_mentioning(measured["private"]) == []
    assert not os.path.exists(measured["private"])
    if sandboxing == "no sandbox":
        assert "NOTEBOOK KERNEL NOT SANDBOXED" in caplog.text
    print(f"{sandboxing}: {children} children forked of 300 (pids.max {LIMITS.max_processes})")


LEFTOVERS = """
import subprocess, sys
subprocess.Popen(["sleep", "{marker}"], start_new_session=True)
subprocess.Popen([sys.executable, "-c", "import os, time\\nif os.fork() == 0:\\n    os.setsid(); time.sleep({marker})"])
print("started")
"""


def test_processes_a_notebook_leaves_behind_end_with_the_kernel(work, sandboxing):
    marker = "987654.%d" % os.getpid()
    nb, measured, died = run([LEFTOVERS.format(marker=marker), "import time; time.sleep(0.5)"], work)
    assert texts(nb)[0] == "started\n" and not died
    assert processes_mentioning(marker) == []


@needs_bwrap
def test_a_cell_that_runs_too_long_is_interrupted_and_the_next_cell_runs(work):
    nb, measured, died = run(["import time; time.sleep(60)", "print('next')"], work, timeout=5)
    assert not died and errors(nb) == ["KeyboardInterrupt"] and texts(nb)[1] == "next\n"


def test_without_cgroups_the_kernel_runs_with_an_address_space_limit_and_says_so(work, monkeypatch, caplog):
    monkeypatch.setattr(cgroups, "_layout", ("none", None))  # as on a machine with no writable cgroup
    nb, measured, died = run(["import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"], work)
    assert not died and int(texts(nb)[0]) == LIMITS.memory_bytes
    assert "NOTEBOOK KERNEL PROCESSES NOT BOUNDED" in caplog.text
    assert "NOTEBOOK KERNEL MEMORY ONLY BOUNDED PER PROCESS" in caplog.text


# ---------------------------------------------------------------------- memory
ALLOCATE = """
import os
total = 0
for i in range(96):  # 96 blocks of 32 MiB: 3 GiB
    {allocate}
    total += 32
    print(total, flush=True)
print("allocated all 3 GiB")
"""
MEMFD = 'fd = os.memfd_create("block"); os.write(fd, b"\\1" * (32 << 20))'
DEV_SHM = 'open(f"/dev/shm/block{i}", "wb").write(b"\\1" * (32 << 20))'


@needs_memory
@pytest.mark.parametrize("allocate", [MEMFD, DEV_SHM], ids=["memfd", "dev-shm"])
def test_shared_memory_stops_at_the_memory_limit(work, allocate):
    if allocate == DEV_SHM and not sandbox.sandbox_available():
        pytest.skip("without bubblewrap /dev/shm is the machine's own")
    nb, measured, died = run([ALLOCATE.format(allocate=allocate)], work)
    printed = [int(line) for line in texts(nb)[0].split()]
    assert died and "allocated all" not in texts(nb)[0]
    assert printed and printed[-1] <= LIMITS.memory_bytes // MiB
    assert measured["memory_limit_hit"] and measured["memory_peak"] <= LIMITS.memory_bytes
    print(f"reached {printed[-1]} MiB of 3072 before the kernel was stopped; "
          f"cgroup peak {measured['memory_peak'] // MiB} MiB")


# ---------------------------------------------------------------------- disk
FILL = """
import errno, os
def fill(paths, each, total=1 << 30):
    # Write up to ``each`` bytes into every path in turn, until ``total``; (bytes written, how it ended).
    written = 0
    try:
        for path in paths:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT)
            try:
                end = min(written + each, total)
                while written < end:
                    written += os.write(fd, b"\\0" * min(16 << 20, end - written))
            finally:
                os.close(fd)
            if written >= total:
                break
    except OSError as exc:
        return written, errno.errorcode[exc.errno]
    return written, "no error"
"""
ONE_FILE = 'print(*fill(["big.bin"], 1 << 30))'  # 1 GiB in one file
MANY_FILES = 'print(*fill([f"{folder}/part{{i}}.bin" for i in range(64)], 48 << 20))'  # 1 GiB in 48 MiB files
WRITE_INTO_SUBMISSION = """
try:
    open("notes.txt", "a").write("changed")
    print("changed")
except OSError as exc:
    print("refused:", exc.strerror)
"""


@needs_bwrap
def test_disk_writes_are_bounded_and_never_reach_the_course_folder(work):
    before = folder_state(work.parent.parent.parent)
    cells = [FILL, ONE_FILE, MANY_FILES.format(folder="."), MANY_FILES.format(folder="/tmp"),
             WRITE_INTO_SUBMISSION, "print(sorted(os.listdir('.'))[:3])"]
    nb, measured, died = run(cells, work)
    _, one, here, tmp, submission, listing = texts(nb)
    assert not died
    one_bytes, one_error = one.split()
    assert int(one_bytes) == LIMITS.file_bytes and one_error == "EFBIG", one
    for text in (here, tmp):
        total, error = text.split()
        assert int(total) <= LIMITS.scratch_bytes and error in ("ENOSPC", "EFBIG"), text
    assert submission.startswith("refused") and "big.bin" in listing
    assert folder_state(work.parent.parent.parent) == before  # nothing written outside the kernel's memory
    assert (work / "notes.txt").read_text() == "the student's own file\n"
    print(f"written: one file {int(one_bytes) // MiB} MiB, working folder {int(here.split()[0]) // MiB} MiB, "
          f"/tmp {int(tmp.split()[0]) // MiB} MiB; course folder unchanged")


def test_without_the_sandbox_a_file_still_stops_at_the_file_limit(work, monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_available", lambda: False)
    nb, measured, died = run([FILL, ONE_FILE], work)
    written, error = texts(nb)[1].split()
    assert not died and error == "EFBIG" and int(written) == LIMITS.file_bytes
    assert (work / "big.bin").stat().st_size == LIMITS.file_bytes


# ---------------------------------------------------------------------- output
def test_huge_output_is_cut_before_it_reaches_the_notebook(work):
    from nbgrader.preprocessors import LimitOutput
    from autograder.nbgrader_hooks import configure
    cells = ['print("x" * 200_000_000)', "for i in range(600_000): print(i)", "print('after')"]
    nb, measured, died = run(cells, work, timeout=120)
    big, lines, after = texts(nb)
    assert not died and after == "after\n"
    # One 200 MB message is not even decoded: the cell keeps only the note.
    assert "[output cut here" in big and len(big) <= kernel_sandbox.CELL_OUTPUT_BYTES + 1000
    assert lines.startswith("0\n1\n2\n") and "[output cut here" in lines
    # What nbgrader stores after its LimitOutput preprocessor, as the course configures it.
    limit_output = LimitOutput(config=configure(Config()))
    stored = nbformat.writes(limit_output.preprocess(nb, {})[0])
    assert len(stored) < 3 * MiB, len(stored)
    assert texts(nb)[1].count("\n") <= limit_output.max_lines
    print(f"a 200 MB print and 600,000 lines left a notebook of {len(stored) // 1024} KiB")


def test_a_notebook_keeps_a_bounded_total_of_output():
    channel = object.__new__(kernel_sandbox.BoundedIOPubChannel)  # the accounting only, no socket
    channel._kept, channel._total, channel._cut = {}, 0, set()
    chunk = "y" * (6 * MiB // 10)
    kept = []
    for cell in range(20):  # 20 cells printing 1.8 MiB each (under a cell's limit), in three messages
        for _ in range(3):
            msg = {"msg_type": "stream", "header": {"msg_type": "stream"}, "parent_header": {"msg_id": f"cell{cell}"},
                   "content": {"name": "stdout", "text": chunk}, "buffers": []}
            out = channel._bounded(msg, len(chunk) + 40)
            if out is not None:
                kept.append(out["content"]["text"])
        idle = {"msg_type": "status", "header": {}, "parent_header": {"msg_id": f"cell{cell}"},
                "content": {"execution_state": "idle"}}
        assert channel._bounded(idle, 30) is idle  # a cell always ends, whatever it printed
    total = sum(map(len, kept))
    assert kernel_sandbox.NOTEBOOK_OUTPUT_BYTES - MiB < total <= kernel_sandbox.NOTEBOOK_OUTPUT_BYTES + 20 * 200
    whole_cells = kernel_sandbox.NOTEBOOK_OUTPUT_BYTES // (3 * (len(chunk) + 40))
    assert sum("[output cut here" in text for text in kept) == 20 - whole_cells  # one note in each other cell


# ---------------------------------------------------------------------- the course's own cells
COURSE_MODULES = """
import os, autograder, mnist_loader
from autograder.notebook import public_checks
print("hidden suites:", os.listdir(os.path.join(os.path.dirname(autograder.__file__), "hidden")))
print("solutions visible:", os.path.exists({solutions!r}))
for path in (mnist_loader.__file__, os.path.join(os.environ.get("MNIST_DIR", "/nonexistent"), "x")):
    try:
        open(path, "a")
        print("writable:", path)
    except OSError:
        pass
try:
    X, y, X_held_out, y_held_out = mnist_loader.load_course_subset()
    print("MNIST:", X.shape, X_held_out.shape, int(y[:100].sum()))
except mnist_loader.MnistError:
    print("MNIST: none")
"""


@needs_bwrap
def test_course_modules_and_mnist_are_visible_read_only(work):
    import mnist_loader
    assert any((REPO / "autograder" / "hidden").glob("*.py"))  # there is something to hide
    nb, measured, died = run([COURSE_MODULES.format(solutions=str(REPO / "solutions"))], work)
    text = texts(nb)[0]
    assert not died and not errors(nb), nb.cells[0].outputs
    assert "hidden suites: []" in text and "solutions visible: False" in text and "writable" not in text
    try:
        X, y, X_held_out, _ = mnist_loader.load_course_subset()
        assert f"MNIST: {X.shape} {X_held_out.shape} {int(y[:100].sum())}" in text, text
    except mnist_loader.MnistError:
        assert "MNIST: none" in text


def course_notebook(assignment_id, folder):
    """The released notebook with the reference modules beside it, as a correct submission."""
    from autograder import assignments
    shutil.copy(REPO / "assignments" / assignment_id / f"{assignment_id}.ipynb", folder)
    for module in assignments.get(assignment_id).modules:
        shutil.copy(REPO / "solutions" / assignment_id / module, folder)
    return nbformat.read(folder / f"{assignment_id}.ipynb", as_version=4)


def problems(nb):
    """Error outputs and anything on stderr (a Fontconfig complaint, a warning), per cell."""
    return [(i, o.get("ename") or o.get("text", "")[:300]) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.outputs if o.output_type == "error" or o.get("name") == "stderr"]


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", ["hw1_activations", "hw2_backprop", "hw3_optimizers", "hw4_gpu"])
def test_a_correct_submission_runs_without_errors_in_the_sandbox(assignment_id, work, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # as nbgrader autograde sets it
    nb = course_notebook(assignment_id, work)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
                            kernel_manager_class=SandboxedKernelManager, resources={"metadata": {"path": str(work)}})
    client.execute()
    text = "".join(texts(nb))
    assert problems(nb) == [] and "not implemented yet" not in text, problems(nb)
    assert text.count("Graded by the course autograder") == sum(
        1 for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
    if "no usable GPU" in text:
        assert "skipped: no GPU" in text and "GPU (CuPy): skipped, no GPU" in text
    if assignment_id == "hw2_backprop" and kernel_sandbox.mnist_folder():
        assert "Epoch 4:" in text, text


@pytest.mark.slow
def test_nbgrader_autograde_of_the_hw2_reference_shows_no_errors(tmp_path):
    import json
    from autograder.nbgrader_hooks import REPORT_NAME
    from autograder.release import release, run_nbgrader
    assignment_id = "hw2_backprop"
    course = tmp_path / "course"
    shutil.copytree(REPO / "solutions" / assignment_id, course / "solutions" / assignment_id)
    shutil.copy(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    released = release(assignment_id, course)
    submitted = course / "submitted" / "alice" / assignment_id
    shutil.copytree(released, submitted)
    shutil.copy(REPO / "solutions" / assignment_id / "network.py", submitted / "network.py")
    run_nbgrader(course, "autograde", assignment_id, "--student", "alice", "--force")
    graded = course / "autograded" / "alice" / assignment_id
    nb = nbformat.read(graded / f"{assignment_id}.ipynb", as_version=4)
    report = json.loads((graded / REPORT_NAME).read_text())
    text = "".join(texts(nb))
    assert problems(nb) == [], problems(nb)
    assert report["score"] == report["max_score"] and "largest relative error" in text
    if kernel_sandbox.mnist_folder():
        assert "Epoch 4:" in text, text

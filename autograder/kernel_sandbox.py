"""The notebook kernel that ``nbgrader autograde`` starts for each student, with the worker's guarantees.

A notebook kernel runs student code with nbgrader's rights, so it gets the
same bounds as the grading worker (sandbox.py). ``SandboxedKernelManager`` is
nbgrader's ``c.Execute.kernel_manager_class``. What binds, and why:

* **Files.** With bubblewrap the kernel sees a read-only view of the system,
  the Python installation, the course's own modules that released notebooks
  import (``mnist_loader`` and the ``autograder`` package, its hidden suites
  covered by an empty folder) and the MNIST folder that ``mnist_loader``
  finds on this machine (passed in as ``$MNIST_DIR``). Nothing else: no
  repository, no solutions, no gradebook, no other student.
* **Disk.** The kernel can write only to tmpfs folders, whose pages are
  charged to its memory cgroup, and every file is capped by ``RLIMIT_FSIZE``
  (a larger write fails with "File too large"; the kernel survives).
  The autograded folder itself is never written: the kernel's working folder
  is a private, size-capped tmpfs at the same path holding read-only views of
  the autograded folder's files and folders (links and special files are left
  out, as their targets would be resolved outside the sandbox), so a notebook
  can still save files next to itself; they vanish with the kernel. ``/tmp``
  is a private, size-capped tmpfs holding ``HOME`` and the matplotlib,
  fontconfig and IPython caches. So nothing reaches the course folder, and
  the total written is bounded by the memory limit.
* **Network.** The kernel has its own network namespace (only a loopback of
  its own): no service on this machine's 127.0.0.1, and nothing outside, is
  reachable. It talks to nbgrader over Unix-domain sockets (jupyter_client's
  ``ipc`` transport) in a private folder bind-mounted into the sandbox. That
  folder is on ``/dev/shm`` where possible (memory, charged to the kernel
  too) and is removed with the kernel.
* **Processes, memory, CPU.** The whole tree (bubblewrap, the kernel and all
  it starts) is one ``cgroups.ProcessBox``: a count of processes and threads,
  and a memory limit that includes memfd, ``/dev/shm`` (bubblewrap's private
  ``/dev``) and every tmpfs above. ``RLIMIT_CPU`` caps each process's CPU
  time. When the kernel stops, dies or is killed, everything left in the box
  is killed, whatever session or process group it moved to; with bubblewrap
  the kernel's pid namespace ends with it as well. A cell that runs too long
  is interrupted with an ``interrupt_request`` message, as SIGINT to the
  process group would stop bubblewrap, and the kernel with it.
* **Output.** nbclient gets a ``BoundedOutputClient``, which keeps at most
  ``CELL_OUTPUT_BYTES`` of output per cell and ``NOTEBOOK_OUTPUT_BYTES`` per
  notebook, with a one-line note where it cut. A message larger than
  ``DECODE_BYTES`` is not even decoded, so nbgrader's process holds at most
  one raw message at a time, which the kernel's memory limit bounds. nbgrader's
  ``LimitOutput`` (lines per cell, traceback lines) then runs on what is kept;
  it has no limit on characters, so it alone would keep a 200 MB line.
* **GPU.** The kernel gets no GPU device: hw4's notebook prints its skip
  messages, and the GPU items are graded by the engine's workers, which take
  turns on the device.

Without bubblewrap (``AUTOGRADER_NO_SANDBOX=1`` or no ``bwrap``) the kernel
sees the machine's files and network and writes in its real folder (each file
still capped); the process box, the rlimits, the ipc transport and the output
bounds still apply, and every kernel start logs loudly what is missing.
Without writable cgroups an address-space limit (``RLIMIT_AS``) is the only
memory bound and nothing bounds the number of processes of a root kernel;
that is logged loudly too.

The limits are configurable, e.g. ``c.SandboxedKernelManager.memory_bytes``;
``bounds()`` says in words what binds a running kernel.
"""
import importlib.util
import os
import resource
import shutil
import signal
import stat
import sys
import tempfile
import weakref
from pathlib import Path

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Integer, Type

from . import sandbox
from .cgroups import ProcessBox

MiB = 1024 * 1024
PACKAGE = Path(__file__).resolve().parent
HIDDEN_SUITES = PACKAGE / "hidden"
KERNEL_HOME = "/tmp"
# Read-only system folders fontconfig needs (matplotlib asks it for the system's fonts).
FONT_CONFIG = ("/etc/fonts", "/var/cache/fontconfig")
# Environment variables nbgrader, nbclient or the course pass to a kernel; all others stay out.
PASSED_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING",
              "JPY_SESSION_NAME", "PYDEVD_DISABLE_FILE_VALIDATION")

CELL_OUTPUT_BYTES = 2 * MiB       # what one cell keeps (a few inline figures fit easily)
NOTEBOOK_OUTPUT_BYTES = 16 * MiB  # what one notebook keeps in all
DECODE_BYTES = 8 * MiB            # a larger message is replaced unread
ALWAYS_KEPT = ("status", "execute_input", "clear_output")
SANDBOX_WORDS = ("own network, pid, ipc and mount namespaces; read-only system, Python and course modules; "
                 "writable only tmpfs folders charged to the memory cgroup")


# ---------------------------------------------------------------------- bounded output
class BoundedIOPubChannel(AsyncZMQSocketChannel):
    """The IOPub channel, keeping a bounded amount of output per cell and per notebook."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kept = {}       # parent msg_id -> bytes kept for that cell
        self._total = 0
        self._cut = set()     # cells whose note was already given

    async def get_msg(self, timeout=None):
        while True:  # dropped messages are skipped
            msg = await super().get_msg(timeout)
            if msg is not None:
                return msg

    async def _recv(self, **kwargs):
        frames = await self.socket.recv_multipart(copy=False)  # no copy of a huge message
        try:
            _, frames = self.session.feed_identities(frames, copy=False)
            size = sum(len(frame) for frame in frames)
            if size > DECODE_BYTES:
                msg = _unread(self.session, frames)
            else:
                msg = self.session.deserialize(frames, copy=False)
            return self._bounded(msg, size)
        except Exception:  # malformed or wrongly signed (the kernel is untrusted): dropped
            return None

    def _bounded(self, msg, size):
        if msg["msg_type"] in ALWAYS_KEPT and msg["content"] is not None:
            return msg
        cell = msg["parent_header"].get("msg_id")
        room = min(CELL_OUTPUT_BYTES - self._kept.get(cell, 0), NOTEBOOK_OUTPUT_BYTES - self._total)
        if msg["content"] is not None and size <= room:
            self._keep(cell, size)
            return msg
        if cell in self._cut:
            return None
        self._cut.add(cell)
        head = ""
        if msg["msg_type"] == "stream" and msg["content"] is not None:
            head = str(msg["content"].get("text", ""))[:max(room, 0)]
        note = (f"{head}\n[output cut here: a cell keeps at most {CELL_OUTPUT_BYTES // MiB} MiB of output "
                f"and a notebook {NOTEBOOK_OUTPUT_BYTES // MiB} MiB when it is graded]\n")
        self._keep(cell, len(note))
        msg["msg_type"] = msg["header"]["msg_type"] = "stream"
        msg["content"] = {"name": "stdout", "text": note}
        msg["buffers"] = []
        return msg

    def _keep(self, cell, size):
        self._kept[cell] = self._kept.get(cell, 0) + size
        self._total += size


def _unread(session, frames):
    """A message too large to decode: its header and parent header only (content None), unverified, as
    the kernel that could sign it is the only one that can write to its socket."""
    small = [frame.bytes if len(frame) <= 64 * 1024 else b"{}" for frame in frames[1:3]]
    header = session.unpack(small[0])
    return {"header": header, "msg_id": header["msg_id"], "msg_type": header["msg_type"],
            "parent_header": session.unpack(small[1]), "metadata": {}, "content": None, "buffers": []}


class BoundedOutputClient(AsyncKernelClient):
    """nbclient's kernel client, with the bounded IOPub channel."""

    iopub_channel_class = Type(BoundedIOPubChannel)


class SandboxedKernelManager(AsyncKernelManager):
    """An nbgrader/nbclient kernel manager: sandbox, bounded process tree, ipc transport, bounded output."""

    client_class = DottedObjectName("autograder.kernel_sandbox.BoundedOutputClient")
    client_factory = Type(BoundedOutputClient, klass=AsyncKernelClient)
    max_processes = Integer(64, config=True, help="processes and threads of the whole kernel tree")
    memory_bytes = Integer(2048 * MiB, config=True,
                           help="memory of the whole kernel tree: memfd, /dev/shm and its tmpfs folders included")
    cpu_time_s = Integer(600, config=True, help="CPU seconds per process (RLIMIT_CPU)")
    file_bytes = Integer(64 * MiB, config=True, help="largest file the kernel may write (RLIMIT_FSIZE)")
    scratch_bytes = Integer(256 * MiB, config=True, help="size of the kernel's /tmp and of its working folder, each")
    blas_threads = Integer(2, config=True, help="OpenBLAS/OpenMP/MKL threads in the kernel")

    _box = None          # the kernel tree's ProcessBox, while it runs
    _private = None      # the kernel's private folder: connection file, sockets, empty folder, fallback HOME
    _finalizer = None
    _sandboxed = False

    def bounds(self):
        """What binds this kernel, in words (empty before the kernel starts)."""
        if self._box is None:
            return []
        words = [f"bubblewrap: {SANDBOX_WORDS}" if self._sandboxed else "no sandbox"]
        words += self._box.mechanisms or ["no cgroup: processes not bounded, "
                                          f"RLIMIT_AS {self.memory_bytes // MiB} MiB per process"]
        words += [f"RLIMIT_CPU {self.cpu_time_s} s", f"RLIMIT_FSIZE {self.file_bytes // MiB} MiB",
                  f"output kept: {CELL_OUTPUT_BYTES // MiB} MiB per cell, {NOTEBOOK_OUTPUT_BYTES // MiB} MiB in all"]
        return words

    # ------------------------------------------------------------------ start
    async def _async_pre_start_kernel(self, **kw):
        self._end_process_tree()  # a restart gets a fresh box
        self._sandboxed = sandbox.sandbox_available()
        if self._private is None:
            self._private = Path(tempfile.mkdtemp(prefix="nn-course-kernel-", dir=_private_parent()))
            (self._private / "empty").mkdir()
            (self._private / "home").mkdir()
            self.transport = "ipc"  # Unix-domain sockets: the kernel needs no network at all
            self.ip = str(self._private / "kernel")
            self.connection_file = str(self._private / "kernel.json")
        self._box = ProcessBox(self.max_processes, self.memory_bytes)
        self._finalizer = weakref.finalize(self, _end, self._box, self._private)
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        kw["env"] = self._kernel_env(kw.get("env") or os.environ)
        kw["preexec_fn"] = self._preexec()
        self._log_bounds()
        return kernel_cmd, kw

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if not self._sandboxed:
            return cmd
        cwd = os.path.realpath(self._launch_args.get("cwd") or os.getcwd())
        return kernel_sandbox_command(cwd, str(self._private), self.scratch_bytes) + cmd

    def _kernel_env(self, given):
        env = {name: given[name] for name in PASSED_ENV if name in given}
        home = KERNEL_HOME if self._sandboxed else str(self._private / "home")
        threads = str(self.blas_threads)
        env.update({
            "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),
            "LANG": env.get("LANG", "C.UTF-8"),
            "HOME": home,
            "MPLCONFIGDIR": f"{home}/.matplotlib",
            "XDG_CACHE_HOME": f"{home}/.cache",
            "XDG_CONFIG_HOME": f"{home}/.config",
            "IPYTHONDIR": f"{home}/.ipython",
            "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter",
            "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
            # The course's modules import however the course is installed (editable, or not at all).
            "PYTHONPATH": os.pathsep.join(sorted({os.path.dirname(path) for path in course_modules()})),
        })
        mnist = mnist_folder()
        if mnist:
            env["MNIST_DIR"] = mnist
        return env

    def _preexec(self):
        box, cpu, fsize = self._box, self.cpu_time_s, self.file_bytes
        memory = None if any("memory" in m for m in box.mechanisms) else self.memory_bytes

        def preexec():  # in the child, before bubblewrap (or the kernel) starts
            box.join()
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # SIGXCPU, then SIGKILL
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if memory:
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            # A write over the file limit then fails with EFBIG instead of killing the kernel.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

        return preexec

    def _log_bounds(self):
        self.log.info("Notebook kernel bounds: %s", "; ".join(self.bounds()))
        if not self._sandboxed:
            self.log.warning("NOTEBOOK KERNEL NOT SANDBOXED (bubblewrap unavailable or AUTOGRADER_NO_SANDBOX=1): "
                             "student code in the notebook can read and write this machine's files and "
                             "reach its network; only process, memory, CPU-time and file-size limits apply.")
        if not any("pids" in m for m in self._box.mechanisms):
            self.log.warning("NOTEBOOK KERNEL PROCESSES NOT BOUNDED: no writable cgroup pids controller here.")
        if not any("memory" in m for m in self._box.mechanisms):
            self.log.warning("NOTEBOOK KERNEL MEMORY ONLY BOUNDED PER PROCESS (RLIMIT_AS): no writable cgroup "
                             "memory controller, so memfd, /dev/shm and tmpfs files are not bounded.")

    async def _async_interrupt_kernel(self):
        """A cell that runs too long is interrupted by a message: SIGINT to the process group would
        stop bubblewrap itself, and with it the kernel."""
        if not (self._sandboxed and self.has_kernel):
            return await super()._async_interrupt_kernel()
        self._connect_control_socket()
        self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    # ------------------------------------------------------------------ end
    async def _async_kill_kernel(self, restart=False):
        if self._box is not None:
            self._box.kill_all()
        await super()._async_kill_kernel(restart=restart)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        self._end_process_tree()
        if not restart and self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None

    # AsyncKernelManager binds its public names to KernelManager's functions: rebind them to these.
    interrupt_kernel = _async_interrupt_kernel
    cleanup_resources = _async_cleanup_resources
    _kill_kernel = _async_kill_kernel

    def _end_process_tree(self):
        """Kill whatever the kernel left running (daemons, other sessions) and remove its box."""
        if self._box is not None:
            self._box.close()
            self._box = None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None


def _end(box, private):
    """Last resort when a kernel manager is dropped without cleanup."""
    box.close()
    if private is not None:
        shutil.rmtree(private, ignore_errors=True)


def _private_parent():
    """/dev/shm when usable: socket files and anything else written there are memory, charged to the kernel."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


# ---------------------------------------------------------------------- what the kernel sees
def course_modules():
    """Paths of the course's own code that released notebooks import: the ``autograder`` package
    (the sandbox covers its hidden suites) and ``mnist_loader``."""
    paths = [str(PACKAGE)]
    spec = importlib.util.find_spec("mnist_loader")
    if spec is not None and spec.origin and os.path.isfile(spec.origin):
        paths.append(os.path.realpath(spec.origin))
    return paths


def mnist_folder():
    """The folder mnist_loader finds on this machine ($MNIST_DIR honoured), resolved; None if there is none."""
    try:
        import mnist_loader
        return os.path.realpath(mnist_loader.find_data_dir())
    except Exception:  # no loader, or no data: the notebook's own cells say how to get it
        return None


def visible_entries(folder):
    """The files and folders of ``folder`` the kernel gets read-only views of: no links or special files,
    whose targets would be resolved outside the sandbox."""
    entries = []
    with os.scandir(folder) as it:
        for entry in it:
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
                entries.append(entry.path)
    return sorted(entries)


def kernel_sandbox_command(cwd, private, scratch_bytes):
    """The bubblewrap argv (without the kernel's own command) for a kernel working in ``cwd``."""
    size = str(scratch_bytes)
    # Order matters: later mounts go on top, so the private /tmp comes first.
    argv = [sandbox.bubblewrap_path(), "--size", size, "--tmpfs", "/tmp", *sandbox.system_mounts()]
    for path in (*FONT_CONFIG, *sandbox.python_roots(), *course_modules()):
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    if HIDDEN_SUITES.is_dir():
        argv += ["--ro-bind", os.path.join(private, "empty"), str(HIDDEN_SUITES)]
    mnist = mnist_folder()
    if mnist:
        argv += ["--ro-bind", mnist, mnist]
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--bind", private, private,  # after --dev: the private folder may live under /dev/shm
             "--size", size, "--tmpfs", cwd]
    for path in visible_entries(cwd):
        argv += ["--ro-bind", path, path]
    argv += [
        "--remount-ro", "/",  # the folders bubblewrap made for its mounts stay empty
        "--chdir", cwd,
        # In its own pid namespace the kernel's parent is pid 1, which ipykernel would take for
        # "my parent died"; 1 switches that poll off (bwrap's --die-with-parent does the job).
        "--setenv", "JPY_PARENT_PID", "1",
        # No --new-session: nbclient interrupts a cell by signalling the kernel's process group,
        # and the kernel has no controlling terminal anyway (jupyter_client starts a new session).
        "--unshare-all", "--die-with-parent", "--cap-drop", "ALL",
    ]
    return argv

"""Bounds on a whole process tree: how many processes, and how much memory.

Resource limits (``setrlimit``) bind one process, and the two that matter most
bind nothing where graders usually run: ``RLIMIT_NPROC`` does not apply to
root, and memory from ``memfd_create``, ``/dev/shm`` or a tmpfs is not part of
the address space that ``RLIMIT_AS`` counts. A control group does both: every
process started inside it stays inside it, ``pids.max`` caps their number, and
the memory controller charges every page they touch, shared memory and tmpfs
files included, killing the tree's largest process when the limit is reached.

A ``ProcessBox`` is one such group. It uses cgroup v2 where this process may
create groups with both controllers, else the v1 ``pids`` and ``memory``
hierarchies, else nothing (``mechanisms`` then says so, and reports repeat it).
The child joins its box in ``preexec_fn``, before it executes anything.
"""
import os
import secrets
import signal
import time
from pathlib import Path

V1_ROOT = Path("/sys/fs/cgroup")
PREFIX = "nn-course-"


def _own_group(controller):
    """This process's group in a v1 hierarchy (or the v2 one for controller ''), as a folder."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        matches = controller in controllers.split(",") if controller else controllers == ""
        if not matches:
            continue
        mount = V1_ROOT / (controller or "unified")
        folder = mount / path.lstrip("/")
        if (folder / "cgroup.procs").exists():
            return folder
        if (mount / "cgroup.procs").exists():  # a container's view: the mount is our group
            return mount
    return None


def _writable_parent(folder):
    if folder is None:
        return None
    probe = folder / f"{PREFIX}probe-{secrets.token_hex(4)}"
    try:
        probe.mkdir()
        probe.rmdir()
        return folder
    except OSError:
        return None


def _v2_parent():
    folder = _writable_parent(_own_group(""))
    if folder is None:
        return None
    try:
        enabled = (folder / "cgroup.subtree_control").read_text().split()
    except OSError:
        return None
    return folder if {"pids", "memory"} <= set(enabled) else None


_layout = None


def layout():
    """("v2", parent) or ("v1", {"pids": parent, "memory": parent}) or ("none", None); probed once."""
    global _layout
    if _layout is None:
        v2 = _v2_parent()
        if v2 is not None:
            _layout = ("v2", v2)
        else:
            parents = {c: _writable_parent(_own_group(c)) for c in ("pids", "memory")}
            parents = {c: p for c, p in parents.items() if p is not None}
            _layout = ("v1", parents) if parents else ("none", None)
    return _layout


def _write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


class ProcessBox:
    """A control group bounding a process tree: at most ``max_processes``, ``memory_bytes`` in all."""

    def __init__(self, max_processes, memory_bytes):
        kind, parents = layout()
        name = PREFIX + secrets.token_hex(6)
        self.folders = []       # one per hierarchy: the child joins each
        self.mechanisms = []    # what binds, in words, for reports
        self._memory_files = []  # files whose content says the memory limit was hit
        self._pids_files = []
        if kind == "v2":
            folder = parents / name
            folder.mkdir()
            self.folders.append(folder)
            _write(folder / "pids.max", max_processes)
            _write(folder / "memory.max", memory_bytes)
            if (folder / "memory.swap.max").exists():
                _write(folder / "memory.swap.max", 0)
            self._memory_files.append((folder / "memory.events", "oom_kill"))
            self._pids_files.append((folder / "pids.events", "max"))
            self.mechanisms.append(f"cgroup v2 (pids.max {max_processes}, memory.max {memory_bytes >> 20} MiB)")
        elif kind == "v1":
            if "pids" in parents:
                folder = parents["pids"] / name
                folder.mkdir()
                self.folders.append(folder)
                _write(folder / "pids.max", max_processes)
                self._pids_files.append((folder / "pids.events", "max"))
                self.mechanisms.append(f"cgroup v1 pids.max {max_processes}")
            if "memory" in parents:
                folder = parents["memory"] / name
                folder.mkdir()
                self.folders.append(folder)
                _write(folder / "memory.limit_in_bytes", memory_bytes)
                if (folder / "memory.memsw.limit_in_bytes").exists():  # no escape into swap
                    _write(folder / "memory.memsw.limit_in_bytes", memory_bytes)
                self._memory_files.append((folder / "memory.oom_control", "oom_kill"))
                self.mechanisms.append(f"cgroup v1 memory limit {memory_bytes >> 20} MiB "
                                       "(shared memory and tmpfs included)")

    def join(self):
        """Move the calling process into the box (call it in the child, in ``preexec_fn``)."""
        pid = str(os.getpid())
        for folder in self.folders:
            _write(folder / "cgroup.procs", pid)

    def _members(self):
        pids = set()
        for folder in self.folders:
            try:
                pids.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return pids

    def kill_all(self, wait_s=5.0):
        """SIGKILL everything in the box, again until it stays empty (a fork may race the first pass)."""
        deadline = time.monotonic() + wait_s
        while True:
            members = self._members()
            if not members or time.monotonic() > deadline:
                return not members
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)

    def memory_limit_hit(self):
        return any(_counter(path, key) > 0 for path, key in self._memory_files)

    def process_limit_hit(self):
        return any(_counter(path, key) > 0 for path, key in self._pids_files)

    def close(self):
        self.kill_all()
        for folder in self.folders:
            for _ in range(50):  # a killed process leaves its group a moment after it is reaped
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self.folders = []


def _counter(path, key):
    """The value of ``key`` in a cgroup file of ``key value`` lines (0 when unreadable)."""
    try:
        text = path.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return 0


def mechanisms_available():
    """What a ProcessBox here can bound, in words (probing once)."""
    kind, parents = layout()
    if kind == "v2":
        return ["cgroup v2 pids and memory"]
    if kind == "v1":
        return [f"cgroup v1 {c}" for c in sorted(parents)]
    return []

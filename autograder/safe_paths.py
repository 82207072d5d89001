"""Opening, copying, writing and cleaning paths a student controls, without following them.

A submission folder, any file in it, and any file a notebook kernel leaves in
its folder can be a symbolic link, a hard link to a file elsewhere, a named
pipe or a device. Trusted code that opens such a path by name follows it: it
reads the solutions through a link, hangs on a pipe, reads ``/dev/zero`` until
memory runs out, or writes a report through a link onto the gradebook.

The helpers here never follow: folders and files are opened with
``O_NOFOLLOW`` (and ``O_NONBLOCK``, so a pipe cannot block the open) relative
to an already opened folder, and checked with ``fstat`` on what was actually
opened. Only regular files with a single link and real folders are accepted;
everything else is refused with a short reason ("is a symbolic link") that
feedback and logs can quote. Files are written to a fresh name and renamed
into place, so an existing link at the destination is replaced, never
followed.
"""
import errno
import fnmatch
import hashlib
import os
import secrets
import stat
import tempfile

_NOFOLLOW = (getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_NOCTTY", 0))
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
MAX_DEPTH = 32  # folders nested deeper than this inside a submission are left out


class UnsafePath(Exception):
    """A path that is not what trusted code may open: ``reason`` says what it is instead."""

    def __init__(self, name, reason):
        super().__init__(f"{name} {reason}")
        self.name = name
        self.reason = reason


def problem_with(st):
    """Why an ``lstat``/``fstat`` result may not be read or kept; None for a real folder or a lone regular file."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if stat.S_ISFIFO(mode):
        return "is a named pipe"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISREG(mode) and st.st_nlink > 1:
        # A second name for a file elsewhere (the solutions, a classmate's module, the gradebook).
        return "is a hard link to another file"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "is not a regular file"
    return None


def _why_not_opened(name, dir_fd, exc):
    """The reason an open with O_NOFOLLOW failed, in the words of problem_with."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return "not found"
    except OSError as other:
        return f"could not be read ({other.strerror})"
    return problem_with(st) or f"could not be opened ({exc.strerror})"


def open_folder(name, dir_fd=None):
    """A file descriptor of the real folder ``name`` (never through a link); raises UnsafePath."""
    try:
        fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            raise UnsafePath(name, problem_with(st) or "is not a folder") from None
        raise UnsafePath(name, _why_not_opened(name, dir_fd, exc)) from None
    return fd


def open_regular(name, dir_fd=None):
    """A read-only file descriptor of the regular, singly linked file ``name``; raises UnsafePath."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise UnsafePath(name, "not found") from None
    except OSError as exc:
        raise UnsafePath(name, f"could not be read ({exc.strerror})") from None
    reason = problem_with(st)  # refuse devices before opening them: opening one can have effects
    if reason is None and not stat.S_ISREG(st.st_mode):
        reason = "is a folder, not a file"
    if reason:
        raise UnsafePath(name, reason)
    try:
        fd = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=dir_fd)
    except OSError as exc:
        raise UnsafePath(name, _why_not_opened(name, dir_fd, exc)) from None
    st = os.fstat(fd)  # what was opened, whatever the name points to by now
    reason = problem_with(st) or (None if stat.S_ISREG(st.st_mode) else "is not a regular file")
    if reason:
        os.close(fd)
        raise UnsafePath(name, reason)
    return fd


def read_regular(name, max_bytes, dir_fd=None):
    """The bytes of the regular file ``name``, refused (UnsafePath) when it is anything else or too large."""
    fd = open_regular(name, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafePath(name, f"is larger than {_size(max_bytes)}")
    return data


def write_fresh(path, data, mode=0o644):
    """Write ``data`` (bytes or text) to a new file beside ``path``, then rename it onto ``path``.

    Whatever ``path`` was (a link to the gradebook, a pipe, a hard link), it is
    replaced, not followed or written through.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)  # O_EXCL: a fresh file
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _size(n):
    if n >= 1024 * 1024:
        return f"{n // (1024 * 1024)} MiB"
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} bytes"


def _entries(dir_fd):
    """(name, lstat) of each entry of the open folder, sorted by name."""
    with os.scandir(dir_fd) as entries:
        listed = sorted(entries, key=lambda e: e.name)
    return [(entry.name, entry.stat(follow_symlinks=False)) for entry in listed]


def copy_tree(source, dest, *, ignore=(), max_file_bytes, max_total_bytes, max_files=2000):
    """Copy the real folder ``source`` into the folder ``dest``: regular files and folders only.

    Nothing is followed. Links, hard links, pipes, devices, files over
    ``max_file_bytes``, and whatever would exceed ``max_total_bytes`` or
    ``max_files`` are left out. Names matching an ``ignore`` glob are skipped
    silently. Returns [(relative path, reason)] of what was left out; raises
    UnsafePath when ``source`` itself is not a real folder.
    """
    left_out = []
    budget = {"bytes": max_total_bytes, "files": max_files, "total": max_total_bytes, "most files": max_files}
    src_fd = open_folder(source)
    try:
        os.makedirs(dest, exist_ok=True)
        dest_fd = open_folder(dest)
        try:
            _copy_folder(src_fd, dest_fd, "", 0, ignore, max_file_bytes, budget, left_out)
        finally:
            os.close(dest_fd)
    finally:
        os.close(src_fd)
    return left_out


def _copy_folder(src_fd, dest_fd, prefix, depth, ignore, max_file_bytes, budget, left_out):
    for name, st in _entries(src_fd):
        rel = prefix + name
        if any(fnmatch.fnmatch(name, pattern) for pattern in ignore):
            continue
        if stat.S_ISDIR(st.st_mode):
            if depth + 1 >= MAX_DEPTH:
                left_out.append((rel + "/", f"is nested more than {MAX_DEPTH} folders deep"))
                continue
            try:
                sub_src = open_folder(name, dir_fd=src_fd)
            except UnsafePath as exc:
                left_out.append((rel, exc.reason))
                continue
            try:
                try:
                    os.mkdir(name, dir_fd=dest_fd)
                except FileExistsError:
                    pass
                sub_dest = open_folder(name, dir_fd=dest_fd)  # refuses a link already there
                try:
                    _copy_folder(sub_src, sub_dest, rel + "/", depth + 1, ignore, max_file_bytes, budget, left_out)
                finally:
                    os.close(sub_dest)
            except UnsafePath as exc:
                left_out.append((rel, f"could not be copied (the destination {exc.reason})"))
            finally:
                os.close(sub_src)
            continue
        if budget["files"] <= 0:
            left_out.append((rel, f"is beyond the {budget['most files']} files a copy may hold"))
            continue
        try:
            data = read_regular(name, max_file_bytes, dir_fd=src_fd)
        except UnsafePath as exc:
            left_out.append((rel, exc.reason))
            continue
        if len(data) > budget["bytes"]:
            left_out.append((rel, f"would make the copy larger than {_size(budget['total'])} in all"))
            continue
        budget["files"] -= 1
        budget["bytes"] -= len(data)
        try:
            os.unlink(name, dir_fd=dest_fd)  # whatever was there is replaced, not written through
        except FileNotFoundError:
            pass
        except OSError as exc:
            left_out.append((rel, f"could not be copied ({exc.strerror})"))
            continue
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644, dir_fd=dest_fd)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def _digest_fd(fd):
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(folder):
    """{relative path: sha256} of the regular, singly linked files under the real folder ``folder``.

    Taken when only trusted code has written the folder, it is what ``scrub``
    later keeps.
    """
    found = {}
    fd = open_folder(folder)
    try:
        _manifest(fd, "", 0, found)
    finally:
        os.close(fd)
    return found


def _manifest(dir_fd, prefix, depth, found):
    for name, st in _entries(dir_fd):
        rel = prefix + name
        if stat.S_ISDIR(st.st_mode):
            if depth + 1 < MAX_DEPTH:
                sub = open_folder(name, dir_fd=dir_fd)
                try:
                    _manifest(sub, rel + "/", depth + 1, found)
                finally:
                    os.close(sub)
        elif problem_with(st) is None:
            try:
                found[rel] = _digest_fd(open_regular(name, dir_fd=dir_fd))
            except UnsafePath:
                pass


def scrub(folder, keep=None):
    """Remove from the real folder ``folder`` what trusted code must not read, copy or write through.

    Always removed: symbolic links, hard-linked files, pipes, sockets and
    devices, wherever they are. With ``keep`` (a ``manifest``), also every file
    that is not in it or whose content changed, and every folder holding no
    kept file. Returns [(relative path, reason)] of what was removed.
    """
    removed = []
    fd = open_folder(folder)
    try:
        _scrub(fd, "", 0, keep, removed)
    finally:
        os.close(fd)
    return removed


def _scrub(dir_fd, prefix, depth, keep, removed):
    for name, st in _entries(dir_fd):
        rel = prefix + name
        if stat.S_ISDIR(st.st_mode):
            wanted = keep is None or any(path.startswith(rel + "/") for path in keep)
            if wanted and depth + 1 < MAX_DEPTH:
                sub = open_folder(name, dir_fd=dir_fd)
                try:
                    _scrub(sub, rel + "/", depth + 1, keep, removed)
                finally:
                    os.close(sub)
            else:
                _remove_tree(name, dir_fd)
                removed.append((rel + "/", "was not put there by the course"))
            continue
        reason = problem_with(st)
        if reason is None and keep is not None:
            if rel not in keep:
                reason = "was not put there by the course"
            else:
                try:
                    if _digest_fd(open_regular(name, dir_fd=dir_fd)) != keep[rel]:
                        reason = "was changed after the course put it there"
                except UnsafePath as exc:
                    reason = exc.reason
        if reason:
            os.unlink(name, dir_fd=dir_fd)
            removed.append((rel, reason))


def _remove_tree(name, dir_fd):
    """Remove the folder ``name`` and everything in it, following nothing.

    Sub-folders are first moved up beside it and removed in turn, so a tree of
    any depth needs neither recursion nor one open folder per level.
    """
    pending = [name]
    while pending:
        current = pending.pop()
        fd = os.open(current, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=dir_fd)
        try:
            with os.scandir(fd) as entries:
                listed = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
            for child, is_dir in listed:
                if is_dir:
                    hoisted = f".removing-{secrets.token_hex(8)}"
                    os.rename(child, hoisted, src_dir_fd=fd, dst_dir_fd=dir_fd)
                    pending.append(hoisted)
                else:
                    os.unlink(child, dir_fd=fd)
        finally:
            os.close(fd)
        os.rmdir(current, dir_fd=dir_fd)


def is_link_or_special(path):
    """The reason ``path`` itself (not what it points to) is not a real folder or lone file; None if it is."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return problem_with(st)

"""safe_paths: what trusted code may open, copy, write and keep in a folder a student controls.

Each hostile entry is compared with what a plain open/copy would have done:
the link's target, a classmate's file or the "gradebook" must come out
unread and unchanged.
"""
import os
import stat
import threading

import pytest

from autograder import safe_paths
from autograder.safe_paths import UnsafePath

SECRET = "the reference solution\n"


@pytest.fixture
def hostile(tmp_path):
    """A folder with one entry of every kind a student can leave, and the outside files they point at."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "solution.py").write_text(SECRET)
    (outside / "gradebook.db").write_text("grades")
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "mine.py").write_text("def f(): return 1\n")
    (folder / "link.py").symlink_to(outside / "solution.py")
    (folder / "dangling.py").symlink_to(tmp_path / "nowhere")
    os.link(outside / "solution.py", folder / "hard.py")
    os.mkfifo(folder / "pipe.py")
    (folder / "linked_dir").symlink_to(outside)
    (folder / "sub").mkdir()
    (folder / "sub" / "data.txt").write_text("data")
    (folder / "sub" / "link.txt").symlink_to(outside / "gradebook.db")
    return folder, outside


def refused(name, folder):
    fd = safe_paths.open_folder(folder)
    try:
        with pytest.raises(UnsafePath) as info:
            safe_paths.read_regular(name, 1024, dir_fd=fd)
    finally:
        os.close(fd)
    return info.value.reason


def test_only_a_lone_regular_file_is_read(hostile):
    folder, _ = hostile
    fd = safe_paths.open_folder(folder)
    try:
        assert safe_paths.read_regular("mine.py", 1024, dir_fd=fd) == b"def f(): return 1\n"
    finally:
        os.close(fd)
    assert open(folder / "link.py").read() == SECRET  # what following the name would have read
    assert refused("link.py", folder) == "is a symbolic link"
    assert refused("dangling.py", folder) == "is a symbolic link"
    assert refused("hard.py", folder) == "is a hard link to another file"
    assert refused("pipe.py", folder) == "is a named pipe"  # returned at once: the open does not block
    assert refused("sub", folder) == "is a folder, not a file"
    assert refused("missing.py", folder) == "not found"


def test_a_file_swapped_for_a_link_after_the_check_is_still_refused(hostile, monkeypatch):
    folder, outside = hostile
    real_stat = os.stat

    def swap_after_stat(name, *args, **kwargs):  # the check sees a file, then the name becomes a link
        result = real_stat(name, *args, **kwargs)
        if name == "mine.py":
            os.unlink(folder / "mine.py")
            (folder / "mine.py").symlink_to(outside / "solution.py")
        return result
    monkeypatch.setattr(os, "stat", swap_after_stat)
    assert refused("mine.py", folder) == "is a symbolic link"


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_is_refused_without_being_opened(tmp_path):
    os.mknod(tmp_path / "zero.py", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero: endless bytes
    assert refused("zero.py", tmp_path) == "is a device"


def test_a_large_file_is_refused(tmp_path):
    (tmp_path / "big.py").write_bytes(b"x" * 2048)
    assert refused("big.py", tmp_path) == "is larger than 1 KiB"


def test_a_folder_that_is_a_link_is_not_opened(hostile, tmp_path):
    folder, outside = hostile
    with pytest.raises(UnsafePath, match="is a symbolic link"):
        safe_paths.open_folder(folder / "linked_dir")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UnsafePath, match="is not a folder"):
        safe_paths.open_folder(tmp_path / "file")
    assert safe_paths.is_link_or_special(folder / "linked_dir") == "is a symbolic link"
    assert safe_paths.is_link_or_special(folder / "sub") is None


def test_write_fresh_replaces_a_link_instead_of_writing_through_it(hostile):
    folder, outside = hostile
    report = folder / "autograder_report.json"
    report.symlink_to(outside / "gradebook.db")
    safe_paths.write_fresh(report, '{"score": 1}')
    assert (outside / "gradebook.db").read_text() == "grades"
    assert not report.is_symlink() and report.read_text() == '{"score": 1}'
    safe_paths.write_fresh(folder / "hard.py", "new")  # a hard link: the other name keeps its content
    assert (outside / "solution.py").read_text() == SECRET and (folder / "hard.py").read_text() == "new"
    writer = threading.Thread(target=safe_paths.write_fresh, args=(folder / "pipe.py", "x"))
    writer.start()
    writer.join(5)
    assert not writer.is_alive(), "writing over a named pipe blocked"
    assert (folder / "pipe.py").read_text() == "x"
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")) == []


def test_copy_tree_copies_regular_files_only(hostile, tmp_path):
    folder, outside = hostile
    (folder / ".hidden").write_text("skip me")
    dest = tmp_path / "staged"
    left_out = dict(safe_paths.copy_tree(folder, dest, ignore=[".*"], max_file_bytes=1024, max_total_bytes=4096))
    copied = sorted(str(p.relative_to(dest)) for p in dest.rglob("*"))
    assert copied == ["mine.py", "sub", "sub/data.txt"]
    assert left_out == {"dangling.py": "is a symbolic link", "hard.py": "is a hard link to another file",
                        "link.py": "is a symbolic link", "linked_dir": "is a symbolic link",
                        "pipe.py": "is a named pipe", "sub/link.txt": "is a symbolic link"}
    assert not any(p.is_symlink() for p in dest.rglob("*"))
    assert SECRET not in "".join(p.read_text() for p in dest.rglob("*") if p.is_file())


def test_copy_tree_keeps_to_its_budgets(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for i in range(5):
        (source / f"f{i}.bin").write_bytes(b"x" * 400)
    (source / "huge.bin").write_bytes(b"x" * 5000)
    left_out = dict(safe_paths.copy_tree(source, tmp_path / "dest", max_file_bytes=1024, max_total_bytes=1000,
                                         max_files=10))
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["f0.bin", "f1.bin"]
    assert left_out["huge.bin"] == "is larger than 1 KiB"
    assert left_out["f2.bin"] == "would make the copy larger than 1000 bytes in all"
    left_out = dict(safe_paths.copy_tree(source, tmp_path / "dest2", max_file_bytes=1024, max_total_bytes=10_000,
                                         max_files=2))
    assert "f2.bin" in left_out and "beyond the 2 files" in left_out["f2.bin"]
    with pytest.raises(UnsafePath):
        safe_paths.copy_tree(tmp_path / "missing", tmp_path / "dest3", max_file_bytes=1, max_total_bytes=1)


def test_scrub_keeps_only_unchanged_files_the_course_put_there(tmp_path):
    folder = tmp_path / "autograded"
    folder.mkdir()
    (folder / "activations.py").write_text("student module")
    (folder / "timestamp.txt").write_text("2026-09-15 09:00:00 UTC")
    (folder / "data").mkdir()
    (folder / "data" / "given.csv").write_text("1,2")
    keep = safe_paths.manifest(folder)
    assert sorted(keep) == ["activations.py", "data/given.csv", "timestamp.txt"]
    # What a notebook kernel could leave behind:
    outside = tmp_path / "gradebook.db"
    outside.write_text("grades")
    (folder / "autograder_report.json").symlink_to(outside)
    (folder / "leak.html").symlink_to(tmp_path)
    os.mkfifo(folder / "pipe.html")
    (folder / "stolen.txt").write_text("copied solutions")
    (folder / "timestamp.txt").write_text("2030-01-01 00:00:00 UTC")  # changed
    os.link(folder / "activations.py", folder / "copy.html")  # both names now hard links
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "activations.pyc").write_bytes(b"\0")
    (folder / "data" / "extra.csv").write_text("3,4")
    deep = folder / "deep"
    deep.mkdir()
    fd = os.open(deep, os.O_RDONLY)
    for _ in range(1500):  # deeper than Python's recursion limit and than PATH_MAX allows by name
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(fd)
    removed = dict(safe_paths.scrub(folder, keep))
    assert sorted(p.name for p in folder.iterdir()) == ["data"]
    assert sorted(p.name for p in (folder / "data").iterdir()) == ["given.csv"]
    assert removed["autograder_report.json"] == "is a symbolic link"
    assert removed["pipe.html"] == "is a named pipe"
    assert removed["copy.html"] == removed["activations.py"] == "is a hard link to another file"
    assert removed["timestamp.txt"] == "was changed after the course put it there"
    assert removed["stolen.txt"] == removed["data/extra.csv"] == "was not put there by the course"
    assert removed["__pycache__/"] == removed["deep/"] == "was not put there by the course"
    assert outside.read_text() == "grades"


def test_scrub_without_a_manifest_removes_links_and_special_files_only(hostile):
    folder, outside = hostile
    removed = dict(safe_paths.scrub(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["mine.py", "sub"]
    assert sorted(removed) == ["dangling.py", "hard.py", "link.py", "linked_dir", "pipe.py", "sub/link.txt"]
    assert (outside / "solution.py").read_text() == SECRET and (outside / "gradebook.db").read_text() == "grades"

"""grade(): run one suite against one submission folder and build the report."""
import contextlib
import io
import os
import secrets
import stat
import tempfile
import time
from pathlib import Path

import pytest

from . import assignments, baselines, cgroups, integrity, safe_paths, sandbox
from .plugin import GradingPlugin
from .errors import CannotGrade
from .report import GRADED, NOT_GRADED, ItemResult, Report, feedback_for, import_cause


MAX_MODULE_BYTES = 1024 * 1024


def read_modules(folder, modules):
    """The submitted modules' bytes, read once, and a list of problems with them.

    The folder must be a real folder and each module a regular file in it with
    no other name: a symbolic link or a hard link could be the reference
    solution or a classmate's module, and a pipe or a device could block or
    never end, so they are refused rather than followed (safe_paths).
    """
    sources, problems = {}, []
    try:
        folder_fd = safe_paths.open_folder(folder)
    except safe_paths.UnsafePath as exc:
        return sources, [_folder_problem(exc.reason)]
    try:
        for name in modules:
            try:
                sources[name] = safe_paths.read_regular(name, MAX_MODULE_BYTES, dir_fd=folder_fd)
            except safe_paths.UnsafePath as exc:
                problem = _module_problem(name, exc.reason)
                if exc.reason == "not found":
                    problem += _found_below_hint(folder_fd, name)
                problems.append(problem)
    finally:
        os.close(folder_fd)
    return sources, problems


SEARCH_DEPTH = 3        # how many folders down a misplaced module is looked for
SEARCH_ENTRIES = 2000   # entries looked at in all, so a huge submission costs little


def _found_below_hint(folder_fd, name):
    """" (found a/name one folder down: ...)" when a regular file ``name`` lies below the submission folder.

    A zip unpacked one level too deep is the usual cause. Folders are opened
    relative to their parent without following links (safe_paths), shallowest
    first, and the file is only looked at, never read; nothing found gives "".
    """
    opened, level, seen = [], [("", folder_fd)], 0
    try:
        for depth in range(1, SEARCH_DEPTH + 1):
            deeper = []
            for prefix, fd in level:
                with os.scandir(fd) as entries:
                    listed = sorted(entries, key=lambda e: e.name)
                for entry in listed:
                    seen += 1
                    if seen > SEARCH_ENTRIES:
                        return ""
                    if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                        continue
                    try:
                        child = safe_paths.open_folder(entry.name, dir_fd=fd)
                    except safe_paths.UnsafePath:
                        continue
                    opened.append(child)
                    deeper.append((f"{prefix}{entry.name}/", child))
                    if _is_regular_file(name, child):
                        down = "one folder" if depth == 1 else f"{depth} folders"
                        return (f" (found {prefix}{entry.name}/{name} {down} down: move {name} up into the "
                                f"submission folder, e.g. unzip the submission one level higher)")
            level = deeper
        return ""
    finally:
        for fd in opened:
            os.close(fd)


def _is_regular_file(name, dir_fd):
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode)


def _folder_problem(reason):
    if reason == "is a symbolic link":
        return "the submission folder is a symbolic link; submit the folder itself"
    if reason == "is not a folder":
        return "the submission is a file, not a folder"
    return f"the submission {reason}, not a folder"


def _module_problem(name, reason):
    if reason == "not found":
        return f"{name} not found in the submission"
    if reason.startswith("is larger than"):
        return f"{name} is larger than {MAX_MODULE_BYTES // 1024} KiB"
    if reason.startswith("could not be"):
        return f"{name} {reason}"
    return f"{name} {reason}; submit the file itself"


class ItemClock:
    """Seconds spent on each item's checks (setup and teardown included), for the report's timing."""

    def __init__(self):
        self.seconds = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        started = time.perf_counter()
        yield
        marker = item.get_closest_marker("item")
        name = marker.args[0] if marker and marker.args else "?"
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def _run_pytest(suite_file, plugin, clock=None):
    """Run one suite file with ``plugin`` in this process, isolated from any project config.

    Returns pytest's exit code and what it printed.
    """
    with tempfile.TemporaryDirectory(prefix="autograder-pytest-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n")  # not the repository's pyproject.toml, its addopts or markers
        args = [str(suite_file), "-c", str(ini), "--rootdir", tmp, "--import-mode=importlib",
                "-p", "no:cacheprovider", "-q", "--tb=no", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
        captured = io.StringIO()
        old = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no third-party plugin touches a grade
        try:
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                code = pytest.main(args, plugins=[plugin, *([clock] if clock else [])])
        finally:
            plugin.close()
            if old is None:
                os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
            else:
                os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = old
    return code, captured.getvalue()


def timing_of(clock, selected):
    """{item: {"total_s": seconds, ...what the suite measured}} for the items graded."""
    timing = {}
    for item in selected:
        entry = {"total_s": round(clock.seconds.get(item.name, 0.0), 4)}
        entry.update(baselines.timing.get(item.name, {}))
        timing[item.name] = entry
    return timing


def grade(assignment_id, submission_dir, *, suite="hidden", seed=None, items=None, limits=None):
    """Grade ``submission_dir`` for ``assignment_id`` and return a Report.

    ``suite`` is "hidden" (the real grade) or "public" (the student's checks).
    """
    started = time.monotonic()
    try:
        integrity.check()
    except RuntimeError as exc:
        raise CannotGrade(str(exc)) from None
    try:
        assignment = assignments.get(assignment_id)
    except assignments.UnknownAssignment as exc:
        raise CannotGrade(str(exc)) from None
    folder = Path(submission_dir)
    if not os.path.lexists(folder):  # a link or a file in its place is graded: a zero, saying why
        raise CannotGrade(f"submission folder {str(folder)!r} does not exist")
    suite_file = assignment.hidden_suite if suite == "hidden" else assignment.public_suite
    if not suite_file.is_file():
        raise CannotGrade(f"the {suite} suite for {assignment_id} is not installed here ({suite_file})")
    if items is not None:
        unknown = set(items) - {i.name for i in assignment.items}
        if unknown:
            raise CannotGrade(f"unknown item(s) for {assignment_id}: {', '.join(sorted(unknown))}")
    seed = secrets.randbits(63) if seed is None else int(seed)
    limits = limits or assignment.limits
    report = Report(assignment=assignment_id, items=[], seed=seed,
                    sandbox=sandbox.sandbox_name(), suite=suite, isolation=sandbox.isolation(limits))
    if not cgroups.mechanisms_available():
        report.warnings.append("no cgroup could be made: the number of processes and shared memory of student "
                               "code are not bounded (run the grader as root, or with a delegated cgroup)")
    if report.sandbox == "none":
        report.warnings.append("bubblewrap is not available: student code ran without file-system "
                               "isolation (install the 'bubblewrap' package on grading machines)")
    selected = [i for i in assignment.items if items is None or i.name in items]
    if sandbox.cupy_stand_in() and any(i.needs_gpu for i in selected):
        report.warnings.append(f"{sandbox.STAND_IN_ENV} is set: GPU items were graded on a CuPy stand-in that "
                               f"computes with NumPy, not on a GPU. Unset it for real grading.")

    sources, problems = read_modules(folder, assignment.modules)
    if problems:
        report.cause = "; ".join(problems)
        for item in selected:
            report.items.append(ItemResult(item.name, 0.0, float(item.points), "; ".join(problems)))
        report.elapsed_s = time.monotonic() - started
        return report

    plugin = GradingPlugin(assignment, sources, seed, limits, item_filter=items)
    clock = ItemClock()
    baselines.reset_timing()
    code, log = _run_pytest(suite_file, plugin, clock)
    report.timing = timing_of(clock, selected)
    if plugin.grader_bugs or code not in (0, 1):
        details = "; ".join(plugin.grader_bugs) or log[-2000:]
        raise CannotGrade(f"the {suite} suite for {assignment_id} did not run cleanly "
                          f"(pytest exit {int(code)}): {details}")

    for item in selected:
        tally = plugin.tallies[item.name]
        if tally.total == 0 and not tally.skipped:
            raise CannotGrade(f"the {suite} suite has no check for item {item.name!r}")
        # An item with any check skipped is not graded at all: the checks that ran must not decide it alone.
        status = GRADED if tally.total and not tally.skipped else NOT_GRADED
        fraction = tally.passed / tally.total if status == GRADED else 0.0
        report.items.append(ItemResult(
            item.name, round(item.points * fraction, 4), float(item.points), feedback_for(tally),
            status, tally.passed, tally.total))
    empty = [name for name, source in sources.items() if not source.strip()]  # bytes looked at, never run
    if plugin.import_failure:
        report.cause = import_cause(plugin.import_failure, assignment.modules)
    elif empty:
        report.cause = f"{', '.join(empty)} is empty (nothing was submitted in it)"
    if report.not_graded:
        report.warnings.append("NOT GRADED (score 0 until regraded where possible): "
                               + ", ".join(report.not_graded))
    report.elapsed_s = time.monotonic() - started
    return report

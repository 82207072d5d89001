"""grade(): run one suite against one submission folder and build the report."""
import contextlib
import io
import os
import secrets
import tempfile
import time
from pathlib import Path

import pytest

from . import assignments, cgroups, integrity, sandbox
from .plugin import GradingPlugin
from .report import GRADED, NOT_GRADED, ItemResult, Report, feedback_for


class CannotGrade(Exception):
    """Grading could not happen at all (bad arguments, broken grader)."""


MAX_MODULE_BYTES = 1024 * 1024


def read_modules(folder, modules):
    """The submitted modules' bytes, read once, and a list of problems with them.

    A module must be a regular file in the folder: a symbolic link could point
    at the reference solution, so it is refused rather than followed.
    """
    sources, problems = {}, []
    for name in modules:
        path = Path(folder) / name
        if path.is_symlink():
            problems.append(f"{name} is a symbolic link; submit the file itself")
        elif not path.exists():
            problems.append(f"{name} not found in the submission")
        elif not path.is_file():
            problems.append(f"{name} is not a regular file")
        else:
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
                with os.fdopen(fd, "rb") as f:
                    data = f.read(MAX_MODULE_BYTES + 1)
            except OSError as exc:
                problems.append(f"{name} could not be read ({exc.strerror})")
                continue
            if len(data) > MAX_MODULE_BYTES:
                problems.append(f"{name} is larger than {MAX_MODULE_BYTES // 1024} KiB")
            else:
                sources[name] = data
    return sources, problems


def _run_pytest(suite_file, plugin):
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
                code = pytest.main(args, plugins=[plugin])
        finally:
            plugin.close()
            if old is None:
                os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
            else:
                os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = old
    return code, captured.getvalue()


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
        raise CannotGrade(exc.args[0]) from None
    folder = Path(submission_dir)
    if not folder.is_dir():
        raise CannotGrade(f"submission folder {str(folder)!r} does not exist or is not a folder")
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
        for item in selected:
            report.items.append(ItemResult(item.name, 0.0, float(item.points), "; ".join(problems)))
        report.elapsed_s = time.monotonic() - started
        return report

    plugin = GradingPlugin(assignment, sources, seed, limits, item_filter=items)
    code, log = _run_pytest(suite_file, plugin)
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
    if report.not_graded:
        report.warnings.append("NOT GRADED (score 0 until regraded where possible): "
                               + ", ".join(report.not_graded))
    report.elapsed_s = time.monotonic() - started
    return report

"""Build the student release of an assignment from its nbgrader source.

``nbgrader generate_assignment`` strips solution regions from notebooks but
copies ``.py`` files byte for byte, solutions included. So after it runs, the
modules in the release folder are stripped here the way nbgrader's
ClearSolutions strips a code cell, and the release is checked for any
leftover marker.

``solution_regions`` is the one reader of ``### BEGIN SOLUTION`` /
``### END SOLUTION`` regions: stripping a module here and finding solution
lines in the students' repository (student_repo.solution_lines) both use it.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

from . import assignments
from .errors import ReleaseError, SolutionMarkersError

CODE_STUB = '# YOUR CODE HERE\nraise NotImplementedError("not implemented yet")'
BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

# What solution_regions says about each line.
GIVEN, BEGIN, INSIDE, END = "given", "begin", "inside", "end"


def solution_regions(source):
    """[(kind, line)] for each line of ``source`` (split on "\n" only, as nbgrader does).

    kind is GIVEN (outside any region), BEGIN or END (a marker line: it contains
    "BEGIN SOLUTION" or "END SOLUTION" anywhere, as nbgrader matches them) or
    INSIDE. A region inside a region, or one never closed, raises
    SolutionMarkersError; a stray END outside a region is a marker like any
    other (nbgrader drops it too).
    """
    kinds, inside = [], False
    for line in source.split("\n"):
        if BEGIN_SOLUTION in line:
            if inside:
                raise SolutionMarkersError("a BEGIN SOLUTION region starts inside another one")
            inside = True
            kinds.append((BEGIN, line))
        elif END_SOLUTION in line:
            inside = False
            kinds.append((END, line))
        else:
            kinds.append((INSIDE if inside else GIVEN, line))
    if inside:
        raise SolutionMarkersError("a BEGIN SOLUTION region has no END SOLUTION")
    return kinds


def strip_solutions(source, stub=CODE_STUB):
    """Module text with every ### BEGIN/END SOLUTION region replaced by ``stub``, indented as its BEGIN line.

    The same text nbgrader's ClearSolutions gives a code cell: the lines of a
    region and its two markers go, the stub's lines come at the marker's indentation.
    """
    lines = []
    for kind, line in solution_regions(source):
        if kind == GIVEN:
            lines.append(line)
        elif kind == BEGIN:
            indent = re.match(r"\s*", line).group(0)
            lines += [indent + stub_line for stub_line in stub.split("\n")]
    return "\n".join(lines)


def nbgrader_env():
    """nbgrader runs alembic as a subprocess: this Python's bin folder must be on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(course_root, *args, on_line=None):
    """Run one nbgrader command in ``course_root``; ``on_line`` sees its log as it comes."""
    process = subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=course_root,
                               env=nbgrader_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    log = []
    for line in process.stdout:
        log.append(line)
        if on_line is not None:
            on_line(line)
    if process.wait() != 0:
        raise ReleaseError(f"nbgrader {' '.join(args)} failed:\n{''.join(log)[-4000:]}")
    return "".join(log)


def release(assignment_id, course_root):
    """Release ``solutions/<id>`` into ``assignments/<id>`` under ``course_root``."""
    assignment = assignments.get(assignment_id)
    course_root = Path(course_root)
    source = course_root / "solutions" / assignment_id
    if not source.is_dir():
        raise ReleaseError(f"no source folder {source}")
    run_nbgrader(course_root, "generate_assignment", assignment_id, "--force")
    out = course_root / "assignments" / assignment_id
    for module in assignment.modules:
        path = out / module
        if not path.is_file():
            raise ReleaseError(f"{module} is missing from {source}")
        path.write_text(strip_solutions(path.read_text()))
    leaks = [str(p) for p in out.rglob("*") if p.is_file() and any(
        m in p.read_text(errors="ignore") for m in MARKERS)]
    if leaks:
        raise ReleaseError(f"solution or hidden-test markers remain in: {', '.join(leaks)}")
    return out

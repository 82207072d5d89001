"""Build the student release of an assignment from its nbgrader source.

``nbgrader generate_assignment`` strips solution regions from notebooks but
copies ``.py`` files byte for byte, solutions included. So after it runs, the
modules in the release folder are stripped here with nbgrader's own
ClearSolutions logic, and the release is checked for any leftover marker.
"""
import os
import subprocess
import sys
from pathlib import Path

from . import assignments

CODE_STUB = '# YOUR CODE HERE\nraise NotImplementedError("not implemented yet")'
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


class ReleaseError(Exception):
    pass


def strip_solutions(source):
    """Module text with every ### BEGIN/END SOLUTION region replaced by a stub."""
    from nbformat.v4 import new_code_cell
    from nbgrader.preprocessors import ClearSolutions

    cell = new_code_cell(source)
    clearer = ClearSolutions(code_stub={"python": CODE_STUB})
    clearer._replace_solution_region(cell, "python")  # raises on unbalanced markers
    return cell.source


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

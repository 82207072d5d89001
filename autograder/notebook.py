"""Helpers called from assignment notebooks (in the student's kernel).

They only ever show public checks. During ``nbgrader autograde`` they print a
short note instead: there the grade cells' outputs are written by the engine
(see nbgrader_hooks.py), whatever runs in the kernel.
"""
import os
import subprocess
import sys

from .errors import EXIT_CHECKS_FAIL, EXIT_OK


class PublicChecksFailed(AssertionError):
    """Raised so that the cell (and ``nbgrader validate``) shows the item as not passing yet."""


def public_checks(assignment_id, item=None, folder="."):
    """Run the public checks (all, or one item) on the module next to the notebook.

    Prints what passes and what to fix, and raises PublicChecksFailed when a
    check fails, so the cell turns red until the item passes.
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        print("Graded by the course autograder; your feedback appears here.")
        return
    command = [sys.executable, "-m", "autograder", "check", assignment_id, folder, "--strict"]
    if item:
        command += ["--item", item]
    result = subprocess.run(command, capture_output=True, text=True)
    print(result.stdout, end="")
    if result.returncode == EXIT_CHECKS_FAIL:
        raise PublicChecksFailed(f"public checks for {item or assignment_id} do not pass yet (see above)")
    if result.returncode != EXIT_OK:
        raise RuntimeError(f"the public checks could not run: {result.stderr.strip()}")

"""The shared baselines of a class autograded through nbgrader: measured by the coordinator, handed to the workers.

How they are measured and when they are measured again is baselines.SharedBaselines;
this module only creates them for a class and hands them over through the environment.
"""
import os

from . import baselines

NO_SHARED_ENV = "AUTOGRADER_NO_SHARED_BASELINES"  # 1: every student measures its own baselines


def shared_baselines(assignment_id, names):
    """(SharedBaselines, its folder) for a class with timed items, else (None, None).

    The file's path and key go into this process's environment, which the workers inherit (the
    engine's grade reads them there; kernels and student workers get environments of their own)."""
    if len(names) < 2 or os.environ.get(NO_SHARED_ENV) == "1" or not baselines.SharedBaselines.supported(assignment_id):
        return None, None
    import tempfile
    folder = tempfile.mkdtemp(prefix="autograde-baselines-")  # owner only
    shared = baselines.SharedBaselines(assignment_id, folder)
    os.environ.update(shared.environment())
    return shared, folder


def forget_shared_baselines(folder):
    import shutil
    for name in (baselines.FILE_ENV, baselines.KEY_ENV):
        os.environ.pop(name, None)
    shutil.rmtree(folder, ignore_errors=True)

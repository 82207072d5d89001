#!/usr/bin/env python3
"""Set up the course environment and run its main jobs. Needs only Python 3.10+.

The same file serves two repositories. In the instructor's repository it sets up
.venv, runs the demo, the test suite, the GPU check and the site builder. In the
repository students receive (written by `python -m autograder student-repo`, which
leaves the file STUDENT_MARKER at the top) it offers only what works there:
set-up, the public checks and the lectures.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".course-installed"
PIP_LOG = VENV / "pip.log"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
# Written by the student export; its absence with solutions/ present means the instructor's repository.
STUDENT_MARKER = ROOT / ".student-repository"
PIP_TAIL_LINES = 25

INSTRUCTOR_HELP = """\
usage: python3 course.py COMMAND [ARGUMENTS]

    demo        set up .venv, then run the instructor's flow on a demo class
    test        set up .venv, then run the whole test suite (what CI runs)
    setup       only set up .venv (then: source .venv/bin/activate)
    gpu-check   on a machine with an NVIDIA GPU: verify the GPU path, one report
    site        build the course site (course_site.py; arguments go to it)

Extra arguments after `test` go to pytest, e.g. `python3 course.py test -m "not slow"`;
`python3 course.py test --quick` runs only the engine's fast unit tests (pytest -m quick).
"""

STUDENT_HELP = """\
usage: python3 course.py COMMAND [ARGUMENTS]

    setup                      set up .venv with the course's packages (then: source .venv/bin/activate)
    check ASSIGNMENT [FOLDER]  run the public checks, e.g. python3 course.py check hw1_activations
    lectures                   open JupyterLab on the lectures (assignments/ is one folder up)

Passing the public checks is a start, not the grade: the grade comes from hidden tests.
"""

INSTRUCTOR_COMMANDS = ("demo", "test", "setup", "gpu-check", "site")
STUDENT_COMMANDS = ("setup", "check", "lectures")
HELP_WORDS = ("-h", "--help", "help")


def say(text):
    print(f"[course] {text}", flush=True)


def is_student_repository():
    """The export writes STUDENT_MARKER; a copy without it that also lacks solutions/ cannot run
    the instructor's commands either, so it is treated as a student's copy too."""
    return STUDENT_MARKER.exists() or not (ROOT / "solutions").is_dir()


def wanted_stamp():
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def run_pip(*args):
    """Run pip in the venv with its output appended to PIP_LOG; True when it succeeded."""
    with open(PIP_LOG, "a") as log:
        log.write(f"\n$ pip {' '.join(args)}\n")
        log.flush()
        result = subprocess.run([str(PYTHON), "-m", "pip", *args, "--disable-pip-version-check"],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    return result.returncode == 0


def pip_log_tail():
    lines = PIP_LOG.read_text(errors="replace").splitlines()
    return "\n".join(lines[-PIP_TAIL_LINES:])


def create_venv():
    say(f"creating a virtual environment in {VENV}")
    try:
        venv.create(VENV, with_pip=True)
    except Exception as exc:  # e.g. Debian without python3-venv
        shutil.rmtree(VENV, ignore_errors=True)
        sys.exit(f"[course] could not create {VENV}: {exc}\n"
                 "[course] on Debian/Ubuntu install the 'python3-venv' package and try again.")


def install_packages(student):
    """pip's own output (pages of build warnings on a first install) goes to PIP_LOG and is shown
    only when pip fails."""
    PIP_LOG.write_text("")
    started = time.monotonic()
    say("upgrading pip")
    if not run_pip("install", "--upgrade", "pip"):
        # Not fatal: the pip that venv installs can install the course too (e.g. offline with a cache).
        say(f"could not upgrade pip, going on with the venv's own (details in {PIP_LOG})")
    say("installing the course's packages (numpy, matplotlib, jupyter, nbgrader, pytest); "
        "the first time takes a few minutes")
    target = f"{ROOT}" if student else f"{ROOT}[dev]"
    if not run_pip("install", "--editable", target):
        print(pip_log_tail(), file=sys.stderr)
        sys.exit(f"[course] pip could not install the course's packages: the last lines of its output are "
                 f"above, all of it is in {PIP_LOG}; nothing else was changed.")
    STAMP.write_text(wanted_stamp())
    say(f"packages installed in {time.monotonic() - started:.0f} s")


def setup(student=False):
    if sys.version_info < (3, 10):
        sys.exit(f"[course] Python 3.10 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        create_venv()
    if not STAMP.exists() or STAMP.read_text() != wanted_stamp():
        install_packages(student)
    if not student and shutil.which("bwrap") is None and sys.platform.startswith("linux"):
        say("note: bubblewrap (package 'bubblewrap') is not installed. Grading works, but student code "
            "can then read any file you can; install it on grading machines.")


def run_in_venv(*args):
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(VENV)
    env.pop("MPLBACKEND", None)  # notebooks draw inline
    return subprocess.run([str(PYTHON), *args], cwd=ROOT, env=env).returncode


def say_ready():
    say(f"ready: activate with 'source {BIN / 'activate'}'")


def student_main(command, rest):
    if command == "setup":
        setup(student=True)
        say_ready()
        return 0
    if command == "check":
        setup(student=True)
        return run_in_venv("-m", "autograder", "check", *rest)
    # command == "lectures": the server's root is the repository, so assignments/ is reachable too.
    setup(student=True)
    return run_in_venv("-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT}",
                       "--LabApp.default_url=/lab/tree/lectures", *rest)


def instructor_main(command, rest):
    if command == "site":
        site = ROOT / "course_site.py"
        if not site.exists():
            say(f"{site.name} is not in this repository, so there is no site to build.")
            return 1
        setup()
        return run_in_venv(str(site), *rest)
    setup()
    if command == "setup":
        say_ready()
        return 0
    if command == "demo":
        return run_in_venv("-m", "autograder", "demo", *rest)
    if command == "gpu-check":
        return run_in_venv(str(ROOT / "benchmarks" / "gpu_check.py"), *rest)
    return run_in_venv("-m", "pytest", *quick_tier(rest))


def quick_tier(pytest_args):
    """`test --quick` is the marker quick (the tests in tests/unit); every other argument goes to pytest."""
    return ["-m", "quick", *(a for a in pytest_args if a != "--quick")] if "--quick" in pytest_args else pytest_args


def main(argv):
    student = is_student_repository()
    help_text, commands = (STUDENT_HELP, STUDENT_COMMANDS) if student else (INSTRUCTOR_HELP, INSTRUCTOR_COMMANDS)
    command, rest = (argv[0], argv[1:]) if argv else (None, [])
    if command in HELP_WORDS:
        print(help_text, end="")
        return 0
    if student and command in INSTRUCTOR_COMMANDS and command not in STUDENT_COMMANDS:
        say(f"'{command}' is for the instructor's repository; here: {', '.join(STUDENT_COMMANDS)} "
            "(python3 course.py help).")
        return 2
    if command not in commands:
        print(help_text, end="")
        return 2
    return student_main(command, rest) if student else instructor_main(command, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

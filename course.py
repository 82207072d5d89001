#!/usr/bin/env python3
"""Set up the course environment and run its main jobs. Needs only Python 3.10+.

    python3 course.py demo    set up .venv, then run the instructor's flow on a demo class
    python3 course.py test    set up .venv, then run the whole test suite (what CI runs)
    python3 course.py setup   only set up .venv (then: source .venv/bin/activate)
    python3 course.py gpu-check   on a machine with an NVIDIA GPU: verify the GPU path, one report

Extra arguments after `test` go to pytest, e.g. `python3 course.py test -m "not slow"`.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".course-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def say(text):
    print(f"[course] {text}", flush=True)


def wanted_stamp():
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def setup():
    if sys.version_info < (3, 10):
        sys.exit(f"[course] Python 3.10 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        say(f"creating a virtual environment in {VENV}")
        try:
            venv.create(VENV, with_pip=True)
        except Exception as exc:  # e.g. Debian without python3-venv
            shutil.rmtree(VENV, ignore_errors=True)
            sys.exit(f"[course] could not create {VENV}: {exc}\n"
                     "[course] on Debian/Ubuntu install the 'python3-venv' package and try again.")
    if not STAMP.exists() or STAMP.read_text() != wanted_stamp():
        say("installing the course's packages (numpy, matplotlib, jupyter, nbgrader, pytest); "
            "the first time takes a few minutes")
        pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run(pip + ["--upgrade", "pip"], check=True)
        result = subprocess.run(pip + ["--editable", f"{ROOT}[dev]"])
        if result.returncode != 0:
            sys.exit("[course] pip could not install the packages (see above); nothing else was changed.")
        STAMP.write_text(wanted_stamp())
    if shutil.which("bwrap") is None and sys.platform.startswith("linux"):
        say("note: bubblewrap (package 'bubblewrap') is not installed. Grading works, but student code "
            "can then read any file you can; install it on grading machines.")


def run_in_venv(*args):
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(VENV)
    env.pop("MPLBACKEND", None)  # notebooks draw inline
    return subprocess.run([str(PYTHON), *args], cwd=ROOT, env=env).returncode


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help") or argv[0] not in ("demo", "test", "setup", "gpu-check"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help", "help") else 2
    command, rest = argv[0], argv[1:]
    setup()
    if command == "setup":
        say(f"ready: activate with 'source {BIN / 'activate'}'")
        return 0
    if command == "demo":
        return run_in_venv("-m", "autograder", "demo", *rest)
    if command == "gpu-check":
        return run_in_venv(str(ROOT / "benchmarks" / "gpu_check.py"), *rest)
    return run_in_venv("-m", "pytest", *rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

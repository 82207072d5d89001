#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (with internet access).
# It installs what grading needs and nothing else: bubblewrap (the sandbox student code runs in) and,
# in a virtual environment at /autograder/venv, the course's pinned Python packages (requirements.txt,
# written by `python -m autograder gradescope` from the versions the course was tested with).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

MIN_PYTHON="@MIN_PYTHON@"   # the oldest Python every pinned package supports

apt-get update
apt-get install -y --no-install-recommends bubblewrap python3 python3-venv python3-pip ca-certificates

# Gradescope's Ubuntu 22.04 image has Python 3.10; the pinned NumPy may need newer. Ubuntu ships newer
# Pythons as python3.X packages; pick the first one that is new enough.
python_ok() { "$1" -c "import sys; sys.exit(sys.version_info[:2] < tuple(map(int, '$MIN_PYTHON'.split('.'))))" 2>/dev/null; }
PYTHON=python3
if ! python_ok "$PYTHON"; then
    PYTHON=""
    for minor in 11 12 13 14; do
        candidate="python3.$minor"
        if apt-get install -y --no-install-recommends "$candidate" "$candidate-venv" >/dev/null 2>&1 \
                && python_ok "$candidate"; then
            PYTHON="$candidate"
            break
        fi
    done
    if [ -z "$PYTHON" ]; then
        echo "setup.sh: no Python >= $MIN_PYTHON available; choose Gradescope's Ubuntu 24.04 base image" >&2
        exit 1
    fi
fi

"$PYTHON" -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --no-cache-dir --upgrade pip
/autograder/venv/bin/python -m pip install --no-cache-dir --only-binary=:all: -r /autograder/source/requirements.txt
@MNIST@
# Show, in the build log, what grading will run with.
/autograder/venv/bin/python -c "import sys, numpy, pytest; print('Python', sys.version.split()[0], 'numpy', numpy.__version__, 'pytest', pytest.__version__)"
bwrap --version

"""The worker: the only process in which student code runs.

Started by the grader as ``python -I -B worker.py <submission_dir> <module> ...``
from a scratch folder that holds a copy of the files in ``WORKER_FILES`` (see
sandbox.py) and nothing else of the course. ``main`` makes the protocol channel
private, imports CuPy when the grader asks for the GPU, installs the
tamper-evident log (worker_guard.py) and only then lets worker_requests.py
import the student modules and answer requests. Everything it sends is plain
tagged data (wire.py); the grader trusts none of it.

The student's prints go to stderr, never to the protocol channel. Importing
this file does nothing: all of it happens in ``main``.
"""
import os
import sys

# The files a scratch folder gets, all from this folder. The worker imports nothing else of the course:
# only these, the standard library, NumPy and (for the GPU) CuPy.
WORKER_FILES = ("worker.py", "worker_requests.py", "worker_gpu.py", "worker_library.py", "worker_guard.py",
                "wire.py", "wire_datasets.py")


def _private_protocol_channel():
    """Private copies of fds 0 and 1 for the protocol; student code sees /dev/null as stdin and
    stderr as stdout."""
    proto_in = os.fdopen(os.dup(0), "rb")  # buffered: a data set can arrive as one long line
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    return proto_in, proto_out


def _start_log(proto_in, worker_gpu, worker_guard):
    """The tamper-evident log (worker_guard): its key is the first line the grader sends."""
    key = bytes.fromhex(proto_in.readline().decode("ascii").strip())
    fd = int(os.environ["AUTOGRADER_LOG_FD"])
    os.set_blocking(fd, False)  # a flood of records leaves a gap the grader sees, never a hang
    worker_gpu.install_guard(worker_guard, fd, key)


def main(argv=None):
    argv = sys.argv if argv is None else argv
    proto_in, proto_out = _private_protocol_channel()
    import numpy  # noqa: F401  (imported before any student file is on sys.path)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves it out
    import worker_gpu
    import worker_guard
    import worker_requests

    submission_dir = os.path.abspath(argv[1])
    sys.path.append(submission_dir)  # appended: a student's numpy.py never shadows numpy
    worker_gpu.load()
    _start_log(proto_in, worker_gpu, worker_guard)
    worker_requests.serve(proto_in, proto_out, submission_dir, argv[2:])


if __name__ == "__main__":
    main()

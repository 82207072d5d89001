"""How long grading one submission takes, end to end through the command line.

    python benchmarks/grading_time.py [--repeats 5]

Grades the reference solution and the released stub of each assignment
`repeats` times and prints the median wall-clock time of the whole command
(Python start-up included) and the engine's own time from the JSON report.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from autograder import assignments, sandbox  # noqa: E402


def time_grading(assignment_id, folder, repeats):
    walls, engine = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        for _ in range(repeats):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "autograder", "grade", assignment_id, str(folder),
                            "--json", str(out)], cwd=REPO, check=True, capture_output=True)
            walls.append(time.perf_counter() - started)
            engine.append(json.loads(out.read_text())["elapsed_s"])
    return statistics.median(walls), statistics.median(engine)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, sandbox: {sandbox.sandbox_name()}, repeats: {args.repeats}")
    print(f"{'assignment':<18} {'submission':<10} {'median wall s':>14} {'median engine s':>16}")
    for a in assignments.ASSIGNMENTS.values():
        for label, folder in [("reference", REPO / "solutions" / a.id), ("stub", REPO / "assignments" / a.id)]:
            wall, engine = time_grading(a.id, folder, args.repeats)
            print(f"{a.id:<18} {label:<10} {wall:>14.2f} {engine:>16.2f}")


if __name__ == "__main__":
    main()

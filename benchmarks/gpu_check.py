"""Verify the course's GPU path on this machine, in one command and one report (at most 16 minutes).

    python3 course.py gpu-check [--out gpu-check]       (or: python benchmarks/gpu_check.py)

Steps, each with its own time limit, each PASS / FAIL / SKIP with the reason:
  1. probe     is there a GPU the grader's sandboxed worker can compute on (CuPy, driver, a kernel)?
  2. tests     the tests marked gpu: the hw4 reference full on the device, the GPU mutants short of it
  3. hostile   the copy-counter tampering submissions, graded on the real CuPy (not the stand-in)
  4. lecture   lecture 04 executed top to bottom on the GPU
  5. speed     benchmarks/gpu_speed.py: epoch times by mini-batch size, CPU against GPU (plot saved)
The report (report.md, and the speed plot) goes to --out. Without a usable GPU it says so, runs
nothing else, and exits 2: the GPU path is then unverified here.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The stand-in is for machines without a GPU: never let it answer for the real device here.
ENV = {**os.environ, "AUTOGRADER_CUPY_STAND_IN": "", "AUTOGRADER_TEST_ON_GPU": "1"}


def run_step(name, argv, limit_s, out):
    started = time.monotonic()
    try:
        done = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=limit_s)
        status = "PASS" if done.returncode == 0 else "FAIL"
        output = done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        status, output = "FAIL", f"stopped after {limit_s} s\n{exc.stdout or ''}{exc.stderr or ''}"
    seconds = time.monotonic() - started
    (out / f"{name}.log").write_text(output)
    print(f"  {status} {name:<8} {seconds:6.1f} s   (log: {out / (name + '.log')})", flush=True)
    return {"name": name, "status": status, "seconds": seconds, "tail": output.strip().splitlines()[-15:]}


def gpu_test_files():
    """The test modules that hold tests marked gpu: collecting only these keeps the step short and
    independent of what the rest of the suite imports (nbgrader, PyTorch)."""
    return sorted(str(path.relative_to(REPO)) for path in (REPO / "tests").rglob("test_*.py")
                  if "mark.gpu" in path.read_text())


def probe():
    sys.path.insert(0, str(REPO))
    os.environ["AUTOGRADER_CUPY_STAND_IN"] = ""
    from autograder import gpu
    from autograder.limits import Limits
    return gpu.probe(Limits(gpu=True))


def write_report(out, status, steps):
    lines = ["# GPU check", "", f"Device: {status.get('device') or 'none'}", ""]
    if not status["available"]:
        lines += [f"No usable CUDA GPU: {status['reason']}.", "", "The GPU path is UNVERIFIED on this machine."]
    if steps:
        lines += ["| step | result | seconds |", "|---|---|---|"]
        lines += [f"| {s['name']} | {s['status']} | {s['seconds']:.1f} |" for s in steps]
    for s in steps:
        lines += ["", f"## {s['name']}: {s['status']}", "```", *s["tail"], "```"]
    (out / "report.md").write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu-check", help="folder for report.md, logs and the plot (default gpu-check/)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    print("GPU check: probing the device from a sandboxed worker ...", flush=True)
    status = probe()
    if not status["available"]:
        print(f"  SKIP everything: no usable CUDA GPU here ({status['reason']}). The GPU path is unverified.")
        write_report(out, status, [])
        return 2
    print(f"  PASS probe     device: {status['device']}", flush=True)
    pytest = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    steps = [
        # The GPU mutants' class alone holds the GPU timing lock 15 to 25 s per grading (estimated in the README).
        run_step("tests", pytest + ["-m", "gpu", *gpu_test_files()], 480, out),
        run_step("hostile", pytest + ["tests/grading/test_worker_state_tampering.py", "-k", "copy_counter or honest_copy"],
                 120, out),
        run_step("lecture", pytest + ["tests/content/test_notebooks_execute.py", "-k", "04"], 150, out),
        run_step("speed", [sys.executable, "benchmarks/gpu_speed.py", "--repeats", "5",
                           "--plot", str(out / "gpu_speed.png")], 180, out),
    ]
    write_report(out, status, steps)
    failed = [s["name"] for s in steps if s["status"] != "PASS"]
    print(f"report: {out / 'report.md'}" + (f"   FAILED: {', '.join(failed)}" if failed else "   all steps passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

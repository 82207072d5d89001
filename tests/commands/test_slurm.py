"""grade-all --slurm: a class graded by a Slurm job array gives the rows a local grade-all gives.

The slow tests start a real one-node Slurm cluster (slurmctld, slurmd, munged from
Debian's slurm-wlm and munge) in a temporary folder and drive it through the
command line, as an instructor would; they skip, saying why, where Slurm is not
installed. The others check the job's pieces without a cluster.
"""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import assignments, slurm
from helpers import REPO, nbgrader_env, run_cli, tree_fingerprint, write_submission
from mutants_hw1 import REFERENCE, mutant_source
from slurm_cluster import SlurmCluster, missing_programs

ASSIGNMENT = "hw1_activations"
STUB = REPO / "assignments" / ASSIGNMENT / "activations.py"


def read_rows(out):
    with open(out / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def make_class(root):
    """Five hw1 students: two full solutions, the released stub, a mutant, a missing module."""
    write_submission(root / "alice", ASSIGNMENT, {"activations.py": REFERENCE.read_text()})  # nbgrader layout
    write_submission(root, "bob", {"activations.py": STUB.read_text()})
    write_submission(root, "carol", {"activations.py": mutant_source("sigmoid_prime_sign")})
    write_submission(root, "erin", {"notes.txt": "forgot the module"})
    write_submission(root, "frank", {"activations.py": REFERENCE.read_text()})
    return root


# -- without a cluster ---------------------------------------------------------------------------

def test_chunks_keep_every_student_once_in_order():
    students = [f"s{i:02d}" for i in range(23)]
    chunks = slurm.split(students, 10)
    assert [len(c) for c in chunks] == [10, 10, 3] and sum(chunks, []) == students


@pytest.mark.parametrize("options, cpus", [
    ([], 1), (["--partition=gpu", "--gres=gpu:1"], 1), (["--cpus-per-task=4"], 4), (["-c", "3"], 3),
    (["-c8"], 8), (["--cpus-per-task", "2", "--mem=8G"], 2)])
def test_cpus_per_task_read_from_the_sbatch_options(options, cpus):
    assert slurm.cpus_per_task(options) == cpus


def test_time_limit_grows_with_the_chunk_and_the_time_budget():
    hw1 = assignments.get(ASSIGNMENT)
    one = slurm.time_limit_minutes(hw1, [], 1, 1)
    assert one == -(-(hw1.limits.total_s + slurm.STUDENT_MARGIN_S + slurm.TASK_MARGIN_S) // 60)
    assert slurm.time_limit_minutes(hw1, [], 10, 1) > 9 * one // 2
    assert slurm.time_limit_minutes(hw1, [], 10, 10) == one
    assert slurm.time_limit_minutes(hw1, ["--time-budget", "1000"], 1, 1) > one


def test_students_at_once_one_per_cpu_but_one_per_gpu_task():
    hw1, hw4 = assignments.get(ASSIGNMENT), assignments.get("hw4_gpu")
    assert slurm.students_at_once(hw1, ["-c", "4"], []) == 4
    assert slurm.students_at_once(hw4, ["--gres=gpu:1", "-c", "8"], []) == 1  # the CPUs serve the NumPy baseline
    assert slurm.students_at_once(hw4, ["-c", "8"], ["--seed", "1", "--jobs", "2"]) == 2
    gpu_script = slurm.job_script("hw4_gpu", Path("/r"), Path("/o"), [["a"]], [], 60, one_at_a_time=True)
    assert gpu_script.rstrip().endswith("--jobs 1")


def test_job_script_runs_grade_all_for_its_chunk_with_the_same_python(tmp_path):
    script = slurm.job_script(ASSIGNMENT, tmp_path / "sub mitted", tmp_path / "out", [["alice", "bob"], ["-odd name"]],
                              ["--seed", "7", "--item", "relu"], 12)
    assert "#SBATCH --array=0-1\n" in script and "#SBATCH --time=12\n" in script
    # The case lines, run through bash itself, give each task its own students.
    for task, expected in ((0, ["--student=alice", "--student=bob"]), (1, ["--student=-odd name"])):
        case = script[script.index("case "):script.index("esac") + 4]
        shown = subprocess.run(["bash", "-c", f'{case}\nprintf "%s\\n" "${{students[@]}}"'],
                               env={"SLURM_ARRAY_TASK_ID": str(task)}, capture_output=True, text=True)
        assert shown.stdout.splitlines() == expected
    assert f"exec {sys.executable} -m autograder grade-all {ASSIGNMENT} '{tmp_path / 'sub mitted'}'" in script
    assert "--jobs \"${SLURM_CPUS_PER_TASK:-1}\" --seed 7 --item relu" in script


@pytest.mark.parametrize("stderr, line", [
    ("sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid "
     "partition name specified\n", "invalid partition specified: nope"),
    ("/usr/bin/sbatch: unrecognized option '--bogus'\nTry \"sbatch --help\" for more information\n",
     "unrecognized option '--bogus'"),
    ("sbatch: error: Invalid generic resource (gres) specification\n", "Invalid generic resource (gres) specification"),
    ("", "fallback")])
def test_sbatch_complaint_becomes_one_line(stderr, line):
    assert slurm._one_line(stderr, "fallback") == line


def test_without_sbatch_one_line_says_so(tmp_path):
    root = make_class(tmp_path / "submitted")
    out = tmp_path / "grades"
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--slurm", env={"PATH": str(tmp_path / "empty")})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "sbatch not found: install Slurm's client commands (Debian/Ubuntu: slurm-client) on this machine, "
        "or run grade-all without --slurm"]
    assert not out.exists()


# -- on a real one-node cluster ------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    missing = missing_programs()
    if missing:
        pytest.skip(f"Slurm is not installed here (missing {', '.join(missing)}; Debian: apt install slurm-wlm munge)")
    if os.geteuid() != 0:
        pytest.skip("the test cluster's slurmd must run as root")
    with SlurmCluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory):
    """The class graded by a local grade-all with seed 7: the rows the cluster must give."""
    root = make_class(tmp_path_factory.mktemp("local") / "submitted")
    out = root.parent / "grades"
    result = run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--seed", "7", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    rows = read_rows(out)
    assert float(rows["alice"]["score"]) == 14 and float(rows["bob"]["score"]) == 0  # an honest baseline
    assert float(rows["carol"]["sigmoid_prime"]) == 0 and float(rows["carol"]["score"]) == 12
    return rows


def run_slurm(cluster, root, out, *extra, timeout=600):
    return run_cli("grade-all", ASSIGNMENT, root, "--out", out, "--seed", "7", "--slurm", *extra,
                   env=_slurm_env(cluster), timeout=timeout)


def _slurm_env(cluster):
    return {"SLURM_CONF": cluster.env["SLURM_CONF"],
            "PATH": os.pathsep.join([os.path.dirname(sys.executable), cluster.env["PATH"]])}


@pytest.fixture(scope="module")
def graded_on_slurm(cluster, tmp_path_factory):
    """The same class graded on the cluster, two students per array task."""
    root = make_class(tmp_path_factory.mktemp("slurm") / "submitted")
    out = root.parent / "grades"
    result = run_slurm(cluster, root, out, "--chunk", "2")
    return root, out, result


@pytest.mark.slow
def test_cluster_gives_the_rows_of_a_local_run(cluster, graded_on_slurm, local_rows):
    root, out, result = graded_on_slurm
    assert result.returncode == 0, result.stderr
    assert read_rows(out) == local_rows
    job = result.stdout.split("Slurm job ", 1)[1].split(":")[0]
    assert "5 students in 3 array tasks of up to 2" in result.stdout
    staging = out / ".slurm" / job
    assert sorted(p.name for p in staging.iterdir()) == ["job.sh", "task0.log", "task1.log", "task2.log"]
    assert sorted(p.name for p in (out / "reports").iterdir()) == [f"{s}.json" for s in
                                                                  ["alice", "bob", "carol", "erin", "frank"]]
    assert json.loads((out / "reports" / "carol.json").read_text())["seed"] == 7
    # The time limit each task got from hw1's time budget: 2 students, one at a time.
    limit = cluster.run("squeue", "-h", "-r", "-t", "all", "-j", job, "-o", "%l").stdout.split()
    assert limit == [f"{slurm.time_limit_minutes(assignments.get(ASSIGNMENT), [], 2, 1)}:00"] * 3
    assert "5/5" in result.stdout  # the progress bar counted every student


@pytest.mark.slow
def test_regrading_one_student_and_item_on_the_cluster_keeps_the_others(cluster, graded_on_slurm, local_rows):
    root, out, _ = graded_on_slurm
    before = read_rows(out)
    (root / "carol" / "activations.py").write_text(REFERENCE.read_text())  # carol fixed her sign
    result = run_slurm(cluster, root, out, "--student", "carol", "--item", "sigmoid_prime")
    assert result.returncode == 0, result.stderr
    rows = read_rows(out)
    assert float(rows["carol"]["score"]) == 14 and rows["carol"]["status"] == "graded"
    assert json.loads((out / "reports" / "carol.json").read_text())["regraded_items"] == ["sigmoid_prime"]
    assert {s: r for s, r in rows.items() if s != "carol"} == {s: r for s, r in before.items() if s != "carol"}
    earlier = list((out / "reports" / "earlier").glob("carol.*.json"))
    assert len(earlier) == 1 and json.loads(earlier[0].read_text())["score"] == 12


@pytest.mark.slow
def test_a_bad_sbatch_option_is_one_line_and_loses_nothing(cluster, graded_on_slurm):
    root, out, _ = graded_on_slurm
    before = tree_fingerprint(out)
    # One option alone needs the = form: argparse takes a lone "--partition=..." for an option of its own.
    result = run_slurm(cluster, root, out, "--sbatch-options=--partition=nosuchpartition")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "sbatch refused the job: invalid partition specified: nosuchpartition (nothing was graded)"]
    assert tree_fingerprint(out) == before and cluster.jobs() == []


def _start_slurm_run(cluster, root, out, *extra):
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade-all", ASSIGNMENT, str(root), "--out", str(out),
                             "--seed", "7", "--slurm", *extra], cwd=REPO,
                            env={**nbgrader_env(), **_slurm_env(cluster)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _first_job(cluster, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        jobs = cluster.jobs()
        if jobs:
            return jobs[0]
        time.sleep(0.1)
    raise AssertionError("the job never showed in squeue")


@pytest.mark.slow
def test_a_cancelled_task_costs_only_its_students(cluster, local_rows, tmp_path):
    root = make_class(tmp_path / "submitted")
    out = tmp_path / "grades"
    process = _start_slurm_run(cluster, root, out, "--chunk", "2")
    job = _first_job(cluster, process)
    # Tasks 0 and 1 start first (on two CPUs; on one, task 1 waits too), so task 2 (frank) is still waiting.
    cluster.run("scancel", f"{job}_2")
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 1, stderr
    rows = read_rows(out)
    assert rows["frank"]["status"] == "could not grade" and float(rows["frank"]["score"]) == 0
    assert f"Slurm array task 2 of job {job} ended CANCELLED" in rows["frank"]["why"]
    assert rows["frank"]["not_graded"].split() == [item.name for item in assignments.get(ASSIGNMENT).items]
    assert {s: r for s, r in rows.items() if s != "frank"} == {s: r for s, r in local_rows.items() if s != "frank"}
    assert "Slurm task 2 ended CANCELLED: frank not graded" in stderr


@pytest.mark.slow
def test_ctrl_c_cancels_the_job_and_says_so(cluster, tmp_path):
    root = make_class(tmp_path / "submitted")
    out = tmp_path / "grades"
    process = _start_slurm_run(cluster, root, out, "--chunk", "1")
    job = _first_job(cluster, process)
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert f"interrupted: cancelled Slurm job {job} (scancel {job})" in stdout
    deadline = time.monotonic() + 60
    while cluster.jobs() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert cluster.jobs() == []


@pytest.mark.slow
def test_hw4_on_the_gpu_partition_one_student_at_a_time(cluster, tmp_path):
    """--partition=gpu --gres=gpu:1 as for a real GPU partition. The test node's "GPU" is /dev/null, so the GPU
    items are NOT GRADED there, exactly as in a local run on a machine without a GPU."""
    root = tmp_path / "submitted"
    write_submission(root, "alice", {"gpu_network.py": (REPO / "solutions" / "hw4_gpu" / "gpu_network.py").read_text()})
    write_submission(root, "bob", {"gpu_network.py": (REPO / "assignments" / "hw4_gpu" / "gpu_network.py").read_text()})
    no_stand_in = {"AUTOGRADER_CUPY_STAND_IN": ""}
    local = run_cli("grade-all", "hw4_gpu", root, "--out", tmp_path / "local", "--seed", "7", env=no_stand_in)
    assert local.returncode == 0, local.stderr
    result = run_cli("grade-all", "hw4_gpu", root, "--out", tmp_path / "slurm", "--seed", "7", "--slurm",
                     "--sbatch-options", "--partition=gpu --gres=gpu:1 --cpus-per-task=2",
                     env={**_slurm_env(cluster), **no_stand_in}, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = read_rows(tmp_path / "slurm")
    assert rows == read_rows(tmp_path / "local")
    assert rows["alice"]["status"] == "items not graded" and float(rows["alice"]["score"]) == 12
    assert rows["alice"]["not_graded"] == "gpu_correctness no_host_transfers gpu_speedup"
    assert "(1 at a time in each task" in result.stdout
    job = result.stdout.split("Slurm job ", 1)[1].split(":")[0]
    assert (tmp_path / "slurm" / ".slurm" / job / "job.sh").read_text().rstrip().endswith("--jobs 1 --seed 7")


@pytest.mark.slow
def test_a_task_cancelled_midway_keeps_the_students_it_finished(cluster, local_rows, tmp_path):
    root = tmp_path / "submitted"
    write_submission(root, "alice", {"activations.py": REFERENCE.read_text()})
    write_submission(root, "zoe", {"activations.py": "import time\ntime.sleep(60)\n"})  # still importing when cut
    out = tmp_path / "grades"
    process = _start_slurm_run(cluster, root, out, "--chunk", "2")
    job = _first_job(cluster, process)
    deadline = time.monotonic() + 120
    while not list(out.glob(f".slurm/{job}/task0/.grading-*/alice.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    cluster.run("scancel", f"{job}_0")  # alice is graded, zoe is being graded: the task never merges its own
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr
    rows = read_rows(out)
    assert rows["alice"] == local_rows["alice"]
    assert rows["zoe"]["status"] == "could not grade"
    assert f"Slurm array task 0 of job {job} ended CANCELLED" in rows["zoe"]["why"]


@pytest.mark.slow
def test_a_task_past_its_time_limit_costs_only_its_unfinished_students(cluster, local_rows, tmp_path):
    root = tmp_path / "submitted"
    write_submission(root, "alice", {"activations.py": REFERENCE.read_text()})
    write_submission(root, "zoe", {"activations.py": "import time\ntime.sleep(60)\n"})  # 10 s a call, 9 items
    out = tmp_path / "grades"
    result = run_slurm(cluster, root, out, "--chunk", "2", "--sbatch-options=--time=1")
    assert result.returncode == 1, result.stderr
    rows = read_rows(out)
    assert rows["alice"] == local_rows["alice"]
    assert rows["zoe"]["status"] == "could not grade"
    assert "ended TIMEOUT before grading this submission (time limit" in rows["zoe"]["why"]
    assert "Slurm task 0 ended TIMEOUT: zoe not graded" in result.stderr

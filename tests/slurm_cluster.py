"""A real one-node Slurm cluster in a temporary folder, for the tests of ``grade-all --slurm``.

Debian's ``slurm-wlm`` (slurmctld, slurmd, the client commands) and ``munge`` are
used as a university cluster uses them, but everything lives under one folder:
``slurm.conf`` (found through ``SLURM_CONF``), the munge key and socket, the pid,
state, spool and log files. Runs as root without systemd or cgroups (proctrack/linuxproc,
task/none). The daemons run in the foreground as children of the test process, which
reaps them; ``stop()`` cancels every job, then ends the three daemons, so nothing is left
running.

    with SlurmCluster(tmp_path) as cluster:
        subprocess.run(["sbatch", ...], env=cluster.env)

``python tests/slurm_cluster.py`` starts one, prints ``sinfo`` and stops it.
"""
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo", "scontrol")


def missing_programs():
    """The Slurm and munge programs this machine lacks (empty when a cluster can start)."""
    return [name for name in DAEMONS + CLIENTS if not _find(name)]


def _find(name):
    # The daemons live in /usr/sbin, which is not always on a non-root PATH.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mib():
    """The machine's memory in MiB, less a margin: slurmd drains a node configured with more than it has."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return max(256, int(line.split()[1]) // 1024 - 512)
    return 1024


class ClusterError(RuntimeError):
    pass


class SlurmCluster:
    """One controller and one compute node (this machine, 2 CPUs) with partitions ``debug`` (default) and
    ``gpu`` (the node declares one GPU; see gres.conf below)."""

    def __init__(self, folder, cpus=2, min_job_age_s=600):
        self.folder = Path(folder).resolve()
        self.cpus = min(cpus, os.cpu_count() or 1)  # slurmd drains a node configured with more CPUs than it has
        self.min_job_age_s = min_job_age_s  # how long squeue still shows a finished job
        self.node = socket.gethostname().split(".")[0]
        self.conf = self.folder / "etc" / "slurm.conf"
        self.munge_socket = self.folder / "munge" / "munge.socket"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.env["PATH"] = os.pathsep.join([os.path.dirname(_find("sbatch") or "/usr/bin"), self.env.get("PATH", "")])
        self.started = []

    # -- configuration ---------------------------------------------------------------------
    def _write_config(self):
        for sub in ("etc", "munge", "state", "spool", "log", "run"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder / "munge", 0o700)
        key = self.folder / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        f = self.folder
        self.conf.write_text(f"""\
ClusterName=coursetest
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={f}/state
SlurmdSpoolDir={f}/spool/%n
SlurmctldPidFile={f}/run/slurmctld.pid
SlurmdPidFile={f}/run/slurmd.pid
SlurmctldLogFile={f}/log/slurmctld.log
SlurmdLogFile={f}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge={self.min_job_age_s}
InactiveLimit=0
KillWait=5
SlurmdTimeout=60
GresTypes=gpu
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={_memory_mib()} Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={self.node} MaxTime=INFINITE State=UP
""")
        # A GPU partition as universities have one, so that "--partition=gpu --gres=gpu:1" is scheduled as there:
        # the node declares one GPU. It is /dev/null, not a GPU: a task gets it (and CUDA_VISIBLE_DEVICES) but
        # CuPy finds no device, so GPU items stay NOT GRADED, as on any machine without one.
        (self.folder / "etc" / "gres.conf").write_text(f"NodeName={self.node} Name=gpu File=/dev/null\n")
        # No cgroup plugin is configured; the file only keeps slurmd from looking for /etc/slurm/cgroup.conf.
        (self.folder / "etc" / "cgroup.conf").write_text("CgroupPlugin=autodetect\nIgnoreSystemd=yes\n")

    # -- start / stop ----------------------------------------------------------------------
    def start(self, timeout=60):
        missing = missing_programs()
        if missing:
            raise ClusterError(f"not installed: {', '.join(missing)}")
        if os.geteuid() != 0:
            raise ClusterError("the test cluster's slurmd must run as root")
        self._write_config()
        f = self.folder
        try:
            self._daemon("munged", [_find("munged"), "--foreground", "--force", f"--key-file={f}/munge/munge.key",
                                    f"--socket={self.munge_socket}", f"--pid-file={f}/run/munged.pid",
                                    f"--log-file={f}/log/munged.log", f"--seed-file={f}/munge/munge.seed"],
                         ready=self.munge_socket.exists)
            self._daemon("slurmctld", [_find("slurmctld"), "-D", "-c", "-f", str(self.conf)],
                         ready=lambda: self.run("sinfo", "-h", check=False).returncode == 0)
            self._daemon("slurmd", [_find("slurmd"), "-D", "-f", str(self.conf)],
                         ready=lambda: (f / "run" / "slurmd.pid").exists())
            self._wait_idle(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _daemon(self, name, argv, ready, timeout=30):
        """Start a daemon in the foreground as our child (so that we reap it: this container's init
        reaps nothing) and wait until ``ready()``."""
        log = open(self.folder / "log" / f"{name}.out", "wb")
        process = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True)
        log.close()
        self.started.append((name, process))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ClusterError(f"{name} exited with status {process.returncode}{self._log_tail(name)}")
            if ready():
                return process
            time.sleep(0.2)
        raise ClusterError(f"{name} was not ready after {timeout} s{self._log_tail(name)}")

    def _log_tail(self, name, lines=15):
        text = ""
        for log in (self.folder / "log" / f"{name}.log", self.folder / "log" / f"{name}.out"):
            if log.exists():
                text += "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        return text

    def _wait_idle(self, timeout):
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            result = self.run("sinfo", "-h", "-N", "-o", "%T", check=False)
            state = " ".join(sorted(set(result.stdout.split())))  # the node once per partition
            if state == "idle":
                return
            if state.startswith(("drain", "down")):
                reason = self.run("sinfo", "-h", "-N", "-o", "%E", check=False).stdout.strip()
                raise ClusterError(f"the node is {state}: {reason}{self._log_tail('slurmd')}")
            time.sleep(0.5)
        raise ClusterError(f"the node was not idle after {timeout} s (sinfo: {state!r})"
                           f"{self._log_tail('slurmctld')}{self._log_tail('slurmd')}")

    def run(self, program, *args, check=True, timeout=60):
        result = subprocess.run([_find(program), *args], env=self.env, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise ClusterError(f"{program} {' '.join(args)}: {result.stderr.strip()}")
        return result

    def jobs(self):
        """Job ids with tasks still pending or running."""
        result = self.run("squeue", "-h", "-o", "%A", check=False)
        return result.stdout.split() if result.returncode == 0 else []

    def stop(self, timeout=30):
        """Cancel every job, wait for the node to end them, then end the daemons by their pids."""
        if any(name == "slurmctld" and p.poll() is None for name, p in self.started):
            try:
                self.run("scancel", "--full", "--user=root", check=False)
                deadline = time.monotonic() + timeout
                while self.jobs() and time.monotonic() < deadline:
                    time.sleep(0.5)
            except (OSError, subprocess.SubprocessError):
                pass
        for name, process in reversed(self.started):  # slurmd, then slurmctld, then munged
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.started.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def measure_class(students=40, chunk=10, rounds=2):
    """Grade a class of hw1 students with a local grade-all --jobs 2 and with --slurm on a fresh cluster,
    alternately; print the wall-clock times and whether every run wrote the same grades.csv."""
    import sys
    import tempfile
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from helpers import REPO, nbgrader_env, write_submission
    from mutants_hw1 import MUTANTS, REFERENCE, mutant_source
    kinds = [REFERENCE.read_text(), (REPO / "assignments" / "hw1_activations" / "activations.py").read_text()]
    kinds += [mutant_source(name) for name in list(MUTANTS)[:6]]
    with tempfile.TemporaryDirectory(prefix="slurm-measure-") as tmp:
        tmp = Path(tmp)
        for i in range(students):  # every tenth student forgot the module
            files = {"activations.py": kinds[i % len(kinds)]} if i % 10 != 9 else {"notes.txt": "no module"}
            write_submission(tmp / "submitted", f"s{i:03d}", files)
        with SlurmCluster(tmp / "cluster") as cluster:
            env = {**nbgrader_env(), "SLURM_CONF": cluster.env["SLURM_CONF"],
                   "PATH": os.pathsep.join([os.path.dirname(sys.executable), cluster.env["PATH"]])}
            csvs = []
            for run in [f"{kind}{r}" for r in range(rounds) for kind in ("local", "slurm")]:
                out = tmp / run
                command = [sys.executable, "-m", "autograder", "grade-all", "hw1_activations", str(tmp / "submitted"),
                           "--out", str(out), "--seed", "7"]
                command += ["--slurm", "--chunk", str(chunk)] if run.startswith("slurm") else ["--jobs", "2"]
                load, started = os.getloadavg()[0], time.monotonic()
                result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
                print(f"{run}: exit {result.returncode}, {time.monotonic() - started:.1f} s, "
                      f"load average {load:.1f} before", flush=True)
                csvs.append((out / "grades.csv").read_text())
            print(f"{students} students, chunks of {chunk}: every run wrote the same grades.csv: "
                  f"{all(text == csvs[0] for text in csvs)}")


if __name__ == "__main__":
    import argparse
    import tempfile
    parser = argparse.ArgumentParser(description="Start a one-node Slurm cluster, print sinfo, stop it; "
                                                 "with --measure, time a class of hw1 students on it.")
    parser.add_argument("--measure", type=int, metavar="STUDENTS",
                        help="grade this many hw1 students locally and on the cluster, twice each")
    parser.add_argument("--chunk", type=int, default=10)
    args = parser.parse_args()
    if args.measure:
        measure_class(args.measure, args.chunk)
    else:
        with tempfile.TemporaryDirectory(prefix="slurm-cluster-") as tmp:
            with SlurmCluster(tmp) as cluster:
                print(cluster.run("sinfo").stdout)

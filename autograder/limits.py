"""Grading policy: how much time, memory, output and processes a submission's worker may use."""
from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-worker limits. Wall-clock time is per call; CPU time is per worker."""

    call_timeout_s: float = 10.0
    total_s: float = 180.0           # the whole submission, all items together
    cpu_time_s: int = 120
    memory_bytes: int = 2048 * MiB
    max_processes: int = 64          # processes and threads of the whole worker tree (a cgroup, where one can be made)
    output_bytes: int = 1 * MiB      # what the student's code may print
    reply_bytes: int = 64 * MiB      # one protocol message from the worker
    stack_bytes: int = 64 * MiB
    # The worker may use a GPU: device files are visible, CuPy is imported before the
    # student's code (to count host/device copies), and the address-space limit, which
    # CUDA's large virtual reservations cannot live with, becomes a data-size limit.
    gpu: bool = False
    blas_threads: int = 1            # more only for trusted baselines (a NumPy reference on all cores)
    # Memory the libraries take before any student code runs, added to memory_bytes so that the
    # student's share is the same on every machine. CUDA and CuPy hold about 1.2 GB of host data
    # (VmData measured on an H200, CuPy 14 and CUDA 13, after worker_gpu's warm-up): under the bare
    # 2 GiB the course's own reference failed its speed item there with MemoryError. OpenBLAS keeps
    # a buffer per thread, and a baseline runs NumPy on every core.
    gpu_host_bytes: int = 2048 * MiB
    blas_thread_bytes: int = 64 * MiB

    @property
    def worker_memory_bytes(self):
        """The worker's whole memory limit: the student's share plus the libraries' own."""
        return (self.memory_bytes + (self.gpu_host_bytes if self.gpu else 0)
                + self.blas_threads * self.blas_thread_bytes)

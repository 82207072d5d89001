"""One training epoch of the hw4 reference network: NumPy on the CPU against CuPy on the GPU, by mini-batch size.

    python benchmarks/gpu_speed.py [--examples 8192] [--batches 32 128 512 2048] [--repeats 5] [--plot gpu.png]

The network is the graded one, [784, 1024, 1024, 10] in float32, trained on
random MNIST-sized data (the speed does not depend on the pixel values). Each
device runs its own copy of the reference solution (solutions/hw4_gpu). The
GPU is timed as the course teaches: one warm-up epoch (kernels compile), then
``cupyx.profiler.benchmark`` (CUDA events, synchronized) and the median of the
repeats; the CPU with perf_counter, median of the repeats, in the same run.
Without a usable GPU it times the CPU only and says why.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = [784, 1024, 1024, 10]


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=8192, help="examples per epoch (default 8192)")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128, 512, 2048], help="mini-batch sizes")
    parser.add_argument("--repeats", type=int, default=5, help="epochs timed per setting (median reported)")
    parser.add_argument("--cpu-repeats", type=int, default=3, help="epochs timed on the CPU (slow; default 3)")
    parser.add_argument("--plot", help="save seconds per epoch and the speedup to this image file")
    args = parser.parse_args()
    if args.examples < 1 or args.repeats < 1 or args.cpu_repeats < 1 or min(args.batches) < 1:
        parser.error("--examples, --repeats, --cpu-repeats and every --batches value must be positive")
    return args


def main():
    args = parse()
    import numpy as np
    from tqdm import tqdm

    sys.path.insert(0, str(REPO / "solutions" / "hw4_gpu"))
    from gpu_network import MatrixNetwork, device_rng, find_gpu

    cp, device = find_gpu()
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(SIZES[0], args.examples)).astype(np.float32)
    Y = np.eye(SIZES[-1], dtype=np.float32)[:, rng.integers(0, SIZES[-1], args.examples)]
    print(f"network {SIZES} float32, {args.examples} examples per epoch; CPU: {os.cpu_count()} cores "
          f"(BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}); "
          f"GPU: {device if cp is not None else 'none (' + device + ')'}")
    rows = []
    for batch in tqdm(args.batches, unit="batch size", file=sys.stderr):
        net, shuffle = MatrixNetwork(SIZES, xp=np, seed=0), device_rng(np, 0)
        net.train_epoch(X[:, :batch], Y[:, :batch], batch, 0.1, shuffle)  # warm-up
        cpu = []
        for _ in range(args.cpu_repeats):
            start = time.perf_counter()
            net.train_epoch(X, Y, batch, 0.1, shuffle)
            cpu.append(time.perf_counter() - start)
        row = {"batch": batch, "cpu": statistics.median(cpu), "gpu": None}
        if cp is not None:
            from cupyx.profiler import benchmark
            net = MatrixNetwork(SIZES, xp=cp, seed=0)
            X_gpu, Y_gpu, shuffle = cp.asarray(X), cp.asarray(Y), device_rng(cp, 0)
            result = benchmark(net.train_epoch, (X_gpu, Y_gpu, batch, 0.1, shuffle),
                               n_repeat=args.repeats, n_warmup=1)
            row["gpu"] = float(np.median(result.gpu_times))
            row["gpu_cpu_side"] = float(np.median(result.cpu_times))
        rows.append(row)

    print(f"{'mini-batch':>10} {'NumPy s/epoch':>14} {'CuPy s/epoch':>13} {'speedup':>8}")
    for row in rows:
        gpu = f"{row['gpu']:13.4f} {row['cpu'] / row['gpu']:7.1f}x" if row["gpu"] else f"{'-':>13} {'-':>8}"
        print(f"{row['batch']:>10} {row['cpu']:14.3f} {gpu}")
    print(f"(medians: NumPy of {args.cpu_repeats} epochs, CuPy of {args.repeats} epochs by CUDA events after a warm-up)")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
        batches = [r["batch"] for r in rows]
        ax[0].loglog(batches, [r["cpu"] for r in rows], "o-", label="NumPy (CPU)")
        if cp is not None:
            ax[0].loglog(batches, [r["gpu"] for r in rows], "o-", label=f"CuPy ({device})")
            ax[1].semilogx(batches, [r["cpu"] / r["gpu"] for r in rows], "o-")
        else:
            ax[1].text(0.5, 0.5, f"no GPU:\n{device[:60]}", ha="center", va="center", wrap=True)
        ax[0].set_xlabel("mini-batch size"); ax[0].set_ylabel("seconds per epoch"); ax[0].legend()
        ax[1].set_xlabel("mini-batch size"); ax[1].set_ylabel("GPU speedup (x)")
        for a in ax:
            a.grid(alpha=0.3, which="both")
        fig.suptitle(f"One epoch of {SIZES} float32, {args.examples} examples")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

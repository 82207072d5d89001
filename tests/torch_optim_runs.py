"""Record torch.optim runs for every hw3 option combination (needs PyTorch; developers only).

    pip install torch==2.13.0        # a CPU build
    python tests/torch_optim_runs.py # writes tests/data/torch_optim_runs.npz

The recorded runs let tests/grading/test_hw3_reference.py prove, on every machine and in CI
without torch, that the grader's reference optimizers follow torch.optim exactly.
"""
import importlib.util
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "data" / "torch_optim_runs.npz"
SHAPES = [(5,), (3, 4)]
STEPS = 15


def hidden_suite():
    spec = importlib.util.spec_from_file_location("hidden_hw3", HERE.parent / "autograder" / "hidden" / "test_hw3_optimizers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def all_configs(hidden):
    configs = [c for item in hidden.CONFIGS.values() for c in item] + list(hidden.STATEFUL)
    return [(kind, dict(options)) for kind, options in configs]


def torch_run(kind, options, params, grads):
    import torch
    tensors = [torch.tensor(p.copy(), dtype=torch.float64, requires_grad=True) for p in params]
    opt = getattr(torch.optim, kind)(tensors, **options)
    history = []
    for step_grads in grads:
        for t, g in zip(tensors, step_grads):
            t.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        history.append([t.detach().numpy().copy() for t in tensors])
    return history


def problem(rng):
    params = [rng.standard_normal(s) for s in SHAPES]
    grads = [[10.0 ** rng.uniform(-2, 1) * rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    return params, grads


def main():
    import torch
    hidden = hidden_suite()
    rng = np.random.default_rng(2013)
    arrays, configs = {}, all_configs(hidden)
    for i, (kind, options) in enumerate(configs):
        params, grads = problem(rng)
        history = torch_run(kind, options, params, grads)
        for j, p in enumerate(params):
            arrays[f"{i}/p0/{j}"] = p
            arrays[f"{i}/grads/{j}"] = np.stack([g[j] for g in grads])
            arrays[f"{i}/torch/{j}"] = np.stack([h[j] for h in history])
    arrays["configs"] = np.array(json.dumps(configs))
    arrays["torch_version"] = np.array(torch.__version__)
    np.savez_compressed(OUTPUT, **arrays)
    print(f"{len(configs)} runs of {STEPS} steps recorded with torch {torch.__version__} in {OUTPUT}")


def load():
    """(torch version, [(kind, options, params, grads per step, torch params per step), ...])."""
    data = np.load(OUTPUT, allow_pickle=False)
    runs = []
    for i, (kind, options) in enumerate(json.loads(str(data["configs"]))):
        if "betas" in options:
            options["betas"] = tuple(options["betas"])
        n = len(SHAPES)
        params = [data[f"{i}/p0/{j}"] for j in range(n)]
        grads = [[data[f"{i}/grads/{j}"][t] for j in range(n)] for t in range(STEPS)]
        history = [[data[f"{i}/torch/{j}"][t] for j in range(n)] for t in range(STEPS)]
        runs.append((kind, options, params, grads, history))
    return str(data["torch_version"]), runs


if __name__ == "__main__":
    main()

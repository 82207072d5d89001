"""The hw3 grader's reference optimizers are torch.optim, step for step.

Recorded torch runs (tests/data/torch_optim_runs.npz, made by tests/torch_optim_runs.py)
cover every option combination the hidden suite grades, so this runs everywhere;
with PyTorch installed the same comparison also runs live on fresh random problems.
"""
import importlib.util

import numpy as np
import pytest

import torch_optim_runs
from helpers import REPO

spec = importlib.util.spec_from_file_location("hidden_hw3", REPO / "autograder" / "hidden" / "test_hw3_optimizers.py")
hidden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hidden)

VERSION, RUNS = torch_optim_runs.load()


def test_the_recordings_cover_every_graded_configuration():
    recorded = [(kind, options) for kind, options, *_ in RUNS]
    assert recorded == torch_optim_runs.all_configs(hidden)
    assert VERSION.startswith("2.")


@pytest.mark.parametrize("run", RUNS, ids=[hidden.config_id((k, o)) for k, o, *_ in RUNS])
def test_reference_equals_recorded_torch_optim(run):
    kind, options, params, grads, torch_history = run
    ours = hidden.reference_run(kind, options, params, grads)
    for step, (mine, theirs) in enumerate(zip(ours, torch_history), start=1):
        for p0, a, b in zip(params, mine, theirs):
            assert np.allclose(a - p0, b - p0, rtol=1e-12, atol=1e-15), f"step {step}"


def test_reference_equals_live_torch_optim():
    pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0 for this check)")
    rng = np.random.default_rng()
    for kind, options in torch_optim_runs.all_configs(hidden):
        params, grads = torch_optim_runs.problem(rng)
        theirs = torch_optim_runs.torch_run(kind, options, params, grads)
        ours = hidden.reference_run(kind, options, params, grads)
        for mine, other in zip(ours, theirs):
            for p0, a, b in zip(params, mine, other):
                assert np.allclose(a - p0, b - p0, rtol=1e-12, atol=1e-15), (kind, options)


def test_the_solution_equals_the_reference():
    import sys
    sys.path.insert(0, str(REPO / "solutions" / "hw3_optimizers"))
    try:
        import optimizers
    finally:
        sys.path.pop(0)
    for kind, options, params, grads, torch_history in RUNS:
        mine = [p.copy() for p in params]
        opt = getattr(optimizers, kind)(mine, **options)
        for step_grads in grads:
            opt.step(step_grads)
        for p0, a, b in zip(params, mine, torch_history[-1]):
            assert np.allclose(a - p0, b - p0, rtol=1e-12, atol=1e-15), (kind, options)

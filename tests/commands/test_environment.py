"""environment.yml (conda) and pyproject.toml (pip) ask for the same packages and versions."""
import re
import sys

import yaml

from helpers import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None


def parse(requirement):
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def conda_packages():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    return dict(parse(d) for d in deps if not d.startswith(("python", "pip")))


def pip_packages():
    import pytest
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(parse(d) for d in deps), project


def test_same_packages_and_versions():
    pip, _ = pip_packages()
    assert conda_packages() == pip


def test_same_python():
    _, project = pip_packages()
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in env["dependencies"]


def test_conda_installs_the_course_package_itself():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = [d for d in env["dependencies"] if isinstance(d, dict)][0]["pip"]
    assert "--editable ." in pip_section


def test_gpu_extra_is_optional():
    _, project = pip_packages()
    assert not any("cupy" in d for d in project["dependencies"])
    assert any(d.startswith("cupy") for d in project["optional-dependencies"]["gpu"])


def test_gpu_environment_is_the_course_environment_plus_cupy():
    """environment-gpu.yml: every package of environment.yml, same versions, plus CuPy for CUDA 12.

    conda-forge's ``cupy`` with ``cuda-version 12`` is what pip's ``cupy-cuda12x`` is.
    """
    _, project = pip_packages()
    gpu_env = yaml.safe_load((REPO / "environment-gpu.yml").read_text())
    deps = [d for d in gpu_env["dependencies"] if isinstance(d, str)]
    packages = dict(parse(d) for d in deps if not d.startswith(("python", "pip")))
    pip_gpu = dict(parse(d) for d in project["optional-dependencies"]["gpu"])
    assert pip_gpu == {"cupy-cuda12x": ">=13.0"}
    assert packages.pop("cupy") == pip_gpu["cupy-cuda12x"]
    assert packages.pop("cuda-version") == ">=12,<13"
    assert packages == conda_packages()
    assert f"python{project['requires-python']}" in gpu_env["dependencies"]
    assert "--editable ." in [d for d in gpu_env["dependencies"] if isinstance(d, dict)][0]["pip"]


def test_torch_extra_is_optional_and_never_needed_to_grade():
    """PyTorch serves lecture 06 only: an extra of pip's install, in neither environment file."""
    _, project = pip_packages()
    assert not any(d.lower().startswith("torch") for d in project["dependencies"] + project["optional-dependencies"]["dev"])
    assert [parse(d)[0] for d in project["optional-dependencies"]["torch"]] == ["torch"]
    assert "torch" not in conda_packages() and "pytorch" not in conda_packages()
    assert 'pip install -e ".[torch]"' in (REPO / "environment.yml").read_text()  # says how to add it


def test_nothing_that_grades_imports_torch():
    """The grader, the assignments and the course's tools run where PyTorch is not installed."""
    sources = [*(REPO / "autograder").rglob("*.py"), *(REPO / "assignments").rglob("*.py"), *REPO.glob("*.py")]
    importing = [str(p.relative_to(REPO)) for p in sources
                 if re.search(r"^\s*(import torch|from torch)\b", p.read_text(), re.MULTILINE)]
    assert importing == []

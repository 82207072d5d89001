"""The worker's files: safe to import, self-contained, answering requests, counting CuPy's copies.

The request loop is exercised in this process (worker_requests with a toy module
in sys.modules); copy counting runs in a child process, since an audit hook,
once installed, stays for the life of its interpreter.
"""
import ast
import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

from autograder import wire, worker, worker_gpu, worker_requests
from autograder.wire_datasets import FixedShuffles, Pick

PACKAGE = Path(worker.__file__).resolve().parent


def test_importing_the_worker_touches_neither_stdout_nor_argv():
    code = "import sys; sys.argv = ['x']; import autograder.worker; print('still my stdout', flush=True)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PACKAGE.parent, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "still my stdout\n"


def test_the_worker_files_import_only_each_other_the_standard_library_numpy_and_cupy():
    local = {name[:-3] for name in worker.WORKER_FILES}
    allowed = local | {"numpy", "cupy"} | set(sys.stdlib_module_names)
    for name in worker.WORKER_FILES:
        tree = ast.parse((PACKAGE / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module is None:  # from . import wire
                tops = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):  # from .wire import X, from numpy import Y
                tops = [node.module.split(".")[0]]
            else:
                continue
            assert set(tops) <= allowed, (name, tops)


def test_every_worker_file_is_copied_to_the_scratch_folder():
    from autograder import sandbox
    assert set(sandbox.WORKER_SOURCES) == set(worker.WORKER_FILES)
    assert all((PACKAGE / name).is_file() for name in worker.WORKER_FILES)


# ---------------------------------------------------------------- dispatch, in this process
@pytest.fixture
def toy(monkeypatch, tmp_path):
    module = types.ModuleType("toy_submission")
    exec(textwrap.dedent("""
        import warnings
        def double(x):
            return 2 * x
        def add_in_place(a, b):
            a += b
        def warn():
            warnings.warn("careful", RuntimeWarning)
            return 1
        def uses_a_missing_helper(x):
            return helper(x)
        def apply(f, x):
            return f(x)
        class Counter:
            def __init__(self):
                self.n = 0
            def bump(self):
                self.n += 1
                return self.n
    """), module.__dict__)
    monkeypatch.setitem(sys.modules, "toy_submission", module)
    monkeypatch.setattr(worker_requests, "MODULE_NAMES", ["toy_submission"])
    monkeypatch.setattr(worker_requests, "SUBMISSION_DIR", str(tmp_path))
    monkeypatch.setattr(worker_requests, "_objects", {})
    return module


def answer(request):
    reply = worker_requests._answer(wire.dumps(request))
    assert json.loads(json.dumps(reply)) == reply  # plain JSON, as it travels
    return reply


def call(attr, *args, **extra):
    return {"op": "call", "module": "toy_submission", "attr": attr, "args": [wire.encode(a) for a in args], **extra}


def test_a_call_returns_its_value_as_wire_data(toy):
    reply = answer(call("double", np.array([1.0, 2.5])))
    assert reply["ok"] is True and reply["warnings"] == []
    assert np.array_equal(wire.decode(reply["value"]), [2.0, 5.0])


def test_return_args_sends_back_the_arguments_as_the_function_left_them(toy):
    reply = answer(call("add_in_place", np.zeros(2), np.ones(2), return_args=True))
    assert [wire.decode(a).tolist() for a in reply["args"]] == [[1.0, 1.0], [1.0, 1.0]]


def test_warnings_are_collected_per_request(toy):
    reply = answer(call("warn"))
    assert reply["warnings"] == [{"category": "RuntimeWarning", "message": "careful"}]


def test_a_missing_name_is_marked_as_missing_with_the_message_python_gives(toy):
    reply = answer(call("relu", 1.0))
    assert reply["ok"] is False and reply["missing"] == "relu"
    assert reply["error"] == "AttributeError: module 'toy_submission' has no attribute 'relu'"


def test_an_error_inside_the_students_function_is_not_a_missing_name(toy):
    reply = answer(call("uses_a_missing_helper", 1.0))
    assert reply["ok"] is False and "missing" not in reply
    assert reply["error"] == "NameError: name 'helper' is not defined"


def test_objects_stay_in_the_worker_and_are_reached_by_reference(toy):
    made = answer(call("Counter", keep=True))
    assert made["value"]["t"] == "ref" and made["value"]["type"] == "Counter"
    ref_id = made["value"]["id"]
    for expected in (1, 2):
        reply = answer({"op": "call", "ref": ref_id, "attr": "bump", "args": []})
        assert wire.decode(reply["value"]) == expected
    assert wire.decode(answer({"op": "get", "ref": ref_id, "attr": "n"})["value"]) == 2


def test_a_stored_list_is_picked_from_by_index(toy):
    stored = answer({"op": "store", "value": wire.encode([10, 20, 30])})
    ref = wire.decode(stored["value"])
    reply = answer(call("double", Pick(ref, [2, 0])))
    assert wire.decode(reply["value"]) == [30, 10, 30, 10]
    out_of_range = answer(call("double", Pick(ref, [3])))
    assert out_of_range["ok"] is False and "out of range" in out_of_range["error"]


def test_functions_from_the_trusted_library_are_built_in_the_worker(toy):
    reply = answer(call("apply", wire.FunctionSpec("cubic", c=np.array([2.0])), np.array([3.0])))
    assert wire.decode(reply["value"]) == 54.0
    unknown = answer(call("apply", wire.FunctionSpec("os.system"), 1.0))
    assert unknown["ok"] is False and "unknown function" in unknown["error"]


def test_fixed_shuffles_hand_out_the_graders_orders_then_stop(toy):
    reply = answer({"op": "store", "value": wire.encode(FixedShuffles("numpy", [[1, 0, 2]]))})
    ref_id = reply["value"]["id"]
    first = answer({"op": "call", "ref": ref_id, "attr": "permutation", "args": [wire.encode(3)]})
    assert wire.decode(first["value"]).tolist() == [1, 0, 2]
    again = answer({"op": "call", "ref": ref_id, "attr": "permutation", "args": [wire.encode(3)]})
    assert again["ok"] is False and "no more orders" in again["error"]


def test_without_a_gpu_the_probe_says_why_and_cupy_is_refused(toy):
    probe = wire.decode(answer({"op": "gpu_probe"})["value"])
    assert probe["available"] is False and probe["reason"]
    reply = answer(call("double", wire.ArrayModule("cupy")))
    assert reply["ok"] is False and "no GPU in this worker" in reply["error"]


def test_unknown_ops_and_malformed_lines_are_answered_not_fatal(toy):
    assert "unknown op" in answer({"op": "format_disk"})["error"]
    reply = worker_requests._answer(b"not json\n")
    assert reply["ok"] is False and "not JSON" in reply["error"]


# ---------------------------------------------------------------- copy counting, in a child process
COUNTING = r"""
import os, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import worker_gpu, worker_guard

class ndarray:
    def __init__(self, data):
        self.data = np.asarray(data)
    def get(self):
        return self.data.copy()
    def set(self, host):
        self.data = np.asarray(host)
    def __setitem__(self, key, value):
        self.data[key] = value.data if isinstance(value, ndarray) else value

fake = type(sys)("fake_cupy")
fake.ndarray = ndarray
fake.asarray = lambda a: a if isinstance(a, ndarray) else ndarray(a)
fake.array = lambda a: ndarray(a.data if isinstance(a, ndarray) else a)
worker_gpu.cupy = fake

read, write = os.pipe()
key = bytes(range(32))
worker_gpu.install_guard(worker_guard, write, key)
x = fake.asarray(np.ones(3))       # not counted: outside a counted call
sys.audit(worker_guard.EVENT_BEGIN)
y = fake.asarray(np.ones(3))       # host -> device
z = fake.asarray(y)                # already on the device: no copy
h = y.get()                        # device -> host
y[0] = np.float64(5)               # a NumPy scalar is no host array: not counted
y[1:] = np.zeros(2)                # host array into a device array
sys.audit(worker_guard.EVENT_END)
records, _, problem = worker_guard.read_records(os.read(read, 4096), key, 1)
print(records, problem)
"""


def test_copies_between_host_and_device_are_counted_between_the_graders_marks(tmp_path):
    script = tmp_path / "count.py"
    script.write_text(COUNTING)
    result = subprocess.run([sys.executable, "-I", str(script), str(PACKAGE)], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "AUTOGRADER_GPU": "0"})
    assert result.returncode == 0, result.stderr
    # (kind, intact, to_host, to_device): a begin mark, then an end mark with the wrappers in place.
    assert result.stdout.strip() == "[(1, 1, 0, 0), (2, 1, 1, 2)] None"


def test_copy_functions_lists_cupys_entry_points_with_their_rules():
    fake = types.SimpleNamespace(ndarray=type("ndarray", (), {"get": 1, "set": 2, "__setitem__": 3}),
                                 array=4, asarray=5)
    listed = {(name, rule) for _, name, _, rule in worker_gpu.copy_functions(fake)}
    assert listed == {("get", "always"), ("set", "always"), ("__setitem__", "value_on_host"),
                      ("array", "first_on_host"), ("asarray", "first_on_host")}

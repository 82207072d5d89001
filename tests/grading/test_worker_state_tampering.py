"""Student code shares the worker's interpreter: whatever it rewrites there must not change a grade.

Each hostile module here reaches into the worker (``import worker_requests``, whose tables and
functions answer the grader's requests) the way a student who read the worker's files could, and
must be graded to completion without a point it did not earn, and without stopping grading.
"""
import pytest

from helpers import GPU_STAND_IN, REPO, grade_folder, item_scores, write_submission

HW3_REFERENCE = (REPO / "solutions" / "hw3_optimizers" / "optimizers.py").read_text()
HW4_REFERENCE = (REPO / "solutions" / "hw4_gpu" / "gpu_network.py").read_text()
HW1_REFERENCE = (REPO / "solutions" / "hw1_activations" / "activations.py").read_text()

# The optimizers compute the right values but into new arrays (a rebinding), then point every
# table of the worker that held the caller's arrays at the new ones.
REBIND_AND_REWRITE_TABLES = HW3_REFERENCE + '''

import worker_requests as _worker


def _rebinding(cls):
    real_step = cls.step

    def step(self, grads):
        originals = list(self.params)
        self.params = [p.copy() for p in originals]
        real_step(self, grads)
        for table_name in ("_objects", "_shared"):
            table = getattr(_worker, table_name, {})
            for key, value in list(table.items()):
                for old, new in zip(originals, self.params):
                    if value is old:
                        table[key] = new
    cls.step = step


for _cls in (SGD, Adagrad, RMSprop, Adam):
    _rebinding(_cls)
'''

# Every trick against the copy counter a module could try from inside the worker.
COUNTER_TAMPERING = {
    "replaces_the_count_table": "_worker._transfers = {'to_host': 0, 'to_device': 0}",
    "replaces_the_count_function": "_worker._count = lambda kind: None",
    "raises_the_end_mark_early": "import sys\nsys.audit('nn_course.count_end')",
    "replaces_sys_audit": "import sys\nsys.audit = lambda *a: None",
    # Works on CuPy and on the stand-in alike (nothing of either's internals), so it is caught as a
    # replacement on both rather than crashing on one.
    "replaces_cupy_asnumpy_path": "cupy.ndarray.get = lambda self, *a, **k: numpy.zeros(self.shape, self.dtype)",
    "walks_the_garbage_collector": "import gc\n[o for o in gc.get_objects() if callable(o)][:1]",
    "forges_log_records": ("import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, bytes(34))\n"
                           "    except OSError:\n        pass"),
}


def copying_train_epoch(tamper):
    """The reference whose train_epoch copies to the host and to the device, after ``tamper``."""
    body = "".join(f"        {line}\n" for line in tamper.splitlines())
    marker = "    def train_epoch(self, X, Y, mini_batch_size, eta, rng):"
    assert marker in HW4_REFERENCE
    head, tail = HW4_REFERENCE.split(marker, 1)
    doc_end = tail.index('"""', tail.index('"""') + 3) + 3
    injected = ("\n        import worker_requests as _worker\n        import numpy\n        import cupy\n" + body
                + "        self._spy = [cupy.asnumpy(w) for w in self.weights]\n"
                + "        self._spy_back = cupy.asarray(numpy.zeros(1))\n")
    return head + marker + tail[:doc_end] + injected + tail[doc_end:]


WITH_AND_WITHOUT_BUBBLEWRAP = pytest.mark.parametrize("env", [{}, {"AUTOGRADER_NO_SANDBOX": "1"}],
                                                     ids=["bubblewrap", "no_sandbox"])


@WITH_AND_WITHOUT_BUBBLEWRAP
def test_rebinding_optimizer_that_rewrites_the_worker_tables_earns_nothing_for_in_place(tmp_path, env):
    folder = write_submission(tmp_path, "rebinder", {"optimizers.py": REBIND_AND_REWRITE_TABLES})
    result, report = grade_folder("hw3_optimizers", folder, env=env)
    assert result.returncode == 0, result.stderr
    scores = item_scores(report)
    assert scores["in_place_and_state"] == 0, report
    for item in ("sgd", "sgd_momentum", "adagrad", "rmsprop", "adam"):
        assert scores[item] == 0, (item, report)
    feedback = {i["name"]: i["feedback"] for i in report["items"]}
    assert "in place" in feedback["sgd"]


@pytest.mark.parametrize("name", sorted(COUNTER_TAMPERING))
@WITH_AND_WITHOUT_BUBBLEWRAP
def test_tampering_with_the_copy_counter_earns_nothing(tmp_path, name, env):
    source = copying_train_epoch(COUNTER_TAMPERING[name])
    folder = write_submission(tmp_path, name, {"gpu_network.py": source})
    result, report = grade_folder("hw4_gpu", folder, "--item", "no_host_transfers", env={**GPU_STAND_IN, **env})
    assert result.returncode == 0, result.stderr
    item = next(i for i in report["items"] if i["name"] == "no_host_transfers")
    assert item["score"] == 0, item
    assert item["feedback"], item
    if name == "replaces_cupy_asnumpy_path":  # caught as a replacement, not by a crash
        assert "replaced CuPy's copy functions" in item["feedback"], item


def test_an_honest_copy_is_counted_and_named(tmp_path):
    folder = write_submission(tmp_path, "honest_copy", {"gpu_network.py": copying_train_epoch("pass")})
    result, report = grade_folder("hw4_gpu", folder, "--item", "no_host_transfers", env=GPU_STAND_IN)
    item = next(i for i in report["items"] if i["name"] == "no_host_transfers")
    assert item["score"] == 0 and "2 to the host, 1 to the device" in item["feedback"], item


FORGED_REPLIES = {
    # The worker's reply function patched so a field has another type.
    "warnings_field_is_text": '''
import worker_requests as _worker
_real_send = _worker._send
def _send(message):
    _real_send({**message, "warnings": "none at all"})
_worker._send = _send
''',
    "extra_field": '''
import worker_requests as _worker
_real_handle = _worker._handle
def _handle(request):
    reply = _real_handle(request)
    reply["score"] = 100
    return reply
_worker._handle = _handle
''',
    "value_nested_beyond_limit": '''
import worker_requests as _worker
def _encode(value):
    nested = {"t": "none"}
    for _ in range(100):
        nested = {"t": "list", "v": [nested]}
    return nested
_worker._encode = _encode
''',
}


@pytest.mark.parametrize("name", sorted(FORGED_REPLIES))
def test_forged_replies_cost_items_and_never_stop_grading(tmp_path, name):
    folder = write_submission(tmp_path, name, {"activations.py": HW1_REFERENCE + FORGED_REPLIES[name]})
    result, report = grade_folder("hw1_activations", folder, "--item", "relu", "--item", "softmax")
    assert result.returncode == 0, result.stderr
    assert report["score"] == 0, report
    assert all("malformed answer" in i["feedback"] for i in report["items"]), report


def test_a_400_digit_integer_costs_its_item_only(tmp_path):
    source = HW1_REFERENCE.replace("def relu(z):", "def relu(z):\n    return 10 ** 400\n\ndef _unused(z):", 1)
    folder = write_submission(tmp_path, "huge_int", {"activations.py": source})
    result, report = grade_folder("hw1_activations", folder, "--item", "relu", "--item", "sigmoid_prime")
    assert result.returncode == 0, result.stderr
    scores = item_scores(report)
    assert scores["relu"] == 0 and scores["sigmoid_prime"] == 2, report


def sabotaged_relu(code):
    """The hw1 reference whose relu first runs ``code``."""
    block = "".join(f"    {line}\n" for line in code.strip().splitlines())
    return HW1_REFERENCE.replace("def relu(z):", "def relu(z):\n" + block + "    return _relu(z)\n\n\ndef _relu(z):", 1)


FORK_BOMB = """
import os
for _ in range(300):
    try:
        if os.fork() == 0:
            os.setsid()  # out of the worker's process group: only the cgroup still holds it
            os.execv("/bin/sh", ["sh", "-c", "sleep 600", "hoard-MARKER"])
    except OSError:
        break
"""

# Files in memory, written (not mapped): the address-space limit never sees them.
MEMFD_3_GIB = """
import os
hoard = []
for _ in range(3 * 1024):
    fd = os.memfd_create("hoard")
    os.write(fd, b"x" * (1 << 20))
    hoard.append(fd)
"""

DEV_SHM_3_GIB = """
with open("/dev/shm/hoard", "wb") as f:
    for _ in range(3 * 1024):
        f.write(b"x" * (1 << 20))
"""


def leftover_sleepers(marker):
    import subprocess
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if f"hoard-{marker}" in line]


@pytest.mark.parametrize("name, code, words, env", [
    ("fork_bomb", FORK_BOMB, None, {}),
    ("fork_bomb_unsandboxed", FORK_BOMB, None, {"AUTOGRADER_NO_SANDBOX": "1"}),
    ("memfd", MEMFD_3_GIB, "memory", {}),
    ("memfd_unsandboxed", MEMFD_3_GIB, "memory", {"AUTOGRADER_NO_SANDBOX": "1"}),
    ("dev_shm", DEV_SHM_3_GIB, None, {}),  # private to the sandbox; without one it would be the host's
])
def test_processes_and_shared_memory_are_bounded(tmp_path, name, code, words, env):
    from autograder import cgroups
    if not cgroups.mechanisms_available():
        pytest.skip("no cgroup can be made on this machine: processes and shared memory are not bounded here")
    marker = tmp_path.name
    folder = write_submission(tmp_path, name, {"activations.py": sabotaged_relu(code.replace("MARKER", marker))})
    result, report = grade_folder("hw1_activations", folder, "--item", "relu", "--item", "softmax",
                                  "--call-timeout", "20", env=env)
    assert result.returncode == 0, result.stderr
    scores = item_scores(report)
    assert scores["softmax"] == 3, report  # only the item whose call misbehaved is lost
    if name.startswith("fork_bomb"):
        # The forks stop at the cgroup's limit; the sleepers end with the worker.
        assert not leftover_sleepers(marker)
    else:
        relu = next(i for i in report["items"] if i["name"] == "relu")
        assert relu["score"] == 0 and (words is None or words in relu["feedback"]), relu
    assert any("cgroup" in line for line in report["isolation"]), report["isolation"]

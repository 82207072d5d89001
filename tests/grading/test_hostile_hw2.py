"""hw2's timed and trained items cannot be gamed from inside the worker."""
from helpers import grade_folder, item_scores, write_submission
from mutants_hw2 import mutant_source

# A looping update whose module starts busy processes that burn CPU only while the
# student's own code is idle: an attempt to slow the baselines it is compared with.
SABOTEUR = '''
import mmap as _mmap, os as _os, time as _time
_flag = _mmap.mmap(-1, 1)
for _ in range(6):
    if _os.fork() == 0:
        while True:
            if _flag[0] == 0:
                sum(range(10000))
            else:
                _time.sleep(0.0002)

_honest_update = Network.update_mini_batch


def _update(self, mini_batch, eta):
    _flag[0] = 1
    try:
        _honest_update(self, mini_batch, eta)
    finally:
        _flag[0] = 0


Network.update_mini_batch = _update
'''


def test_busy_processes_cannot_slow_the_baselines_down(tmp_path):
    source = mutant_source("update_loops_over_examples") + SABOTEUR
    folder = write_submission(tmp_path, "saboteur", {"network.py": source})
    result, report = grade_folder("hw2_backprop", folder, "--item", "speed", "--item", "update_mini_batch")
    assert result.returncode == 0, result.stderr
    scores = item_scores(report)
    assert scores["update_mini_batch"] == 3  # its updates are right...
    assert scores["speed"] == 0, report      # ...but a loop stays a loop

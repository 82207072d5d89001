"""The pytest plugin that turns a hidden (or public) suite into item scores.

Each test carries ``@pytest.mark.item("name")``; one test (or one
parametrization) is one check. An item's score is its points times the
fraction of its checks that passed. A test that fails with an AssertionError
or a StudentError counts against the student; any other exception is a bug in
the grader and stops grading loudly rather than give a wrong grade.
"""
import contextlib
import hashlib
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from .proxy import Student, StudentError, Worker

MAX_MESSAGES = 3


@dataclass
class ItemTally:
    passed: int = 0
    total: int = 0
    messages: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    notes: list = field(default_factory=list)


class GradingPlugin:
    def __init__(self, assignment, module_sources, seed, limits, item_filter=None):
        self.assignment = assignment
        self.module_sources = module_sources
        self.seed = seed
        self.limits = limits
        self.item_filter = item_filter
        self.tallies = {item.name: ItemTally() for item in assignment.items}
        self.grader_bugs = []
        self._worker = None
        self._worker_item = None
        self._dead = {}  # item -> reason, for failures not worth retrying
        self.import_failure = None  # the worker's report of the first import of the submission that failed
        self._budget_deadline = time.monotonic() + limits.total_s

    # -- workers ---------------------------------------------------------
    def _worker_for(self, item_name):
        if item_name in self._dead:
            raise StudentError(self._dead[item_name])
        if time.monotonic() >= self._budget_deadline:
            raise StudentError(f"not run: the time for grading this submission ({self.limits.total_s:g} s) ran out")
        if self._worker is not None and (self._worker_item != item_name or self._worker.dead_reason):
            self._worker.close()
            self._worker = None
        if self._worker is None:
            self._worker_item = item_name
            try:
                self._worker = Worker(self.module_sources, self.limits, self._budget_deadline)
            except StudentError as exc:
                self._dead[item_name] = str(exc)  # an import that fails once fails again
                self.import_failure = self.import_failure or str(exc)
                raise
        return self._worker

    def _note_death(self, item_name):
        if self._worker is not None and self._worker.timed_out:
            # Retrying after a timeout would cost another full timeout per check.
            self._dead[item_name] = "not run: an earlier call for this item timed out"

    def close(self):
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    # -- fixtures --------------------------------------------------------
    @pytest.fixture
    def student(self, request):
        item_name = _item_of(request.node)
        module = self.assignment.modules[0][:-3]
        return Student(lambda: self._worker_for(item_name), module)

    @pytest.fixture(scope="session")
    def worker_limits(self):
        """The limits the student's workers run under (a baseline worker can use the same)."""
        return self.limits

    @pytest.fixture
    def budget_paused(self):
        """with budget_paused(): time spent inside (waiting for a shared device) is not charged to the submission."""
        @contextlib.contextmanager
        def paused():
            start = time.monotonic()
            try:
                yield
            finally:
                self._budget_deadline += time.monotonic() - start
        return paused

    @pytest.fixture
    def stop_student_code(self):
        """stop_student_code(): end the current worker and everything it started (for timing baselines)."""
        return self.close

    @pytest.fixture
    def note(self, request):
        """note(text): a measurement shown in the item's feedback whether it passes or not."""
        tally = self.tallies[_item_of(request.node)]

        def add(text):
            if text not in tally.notes:
                tally.notes.append(str(text)[:300])
        return add

    @pytest.fixture
    def rng(self, request):
        digest = hashlib.sha256(request.node.nodeid.encode()).digest()
        return np.random.default_rng([self.seed, int.from_bytes(digest[:8], "little")])

    # -- hooks -----------------------------------------------------------
    def pytest_configure(self, config):
        config.addinivalue_line("markers", "item(name): the graded item a check belongs to")

    def pytest_collection_modifyitems(self, session, config, items):
        selected = []
        for test in items:
            name = _item_of(test)
            if name not in self.tallies:
                self.grader_bugs.append(f"{test.nodeid}: unknown or missing item marker {name!r}")
                continue
            if self.item_filter is None or name in self.item_filter:
                selected.append(test)
        items[:] = selected

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if call.when == "teardown" and not report.failed:
            return
        if call.when == "setup" and report.passed:
            return
        name = _item_of(item)
        tally = self.tallies[name]
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            tally.skipped.append(reason.removeprefix("Skipped: "))
            return
        if call.when == "teardown":
            self.grader_bugs.append(f"{item.nodeid}: teardown failed")
            return
        tally.total += 1
        if report.passed:
            tally.passed += 1
            return
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, StudentError):
            self._note_death(name)
            message = str(exc)
        elif isinstance(exc, AssertionError):
            message = str(exc).split("\nassert ")[0].strip() or "a check failed"
        else:
            self.grader_bugs.append(f"{item.nodeid}: {call.excinfo.exconly()[:500]}")
            message = "internal grader error"
        if message not in tally.messages:
            tally.messages.append(message)
        del tally.messages[MAX_MESSAGES:]


def _item_of(test):
    marker = test.get_closest_marker("item")
    return marker.args[0] if marker and marker.args else None

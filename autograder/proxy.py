"""The grader's side of the worker: start it, call into it, kill it.

A hidden test reads like ordinary code, ``student.sigmoid_prime(z)``, but the
call travels to the worker process as data and the answer comes back as data.
Anything that goes wrong on the student's side (exception, crash, exit,
timeout, garbage) becomes a ``StudentError`` whose message is one line of
feedback; the grader process itself is never at risk.
"""
import os
import select
import signal
import subprocess
import time

from . import sandbox, wire


class StudentError(Exception):
    """The student's code failed; the message is shown to the student as is."""


class Worker:
    """One running worker process over a scratch copy of a submission."""

    def __init__(self, module_sources, limits, budget_deadline=None):
        self.limits = limits
        self.budget_deadline = budget_deadline  # time.monotonic() at which the submission's time is up
        self.module_names = [os.path.splitext(m)[0] for m in module_sources]
        self.scratch = sandbox.Scratch(module_sources)
        argv, env = sandbox.worker_command(self.scratch, self.module_names, gpu=limits.gpu,
                                               blas_threads=limits.blas_threads)
        self._output = open(self.scratch.output_file, "wb")
        self.process = subprocess.Popen(
            argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._output,
            cwd=str(self.scratch.submission), start_new_session=True,
            preexec_fn=sandbox.apply_limits(limits),
        )
        os.set_blocking(self.process.stdin.fileno(), False)  # writes must never block the grader
        self._buffer = b""
        self.dead_reason = None
        self.timed_out = False  # a call ran past its limit: retrying would cost as much again
        reply = self._receive("importing the submission")
        if not reply.get("ok"):
            self.close()
            where = f" ({reply['where']})" if reply.get("where") else ""
            self.dead_reason = f"importing your module failed: {reply.get('error', '?')}{where}"
            raise StudentError(self.dead_reason)

    # -- low level -------------------------------------------------------
    def _kill(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if the kernel refuses
            pass

    def close(self):
        self._kill()
        for stream in (self.process.stdin, self.process.stdout, self._output):
            try:
                stream.close()
            except OSError:
                pass
        self.scratch.cleanup()

    def output_tail(self, limit=300):
        try:
            with open(self.scratch.output_file, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - limit))
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def _death_message(self, doing):
        code = self.process.wait()
        if code > 128 and sandbox.sandbox_available():
            code = -(code - 128)  # bubblewrap reports a child killed by signal N as 128 + N
        if code < 0:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = f"signal {-code}"
            if sig == "SIGXFSZ":
                why = f"was stopped: it printed more than {self.limits.output_bytes // 1024} KiB"
            elif sig in ("SIGKILL", "SIGXCPU"):
                why = f"was killed ({sig}: memory or CPU-time limit)"
            else:
                why = f"crashed with {sig}"
        else:
            why = f"exited with status {code}"
        return f"the process running your code {why} while {doing}.{self._crash_location()}"

    def _crash_location(self):
        """Where a crash happened, from the faulthandler dump in the worker's output."""
        lines = self.output_tail(4000).splitlines()
        for line in lines:
            if line.strip().startswith('File "/') and any(m in line for m in self.module_names):
                return " Crash at " + line.strip().replace('File "', "").replace('"', "")[:160]
        return f" Last output: {lines[-1][:160]!r}" if lines else ""

    def _receive(self, doing):
        deadline = time.monotonic() + self.limits.call_timeout_s
        budget_first = self.budget_deadline is not None and self.budget_deadline < deadline
        if budget_first:
            deadline = self.budget_deadline
        fd = self.process.stdout.fileno()
        chunks, size = [self._buffer], len(self._buffer)
        while b"\n" not in chunks[-1]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._kill()
                self.timed_out = True
                if budget_first:
                    self.dead_reason = (f"the time for grading this submission ({self.limits.total_s:g} s) "
                                        f"ran out while {doing}; your code is far too slow")
                else:
                    self.dead_reason = (f"no answer within {self.limits.call_timeout_s:g} s while {doing} "
                                        "(infinite loop or far too slow); the process was stopped")
                raise StudentError(self.dead_reason)
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self._kill()
                self.dead_reason = self._death_message(doing)
                raise StudentError(self.dead_reason)
            chunks.append(chunk)
            size += len(chunk)
            if size > self.limits.reply_bytes:
                self._kill()
                self.dead_reason = f"your code returned more than {self.limits.reply_bytes // 2**20} MiB while {doing}"
                raise StudentError(self.dead_reason)
        self._buffer = b"".join(chunks)
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return wire.loads(line)
        except wire.WireError as exc:
            self._kill()
            self.dead_reason = f"the worker sent a malformed answer while {doing} ({exc})"
            raise StudentError(self.dead_reason) from None

    # -- requests --------------------------------------------------------
    def _send(self, data, doing):
        """Write one request, giving up when the worker stops reading (a stopped process)."""
        deadline = time.monotonic() + self.limits.call_timeout_s
        if self.budget_deadline is not None:
            deadline = min(deadline, self.budget_deadline)
        fd = self.process.stdin.fileno()
        view = memoryview(data)
        try:
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._kill()
                    self.timed_out = True
                    self.dead_reason = f"the process running your code stopped reading while {doing}; it was stopped"
                    raise StudentError(self.dead_reason)
                _, writable, _ = select.select([], [fd], [], remaining)
                if writable:
                    try:
                        view = view[os.write(fd, view[:1 << 16]):]
                    except BlockingIOError:
                        continue
        except OSError:  # BrokenPipeError: the worker is gone
            self._kill()
            self.dead_reason = self._death_message(doing)
            raise StudentError(self.dead_reason) from None

    def request(self, message, doing):
        if self.dead_reason:
            raise StudentError(self.dead_reason)
        self._send(wire.dumps(message), doing)
        reply = self._receive(doing)
        if reply.get("ok") is not True:
            where = reply.get("where")
            where = f" ({where})" if isinstance(where, str) and where else ""
            raise StudentError(f"{doing} raised {str(reply.get('error', '?'))[:300]}{where}")
        return reply


class Result:
    """What one call returned, as plain checked data."""

    def __init__(self, value, args, warnings, transfers=None, digest=None):
        self.value = value
        self.args = args
        self.warnings = warnings
        self.transfers = transfers  # {"to_host": n, "to_device": n} during the call, when asked
        self.digest = digest        # float64 sums of the object's arrays after the call, when asked


def _encode_arguments(args, kwargs):
    return {"args": [wire.encode(a) for a in args], "kwargs": {k: wire.encode(v) for k, v in kwargs.items()}}


def _describe_call(name, args, kwargs):
    def short(v):
        shape = getattr(v, "shape", None)
        if shape is not None and shape != ():
            return f"<array of shape {tuple(shape)}>"
        if isinstance(v, wire.FunctionSpec):
            return "f"
        if isinstance(v, wire.Pick):
            return f"<{len(v.indices)} examples>"
        if isinstance(v, wire.ArrayModule):
            return v.name
        if isinstance(v, wire.Ref):
            return "<data sent earlier>"
        if isinstance(v, wire.OnDevice):
            return short(v.value)
        if isinstance(v, wire.FixedShuffles):
            return "rng"
        if isinstance(v, (list, tuple)):
            return f"<{type(v).__name__} of {len(v)}>"
        if isinstance(v, (float, int)) or hasattr(v, "item"):
            return f"{float(v):.4g}"
        return repr(v)
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    text = f"{name}({', '.join(parts)})"
    return text if len(text) < 120 else text[:117] + "..."


def _checked_extras(message, reply):
    transfers = digest = None
    if message.get("count_transfers"):
        transfers = reply.get("transfers")
        if (not isinstance(transfers, dict) or set(transfers) != {"to_host", "to_device"}
                or any(type(n) is not int or n < 0 for n in transfers.values())):
            raise wire.WireError("transfer counts missing or malformed")
        if reply.get("counters_intact") is not True:
            raise StudentError("your code replaced CuPy's copy functions (ndarray.get, ndarray.set, cupy.asarray "
                               "or cupy.array), so the copies between host and device cannot be counted")
    if message.get("digest"):
        digest = reply.get("digest")
        if not isinstance(digest, list) or any(type(x) is not float for x in digest):
            raise wire.WireError("digest missing or malformed")
    return transfers, digest


class Student:
    """Proxy for the student's module: ``student.relu(z)`` calls into the worker.

    ``student.call(name, *args, return_args=True)`` gives a ``Result`` with the
    arguments as the function left them (to check inputs were not modified)
    and the warnings it emitted. Objects stay in the worker: ``student.new``
    (or ``call(..., keep=True)``) gives a ``RemoteObject`` whose methods and
    attributes are reached the same way; ``student.store(array)`` puts an
    array in the worker to be changed in place there and ``fetch``-ed back.
    """

    def __init__(self, worker_source, module):
        self._worker_source = worker_source  # a callable returning a live Worker
        self._module = module

    def _request(self, message, doing, return_args=False):
        worker = self._worker_source()
        try:
            reply = worker.request(message, doing)
            value = wire.decode(reply.get("value"))
            returned_args = [wire.decode(a) for a in reply.get("args", [])] if return_args else None
            warns = reply.get("warnings", [])
            if not isinstance(warns, list):
                raise wire.WireError("warnings is not a list")
            warns = [f"{w.get('category', '?')}: {w.get('message', '')}"[:200]
                     for w in warns if isinstance(w, dict)]
            transfers, digest = _checked_extras(message, reply)
        except wire.WireError as exc:
            worker._kill()
            worker.dead_reason = f"the worker sent a malformed answer while {doing} ({exc})"
            raise StudentError(worker.dead_reason) from None
        return Result(value, returned_args, warns, transfers, digest)

    def _call(self, target, name, args, kwargs, return_args=False, keep=False, extra=None):
        message = {"op": "call", **target, "attr": name, **_encode_arguments(args, kwargs),
                   "return_args": return_args, "keep": keep, **(extra or {})}
        return self._request(message, _describe_call(name, args, kwargs), return_args)

    def gpu_probe(self):
        """{"available", "reason", "device", "stand_in"}: whether this worker computes on a GPU."""
        probe = self._request({"op": "gpu_probe"}, "probing the GPU").value
        if not isinstance(probe, dict) or type(probe.get("available")) is not bool:
            raise StudentError("the GPU probe gave a malformed answer")
        return probe

    def call(self, name, *args, return_args=False, keep=False, **kwargs):
        return self._call({"module": self._module}, name, args, kwargs, return_args, keep)

    def new(self, class_name, *args, **kwargs):
        """Construct ``class_name(*args, **kwargs)`` in the worker; returns a RemoteObject."""
        ref = self.call(class_name, *args, keep=True, **kwargs).value
        if not isinstance(ref, wire.Ref):
            raise StudentError(f"{class_name}(...) did not give an object")
        return RemoteObject(self, ref)

    def store(self, value):
        """Keep ``value`` (e.g. an array to be updated in place) in the worker; returns its Ref."""
        return self._request({"op": "store", "value": wire.encode(value)}, "storing a value").value

    def fetch(self, ref, attr=None):
        doing = f"reading {ref.type_name or 'a value'}" + (f".{attr}" if attr else "")
        return self._request({"op": "get", "ref": ref.ref_id, "attr": attr}, doing).value

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs).value


class RemoteObject:
    """A student object living in the worker: ``obj.step(grads)``, ``obj.get("weights")``."""

    def __init__(self, student, ref):
        self._student = student
        self.ref = ref

    def call(self, method, *args, return_args=False, count_transfers=False, digest=None, **kwargs):
        """``count_transfers``: also count host/device copies during the call (``Result.transfers``);
        ``digest``: attribute names whose arrays are summed right after the call (``Result.digest``)."""
        extra = {"count_transfers": count_transfers, "digest": list(digest or [])}
        return self._student._call({"ref": self.ref.ref_id}, method, args, kwargs, return_args, extra=extra)

    def call_many(self, method, calls):
        """Call ``method`` once per (args, kwargs) in ``calls``, in one request; returns the last value."""
        message = {"op": "call_many", "ref": self.ref.ref_id, "attr": method,
                   "calls": [_encode_arguments(args, kwargs) for args, kwargs in calls]}
        doing = f"{len(calls)} calls of " + (_describe_call(method, *calls[0]) if calls else method)
        return self._student._request(message, doing).value

    def get(self, attr):
        return self._student.fetch(self.ref, attr)

    def set(self, attr, value):
        self._student._request({"op": "set", "ref": self.ref.ref_id, "attr": attr, "value": wire.encode(value)},
                               f"setting .{attr}")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs).value

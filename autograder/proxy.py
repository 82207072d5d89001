"""The grader's side of the worker: start it, call into it, kill it.

A hidden test reads like ordinary code, ``student.sigmoid_prime(z)``, but the
call travels to the worker process as data and the answer comes back as data.
Anything that goes wrong on the student's side (exception, crash, exit,
timeout, garbage) becomes a ``StudentError`` whose message is one line of
feedback; the grader process itself is never at risk.
"""
import os
import secrets
import select
import signal
import subprocess
import time

from . import cgroups, sandbox, wire, worker_guard


LOG_LIMIT = 64 * 1024  # bytes of worker_guard records between two requests (an honest request writes ~100)


class StudentError(Exception):
    """The student's code failed; the message is shown to the student as is."""


class MissingNameError(StudentError):
    """The submission has no function, class, method or attribute called ``name`` (the one asked for).

    The message is the one any failed call gives (``relu(...) raised AttributeError: module ...
    has no attribute 'relu'``); the type lets a check say "write it" without reading that text."""

    def __init__(self, message, name):
        super().__init__(message)
        self.name = name


class Worker:
    """One running worker process over a scratch copy of a submission."""

    def __init__(self, module_sources, limits, budget_deadline=None):
        self.limits = limits
        self.budget_deadline = budget_deadline  # time.monotonic() at which the submission's time is up
        self.module_names = [os.path.splitext(m)[0] for m in module_sources]
        self.scratch = sandbox.Scratch(module_sources)
        self.box = cgroups.ProcessBox(limits.max_processes, limits.worker_memory_bytes)
        self._log_key = secrets.token_bytes(32)
        self._log_read, log_write = os.pipe()
        os.set_blocking(self._log_read, False)
        self._log_bytes, self._log_sequence = b"", 1
        self.log_problem = None   # set for good once the log shows tampering
        self.last_records = []    # log records of the last request: [(kind, intact, to_host, to_device)]
        argv, env = sandbox.worker_command(self.scratch, self.module_names, log_write, gpu=limits.gpu,
                                           blas_threads=limits.blas_threads)
        self._output = open(self.scratch.output_file, "wb")
        try:
            self.process = subprocess.Popen(
                argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._output,
                cwd=str(self.scratch.submission), start_new_session=True, pass_fds=(log_write,),
                preexec_fn=sandbox.apply_limits(limits, self.box),
            )
        finally:
            os.close(log_write)
        os.set_blocking(self.process.stdin.fileno(), False)  # writes must never block the grader
        self._buffer = b""
        self.dead_reason = None
        self.timed_out = False  # a call ran past its limit: retrying would cost as much again
        try:
            self._start()
        except StudentError:
            self.close()  # nobody else holds this worker: its process, cgroup and scratch folder go now
            raise

    def _start(self):
        """Hand the worker its log key and wait until it has imported the submission."""
        self._send((self._log_key.hex() + "\n").encode("ascii"), "starting")
        reply = self._receive("importing the submission")
        try:
            check_reply(reply)
        except wire.WireError as exc:
            raise self.stop(f"the worker sent a malformed answer while importing the submission ({exc})") from None
        if not reply.get("ok"):
            where = f" ({reply['where']})" if reply.get("where") else ""
            raise self.stop(f"importing your module failed: {reply.get('error', '?')}{where}")

    # -- low level -------------------------------------------------------
    def _kill(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.box.kill_all()  # what left the process group (setsid, double fork) is still in the box
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if the kernel refuses
            pass

    def stop(self, reason, timed_out=False):
        """The one way a worker fails: end it for good (every later request fails with ``reason``) and
        return the StudentError to raise. ``timed_out``: a call ran past its limit (retrying would cost
        as much again)."""
        self._kill()
        self.dead_reason = reason
        self.timed_out = self.timed_out or timed_out
        return StudentError(reason)

    def close(self):
        self._kill()
        self.box.close()
        for stream in (self.process.stdin, self.process.stdout, self._output):
            try:
                stream.close()
            except OSError:
                pass
        if self._log_read is not None:
            os.close(self._log_read)
            self._log_read = None
        self.scratch.cleanup()

    def share(self, array):
        """A wire.SharedArray holding ``array``, in this worker's shared folder."""
        try:
            with self.scratch.shared_writable():
                return wire.SharedArray(self.scratch.shared, array)
        except OSError as exc:  # the folder is the worker's too: whatever it did there costs this item only
            raise self.stop(f"the grader could not share an array with your code ({exc.strerror})") from None

    def _read_log(self):
        """The log records written since the last read (worker_guard); tampering is remembered.

        An honest request writes a few records; a worker that writes more than LOG_LIMIT bytes between
        two reads is flooding the grader, and its log is no longer read (nor trusted)."""
        if self._log_read is None:
            return []
        while len(self._log_bytes) <= LOG_LIMIT:
            try:
                chunk = os.read(self._log_read, LOG_LIMIT + 1 - len(self._log_bytes))
            except BlockingIOError:
                break
            if not chunk:
                break
            self._log_bytes += chunk
        if len(self._log_bytes) > LOG_LIMIT:
            os.close(self._log_read)
            self._log_read, self._log_bytes = None, b""
            self.log_problem = self.log_problem or "your code flooded the grader's log"
            return []
        records, self._log_sequence, problem = worker_guard.read_records(
            self._log_bytes, self._log_key, self._log_sequence)
        self._log_bytes = self._log_bytes[len(records) * worker_guard.RECORD.size:]
        if problem and not self.log_problem:
            self.log_problem = problem
        for kind, detail, _, _ in records:
            if kind == worker_guard.TAMPER and not self.log_problem:
                event = worker_guard.TAMPER_EVENTS[detail] if detail < len(worker_guard.TAMPER_EVENTS) else "?"
                self.log_problem = f"your code used {event} while being graded"
        return records

    def output_tail(self, limit=300):
        try:
            with open(self.scratch.output_file, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - limit))
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def _death_message(self, doing):
        self._kill()  # a worker that closed its output may still run: wait() must not hang
        code = self.process.wait()
        if code > 128 and sandbox.sandbox_available():
            code = -(code - 128)  # bubblewrap reports a child killed by signal N as 128 + N
        if code < 0:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = f"signal {-code}"
            if self.box.memory_limit_hit():
                why = (f"was killed: it used more than {self.limits.worker_memory_bytes >> 20} MiB of memory "
                       "(shared memory and temporary files included)")
            elif sig == "SIGXFSZ":
                why = f"was stopped: it printed more than {self.limits.output_bytes // 1024} KiB"
            elif sig in ("SIGKILL", "SIGXCPU"):
                why = f"was killed ({sig}: memory or CPU-time limit)"
            else:
                why = f"crashed with {sig}"
        else:
            why = f"exited with status {code}"
        if self.box.process_limit_hit():
            why += f" (it tried to run more than {self.limits.max_processes} processes or threads)"
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
                if budget_first:
                    raise self.stop(f"the time for grading this submission ({self.limits.total_s:g} s) "
                                    f"ran out while {doing}; your code is far too slow", timed_out=True)
                raise self.stop(f"no answer within {self.limits.call_timeout_s:g} s while {doing} "
                                "(infinite loop or far too slow); the process was stopped", timed_out=True)
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise self.stop(self._death_message(doing))
            chunks.append(chunk)
            size += len(chunk)
            if size > self.limits.reply_bytes:
                raise self.stop(f"your code returned more than {self.limits.reply_bytes // 2**20} MiB while {doing}")
        self._buffer = b"".join(chunks)
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return wire.loads(line)
        except wire.WireError as exc:
            raise self.stop(f"the worker sent a malformed answer while {doing} ({exc})") from None

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
                    raise self.stop(f"the process running your code stopped reading while {doing}; "
                                    "it was stopped", timed_out=True)
                _, writable, _ = select.select([], [fd], [], remaining)
                if writable:
                    try:
                        view = view[os.write(fd, view[:1 << 16]):]
                    except BlockingIOError:
                        continue
        except OSError:  # BrokenPipeError: the worker is gone
            raise self.stop(self._death_message(doing)) from None

    def request(self, message, doing):
        if self.dead_reason:
            raise StudentError(self.dead_reason)
        self._read_log()
        self._send(wire.dumps(message), doing)
        reply = self._receive(doing)
        self.last_records = self._read_log()
        try:
            check_reply(reply)
        except wire.WireError as exc:
            raise self.stop(f"the worker sent a malformed answer while {doing} ({exc})") from None
        if reply.get("ok") is not True:
            where = reply.get("where")
            where = f" ({where})" if isinstance(where, str) and where else ""
            text = f"{doing} raised {str(reply.get('error', '?'))[:300]}{where}"
            if "missing" in reply and reply["missing"] == message.get("attr"):  # the very name asked for
                raise MissingNameError(text, reply["missing"])
            raise StudentError(text)
        return reply


# Every field a reply may have, with its type; values inside are checked again by wire.decode.
REPLY_FIELDS = {"ok": bool, "ready": bool, "value": dict, "args": list, "warnings": list, "digest": list,
                "error": str, "where": str, "phase": str, "missing": str}


def check_reply(reply):
    """Raise wire.WireError unless ``reply`` has exactly the shape the worker's replies have."""
    for key, value in reply.items():
        expected = REPLY_FIELDS.get(key)
        if expected is None:
            raise wire.WireError(f"unexpected field {key[:40]!r}")
        if type(value) is not expected:
            raise wire.WireError(f"field {key!r} holds a {type(value).__name__}")
    if "ok" not in reply:
        raise wire.WireError("no ok field")
    for warning in reply.get("warnings", []):
        if (type(warning) is not dict or set(warning) != {"category", "message"}
                or any(type(v) is not str for v in warning.values())):
            raise wire.WireError("a warning is not a category and a message")
    if any(type(x) is not float for x in reply.get("digest", [])):
        raise wire.WireError("digest holds something other than floats")


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
    """How a call reads in feedback: ``relu(<array of shape (3, 2)>)``, at most 120 characters."""
    def short(v):
        if isinstance(v, wire.WireType):  # a wire type says how it reads, or reads as any other value
            said = v.describe(short)
            if said is not None:
                return said
        shape = getattr(v, "shape", None)
        if shape is not None and shape != ():
            return f"<array of shape {tuple(shape)}>"
        if isinstance(v, (list, tuple)):
            return f"<{type(v).__name__} of {len(v)}>"
        if isinstance(v, (float, int)) or hasattr(v, "item"):
            return f"{float(v):.4g}"
        return repr(v)
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    text = f"{name}({', '.join(parts)})"
    return text if len(text) < 120 else text[:117] + "..."


def _counted_transfers(worker):
    """{"to_host", "to_device"} copies during the last request, from the worker's log (worker_guard):
    exactly the grader's own begin and end, with the counting wrappers still in place."""
    if worker.log_problem:
        raise StudentError(f"{worker.log_problem}, so the grader cannot count the copies between host and device")
    kinds = [record[0] for record in worker.last_records]
    if kinds != [worker_guard.BEGIN, worker_guard.END]:
        raise StudentError("the grader's count of copies between host and device was interfered with "
                           "(its begin and end marks are not as the grader made them)")
    _, intact, to_host, to_device = worker.last_records[-1]
    if not intact:
        raise StudentError("your code replaced CuPy's copy functions (ndarray.get, ndarray.set, cupy.asarray "
                           "or cupy.array), so the copies between host and device cannot be counted")
    return {"to_host": to_host, "to_device": to_device}


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
            if return_args and len(returned_args) != len(message.get("args", [])):
                raise wire.WireError("not as many arguments back as were sent")
            warns = [f"{w['category']}: {w['message']}"[:200] for w in reply.get("warnings", [])]
            if message.get("digest") and "digest" not in reply:
                raise wire.WireError("no digest")
            digest = reply.get("digest")
        except wire.WireError as exc:
            raise worker.stop(f"the worker sent a malformed answer while {doing} ({exc})") from None
        transfers = _counted_transfers(worker) if message.get("count_transfers") else None
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

    def share(self, array):
        """Put a float ``array`` in memory the grader shares with the worker; returns a wire.SharedArray.

        Passed to student code it arrives as a plain ndarray on that memory; ``.read()`` gives the
        grader the values as they are now, read by the grader itself (an in-place update shows, a
        rebinding does not, and nothing in the worker can change what is read)."""
        return self._worker_source().share(array)

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

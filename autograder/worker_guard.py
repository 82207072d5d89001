"""The worker's tamper-evident log: what the grader learns from inside the worker without trusting it.

Student code runs in the worker's interpreter and can rewrite any table,
counter or reply function there. What a grade rests on is therefore either
checked by the grader from data it owns, or recorded here, where student code
cannot undo it:

* An audit hook (PEP 578) is installed before any student code is imported.
  Audit hooks cannot be removed, and this one is referenced only by the
  interpreter: no module attribute, no object student code can list without
  raising an event the hook records first.
* It writes fixed-size records, authenticated with a key that only the hook
  and the grader know (read from the protocol channel before any student
  code exists), to a pipe whose other end only the grader holds. A record
  cannot be taken back, changed or forged; sequence numbers show a gap.
* It counts host/device copies between a begin and an end event raised by the
  worker around a counted call, and at the end checks that the counting
  wrappers are still in place. The grader accepts a call's counts only if it
  sees exactly its own begin and end, with nothing tampered in between.
* Introspection that could reach the hook or its key (garbage-collector
  walks, frame tracing and profiling, ctypes, /proc/<pid>/mem) is recorded as
  tampering when student code uses it, so counts after it are not trusted.

The worker copies CuPy's functions into the hook and replaces them with
wrappers that ask the hook to make the call: the wrappers hold no original,
so there is no uncounted copy of them to call (CuPy's internal classes remain
reachable; the README says what that leaves open).
"""
import hashlib
import os
import struct
import sys

RECORD = struct.Struct("<QBBII16s")  # sequence, kind, intact, to_host, to_device, MAC
BEGIN, END, TAMPER = 1, 2, 3
EVENT_BEGIN = "nn_course.count_begin"
EVENT_END = "nn_course.count_end"
EVENT_COPY = "nn_course.copy"
EVENT_LOCK = "nn_course.student_code_next"
# Recorded as tampering once student code may run: these reach objects (the hook, its key) or
# memory that nothing else can. The index in TAMPER_EVENTS travels in the record, for feedback.
TAMPER_EVENTS = ("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
                 "sys.settrace", "sys.setprofile", "ctypes.dlopen", "ctypes.dlsym", "ctypes.addressof",
                 "ctypes.string_at", "ctypes.wstring_at", "ctypes.cdata", "ctypes.cdata/buffer",
                 "open /proc/<pid>/mem", "a counting wrapper's class was changed",
                 "a malformed event of the grader's",
                 # Only while the hook itself is making a copy (student code reached from inside it):
                 "sys._getframe", "object.__getattr__")
FRAME_EVENTS = ("sys._getframe", "object.__getattr__")


def mac(key, sequence, kind, intact, to_host, to_device):
    body = struct.pack("<QBBII", sequence, kind, intact, to_host, to_device)
    return hashlib.blake2b(body, key=key, digest_size=16).digest()


def install(log_fd, key, wrapped, device_type=None, host_types=()):
    """Start the log. ``wrapped``: [(owner, name, original, rule)] for the copy functions to count; each
    gets a wrapper that calls the original through the hook. ``rule`` says which calls are copies:
    "always", "first_on_host" (the first argument is not a ``device_type``: cupy.asarray of host data) or
    "value_on_host" (``__setitem__`` with a ``host_types`` value). Returns nothing the caller keeps."""
    write, blake2b, pack = os.write, hashlib.blake2b, struct.Struct("<QBBII").pack
    record = RECORD.pack
    table = {}     # (id(owner), name) -> (original, rule, direction): the only place the originals are kept
    wrappers = {}
    state = {"sequence": 0, "depth": 0, "to_host": 0, "to_device": 0, "student": False, "inside": 0}

    def emit(kind, detail=1):
        state["sequence"] += 1
        body = pack(state["sequence"], kind, detail, state["to_host"], state["to_device"])
        digest = blake2b(body, key=key, digest_size=16).digest()
        try:
            write(log_fd, record(state["sequence"], kind, detail, state["to_host"], state["to_device"], digest))
        except OSError:
            pass  # the grader sees the gap

    def intact():
        return all(getattr(owner, name, None) is wrappers[(id(owner), name)] for owner, name, _, _ in wrapped)

    def is_copy(rule, first, rest):
        # type() and issubclass only: nothing here may run student code (an __instancecheck__, a __class__).
        if rule == "always":
            return True
        if rule == "first_on_host":
            return device_type is None or not issubclass(type(first), device_type)
        return len(rest) >= 2 and issubclass(type(rest[1]), host_types)

    def copy(args):
        """A wrapper's request: count it (from the hook's own table, never from the event), then copy."""
        if type(args) is not tuple or len(args) != 5:
            raise TypeError
        slot, box, first, rest, kwargs = args
        if (type(slot) is not tuple or len(slot) != 2 or type(slot[0]) is not int or type(slot[1]) is not str
                or type(box) is not list or type(rest) is not tuple or type(kwargs) is not dict):
            raise TypeError
        function, rule, direction = table[slot]
        if state["depth"] > 0 and is_copy(rule, first, rest):
            state[direction] += 1
        try:
            box.append((True, function(first, *rest, **kwargs)))
        except BaseException as exc:  # without its traceback, which holds this frame
            box.append((False, exc.with_traceback(None)))

    def tampered(event, args):
        if event in FRAME_EVENTS:
            return state["inside"] > 0 and event
        if event in TAMPER_EVENTS:
            return event
        if event == "object.__setattr__" and any(args[0] is owner for owner, _, _, _ in wrapped):
            return "a counting wrapper's class was changed"
        if event == "open" and type(args[0]) is str and args[0].startswith("/proc/") and args[0].endswith("/mem"):
            return "open /proc/<pid>/mem"
        return None

    def handle(event, args):
        if event == EVENT_COPY:
            state["inside"] += 1  # student code the copy reaches (an __array__, say) runs inside this frame
            try:
                copy(args)
            finally:
                state["inside"] -= 1
        elif event == EVENT_BEGIN:
            state["depth"] += 1
            state["to_host"] = state["to_device"] = 0
            emit(BEGIN)
        elif event == EVENT_END:
            state["depth"] = max(0, state["depth"] - 1)
            emit(END, int(intact()))
        elif event == EVENT_LOCK:
            state["student"] = True
        elif state["student"]:
            which = tampered(event, args)
            if which:
                emit(TAMPER, TAMPER_EVENTS.index(which))

    def hook(event, args):
        # Nothing may leave this frame: an exception's traceback would hand student code its locals.
        try:
            if type(event) is str:
                handle(event, args)
        except BaseException:
            emit(TAMPER, TAMPER_EVENTS.index("a malformed event of the grader's"))

    for owner, name, original, rule in wrapped:
        direction = "to_host" if name == "get" else "to_device"
        table[(id(owner), name)] = (original, rule, direction)
        wrappers[(id(owner), name)] = _make_wrapper((id(owner), name))
        setattr(owner, name, wrappers[(id(owner), name)])
    sys.addaudithook(hook)


def _make_wrapper(slot):
    audit = sys.audit

    def counted(first, *args, **kwargs):
        box = []
        audit(EVENT_COPY, slot, box, first, args, kwargs)
        ok, value = box[0]
        if not ok:
            raise value
        return value
    return counted


def read_records(data, key, expected_sequence):
    """Parse log bytes from the worker. Returns (records, next sequence, problem or None);
    each record is (kind, intact, to_host, to_device)."""
    records = []
    usable = len(data) - len(data) % RECORD.size
    for offset in range(0, usable, RECORD.size):
        sequence, kind, intact, to_host, to_device, digest = RECORD.unpack_from(data, offset)
        if digest != mac(key, sequence, kind, intact, to_host, to_device):
            return records, expected_sequence, "a record of the grader's log was forged"
        if sequence != expected_sequence:
            return records, expected_sequence, "records of the grader's log are missing"
        expected_sequence += 1
        records.append((kind, intact, to_host, to_device))
    return records, expected_sequence, None

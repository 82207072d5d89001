"""The wire format accepts only plain data; hostile payloads are refused, never executed."""
import base64
import io
import json
import pickle

import numpy as np
import pytest

from autograder import wire


def roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


@pytest.mark.parametrize("value", [None, True, 3, 2.5, "text", [1, 2.0], (1, "a"), {"k": 1.5}])
def test_plain_values_roundtrip(value):
    assert roundtrip(value) == value


def test_arrays_keep_dtype_shape_and_values():
    for array in [np.arange(6.0).reshape(2, 3), np.float32([1.5]), np.array(7), np.zeros((0, 3))]:
        back = roundtrip(array)
        assert back.dtype == array.dtype and back.shape == array.shape
        assert np.array_equal(back, array)


def test_numpy_scalars_stay_numpy_scalars():
    back = roundtrip(np.float64(0.25))
    assert back == 0.25 and isinstance(back, np.float64)


def test_unknown_objects_become_unsupported():
    class Liar:
        def __eq__(self, other):
            return True
    back = roundtrip(Liar())
    assert isinstance(back, wire.Unsupported) and back.type_name == "Liar"
    assert isinstance(roundtrip(np.array([object()])), wire.Unsupported)


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return base64.b64encode(buffer.getvalue()).decode()


class Boom:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("payload", [
    {"t": "ndarray", "npy": _npy(np.array([Boom()], dtype=object), allow_pickle=True)},
    {"t": "ndarray", "npy": base64.b64encode(pickle.dumps(Boom())).decode()},
    {"t": "ndarray", "npy": "not base64!"},
    {"t": "ndarray", "npy": _npy(np.array(["a", "b"]))},
    {"t": "npscalar", "npy": _npy(np.arange(3.0))},
    {"t": "float", "v": "0.25"},
    {"t": "int", "v": 1.5},
    {"t": "list", "v": "nope"},
    {"t": "mystery"},
    {"t": "fn", "name": "cubic", "params": {"t": "dict", "v": {}}},
    ["not", "a", "dict"],
])
def test_hostile_payloads_are_refused(payload, capsys):
    with pytest.raises(wire.WireError):
        wire.decode(payload)
    assert "must never run" not in capsys.readouterr().out


def test_deep_nesting_is_refused():
    data = {"t": "none"}
    for _ in range(wire.MAX_DEPTH + 2):
        data = {"t": "list", "v": [data]}
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_loads_rejects_non_objects():
    for line in [b"[1, 2]", b"\xff\xfe", b"{not json"]:
        with pytest.raises(wire.WireError):
            wire.loads(line)


def test_device_arrays_arrive_as_checked_host_copies():
    back = roundtrip(wire.DeviceArray(np.float32([[1.0, 2.0]]), "cupy"))
    assert isinstance(back, wire.DeviceArray) and back.module == "cupy"
    assert back.array.dtype == np.float32 and np.array_equal(back.array, [[1.0, 2.0]])


def test_a_device_array_with_a_hostile_payload_is_refused():
    payload = base64.b64encode(pickle.dumps(np.array([object()]))).decode()
    with pytest.raises(wire.WireError):
        wire.decode({"t": "devarray", "xp": "cupy", "npy": payload})


def test_grader_side_decoding_never_resolves_device_requests():
    # Array modules, device placement and generators are built only in the worker (with resolve).
    for data in ({"t": "xp", "name": "cupy"}, {"t": "ondevice", "xp": "numpy", "v": {"t": "none"}},
                 {"t": "shuffles", "xp": "numpy", "orders": []}):
        with pytest.raises(wire.WireError):
            wire.decode(data)


def test_only_known_array_modules_travel():
    with pytest.raises(wire.WireError):
        wire.ArrayModule("os")
    resolved = []
    with pytest.raises(wire.WireError):  # refused before the worker's resolver sees the name
        wire.decode({"t": "xp", "name": "subprocess"}, resolve=lambda kind, key: resolved.append(key))
    assert not resolved


def test_worker_side_requests_resolve_as_tagged():
    seen = []

    def resolve(kind, key):
        seen.append((kind, key if kind != "shuffles" else (key[0], [o.tolist() for o in key[1]])))
        return kind
    order = np.array([2, 0, 1])
    for value in (wire.ArrayModule("cupy"), wire.OnDevice([np.ones(2)], "numpy"), wire.FixedShuffles("cupy", [order])):
        wire.decode(json.loads(json.dumps(wire.encode(value))), resolve=resolve)
    assert seen[0] == ("xp", "cupy")
    assert seen[1][0] == "ondevice" and seen[1][1][0] == "numpy" and np.array_equal(seen[1][1][1][0], np.ones(2))
    assert seen[2] == ("shuffles", ("cupy", [[2, 0, 1]]))


# ---------------------------------------------------------------- the registry of wire types
def test_a_new_wire_type_is_one_class():
    @wire.wire_type
    class Scaled(wire.WireType):
        tag = "test_scaled"
        worker_only = True

        def __init__(self, array, factor):
            self.array, self.factor = array, factor

        def to_wire(self, encode):
            return {"t": self.tag, "v": encode(self.array), "k": self.factor}

        @classmethod
        def from_wire(cls, data, decode, resolve):
            if type(data.get("k")) is not float:
                raise wire.WireError("no factor")
            return resolve(cls.tag, (decode(data.get("v")), data["k"]))

        @classmethod
        def in_worker(cls, key, worker):
            return key[0] * key[1]

    try:
        data = json.loads(json.dumps(wire.encode([Scaled(np.ones(2), 3.0)])))
        worker_side = wire.decode(data, resolve=lambda kind, key: wire.registered_type(kind).in_worker(key, None))
        assert np.array_equal(worker_side[0], [3.0, 3.0])
        with pytest.raises(wire.WireError, match="unknown value tag"):  # never built from a reply
            wire.decode(data)
        with pytest.raises(ValueError):  # a tag is registered once
            wire.wire_type(type("Again", (wire.WireType,), {"tag": "test_scaled"}))
    finally:
        wire._TYPES_BY_TAG.pop("test_scaled", None)


def test_the_data_set_types_are_still_importable_from_wire():
    from autograder import wire_datasets
    from autograder.wire import ColumnPairs, FixedShuffles, Pick
    assert (ColumnPairs, FixedShuffles, Pick) == (wire_datasets.ColumnPairs, wire_datasets.FixedShuffles,
                                                 wire_datasets.Pick)


def test_a_wire_class_the_worker_subclasses_still_encodes_as_the_registered_class():
    class Sneaky(wire.Ref):
        def to_wire(self, encode):
            return {"t": "ref", "id": 999}
    assert wire.encode(Sneaky(3)) == {"t": "ref", "id": 3}

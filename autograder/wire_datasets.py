"""Wire types for the course's data sets: how the grader hands student code training data.

Registered in wire.py's table (``@wire_type``) like the general types there; this
file is copied next to the worker with wire.py and, like it, needs only the
standard library and NumPy. All three are requests the grader makes: none is
ever built from something the worker sent.
"""
import numpy as np

if __package__:
    from .wire import WireError, WireType, b64_to_array, array_to_b64, place_on_device, wire_type, ARRAY_MODULES
else:  # in the worker, where wire.py is a top-level module
    from wire import WireError, WireType, b64_to_array, array_to_b64, place_on_device, wire_type, ARRAY_MODULES


@wire_type
class ColumnPairs(WireType):
    """A data set sent as two arrays and received as Nielsen's list of (x, y) column pairs.

    ``X`` (n_in, m) and ``Y`` (n_out, m) travel as two arrays (fast); the other
    side gets ``[(X[:, i:i+1], Y[:, i:i+1]) for i in range(m)]``, each a float64
    copy. Images can travel as bytes: with ``x_divisor`` the other side uses
    ``X / x_divisor``, bit for bit what the sender computes from the same bytes.
    """

    tag = "pairs"
    worker_only = True  # sent by the grader only: never built from a reply

    def __init__(self, X, Y, x_divisor=1.0):
        self.X = np.asarray(X)
        self.Y = np.asarray(Y)
        self.x_divisor = float(x_divisor)

    def to_wire(self, encode):
        return {"t": "pairs", "x": array_to_b64(self.X), "y": array_to_b64(self.Y), "div": self.x_divisor}

    @classmethod
    def from_wire(cls, data, decode, resolve):
        X, Y, divisor = b64_to_array(data.get("x")), b64_to_array(data.get("y")), data.get("div", 1.0)
        if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1] or type(divisor) is not float:
            raise WireError("column pairs need two 2-d arrays with as many columns and a float divisor")
        X, Y = X / divisor, Y.astype(np.float64)
        return [(X[:, i:i + 1].copy(), Y[:, i:i + 1].copy()) for i in range(X.shape[1])]


@wire_type
class Pick(WireType):
    """Some items of a list stored in the worker (``student.store``), picked by index.

    Lets the grader hand student code a mini-batch of a large data set that
    was sent once, by sending only the indices.
    """

    tag = "pick"
    worker_only = True

    def __init__(self, ref, indices):
        self.ref_id = ref.ref_id
        self.indices = [int(i) for i in indices]

    def to_wire(self, encode):
        return {"t": "pick", "id": self.ref_id, "idx": self.indices}

    @classmethod
    def from_wire(cls, data, decode, resolve):
        indices = data.get("idx")
        if type(data.get("id")) is not int or not isinstance(indices, list) or any(type(i) is not int for i in indices):
            raise WireError("pick without an integer id and integer indices")
        return resolve("pick", (data["id"], indices))

    @classmethod
    def in_worker(cls, key, worker):
        ref_id, indices = key
        items = worker.stored(ref_id)
        if type(items) is not list or not all(0 <= i < len(items) for i in indices):
            raise WireError("pick from something that is not a stored list, or out of range")
        return [items[i] for i in indices]

    def describe(self, short):
        return f"<{len(self.indices)} examples>"


@wire_type
class FixedShuffles(WireType):
    """A random generator for student code whose ``permutation(n)`` returns the grader's orders.

    Built in the worker from index arrays placed on the device of ``module``
    when it is made, so handing out an order is no host-to-device copy, and
    the grader knows which order each epoch used.
    """

    tag = "shuffles"
    worker_only = True

    def __init__(self, module, orders):
        if module not in ARRAY_MODULES:
            raise WireError(f"unknown array module {module!r}")
        self.module = module
        self.orders = [np.asarray(o, dtype=np.int64) for o in orders]

    def to_wire(self, encode):
        return {"t": "shuffles", "xp": self.module, "orders": [array_to_b64(o) for o in self.orders]}

    @classmethod
    def from_wire(cls, data, decode, resolve):
        name = data.get("xp")
        if name not in ARRAY_MODULES:
            raise WireError(f"unknown array module {name!r}")
        orders = data.get("orders")
        if not isinstance(orders, list):
            raise WireError("shuffles without a list of orders")
        return resolve("shuffles", (name, [b64_to_array(o) for o in orders]))

    @classmethod
    def in_worker(cls, key, worker):
        name, orders = key
        return ShufflesInWorker(place_on_device(worker.array_module(name), orders))

    def describe(self, short):
        return "rng"


class ShufflesInWorker:
    """What student code receives for a FixedShuffles: permutation(n) returns the grader's next order,
    already on the device."""

    def __init__(self, orders):
        self._orders = list(orders)

    def permutation(self, n):
        if not self._orders:
            raise RuntimeError("the grader's generator has no more orders: call permutation once per epoch")
        order = self._orders.pop(0)
        if not isinstance(n, int) or n != order.shape[0]:
            raise ValueError(f"permutation({n!r}): this epoch has {order.shape[0]} examples")
        return order

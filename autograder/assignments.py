"""The course's assignments: which modules students submit and which items are graded.

Notebook grade cells, hidden suites and nbgrader's gradebook all use these
item names and points; tests check that they agree.
"""
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UnknownAssignment
from .limits import Limits

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Item:
    name: str
    points: float
    what: str
    needs_gpu: bool = False


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    modules: tuple          # files the student submits and the grader runs
    items: tuple
    limits: Limits = field(default_factory=Limits)

    @property
    def max_score(self):
        return sum(item.points for item in self.items)

    @property
    def hidden_suite(self):
        return PACKAGE_DIR / "hidden" / f"test_{self.id}.py"

    @property
    def public_suite(self):
        return PACKAGE_DIR / "public" / f"test_{self.id}.py"

    def item(self, name):
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)


ASSIGNMENTS = {
    a.id: a for a in [
        Assignment(
            id="hw1_activations",
            title="Activation functions and their derivatives",
            modules=("activations.py",),
            items=(
                Item("sigmoid_prime", 2, "derivative of the sigmoid"),
                Item("relu", 1, "rectified linear unit"),
                Item("relu_prime", 1, "derivative of relu (0 for z <= 0)"),
                Item("leaky_relu", 1, "leaky relu with slope alpha"),
                Item("leaky_relu_prime", 1, "derivative of leaky relu"),
                Item("elu", 1, "exponential linear unit"),
                Item("elu_prime", 1, "derivative of elu"),
                Item("softmax", 3, "stable softmax over axis 0"),
                Item("numerical_gradient", 3, "central finite differences"),
            ),
            limits=Limits(call_timeout_s=10.0),
        ),
        Assignment(
            id="hw2_backprop",
            title="Backpropagation and mini-batch SGD on MNIST",
            modules=("network.py",),
            items=(
                Item("sigmoid_prime", 1, "derivative of the sigmoid"),
                Item("backprop", 4, "per-example gradients (BP1-BP4) match finite differences"),
                Item("backprop_batch", 3, "a whole batch at once: the sum of per-example gradients"),
                Item("update_mini_batch", 3, "one SGD step, w <- w - (eta/m) * sum of gradients"),
                Item("speed", 2, "update_mini_batch at least 5x faster than the per-example loop"),
                Item("learning", 2, "training on the MNIST subset reaches 85% held-out accuracy"),
            ),
            # Sending the MNIST subset to the worker once takes a few seconds.
            limits=Limits(call_timeout_s=20.0, total_s=150.0, cpu_time_s=150),
        ),
        Assignment(
            id="hw3_optimizers",
            title="Optimizers exact to torch.optim: SGD, momentum, Nesterov, Adagrad, RMSprop, Adam",
            modules=("optimizers.py",),
            items=(
                Item("sgd", 2, "plain SGD and L2 weight decay"),
                Item("sgd_momentum", 3, "momentum, dampening and Nesterov"),
                Item("adagrad", 2, "Adagrad with lr_decay, initial accumulator and eps"),
                Item("rmsprop", 3, "RMSprop with momentum and centering"),
                Item("adam", 3, "Adam with bias correction, weight decay and amsgrad"),
                Item("in_place_and_state", 2, "in-place updates, state kept per parameter"),
                Item("bad_arguments", 1, "ValueError for invalid arguments, as torch raises"),
            ),
            limits=Limits(call_timeout_s=10.0, total_s=120.0),
        ),
        Assignment(
            id="hw4_gpu",
            title="Training on the GPU with CuPy: device-agnostic code and a fused kernel",
            modules=("gpu_network.py",),
            items=(
                Item("sigmoid_kernel", 2, "the NumPy fallback of the fused kernel: values, dtype, no overflow"),
                Item("feedforward", 2, "the forward pass of a batch, dtype kept"),
                Item("backprop", 3, "batch gradients match the float64 reference"),
                Item("train_epoch", 3, "one epoch of SGD in the given order matches the reference"),
                Item("dtype", 2, "float32 stays float32: no silent upcast to float64"),
                Item("gpu_correctness", 2, "with cupy: the kernel, gradients and an epoch, all on the device",
                     needs_gpu=True),
                Item("no_host_transfers", 2, "with cupy: no copy between host and device inside train_epoch",
                     needs_gpu=True),
                Item("gpu_speedup", 3, "with cupy: an epoch of [784, 1024, 1024, 10] much faster than NumPy",
                     needs_gpu=True),
            ),
            # The speed item times NumPy epochs of a large network (seconds each).
            limits=Limits(call_timeout_s=60.0, total_s=420.0, cpu_time_s=400, gpu=True),
        ),
        Assignment(
            id="hw5_cross_entropy",
            title="Cross-entropy and softmax outputs, L2, dropout and early stopping",
            modules=("cross_entropy.py",),
            items=(
                Item("binary_cross_entropy", 2, "cross-entropy of sigmoid outputs, 0 ln 0 = 0"),
                Item("categorical_cross_entropy", 1, "cross-entropy of softmax outputs, mean over examples"),
                Item("log_softmax", 2, "log of softmax without overflow at |z| = 1000"),
                Item("softmax_cross_entropy", 2, "cost straight from the logits, stable for large logits"),
                Item("softmax_cross_entropy_delta", 2, "output error a - y, matches finite differences"),
                Item("l2", 2, "L2 cost, its gradient and the weight-decay update"),
                Item("dropout", 3, "inverted dropout: mask scaling, training and test behaviour, backward"),
                Item("early_stopping", 2, "best epoch and stopping epoch on validation accuracy"),
            ),
            limits=Limits(call_timeout_s=10.0),
        ),
    ]
}


def get(assignment_id):
    try:
        return ASSIGNMENTS[assignment_id]
    except KeyError:
        known = ", ".join(sorted(ASSIGNMENTS))
        raise UnknownAssignment(f"unknown assignment {assignment_id!r} (known: {known})") from None

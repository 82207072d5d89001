"""Optimizers in NumPy with the semantics and defaults of PyTorch's torch.optim
(assignment hw3_optimizers).

    params = [W1, b1, W2, b2]              # NumPy float64 arrays, any shapes
    opt = Adam(params, lr=1e-3)
    for each step:
        grads = [dW1, db1, dW2, db2]       # same shapes as params
        opt.step(grads)                    # changes W1, b1, ... IN PLACE

Rules every optimizer follows (as torch.optim does):
- ``step`` updates each array of ``params`` in place (``p -= ...`` or ``p[...] = ...``), so the
  caller's arrays change; never rebind them to new arrays.
- State (momentum buffers, running averages, step counts) is kept per parameter array and
  persists across steps; ``self.state[i]`` is a dict for ``params[i]``.
- ``weight_decay`` is L2 regularisation added to the gradient before anything else (not
  decoupled as in AdamW).
- Invalid arguments raise ValueError in the constructor, as torch does.
- ``step`` returns nothing; the gradients it is given are the caller's and must not change.

The update rules themselves are in lecture 03, section 3 ("Optimizers side by side"), written
as torch.optim computes them (its documentation gives the same algorithms). Each class below says
what it must do, not how: its arguments and defaults, what it keeps between steps, and the
conventions where implementations commonly differ. Check your work with
``python -m autograder check hw3_optimizers``.
"""
import numpy as np


class Optimizer:
    """Base class (given): holds the parameter list and one state dict per parameter."""

    def __init__(self, params):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for p in self.params:
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise ValueError("parameters must be floating-point NumPy arrays")
        self.state = [{} for _ in self.params]

    def _check_grads(self, grads):
        grads = list(grads)
        if len(grads) != len(self.params) or any(g.shape != p.shape for g, p in zip(grads, self.params)):
            raise ValueError("grads must match params in number and shapes")
        return grads

    def step(self, grads):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and Nesterov momentum (torch.optim.SGD).

    Behaves as torch.optim.SGD with the same arguments and defaults. With momentum == 0 nothing is
    kept between steps. With momentum != 0 each parameter keeps one momentum buffer (its shape),
    which does not exist before the first step: torch starts it from the first step's gradient
    itself, undampened, not from zeros; dampening applies from the second step on. Nesterov changes
    only the direction used for the step, not how the buffer is updated.

    ValueError: lr < 0, momentum < 0, weight_decay < 0, or nesterov without
    momentum > 0 and dampening == 0.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(params)
        # Check the arguments (ValueError, as listed above); set up self.state[i] if you need it here.
        ### BEGIN SOLUTION
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        ### END SOLUTION
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov

    def step(self, grads):
        # Walk zip(self.params, self._check_grads(grads), self.state): each parameter (to
        # update in place), its gradient, and its state dict.
        ### BEGIN SOLUTION
        for p, grad, state in zip(self.params, self._check_grads(grads), self.state):
            g = grad + self.weight_decay * p if self.weight_decay != 0 else grad.copy()
            if self.momentum != 0:
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = g.copy()
                else:
                    buf = state["momentum_buffer"]
                    buf *= self.momentum
                    buf += (1 - self.dampening) * g
                buf = state["momentum_buffer"]
                g = g + self.momentum * buf if self.nesterov else buf
            p -= self.lr * g
        ### END SOLUTION


class Adagrad(Optimizer):
    """Adagrad (torch.optim.Adagrad).

    Behaves as torch.optim.Adagrad with the same arguments and defaults. Each parameter keeps its
    own step count and a sum of squared gradients (its shape), which starts at
    initial_accumulator_value, not at zero, when that is given. lr_decay shrinks the learning rate
    with the step count (no decay on the first step); eps is added after the square root.

    ValueError: lr, lr_decay, weight_decay, initial_accumulator_value or eps < 0.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        super().__init__(params)
        # Check the arguments (ValueError, as listed above); set up self.state[i] if you need it here.
        ### BEGIN SOLUTION
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                            ("initial_accumulator_value", initial_accumulator_value), ("epsilon value", eps)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value}")
        for p, state in zip(self.params, self.state):
            state["step"] = 0
            state["sum"] = np.full_like(p, initial_accumulator_value)
        ### END SOLUTION
        self.lr, self.lr_decay, self.weight_decay, self.eps = lr, lr_decay, weight_decay, eps

    def step(self, grads):
        # Walk zip(self.params, self._check_grads(grads), self.state): each parameter (to
        # update in place), its gradient, and its state dict.
        ### BEGIN SOLUTION
        for p, grad, state in zip(self.params, self._check_grads(grads), self.state):
            state["step"] += 1
            g = grad + self.weight_decay * p if self.weight_decay != 0 else grad
            clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
            state["sum"] += g * g
            p -= clr * g / (np.sqrt(state["sum"]) + self.eps)
        ### END SOLUTION


class RMSprop(Optimizer):
    """RMSprop (torch.optim.RMSprop).

    Behaves as torch.optim.RMSprop with the same arguments and defaults. Each parameter keeps a
    running average of squared gradients; with centered=True also a running average of gradients
    (the denominator then uses the estimated variance instead of the raw second moment); with
    momentum > 0 also a momentum buffer of already-scaled steps. All of them start at zero, there is
    no bias correction, and eps is added after the square root.

    ValueError: lr, eps, momentum, weight_decay or alpha < 0.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(params)
        # Check the arguments (ValueError, as listed above); set up self.state[i] if you need it here.
        ### BEGIN SOLUTION
        for name, value in (("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                            ("weight_decay value", weight_decay), ("alpha value", alpha)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value}")
        for p, state in zip(self.params, self.state):
            state["square_avg"] = np.zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if centered:
                state["grad_avg"] = np.zeros_like(p)
        ### END SOLUTION
        self.lr, self.alpha, self.eps, self.weight_decay = lr, alpha, eps, weight_decay
        self.momentum, self.centered = momentum, centered

    def step(self, grads):
        # Walk zip(self.params, self._check_grads(grads), self.state): each parameter (to
        # update in place), its gradient, and its state dict.
        ### BEGIN SOLUTION
        for p, grad, state in zip(self.params, self._check_grads(grads), self.state):
            g = grad + self.weight_decay * p if self.weight_decay != 0 else grad
            v = state["square_avg"]
            v *= self.alpha
            v += (1 - self.alpha) * g * g
            if self.centered:
                m = state["grad_avg"]
                m *= self.alpha
                m += (1 - self.alpha) * g
                avg = np.sqrt(v - m * m) + self.eps
            else:
                avg = np.sqrt(v) + self.eps
            if self.momentum > 0:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += g / avg
                p -= self.lr * buf
            else:
                p -= self.lr * g / avg
        ### END SOLUTION


class Adam(Optimizer):
    """Adam (torch.optim.Adam), with L2 weight decay added to the gradient.

    Behaves as torch.optim.Adam with the same arguments and defaults. Each parameter keeps its own
    step count and running averages of gradients and of squared gradients, both starting at zero and
    bias-corrected by the step count; with amsgrad=True also the elementwise maximum of the second
    moment seen so far, which the denominator then uses. Where eps goes matters to 1e-10: as in
    torch, it is added to the bias-corrected square root, not inside it.

    ValueError: lr < 0, eps < 0, weight_decay < 0, or a beta outside [0, 1).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params)
        # Check the arguments (ValueError, as listed above); set up self.state[i] if you need it here.
        ### BEGIN SOLUTION
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        for p, state in zip(self.params, self.state):
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        ### END SOLUTION
        self.lr, self.betas, self.eps = lr, tuple(betas), eps
        self.weight_decay, self.amsgrad = weight_decay, amsgrad

    def step(self, grads):
        # Walk zip(self.params, self._check_grads(grads), self.state): each parameter (to
        # update in place), its gradient, and its state dict.
        ### BEGIN SOLUTION
        beta1, beta2 = self.betas
        for p, grad, state in zip(self.params, self._check_grads(grads), self.state):
            state["step"] += 1
            t = state["step"]
            g = grad + self.weight_decay * p if self.weight_decay != 0 else grad
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            if self.amsgrad:
                np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                v = state["max_exp_avg_sq"]
            step_size = self.lr / (1 - beta1 ** t)
            denom = np.sqrt(v) / np.sqrt(1 - beta2 ** t) + self.eps
            p -= step_size * m / denom
        ### END SOLUTION

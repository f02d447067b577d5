"""Stochastic gradient ascent on the ELBO: SGD, Adam and one small ``fit`` loop."""

from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Callable

import numpy as np

from . import _checks
from ._checks import MAX_ELEMENTS, count, family, flag, function, generator, scalar
from .estimators import _baseline, elbo_gradient

__all__ = ["SGD", "Adam", "FitResult", "fit"]


class SGD:
    r"""Plain gradient ascent, :math:`\phi \leftarrow \phi + \eta\, g`.

    Parameters
    ----------
    step_size : float
        :math:`\eta > 0`.

    Examples
    --------
    >>> SGD(0.1).step(np.zeros(2), np.array([1.0, -2.0]))
    array([ 0.1, -0.2])
    """

    def __init__(self, step_size: float) -> None:
        self.step_size = scalar(step_size, "step_size", low=np.finfo(float).tiny)

    def step(self, params: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        r"""Take one ascent step.

        Parameters
        ----------
        params, gradient : ndarray, shape (P,)
            :math:`\phi` and :math:`g`.

        Returns
        -------
        ndarray, shape (P,)
            The new parameters.
        """
        return params + self.step_size * gradient


class Adam:
    r"""Adam (Kingma & Ba 2015) for ascent: steps of about ``step_size`` per coordinate, whatever the gradient's scale.

    Parameters
    ----------
    step_size : float
        :math:`\eta > 0`.
    beta1, beta2 : float, default 0.9, 0.999
        Decays of the running moments, in [0, 1).
    epsilon : float, default 1e-8
        Added to the denominator.

    Examples
    --------
    >>> Adam(0.1).step(np.zeros(2), np.array([1e-3, -50.0])).round(4)
    array([ 0.1, -0.1])
    """

    def __init__(
        self,
        step_size: float,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        self.step_size = scalar(step_size, "step_size", low=np.finfo(float).tiny)
        self.beta1 = scalar(beta1, "beta1", 0.0, _checks.BELOW_ONE)
        self.beta2 = scalar(beta2, "beta2", 0.0, _checks.BELOW_ONE)
        self.epsilon = scalar(epsilon, "epsilon", low=np.finfo(float).tiny)
        self.num_steps = 0
        self.mean: float | np.ndarray = 0.0
        self.mean_square: float | np.ndarray = 0.0

    def step(self, params: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        r"""Take one ascent step, updating the running moments.

        Parameters
        ----------
        params, gradient : ndarray, shape (P,)
            :math:`\phi` and :math:`g`.

        Returns
        -------
        ndarray, shape (P,)
            The new parameters.
        """
        self.num_steps += 1
        beta1, beta2 = self.beta1, self.beta2
        # g^2 of a g below 1e-154 must not underflow to 0
        gradient = np.asarray(gradient, dtype=np.longdouble)
        self.mean = beta1 * self.mean + (1 - beta1) * gradient
        self.mean_square = beta2 * self.mean_square + (1 - beta2) * gradient**2
        mean = self.mean / (1 - beta1**self.num_steps)
        mean_square = self.mean_square / (1 - beta2**self.num_steps)
        step = self.step_size * mean / (np.sqrt(mean_square) + self.epsilon)
        return params + step.astype(float)


class _Recorder:
    """Passes the signal on to ``baseline`` and keeps it, for the update after the step."""

    def __init__(self, baseline) -> None:
        self.baseline, self.uses_score = baseline, baseline.uses_score

    def __call__(self, signal: np.ndarray, score: np.ndarray | None = None):
        self.signal = signal
        return self.baseline(signal, score)


@dataclasses.dataclass(frozen=True)
class FitResult:
    """What :func:`fit` returns.

    Parameters
    ----------
    params : ndarray, shape (num_steps + 1, P)
        The parameters before the first step and after every step.
    elbo : ndarray, shape (num_steps,)
        The ELBO estimate of each step, at the parameters before the step.
    q : family
        The fitted family, ``q.with_params(params[-1])``.
    interrupted : bool
        True if KeyboardInterrupt stopped the run; the arrays then hold the steps done.

    Examples
    --------
    >>> from elbo_grad import DiagonalGaussian
    >>> FitResult(np.zeros((1, 2)), np.zeros(0), DiagonalGaussian(0.0, 0.0)).interrupted
    False
    """

    params: np.ndarray
    elbo: np.ndarray
    q: object
    interrupted: bool = False


def fit(
    log_joint: Callable,
    q,
    *,
    num_steps: int,
    step_size: float,
    num_samples: int,
    optimizer: str = "adam",
    baseline=None,
    rng=None,
    callback: Callable | None = None,
    progress: bool = False,
) -> FitResult:
    r"""Maximise the ELBO of ``q`` by stochastic gradient ascent with :func:`~elbo_grad.elbo_gradient`.

    Parameters
    ----------
    log_joint : callable
        ``z`` of shape ``(n, q.dim)`` to :math:`\ln p(x, z_i)`, shape ``(n,)``.
    q : family
        The starting point, rebuilt with ``with_params`` after each step.
    num_steps : int
        The number of steps.
    step_size : float
        The optimiser's step size.
    num_samples : int
        Samples per step.
    optimizer : {"adam", "sgd"}, default "adam"
        :class:`Adam` or :class:`SGD`.
    baseline : None, float or Baseline, optional
        Passed to :func:`~elbo_grad.elbo_gradient`; a stateful one learns after each step, and keeps it only if ``fit`` returns.
    rng : None, int or numpy.random.Generator
        The seed.
    callback : callable, optional
        Called as ``callback(step, q, estimate)`` after every step.
    progress : bool, default False
        Print the step and the ELBO estimate to stderr twenty times a run.

    Returns
    -------
    FitResult
        The parameter path, the ELBO trace and the fitted ``q`` (the steps done, if Ctrl-C stopped the run).

    Examples
    --------
    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian
    >>> model, q = ConjugateGaussian(x=[1.0, 2.0]), DiagonalGaussian(0.0, 0.0)
    >>> steps = dict(num_steps=500, step_size=0.05, num_samples=100, rng=0)
    >>> result = fit(model.log_joint, q, **steps)
    >>> result.params.shape, bool(abs(result.q.mean - model.posterior().mean) < 0.1)
    ((501, 2), True)
    """
    function(log_joint, "log_joint")
    family(q)
    maximum = MAX_ELEMENTS // (q.num_params + 1)  # the path's memory
    num_steps = count(num_steps, "num_steps", maximum=maximum)
    num_samples = count(num_samples, "num_samples")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    stepper = Adam(step_size) if optimizer == "adam" else SGD(step_size)
    if callback is not None:
        function(callback, "callback")
    rng, progress = generator(rng), flag(progress, "progress")
    _baseline(baseline)  # refuses classes, bools and strings by name, before a copy
    # a stateful baseline learns on a copy, whose state the caller's gets at the end
    stateful, caller_baseline = hasattr(baseline, "update"), baseline
    if stateful and hasattr(baseline, "__dict__"):
        baseline = copy.deepcopy(baseline)
    wrapped = _Recorder(baseline) if stateful else baseline
    path, elbo = np.empty((num_steps + 1, q.num_params)), np.empty(num_steps)
    path[0], start, done, interrupted = q.params, q, 0, False
    try:
        for step in range(num_steps):
            estimate = elbo_gradient(
                log_joint, q, num_samples, rng=rng, baseline=wrapped
            )
            if stateful:  # it learns from this step's signals, after the step
                baseline.update(wrapped.signal)
            try:
                q = q.with_params(stepper.step(q.params, estimate.gradient))
            except ValueError as error:
                raise ValueError(
                    f"q's parameters after step {step + 1} are refused ({error}): "
                    "try a smaller step_size"
                ) from None
            path[step + 1], elbo[step], done = q.params, estimate.elbo, step + 1
            if callback is not None:
                callback(step, q, estimate)
            if progress and (done % max(1, num_steps // 20) == 0 or done == num_steps):
                message = f"step {done}/{num_steps}  ELBO estimate {estimate.elbo:.6g}"
                print(message, file=sys.stderr)
    except KeyboardInterrupt:
        interrupted = True
        print(f"interrupted after {done} of {num_steps} steps", file=sys.stderr)
    if baseline is not caller_baseline:  # the run stands: the caller's baseline learns
        vars(caller_baseline).update(vars(baseline))
    # rebuilt from the path, so that q matches it even if Ctrl-C fell mid-step
    path, elbo = path[: done + 1].copy(), elbo[:done].copy()
    return FitResult(path, elbo, start.with_params(path[-1]), interrupted)

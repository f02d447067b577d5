r"""Baselines :math:`b` in :math:`(\ell(z_i) - b_i)\nabla_\phi \ln q(z_i)` (:ref:`chap-variance-reduction`)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from . import _checks

__all__ = [
    "Baseline",
    "ConstantBaseline",
    "LeaveOneOutBaseline",
    "LeaveOneOutOptimalBaseline",
    "MovingAverageBaseline",
    "NVILBaseline",
    "SameBatchOptimalBaseline",
]


@runtime_checkable
class Baseline(Protocol):
    """What every estimator's ``baseline=`` accepts, besides None and numbers.

    ``baseline(signal, score)`` gets the signal, shape ``(n,)`` or ``(n, P)``,
    and the score, shape ``(n, P)``, or None if ``uses_score`` is False. It
    returns :math:`b`: a number, the signal's shape, ``(1, P)`` or ``(n, P)``.

    Examples
    --------
    >>> isinstance(MovingAverageBaseline(), Baseline)
    True
    """

    uses_score: bool

    def __call__(self, signal: np.ndarray, score: np.ndarray | None) -> np.ndarray: ...


class _Shown:
    """A baseline shown as its class and its state."""

    uses_score = False

    def __repr__(self) -> str:
        state = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{type(self).__name__}({state})"


def _signal(signal, score=None, minimum: int = 1) -> tuple[np.ndarray, np.ndarray]:
    signal = _checks.real_array(signal, "signal", copy=False)
    if signal.ndim not in (1, 2) or len(signal) < minimum:
        raise ValueError(
            f"signal must have shape (n,) or (n, P) with n >= {minimum} "
            f"(num_samples >= {minimum}), got shape {signal.shape}"
        )
    if score is not None:
        score = _checks.real_array(score, "score", ndim=2, copy=False)
        if signal.shape not in (score.shape[:1], score.shape):
            raise ValueError(f"score's shape {score.shape} does not fit {signal.shape}")
    return signal, score


def _mean(x: np.ndarray, axis=None) -> np.ndarray:
    """The mean as a sum of scaled terms: finite for finite ``x``, even near 1e308."""
    return np.sum(x / (x.size if axis is None else x.shape[axis]), axis=axis)


def _of_others(ufunc: np.ufunc, x: np.ndarray) -> np.ndarray:
    """``ufunc`` (add or maximum) over j != i for every i (axis 0): never sees x[i]."""
    zero = np.zeros_like(x[:1])
    before = np.concatenate([zero, ufunc.accumulate(x[:-1], axis=0)])
    after = np.concatenate([ufunc.accumulate(x[:0:-1], axis=0)[::-1], zero])
    return ufunc(before, after)


class ConstantBaseline(_Shown):
    """A constant :math:`b`: one number, or one per parameter.

    Parameters
    ----------
    value : float or array_like, shape (P,)
        :math:`b`.

    Examples
    --------
    >>> ConstantBaseline([1.0, 2.0])(np.zeros(3), None)
    array([[1., 2.]])
    """

    def __init__(self, value: float | ArrayLike) -> None:
        value = _checks.real_array(value, "baseline")
        if value.ndim > 1:
            raise ValueError(f"baseline must be a number or 1-D, not {value.shape}")
        self.value = value if value.ndim == 0 else value.reshape(1, -1)

    def __call__(self, signal: ArrayLike, score: ArrayLike | None = None) -> np.ndarray:
        return self.value


class MovingAverageBaseline(_Shown):
    r"""NVIL's centring: :math:`b = c`, an exponentially decayed mean of past signals.

    Mnih & Gregor (2014), section 2.3.1, but :math:`c` is updated after the step
    (by the caller), not before it, so that the estimate stays unbiased.

    Parameters
    ----------
    decay : float, default 0.9
        :math:`\alpha \in [0, 1)`.
    initial : float, default 0.0
        :math:`c` before any update.

    Examples
    --------
    >>> baseline = MovingAverageBaseline(decay=0.5)
    >>> baseline.update([2.0, 4.0])
    >>> baseline.value
    1.5
    """

    def __init__(self, decay: float = 0.9, initial: float = 0.0) -> None:
        self.decay = _checks.scalar(decay, "decay", 0.0, _checks.BELOW_ONE)
        self.value = _checks.scalar(initial, "initial")

    def __call__(self, signal: ArrayLike, score: ArrayLike | None = None) -> float:
        return self.value

    def update(self, signal: ArrayLike) -> None:
        r""":math:`c \leftarrow \alpha c + (1 - \alpha)\,\bar\ell`, after the step.

        Parameters
        ----------
        signal : array_like
            This step's learning signals.
        """
        signal, _ = _signal(signal)
        self.value = float(self.decay * self.value + (1.0 - self.decay) * _mean(signal))


class LeaveOneOutBaseline(_Shown):
    r"""The other samples' mean, :math:`b_i = \frac{1}{n-1}\sum_{j \ne i} \ell_j`: unbiased, :math:`n \ge 2`.

    Kool, van Hoof & Welling (2019).

    Examples
    --------
    >>> LeaveOneOutBaseline()([1.0, 2.0, 6.0], None)
    array([4. , 3.5, 1.5])
    """

    def __call__(self, signal: ArrayLike, score: ArrayLike | None = None) -> np.ndarray:
        signal, _ = _signal(signal, minimum=2)
        return _of_others(np.add, signal / (len(signal) - 1))


def _power_of_two(x):
    """The largest power of two not above ``x`` (1 for 0): dividing by it rounds nothing."""
    return np.ldexp(1.0, np.frexp(np.where(x > 0, x, 1.0))[1] - 1)


def _rescale(coefficient: np.ndarray, scale: float) -> np.ndarray:
    with np.errstate(over="ignore"):  # beyond 1.8e308 there is no finite coefficient
        return coefficient * scale


def _coefficient(signal: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Cov(l s_k, s_k) / Var(s_k) over the rows; 0 where s_k does not vary."""
    x = signal.reshape(len(score), -1) * score
    x = x - x.mean(axis=0)
    y = score - score.mean(axis=0)
    variance = (y * y).mean(axis=0)
    varies = variance > np.finfo(float).eps * (score * score).mean(axis=0)
    return np.where(varies, (x * y).mean(axis=0) / np.where(varies, variance, 1.0), 0.0)


class SameBatchOptimalBaseline(_Shown):
    r"""The variance-minimising :math:`\hat a_k` from the same batch: **biased**.

    :math:`\hat a_k = \widehat{\operatorname{Cov}}(\ell s_k, s_k) /
    \widehat{\operatorname{Var}}(s_k)` (Ranganath, Gerrish & Blei 2014) depends
    on :math:`z_i`, so the mean is off by :math:`O(1/n)`;
    :class:`LeaveOneOutOptimalBaseline` is the unbiased one.

    Examples
    --------
    >>> SameBatchOptimalBaseline()([1.0, 2.0, 4.0], [[-1.0], [0.0], [1.0]])
    array([[2.5]])
    """

    uses_score = True

    def __call__(self, signal: ArrayLike, score: ArrayLike) -> np.ndarray:
        signal, score = _signal(signal, score, minimum=2)
        # The coefficient is linear in the signal and unchanged by scaling a column
        # of the score: computed at unit scale, no product overflows.
        scale = float(_power_of_two(np.max(np.abs(signal))))
        unit_score = score / _power_of_two(np.max(np.abs(score), axis=0))
        return _rescale(_coefficient(signal / scale, unit_score)[None, :], scale)


class LeaveOneOutOptimalBaseline(_Shown):
    r"""The optimal coefficient for each sample, from the other samples only: unbiased.

    Row :math:`i` is :class:`SameBatchOptimalBaseline` of the batch without
    sample :math:`i` (0 where the others' scores tie). Needs :math:`n \ge 3`.

    Examples
    --------
    >>> LeaveOneOutOptimalBaseline()([0.07, 2.7, 2.7], [[0.83], [-0.17], [-0.17]])[0]
    array([0.])
    """

    uses_score = True

    def __call__(self, signal: ArrayLike, score: ArrayLike) -> np.ndarray:
        signal, score = _signal(signal, score, minimum=3)
        n = len(score)
        # Row i works on the scale of the others' largest signal and scores (two
        # values per column at most), so no product of theirs underflows.
        signal_size = np.abs(signal.reshape(n, -1)).max(axis=1)
        signal_scale = _power_of_two(_of_others(np.maximum, signal_size))[:, None]
        score_scale = _power_of_two(_of_others(np.maximum, np.abs(score)))
        coefficient = np.zeros(score.shape)
        for a in np.unique(signal_scale):
            for c in (score_scale.max(axis=0), score_scale.min(axis=0)):
                use = (signal_scale == a) & (score_scale == c)
                if use.any():  # a sample rescaled by the others' scale may overflow
                    with np.errstate(over="ignore", invalid="ignore"):
                        value = _shifted_coefficient(signal / a, score / c)
                    coefficient[use] = _rescale(value, a)[use]
        coefficient[0] = SameBatchOptimalBaseline()(signal[1:], score[1:])[0]
        return coefficient


def _shifted_coefficient(signal: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Row i >= 1 of the leave-one-out coefficient, from sums over j != i shifted by sample 0."""
    x = signal.reshape(len(score), -1) * score
    dx, dy, m = x - x[0], score - score[0], len(score) - 1
    mean_x, mean_y = _of_others(np.add, dx) / m, _of_others(np.add, dy) / m
    covariance = _of_others(np.add, dx * dy) / m - mean_x * mean_y
    variance = _of_others(np.add, dy * dy) / m - mean_y**2
    varies = variance > np.finfo(float).eps * _of_others(np.add, score * score) / m
    return np.where(varies, covariance / np.where(varies, variance, 1), 0.0)


class NVILBaseline(_Shown):
    r"""NVIL's centring, input-dependent baseline and variance normalisation.

    :math:`b` makes the signal :math:`(\ell - c - w^\top x)/\max(1, \sqrt v)`: running
    mean :math:`c`, regression :math:`w^\top x`, running variance :math:`v` (Mnih &
    Gregor 2014, 2.3), updated after the step. In use: :ref:`chap-belief-network`.

    Parameters
    ----------
    num_features : int, default 0
        :math:`F`, the number of input features (0: no input-dependent part).
    decay : float, default 0.9
        :math:`\alpha` of the running mean and variance.
    learning_rate : float, default 0.01
        The step size of :math:`w`'s regression.
    normalize : bool, default True
        Divide by :math:`\max(1, \sqrt v)`.

    Examples
    --------
    >>> nvil = NVILBaseline(num_features=1, decay=0.0, normalize=False)
    >>> nvil.update([5.0, 5.0], features=[[0.0], [0.0]])
    >>> nvil.given([[1.0]])(np.array([7.0]), None)
    array([5.])
    """

    def __init__(
        self,
        num_features: int = 0,
        *,
        decay: float = 0.9,
        learning_rate: float = 0.01,
        normalize: bool = True,
    ) -> None:
        self.num_features = _checks.count(num_features, "num_features", minimum=0)
        self.decay = _checks.scalar(decay, "decay", 0.0, _checks.BELOW_ONE)
        self.learning_rate = _checks.scalar(learning_rate, "learning_rate", 1e-300)
        self.normalize = _checks.flag(normalize, "normalize")
        self.centre, self.weights, self.variance = 0.0, np.zeros(self.num_features), 1.0

    @property
    def scale(self) -> float:
        r""":math:`\max(1, \sqrt v)`, or 1 without normalisation."""
        return max(1.0, float(np.sqrt(self.variance))) if self.normalize else 1.0

    def given(self, features: ArrayLike) -> Baseline:
        """This baseline at inputs ``features``, to pass as ``baseline=``.

        Parameters
        ----------
        features : array_like, shape (F,) or (n, F)
            :math:`x`, one row per sample or one for all.

        Returns
        -------
        Baseline
            Shares this object's state.
        """
        return _Given(self, _checks.real_array(features, "features"))

    def __call__(self, signal: ArrayLike, score: ArrayLike | None = None) -> np.ndarray:
        return self._baseline(signal, None)

    def update(self, signal: ArrayLike, features: ArrayLike | None = None) -> None:
        """Update :math:`c`, :math:`v` and :math:`w` with a step's signals, after it.

        Parameters
        ----------
        signal : array_like, shape (n,)
            The step's learning signals.
        features : array_like, shape (F,) or (n, F), optional
            Their inputs :math:`x`.
        """
        signal = _checks.real_array(signal, "signal", ndim=1, copy=False)
        features = self._features(features, len(signal))
        residual = signal - features @ self.weights
        centred = residual - self.centre
        step = _mean(features * centred[:, None], axis=0)
        self.weights = self.weights + self.learning_rate * step
        self.centre = float(
            self.decay * self.centre + (1 - self.decay) * _mean(residual)
        )
        variance = (1 - self.decay) * _mean(centred**2)
        self.variance = float(self.decay * self.variance + variance)

    def _features(self, features: ArrayLike | None, n: int) -> np.ndarray:
        if self.num_features == 0 and features is None:
            return np.zeros((n, 0))
        features = _checks.real_array(features, "features", copy=False)
        if features.ndim == 1:
            features = np.broadcast_to(features, (n, len(features)))
        if features.shape != (n, self.num_features):
            raise ValueError(
                f"features must have shape ({self.num_features},) or "
                f"({n}, {self.num_features}), got {features.shape}"
            )
        return features

    def _baseline(self, signal: ArrayLike, features: ArrayLike | None) -> np.ndarray:
        signal, _ = _signal(signal)
        prediction = self.centre + self._features(features, len(signal)) @ self.weights
        prediction = prediction.reshape(-1, *[1] * (signal.ndim - 1))
        if self.scale == 1.0:
            return np.broadcast_to(prediction, signal.shape)
        return signal - (signal - prediction) / self.scale


class _Given(_Shown):
    def __init__(self, nvil: NVILBaseline, features: np.ndarray) -> None:
        self.nvil, self.features = nvil, features

    def __call__(self, signal: ArrayLike, score: ArrayLike | None = None) -> np.ndarray:
        return self.nvil._baseline(signal, self.features)

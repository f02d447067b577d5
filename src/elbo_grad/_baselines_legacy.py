# Temporary: the 0.1 baselines, kept only until belief_network.py is ported. Not public.
r"""Baselines and learning-signal normalisation for the score-function estimator.

Because the expected score is zero, :math:`\mathbb E_q[\nabla_\phi \ln q_\phi(z)] = 0`,
any :math:`b` that does not depend on the sample :math:`z` it multiplies can be
subtracted from the learning signal :math:`\ell(z)` without changing the
estimator's mean:

.. math::

    \mathbb E_q\bigl[(\ell(z) - b)\,\nabla_\phi \ln q_\phi(z)\bigr]
        = \mathbb E_q\bigl[\ell(z)\,\nabla_\phi \ln q_\phi(z)\bigr]
          - b\,\mathbb E_q\bigl[\nabla_\phi \ln q_\phi(z)\bigr]
        = \mathbb E_q\bigl[\ell(z)\,\nabla_\phi \ln q_\phi(z)\bigr].

The stateful objects here are NVIL's remedies (Mnih & Gregor 2014, section
3.3): a running-average baseline ("centering"), an input-dependent baseline
:math:`b_\psi(x)` fitted by regression, and variance normalisation. Each is
*used* with the state it had before the current samples were drawn and
*updated* afterwards, so the value subtracted never depends on the samples it
multiplies, which keeps the estimator unbiased.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_num_samples, finite_array, positive_scalar

__all__ = [
    "LinearBaseline",
    "MovingAverageBaseline",
    "VarianceNormalizer",
    "leave_one_out_baseline",
    "leave_one_out_optimal_baseline",
    "optimal_baseline",
]


def _check_decay(decay) -> float:
    decay = float(finite_array(decay, "decay", ndim=0))
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    return decay


def _check_signal(signal) -> np.ndarray:
    signal = finite_array(signal, "signal")
    if signal.ndim < 1:
        signal = signal[None]
    return signal


class MovingAverageBaseline:
    r"""A constant baseline tracked as an exponentially decayed average of past learning signals.

    Parameters
    ----------
    decay : float, default 0.9
        :math:`\alpha \in [0, 1)`: the weight of the old value at each update.
    initial : float, default 0.0
        The value before any update.

    Attributes
    ----------
    value : float
        The current baseline :math:`c`.

    Raises
    ------
    ValueError
        If ``decay`` is not in :math:`[0, 1)` or ``initial`` is not finite.

    Notes
    -----
    After a batch of learning signals :math:`\ell_1, \dots, \ell_n`,

    .. math::

        c \leftarrow \alpha\, c + (1 - \alpha)\, \frac1n \sum_{i=1}^n \ell_i .

    Subtract ``value`` *before* calling :meth:`update` with the signals it
    was subtracted from: then :math:`c` does not depend on the current samples
    and the estimator stays unbiased.

    Examples
    --------
    >>> baseline = MovingAverageBaseline(decay=0.5)
    >>> baseline.update([2.0, 4.0])
    >>> baseline.value
    1.5
    >>> baseline.update([3.0])
    >>> baseline.value
    2.25
    """

    def __init__(self, decay: float = 0.9, initial: float = 0.0):
        self.decay = _check_decay(decay)
        self.value = float(finite_array(initial, "initial", ndim=0))

    def __repr__(self) -> str:
        return f"MovingAverageBaseline(decay={self.decay}, value={self.value:.6g})"

    def update(self, signal) -> None:
        """Fold the mean of a batch of learning signals into ``value``.

        Parameters
        ----------
        signal : array_like
            Learning signals of the current batch (any shape; finite).

        Raises
        ------
        ValueError
            If ``signal`` is empty or holds NaN or infinity.

        Examples
        --------
        >>> baseline = MovingAverageBaseline(decay=0.9, initial=10.0)
        >>> baseline.update([0.0, 2.0])
        >>> round(baseline.value, 6)
        9.1
        """
        signal = _check_signal(signal)
        self.value = self.decay * self.value + (1.0 - self.decay) * float(signal.mean())


class VarianceNormalizer:
    r"""NVIL's variance normalisation: divide the centred signal by :math:`\max(1, \sqrt v)`.

    Parameters
    ----------
    decay : float, default 0.9
        :math:`\alpha \in [0, 1)` for the running variance.
    initial_variance : float, default 1.0
        :math:`v` before any update (must be positive).

    Attributes
    ----------
    variance : float
        The running variance :math:`v` of the (already centred) learning signal.

    Raises
    ------
    ValueError
        If ``decay`` is not in :math:`[0, 1)` or ``initial_variance`` is not
        positive and finite.

    Notes
    -----
    With a centred signal :math:`\tilde\ell_i` (a baseline already subtracted),

    .. math::

        v \leftarrow \alpha\, v + (1 - \alpha)\, \frac1n \sum_{i=1}^n \tilde\ell_i^{\,2},
        \qquad
        \tilde\ell_i \mapsto \frac{\tilde\ell_i}{\max(1, \sqrt v)} .

    Dividing by a positive number that does not depend on the current samples
    rescales the gradient estimate: its mean becomes the true gradient divided
    by :math:`\max(1, \sqrt v)`. The direction is unbiased; the length is not.
    It acts as an adaptive step size that keeps updates of a stable size while
    the learning signal's scale changes during training.

    Examples
    --------
    >>> normalizer = VarianceNormalizer(decay=0.0)
    >>> normalizer.update([3.0, -5.0])
    >>> normalizer.variance
    17.0
    >>> normalizer.normalize([4.123105625617661])
    array([1.])
    """

    def __init__(self, decay: float = 0.9, initial_variance: float = 1.0):
        self.decay = _check_decay(decay)
        initial_variance = float(finite_array(initial_variance, "initial_variance", ndim=0))
        if initial_variance <= 0:
            raise ValueError(f"initial_variance must be positive, got {initial_variance}")
        self.variance = initial_variance

    def __repr__(self) -> str:
        return f"VarianceNormalizer(decay={self.decay}, variance={self.variance:.6g})"

    @property
    def scale(self) -> float:
        r""":math:`\max(1, \sqrt v)`, the number the signal is divided by."""
        return max(1.0, float(np.sqrt(self.variance)))

    def normalize(self, centred_signal) -> np.ndarray:
        """Divide a centred learning signal by ``scale``.

        Parameters
        ----------
        centred_signal : array_like
            The learning signal with a baseline already subtracted.

        Returns
        -------
        ndarray
            ``centred_signal / scale``, same shape.

        Raises
        ------
        ValueError
            If ``centred_signal`` is empty or holds NaN or infinity.

        Examples
        --------
        >>> VarianceNormalizer(initial_variance=16.0).normalize([2.0, -8.0])
        array([ 0.5, -2. ])
        """
        return _check_signal(centred_signal) / self.scale

    def update(self, centred_signal) -> None:
        """Fold the mean square of a batch of centred signals into ``variance``.

        Parameters
        ----------
        centred_signal : array_like
            The learning signal with a baseline already subtracted.

        Raises
        ------
        ValueError
            If ``centred_signal`` is empty or holds NaN or infinity.

        Examples
        --------
        >>> normalizer = VarianceNormalizer(decay=0.5, initial_variance=1.0)
        >>> normalizer.update([3.0, -3.0])
        >>> normalizer.variance
        5.0
        """
        centred_signal = _check_signal(centred_signal)
        mean_square = float(np.mean(centred_signal**2))
        self.variance = self.decay * self.variance + (1.0 - self.decay) * mean_square


class LinearBaseline:
    r"""An input-dependent baseline :math:`b_\psi(x) = w^\top x + w_0`, fitted by regression.

    NVIL fits a small neural network :math:`b_\psi(x)` to the learning signal by
    minimising :math:`\mathbb E\bigl[(\ell(x, z) - b_\psi(x))^2\bigr]` with
    stochastic gradient steps. A linear model of the input features is the
    simplest version; pass any fixed features of :math:`x` (for example the
    pixels of an image, or a one-hot code of a data point).

    Parameters
    ----------
    num_features : int
        The number of input features :math:`F`.
    learning_rate : float, default 0.01
        The step size of :meth:`update`.

    Attributes
    ----------
    weights : ndarray, shape (num_features,)
        :math:`w`, initially zero.
    bias : float
        :math:`w_0`, initially zero.

    Raises
    ------
    ValueError
        If ``num_features < 1`` or ``learning_rate`` is not positive and finite.

    Notes
    -----
    One update on a batch :math:`(x_j, \ell_j)_{j=1}^B` takes a gradient step on
    the mean squared error:

    .. math::

        w \leftarrow w + \frac{\eta}{B} \sum_j \bigl(\ell_j - b_\psi(x_j)\bigr) x_j,\qquad
        w_0 \leftarrow w_0 + \frac{\eta}{B} \sum_j \bigl(\ell_j - b_\psi(x_j)\bigr).

    Because :math:`b_\psi(x)` depends on :math:`x` but not on :math:`z`, the
    estimator stays unbiased for every :math:`x` when the prediction is made
    before the update.

    Examples
    --------
    >>> baseline = LinearBaseline(num_features=2, learning_rate=0.5)
    >>> features = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> for _ in range(200):
    ...     baseline.update(features, [3.0, -1.0])
    >>> np.round(baseline.predict(features), 6)
    array([ 3., -1.])
    """

    def __init__(self, num_features: int, learning_rate: float = 0.01):
        self.num_features = check_num_samples(num_features, "num_features")
        self.learning_rate = positive_scalar(learning_rate, "learning_rate")
        self.weights = np.zeros(self.num_features)
        self.bias = 0.0

    def __repr__(self) -> str:
        return (
            f"LinearBaseline(num_features={self.num_features}, "
            f"learning_rate={self.learning_rate})"
        )

    def _check_features(self, features) -> np.ndarray:
        features = finite_array(features, "features", ndim=2)
        if features.shape[1] != self.num_features:
            raise ValueError(
                f"features must have shape (batch, {self.num_features}), got {features.shape}"
            )
        return features

    def predict(self, features) -> np.ndarray:
        r""":math:`b_\psi(x_j)` for every row of ``features``.

        Parameters
        ----------
        features : array_like, shape (batch, num_features)
            One row of input features :math:`x_j` per data point.

        Returns
        -------
        ndarray, shape (batch,)
            The baseline :math:`w^\top x_j + w_0` for every row.

        Raises
        ------
        ValueError
            If ``features`` has the wrong shape or is not finite.

        Examples
        --------
        >>> baseline = LinearBaseline(num_features=2)
        >>> baseline.weights = np.array([1.0, -1.0])
        >>> baseline.predict([[3.0, 1.0], [0.0, 2.0]])
        array([ 2., -2.])
        """
        return self._check_features(features) @ self.weights + self.bias

    def update(self, features, signal) -> None:
        """One gradient step of the squared error between ``signal`` and the prediction.

        Parameters
        ----------
        features : array_like, shape (batch, num_features)
            One row of input features :math:`x_j` per data point.
        signal : array_like, shape (batch,)
            The learning signal observed for each row (average over samples
            first if there are several per input).

        Raises
        ------
        ValueError
            If the shapes do not match or an input is not finite.

        Examples
        --------
        >>> baseline = LinearBaseline(num_features=1, learning_rate=0.5)
        >>> baseline.update([[1.0], [1.0]], [4.0, 4.0])
        >>> baseline.weights, baseline.bias
        (array([2.]), 2.0)
        """
        features = self._check_features(features)
        signal = finite_array(signal, "signal", ndim=1)
        if signal.shape[0] != features.shape[0]:
            raise ValueError(
                f"signal must have shape ({features.shape[0]},) to match features, "
                f"got {signal.shape}"
            )
        residual = signal - self.predict(features)
        self.weights = self.weights + self.learning_rate * features.T @ residual / signal.size
        self.bias = self.bias + self.learning_rate * float(residual.mean())


def leave_one_out_baseline(signal, axis: int = 0) -> np.ndarray:
    r"""The leave-one-out baseline: for each sample, the mean learning signal of the *other* samples.

    With :math:`n \ge 2` samples from the same :math:`q`, sample :math:`i`'s
    baseline :math:`b_i = \frac{1}{n-1}\sum_{j \ne i} \ell_j` is independent of
    :math:`z_i`, so subtracting it keeps the estimator unbiased — unlike the
    plain batch mean, which includes :math:`\ell_i` itself (Kool, van Hoof &
    Welling 2019; Mnih & Rezende 2016).

    Parameters
    ----------
    signal : array_like, shape (num_samples, ...)
        Learning signals; the samples lie along ``axis``.
    axis : int, default 0
        The axis of the samples.

    Returns
    -------
    ndarray, same shape as ``signal``
        :math:`b_i` for every sample.

    Raises
    ------
    ValueError
        If there are fewer than two samples along ``axis``, or ``signal``
        holds NaN or infinity.

    Notes
    -----
    .. math::

        b_i = \frac{1}{n-1}\sum_{j \ne i} \ell_j = \frac{n\bar\ell - \ell_i}{n-1},
        \qquad
        \ell_i - b_i = \frac{n}{n-1}\bigl(\ell_i - \bar\ell\bigr).

    Examples
    --------
    >>> leave_one_out_baseline([1.0, 2.0, 6.0])
    array([4. , 3.5, 1.5])
    """
    signal = finite_array(signal, "signal")
    if signal.ndim < 1:
        raise ValueError("signal must have at least one dimension (the samples)")
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"axis must be an integer, got {type(axis).__name__}")
    if not -signal.ndim <= axis < signal.ndim:
        raise ValueError(f"axis must be in [-{signal.ndim}, {signal.ndim}) for signal of shape {signal.shape}, got {axis}")
    num_samples = signal.shape[axis]
    if num_samples < 2:
        raise ValueError(
            "the leave-one-out baseline needs at least 2 samples along axis "
            f"{axis}, got {num_samples} (num_samples must be >= 2)"
        )
    total = signal.sum(axis=axis, keepdims=True)
    return (total - signal) / (num_samples - 1)


def _signal_and_score(signal, score) -> tuple[np.ndarray, np.ndarray]:
    """Check ``signal`` and ``score`` and give ``signal`` a trailing parameter axis if it lacks one."""
    score = finite_array(score, "score")
    signal = finite_array(signal, "signal")
    if score.ndim < 1:
        raise ValueError("score must have at least one dimension (the samples)")
    if signal.ndim == score.ndim - 1:
        signal = signal[..., None]
    if signal.ndim != score.ndim or not _broadcasts_to(signal.shape, score.shape):
        raise ValueError(
            f"signal of shape {signal.shape} does not match score of shape {score.shape}: "
            "give one signal per sample, or one per sample and parameter"
        )
    return signal, score


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` without changing it."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _coefficient(covariance: np.ndarray, variance: np.ndarray, mean_square: np.ndarray) -> np.ndarray:
    """``covariance / variance``, and 0 where the score does not vary (relative variance below rounding)."""
    varies = variance > np.finfo(float).eps * mean_square
    return np.where(varies, covariance / np.where(varies, variance, 1.0), 0.0)


def optimal_baseline(signal, score) -> np.ndarray:
    r"""The variance-minimising control-variate coefficient per parameter, estimated from the samples themselves.

    Black-box variational inference (Ranganath, Gerrish & Blei 2014) uses the
    score :math:`s_k = \partial_{\phi_k} \ln q_\phi` as a control variate for
    the term :math:`\ell\, s_k`, with the coefficient that minimises the
    variance of :math:`(\ell - a_k)\, s_k`:

    .. math::

        a_k^* = \frac{\operatorname{Cov}(\ell s_k,\, s_k)}{\operatorname{Var}(s_k)}
              = \frac{\mathbb E_q[\ell\, s_k^2]}{\mathbb E_q[s_k^2]} .

    This function estimates :math:`a_k^*` by the sample covariance and
    variance of the given samples.

    Parameters
    ----------
    signal : array_like, shape (num_samples, ...) or (num_samples, ..., num_params)
        The learning signal :math:`\ell(z_i)`, one per sample (shared by every
        parameter) or one per sample and parameter (local learning signals).
    score : array_like, shape (num_samples, ..., num_params)
        :math:`\nabla_\phi \ln q_\phi(z_i)`. Samples lie along the first
        axis; any axes in between (for example independent repetitions) are
        kept.

    Returns
    -------
    ndarray, shape score.shape[1:]
        :math:`\hat a_k`. Where a score does not vary across the samples the
        coefficient is 0.

    Raises
    ------
    ValueError
        If there are fewer than two samples, the shapes do not match, or an
        input holds NaN or infinity.

    Notes
    -----
    **Bias.** Subtracting an :math:`\hat a_k` estimated from the *same*
    samples makes the estimator biased: its mean is
    :math:`g_k - \operatorname{Cov}(\hat a_k, \bar s_k)`, an error of order
    :math:`1/n`. Estimate the coefficient from a separate batch, or use
    :func:`leave_one_out_optimal_baseline`, for an unbiased estimator.

    Examples
    --------
    >>> signal = np.array([1.0, 2.0, 4.0])
    >>> score = np.array([[-1.0], [0.0], [1.0]])
    >>> optimal_baseline(signal, score)  # Cov(l s, s) / Var(s) = (5/3 - 1 * 0) / (2/3)
    array([2.5])
    """
    signal, score = _signal_and_score(signal, score)
    num_samples = score.shape[0]
    if num_samples < 2:
        raise ValueError(
            f"the optimal baseline needs at least 2 samples (num_samples must be >= 2), got {num_samples}"
        )
    weighted = signal * score
    centred_score = score - score.mean(axis=0)
    covariance = np.mean((weighted - weighted.mean(axis=0)) * centred_score, axis=0)
    variance = np.mean(centred_score**2, axis=0)
    return _coefficient(covariance, variance, np.mean(score**2, axis=0))


def leave_one_out_optimal_baseline(signal, score) -> np.ndarray:
    r"""The optimal control-variate coefficient for each sample, estimated from the *other* samples.

    Sample :math:`i`'s coefficient :math:`\hat a_k^{(-i)}` is
    :func:`optimal_baseline` computed without sample :math:`i`. It does not
    depend on :math:`z_i`, so subtracting it leaves the estimator unbiased, at
    the price of estimating each coefficient from :math:`n - 1` samples.

    Parameters
    ----------
    signal : array_like, shape (num_samples, ...) or (num_samples, ..., num_params)
        As :func:`optimal_baseline`.
    score : array_like, shape (num_samples, ..., num_params)
        As :func:`optimal_baseline`.

    Returns
    -------
    ndarray, shape score.shape
        :math:`\hat a_k^{(-i)}` for every sample :math:`i` and parameter
        :math:`k`.

    Raises
    ------
    ValueError
        If there are fewer than three samples (each coefficient needs at
        least two others), the shapes do not match, or an input holds NaN or
        infinity.

    Notes
    -----
    With :math:`x_i = \ell_i s_{ik}` and :math:`y_i = s_{ik}`, the sums over
    all samples minus sample :math:`i`'s own contribution give, in one
    vectorised pass,

    .. math::

        \hat a_k^{(-i)} = \frac{\frac{1}{n-1}\sum_{j\ne i} x_j y_j - \bar x^{(-i)} \bar y^{(-i)}}
                               {\frac{1}{n-1}\sum_{j\ne i} y_j^2 - \bigl(\bar y^{(-i)}\bigr)^2} .

    Both :math:`x` and :math:`y` are first centred on their full-sample means,
    which changes neither covariance nor variance and avoids cancellation.

    Examples
    --------
    >>> signal = np.array([1.0, 2.0, 4.0, 3.0])
    >>> score = np.array([[-1.0], [0.0], [1.0], [0.5]])
    >>> loo = leave_one_out_optimal_baseline(signal, score)
    >>> bool(np.isclose(loo[0, 0], optimal_baseline(signal[1:], score[1:])[0]))
    True
    """
    signal, score = _signal_and_score(signal, score)
    num_samples = score.shape[0]
    if num_samples < 3:
        raise ValueError(
            "the leave-one-out optimal baseline needs at least 3 samples "
            f"(num_samples must be >= 3), got {num_samples}"
        )
    others = num_samples - 1
    weighted = signal * score
    x = weighted - weighted.mean(axis=0)
    y = score - score.mean(axis=0)
    mean_x = (x.sum(axis=0) - x) / others
    mean_y = (y.sum(axis=0) - y) / others
    covariance = ((x * y).sum(axis=0) - x * y) / others - mean_x * mean_y
    variance = ((y * y).sum(axis=0) - y * y) / others - mean_y**2
    mean_square = ((score**2).sum(axis=0) - score**2) / others
    return _coefficient(covariance, variance, mean_square)

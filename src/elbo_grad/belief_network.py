r"""A sigmoid belief network with a Bernoulli inference network, trained with NVIL.

The generative model has :math:`H` binary latent units :math:`z` and :math:`D`
binary visible units :math:`x`,

.. math::

    p_\theta(z) = \prod_{h=1}^H \mathrm{Bern}\bigl(z_h; \sigma(b_h)\bigr),\qquad
    p_\theta(x \mid z) = \prod_{d=1}^D \mathrm{Bern}\bigl(x_d; \sigma((Wz + c)_d)\bigr),

with :math:`\theta = (b, W, c)`, and the inference network is a logistic
regression on :math:`x`,

.. math::

    q_\phi(z \mid x) = \prod_{h=1}^H \mathrm{Bern}\bigl(z_h; \sigma((Ux + d)_h)\bigr),

with :math:`\phi = (U, d)`. Because :math:`z` is discrete there is no
reparameterisation: the gradient in :math:`\phi` is the score-function
estimator (Mnih & Gregor 2014, appendix B),

.. math::

    \nabla_\phi \mathcal L = \mathbb E_{q_\phi}\bigl[\ell(x, z)\,\nabla_\phi \ln q_\phi(z \mid x)\bigr],
    \qquad \ell(x, z) = \ln p_\theta(x, z) - \ln q_\phi(z \mid x),

while the gradient in :math:`\theta` is an ordinary average of
:math:`\nabla_\theta \ln p_\theta(x, z)` over samples of :math:`q_\phi`.

With :math:`H \le 12` every sum over the :math:`2^H` latent states is done
exactly, which gives the exact log-likelihood :math:`\ln p_\theta(x)`, the
exact ELBO and its exact gradients: the yardsticks for the estimators.

Shapes. A batch of data is ``x`` of shape ``(N, D)``; latent samples are
``z`` of shape ``(..., N, H)``, any leading axes (for example the samples
axis) broadcasting against the data axis. Functions of one data point and
one sample return shape ``(..., N)``; per-sample gradients add a last axis
of parameters.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._validation import as_generator, check_num_samples, finite_array, positive_scalar
from .baselines import (
    LinearBaseline,
    MovingAverageBaseline,
    VarianceNormalizer,
    leave_one_out_baseline,
)
from .distributions import _sigmoid

__all__ = [
    "NVILHistory",
    "RecognitionNetwork",
    "SigmoidBeliefNetwork",
    "bars_and_stripes",
    "train_nvil",
]

#: The largest number of latent units for which sums over all :math:`2^H`
#: states are done (4096 states).
MAX_ENUMERATED_HIDDEN = 12


def _log_bernoulli(value: np.ndarray, logits: np.ndarray) -> np.ndarray:
    r""":math:`\ln \mathrm{Bern}(v; \sigma(a)) = v a - \ln(1 + e^a)`, elementwise."""
    return value * logits - np.logaddexp(0.0, logits)


def _binary_array(value, name: str, last_dim: int, min_ndim: int) -> np.ndarray:
    """Check that ``value`` is an array of 0s and 1s whose last axis has ``last_dim`` entries."""
    array = finite_array(value, name)
    if array.ndim < min_ndim or array.shape[-1] != last_dim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s) and a last axis of "
            f"length {last_dim}, got shape {array.shape}"
        )
    if not np.all((array == 0.0) | (array == 1.0)):
        raise ValueError(f"{name} must hold only 0s and 1s")
    return array


def _all_states(num_hidden: int) -> np.ndarray:
    """Every binary vector of length ``num_hidden``, shape ``(2**num_hidden, num_hidden)``."""
    if num_hidden > MAX_ENUMERATED_HIDDEN:
        raise ValueError(
            f"exact sums enumerate 2**num_hidden latent states; num_hidden must be at most "
            f"{MAX_ENUMERATED_HIDDEN}, got {num_hidden}"
        )
    codes = np.arange(2**num_hidden)[:, None]
    return ((codes >> np.arange(num_hidden)[None, :]) & 1).astype(float)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(a - top), axis=axis))


def bars_and_stripes(size: int = 4) -> np.ndarray:
    r"""Every distinct bars-and-stripes image of ``size`` by ``size`` pixels.

    A *bars* image switches on a subset of the columns, a *stripes* image a
    subset of the rows. Both families contain the blank and the full image,
    so there are :math:`2 \cdot 2^{s} - 2` distinct images.

    Parameters
    ----------
    size : int, default 4
        The side :math:`s \ge 1` of the square image.

    Returns
    -------
    ndarray, shape (2 * 2**size - 2, size * size)
        One flattened (row-major) image per row, as floats 0.0 and 1.0: first
        the bars in the order of the binary code of their column subset, then
        the stripes that are not already listed.

    Raises
    ------
    TypeError
        If ``size`` is not an integer.
    ValueError
        If ``size < 1`` or ``size > 12``.

    Notes
    -----
    With :math:`v \in \{0, 1\}^s`, the bars image is :math:`x_{ij} = v_j` and
    the stripes image is :math:`x_{ij} = v_i`; they coincide only for
    :math:`v = 0` and :math:`v = 1`. The uniform distribution on the images has
    entropy :math:`\ln(2 \cdot 2^s - 2)`, so no model can reach an average
    log-likelihood above :math:`-\ln 30 \approx -3.401` on the 30 images of
    size 4.

    Examples
    --------
    >>> images = bars_and_stripes(4)
    >>> images.shape
    (30, 16)
    >>> images[5].reshape(4, 4).astype(int)
    array([[1, 0, 1, 0],
           [1, 0, 1, 0],
           [1, 0, 1, 0],
           [1, 0, 1, 0]])
    """
    size = check_num_samples(size, "size")
    if size > MAX_ENUMERATED_HIDDEN:
        raise ValueError(f"size must be at most {MAX_ENUMERATED_HIDDEN}, got {size}")
    subsets = _all_states(size)
    bars = np.repeat(subsets[:, None, :], size, axis=1)  # x[i, j] = v[j]
    stripes = np.repeat(subsets[:, :, None], size, axis=2)  # x[i, j] = v[i]
    # The stripes with v = 0 (first) and v = 1 (last) are already among the bars.
    images = np.concatenate([bars, stripes[1:-1]], axis=0)
    return images.reshape(len(images), size * size)


def _check_data(x, num_visible: int) -> np.ndarray:
    return _binary_array(x, "x", num_visible, min_ndim=2)


def _check_x_z(x, z, num_visible: int, num_hidden: int):
    """Check data ``x`` (N, D) and, if given, latents ``z`` (..., N, H) that broadcast against it."""
    x = _check_data(x, num_visible)
    if z is None:
        return x
    z = _binary_array(z, "z", num_hidden, min_ndim=2)
    try:
        np.broadcast_shapes(x.shape[:-1], z.shape[:-1])
    except ValueError:
        raise ValueError(
            f"z of shape {z.shape} does not broadcast against x of shape {x.shape}: "
            "z must have shape (..., N, num_hidden) for x of shape (N, num_visible)"
        ) from None
    return x, z


class SigmoidBeliefNetwork:
    r"""A sigmoid belief network with one layer of binary latent units.

    Parameters
    ----------
    prior_logits : array_like, shape (num_hidden,)
        :math:`b`, the logits of the factorised prior :math:`p_\theta(z)`.
    weights : array_like, shape (num_visible, num_hidden)
        :math:`W`.
    visible_bias : array_like, shape (num_visible,)
        :math:`c`.

    Attributes
    ----------
    prior_logits, weights, visible_bias : ndarray
        :math:`b`, :math:`W` and :math:`c`, copies of the arguments (the
        training loop of :func:`train_nvil` updates them in place).
    num_hidden, num_visible : int
        :math:`H` and :math:`D`.
    params : ndarray, shape (num_params,)
        :math:`\theta` as one flat vector: :math:`b`, then :math:`W`
        (row-major), then :math:`c`.

    Raises
    ------
    ValueError
        If a parameter is not finite or the shapes do not fit together.

    Notes
    -----
    With the visible logits :math:`a = Wz + c`,

    .. math::

        \ln p_\theta(x, z) = \sum_h \bigl(z_h b_h - \ln(1 + e^{b_h})\bigr)
            + \sum_d \bigl(x_d a_d - \ln(1 + e^{a_d})\bigr),

    .. math::

        \frac{\partial \ln p_\theta}{\partial b} = z - \sigma(b),\qquad
        \frac{\partial \ln p_\theta}{\partial W} = \bigl(x - \sigma(a)\bigr) z^\top,\qquad
        \frac{\partial \ln p_\theta}{\partial c} = x - \sigma(a).

    One latent layer means one learning signal. NVIL's *local* learning
    signals need a second layer: with :math:`z^{(2)}` above :math:`z^{(1)}`
    and :math:`q` sampling :math:`z^{(1)}` from :math:`x`, then
    :math:`z^{(2)}` from :math:`z^{(1)}`, the parameters of
    :math:`q(z^{(2)} \mid z^{(1)})` can use
    :math:`\ln p(z^{(1)} \mid z^{(2)}) + \ln p(z^{(2)}) - \ln q(z^{(2)} \mid z^{(1)})`,
    because the remaining terms :math:`\ln p(x \mid z^{(1)}) - \ln q(z^{(1)} \mid x)`
    do not depend on :math:`z^{(2)}` given :math:`z^{(1)}`: they act as a
    baseline and can be dropped without bias. With one layer every term
    depends on the one sample :math:`z`, so there is nothing to drop.

    Examples
    --------
    >>> model = SigmoidBeliefNetwork.initialize(num_visible=4, num_hidden=2, rng=0)
    >>> x = np.array([[1.0, 0.0, 1.0, 0.0]])
    >>> model.log_marginal(x).shape, model.num_params
    ((1,), 14)
    >>> import itertools
    >>> every_x = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    >>> bool(np.isclose(np.exp(model.log_marginal(every_x)).sum(), 1.0))
    True
    """

    def __init__(self, prior_logits, weights, visible_bias):
        prior_logits = finite_array(prior_logits, "prior_logits", ndim=1)
        weights = finite_array(weights, "weights", ndim=2)
        visible_bias = finite_array(visible_bias, "visible_bias", ndim=1)
        if weights.shape != (visible_bias.size, prior_logits.size):
            raise ValueError(
                "weights must have shape (num_visible, num_hidden) = "
                f"({visible_bias.size}, {prior_logits.size}) to match visible_bias and "
                f"prior_logits, got {weights.shape}"
            )
        self.prior_logits = prior_logits.copy()
        self.weights = weights.copy()
        self.visible_bias = visible_bias.copy()
        self.num_hidden = int(prior_logits.size)
        self.num_visible = int(visible_bias.size)

    def __repr__(self) -> str:
        return (
            f"SigmoidBeliefNetwork(num_visible={self.num_visible}, "
            f"num_hidden={self.num_hidden})"
        )

    @classmethod
    def initialize(cls, num_visible: int, num_hidden: int, *, scale: float = 0.1, rng=None):
        r"""A network with zero biases and weights drawn from :math:`\mathcal N(0, \text{scale}^2)`.

        Parameters
        ----------
        num_visible, num_hidden : int
            :math:`D \ge 1` and :math:`H \ge 1`.
        scale : float, default 0.1
            The standard deviation of the initial weights (positive).
        rng : None, int or numpy.random.Generator, keyword-only
            Source of randomness.

        Returns
        -------
        SigmoidBeliefNetwork
            A new network: :math:`b = 0`, :math:`c = 0` and
            :math:`W_{dh} \sim \mathcal N(0, \text{scale}^2)` independently.

        Raises
        ------
        TypeError
            If a size is not an integer, ``scale`` is not a number or ``rng``
            is not a seed, a generator or ``None``.
        ValueError
            If a size is smaller than 1, ``scale`` is not positive and finite,
            or ``rng`` is a negative seed.

        Examples
        --------
        >>> model = SigmoidBeliefNetwork.initialize(num_visible=3, num_hidden=2, rng=0)
        >>> model
        SigmoidBeliefNetwork(num_visible=3, num_hidden=2)
        >>> model.weights.shape, model.prior_logits, model.visible_bias
        ((3, 2), array([0., 0.]), array([0., 0., 0.]))
        """
        num_visible = check_num_samples(num_visible, "num_visible")
        num_hidden = check_num_samples(num_hidden, "num_hidden")
        scale = positive_scalar(scale, "scale")
        rng = as_generator(rng)
        return cls(
            np.zeros(num_hidden), scale * rng.standard_normal((num_visible, num_hidden)), np.zeros(num_visible)
        )

    @property
    def params(self) -> np.ndarray:
        r""":math:`\theta = (b, W, c)` as one new flat array of length ``num_params``, :math:`W` row-major."""
        return np.concatenate([self.prior_logits, self.weights.ravel(), self.visible_bias])

    @property
    def num_params(self) -> int:
        r""":math:`H + DH + D`, the length of ``params``."""
        return self.num_hidden * (self.num_visible + 1) + self.num_visible

    def with_params(self, params) -> "SigmoidBeliefNetwork":
        r"""A network of the same shape with the flat parameter vector ``params``.

        Parameters
        ----------
        params : array_like, shape (num_params,)
            :math:`\theta` in the order of ``params``: :math:`b`, then
            :math:`W` (row-major), then :math:`c`.

        Returns
        -------
        SigmoidBeliefNetwork
            A new network; this one is not changed.

        Raises
        ------
        TypeError
            If ``params`` is not numeric.
        ValueError
            If ``params`` is not 1-D, holds NaN or infinity, or does not have
            length ``num_params``.

        Examples
        --------
        >>> model = SigmoidBeliefNetwork.initialize(num_visible=2, num_hidden=1, rng=0)
        >>> new = model.with_params(np.arange(5.0))
        >>> new.prior_logits, new.weights, new.visible_bias
        (array([0.]), array([[1.],
               [2.]]), array([3., 4.]))
        >>> bool(np.array_equal(new.params, np.arange(5.0)))
        True
        """
        params = finite_array(params, "params", ndim=1)
        if params.size != self.num_params:
            raise ValueError(f"params must have length {self.num_params}, got {params.size}")
        H, D = self.num_hidden, self.num_visible
        return type(self)(params[:H], params[H : H + D * H].reshape(D, H), params[H + D * H :])

    # -- the model, unchecked (used in loops) -----------------------------------------
    def _ascend(self, step: np.ndarray) -> None:
        """Add a flat step (in the order of ``params``) to the parameters in place."""
        H, D = self.num_hidden, self.num_visible
        self.prior_logits += step[:H]
        self.weights += step[H : H + D * H].reshape(D, H)
        self.visible_bias += step[H + D * H :]

    def _visible_logits(self, z: np.ndarray) -> np.ndarray:
        return z @ self.weights.T + self.visible_bias

    def _log_joint(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        log_prior = np.sum(_log_bernoulli(z, self.prior_logits), axis=-1)
        log_likelihood = np.sum(_log_bernoulli(x, self._visible_logits(z)), axis=-1)
        return log_prior + log_likelihood

    def _weighted_gradient(self, x: np.ndarray, z: np.ndarray, weights: np.ndarray) -> np.ndarray:
        r""":math:`\sum w \nabla_\theta \ln p_\theta(x, z)` over every axis of ``weights``."""
        z = np.broadcast_to(z, weights.shape + (self.num_hidden,))
        residual = x - _sigmoid(self._visible_logits(z))  # (..., N, D)
        weighted_residual = (weights[..., None] * residual).reshape(-1, self.num_visible)
        z = z.reshape(-1, self.num_hidden)
        d_prior = weights.ravel() @ z - weights.sum() * _sigmoid(self.prior_logits)
        d_weights = weighted_residual.T @ z
        d_bias = weighted_residual.sum(axis=0)
        return np.concatenate([d_prior, d_weights.ravel(), d_bias])

    # -- the model, checked ------------------------------------------------------------
    def _check(self, x, z=None):
        return _check_x_z(x, z, self.num_visible, self.num_hidden)

    def log_joint(self, x, z) -> np.ndarray:
        r""":math:`\ln p_\theta(x_n, z_{\dots n})` for every data point and sample.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.
        z : array_like, shape (..., N, num_hidden)
            Binary latent states (leading axes broadcast).

        Returns
        -------
        ndarray, shape (..., N)
            :math:`\ln p_\theta(z) + \ln p_\theta(x_n \mid z)`, in nats.

        Raises
        ------
        TypeError
            If an input is not numeric.
        ValueError
            If an input is not binary or the shapes do not fit.

        Examples
        --------
        With every parameter zero, each of the :math:`H + D` units is a fair
        coin:

        >>> model = SigmoidBeliefNetwork(prior_logits=[0.0], weights=[[0.0], [0.0]],
        ...                              visible_bias=[0.0, 0.0])
        >>> bool(np.isclose(model.log_joint([[1.0, 0.0]], [[1.0]])[0], 3 * np.log(0.5)))
        True
        >>> model.log_joint([[1.0, 0.0]], np.ones((5, 1, 1))).shape
        (5, 1)
        """
        x, z = self._check(x, z)
        return self._log_joint(x, z)

    def grad_log_joint(self, x, z) -> np.ndarray:
        r""":math:`\nabla_\theta \ln p_\theta(x_n, z_{\dots n})` for every data point and sample.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.
        z : array_like, shape (..., N, num_hidden)
            Binary latent states (leading axes broadcast).

        Returns
        -------
        ndarray, shape (..., N, num_params)
            In the order of ``params``: :math:`z - \sigma(b)`, then
            :math:`(x - \sigma(a)) z^\top` row-major, then :math:`x - \sigma(a)`,
            with :math:`a = Wz + c`.

        Raises
        ------
        TypeError
            If an input is not numeric.
        ValueError
            If an input is not binary or the shapes do not fit.

        Examples
        --------
        With every parameter zero, :math:`\sigma(b) = \sigma(a) = 1/2`:

        >>> model = SigmoidBeliefNetwork(prior_logits=[0.0], weights=[[0.0], [0.0]],
        ...                              visible_bias=[0.0, 0.0])
        >>> model.grad_log_joint([[1.0, 0.0]], [[1.0]])
        array([[ 0.5,  0.5, -0.5,  0.5, -0.5]])
        """
        x, z = self._check(x, z)
        shape = np.broadcast_shapes(x.shape[:-1], z.shape[:-1])
        z = np.broadcast_to(z, shape + (self.num_hidden,))
        residual = x - _sigmoid(self._visible_logits(z))
        d_weights = residual[..., :, None] * z[..., None, :]
        return np.concatenate(
            [z - _sigmoid(self.prior_logits), d_weights.reshape(shape + (-1,)), residual], axis=-1
        )

    def log_marginal(self, x) -> np.ndarray:
        r"""The exact log-likelihood :math:`\ln p_\theta(x_n)` by summing over all :math:`2^H` states.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.

        Returns
        -------
        ndarray, shape (N,)
            :math:`\ln p_\theta(x_n)`, in nats.

        Raises
        ------
        TypeError
            If ``x`` is not numeric.
        ValueError
            If ``x`` is not binary of the right shape, or ``num_hidden > 12``.

        Examples
        --------
        With every parameter zero each of the :math:`2^D` images has
        probability :math:`2^{-D}`:

        >>> model = SigmoidBeliefNetwork(prior_logits=[0.0], weights=[[0.0], [0.0]],
        ...                              visible_bias=[0.0, 0.0])
        >>> np.round(model.log_marginal([[0.0, 1.0], [1.0, 1.0]]), 4)
        array([-1.3863, -1.3863])

        Notes
        -----
        .. math::

            \ln p_\theta(x) = \ln \sum_{z \in \{0,1\}^H} e^{\ln p_\theta(x, z)},

        computed with the log-sum-exp trick.
        """
        x = self._check(x)
        states = _all_states(self.num_hidden)[:, None, :]  # (2^H, 1, H)
        return _logsumexp(self._log_joint(x, states), axis=0)

    def sample(self, num_samples: int, *, rng=None):
        r"""Draw :math:`(x, z)` from the model: :math:`z \sim p_\theta(z)`, then :math:`x \sim p_\theta(x \mid z)`.

        Parameters
        ----------
        num_samples : int
            The number of independent pairs to draw.
        rng : None, int or numpy.random.Generator, keyword-only
            Source of randomness.

        Returns
        -------
        x : ndarray, shape (num_samples, num_visible)
            The visible units, as floats 0.0 and 1.0.
        z : ndarray, shape (num_samples, num_hidden)
            The latent units that generated each row of ``x``.

        Raises
        ------
        TypeError
            If ``num_samples`` is not an integer or ``rng`` is not a seed, a
            generator or ``None``.
        ValueError
            If ``num_samples < 1`` or ``rng`` is a negative seed.

        Examples
        --------
        >>> model = SigmoidBeliefNetwork(prior_logits=[2.0], weights=[[3.0], [-3.0]],
        ...                              visible_bias=[0.0, 0.0])
        >>> x, z = model.sample(10000, rng=0)
        >>> x.shape, z.shape
        ((10000, 2), (10000, 1))
        >>> p = 1 / (1 + np.exp(-2.0))  # the prior probability of z = 1
        >>> bool(abs(z.mean() - p) < 4 * np.sqrt(p * (1 - p) / 10000))
        True
        """
        num_samples = check_num_samples(num_samples)
        rng = as_generator(rng)
        z = (rng.random((num_samples, self.num_hidden)) < _sigmoid(self.prior_logits)).astype(float)
        x = (rng.random((num_samples, self.num_visible)) < _sigmoid(self._visible_logits(z))).astype(float)
        return x, z

    # -- together with an inference network -------------------------------------------
    def _check_recognition(self, recognition) -> "RecognitionNetwork":
        if not isinstance(recognition, RecognitionNetwork):
            raise TypeError(f"recognition must be a RecognitionNetwork, got {type(recognition).__name__}")
        if (recognition.num_hidden, recognition.num_visible) != (self.num_hidden, self.num_visible):
            raise ValueError(
                f"recognition has (num_hidden, num_visible) = ({recognition.num_hidden}, "
                f"{recognition.num_visible}), the model ({self.num_hidden}, {self.num_visible})"
            )
        return recognition

    def learning_signal(self, x, z, recognition) -> np.ndarray:
        r"""The learning signal :math:`\ell(x_n, z) = \ln p_\theta(x_n, z) - \ln q_\phi(z \mid x_n)`.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.
        z : array_like, shape (..., N, num_hidden)
            Binary latent states (leading axes broadcast), usually drawn from
            ``recognition``.
        recognition : RecognitionNetwork
            :math:`q_\phi(z \mid x)`.

        Returns
        -------
        ndarray, shape (..., N)
            :math:`\ell(x_n, z)`, in nats. Its mean under
            :math:`q_\phi(z \mid x_n)` is the ELBO of :math:`x_n`.

        Raises
        ------
        TypeError
            If ``recognition`` is not a :class:`RecognitionNetwork` or an input
            is not numeric.
        ValueError
            If the shapes do not fit, an input is not binary, or ``recognition``
            has a different number of visible or latent units.

        Examples
        --------
        The average signal over samples of :math:`q_\phi` estimates the exact
        ELBO:

        >>> model = SigmoidBeliefNetwork.initialize(num_visible=3, num_hidden=2, rng=0)
        >>> recognition = RecognitionNetwork.initialize(num_visible=3, num_hidden=2, rng=1)
        >>> x = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
        >>> signal = model.learning_signal(x, recognition.sample(x, 4000, rng=2), recognition)
        >>> signal.shape
        (4000, 2)
        >>> se = signal.std(axis=0, ddof=1) / np.sqrt(4000)
        >>> bool(np.all(abs(signal.mean(axis=0) - model.exact_elbo(x, recognition)) < 4 * se))
        True
        """
        recognition = self._check_recognition(recognition)
        x, z = self._check(x, z)
        return self._log_joint(x, z) - recognition._log_prob(x, z)

    def _enumerate(self, x, recognition):
        """All states, q(z|x) and the learning signal for each state and data point."""
        states = _all_states(self.num_hidden)[:, None, :]  # (K, 1, H)
        log_q = recognition._log_prob(x, states)  # (K, N)
        signal = self._log_joint(x, states) - log_q
        return states, np.exp(log_q), signal

    def exact_elbo(self, x, recognition) -> np.ndarray:
        r"""The ELBO of every data point, :math:`\sum_z q_\phi(z \mid x_n)\,\ell(x_n, z)`, by enumeration.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.
        recognition : RecognitionNetwork
            :math:`q_\phi(z \mid x)`.

        Returns
        -------
        ndarray, shape (N,)
            :math:`\mathcal L(x_n) = \mathbb E_{q_\phi}[\ell(x_n, z)]`, in nats.

        Raises
        ------
        TypeError, ValueError
            As :meth:`learning_signal`; ``ValueError`` also if ``num_hidden > 12``.

        Notes
        -----
        .. math::

            \ln p_\theta(x) - \mathcal L(x)
            = \mathrm{KL}\bigl(q_\phi(z \mid x) \,\|\, p_\theta(z \mid x)\bigr) \ge 0,

        with equality exactly when :math:`q_\phi(z \mid x)` is the posterior.

        Examples
        --------
        With :math:`W = 0` the posterior is the prior, which ``exact`` below
        matches; any other :math:`q_\phi` gives a strictly lower bound:

        >>> model = SigmoidBeliefNetwork(prior_logits=[1.0, -1.0], weights=np.zeros((3, 2)),
        ...                              visible_bias=[0.5, 0.0, -0.5])
        >>> x = np.array([[1.0, 0.0, 1.0]])
        >>> exact = RecognitionNetwork(weights=np.zeros((2, 3)), bias=[1.0, -1.0])
        >>> bool(np.isclose(model.exact_elbo(x, exact)[0], model.log_marginal(x)[0]))
        True
        >>> other = RecognitionNetwork(weights=np.zeros((2, 3)), bias=[0.0, 0.0])
        >>> bool(model.exact_elbo(x, other)[0] < model.log_marginal(x)[0])
        True
        """
        recognition = self._check_recognition(recognition)
        x = self._check(x)
        _, q, signal = self._enumerate(x, recognition)
        return np.sum(q * signal, axis=0)

    def exact_elbo_gradient(self, x, recognition):
        r"""The exact gradients of the mean ELBO :math:`\frac1N \sum_n \mathcal L(x_n)`, by enumeration.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.
        recognition : RecognitionNetwork
            :math:`q_\phi(z \mid x)`.

        Returns
        -------
        grad_theta : ndarray, shape (num_params,)
            In the order of ``params``.
        grad_phi : ndarray, shape (recognition.num_params,)
            In the order of ``recognition.params``.

        Raises
        ------
        TypeError, ValueError
            As :meth:`exact_elbo`.

        Notes
        -----
        .. math::

            \nabla_\theta \mathcal L(x) &= \sum_z q_\phi(z \mid x)\,\nabla_\theta \ln p_\theta(x, z),
            \\
            \nabla_\phi \mathcal L(x) &= \sum_z q_\phi(z \mid x)\,\ell(x, z)\,\nabla_\phi \ln q_\phi(z \mid x).

        The second is the score-function identity with the expectation done
        exactly; the term :math:`-\sum_z q_\phi \nabla_\phi \ln q_\phi` is zero.

        Examples
        --------
        A step of length :math:`\varepsilon` along ``grad_phi`` changes the
        exact ELBO by :math:`\varepsilon \lVert \nabla_\phi \mathcal L \rVert^2`
        to first order:

        >>> model = SigmoidBeliefNetwork.initialize(num_visible=4, num_hidden=2, rng=0)
        >>> recognition = RecognitionNetwork.initialize(num_visible=4, num_hidden=2, rng=1)
        >>> x = bars_and_stripes(2)
        >>> grad_theta, grad_phi = model.exact_elbo_gradient(x, recognition)
        >>> grad_theta.shape, grad_phi.shape
        ((14,), (10,))
        >>> def mean_elbo(phi):
        ...     return model.exact_elbo(x, recognition.with_params(phi)).mean()
        >>> step = 1e-4 * grad_phi
        >>> slope = (mean_elbo(recognition.params + step) - mean_elbo(recognition.params - step)) / 2e-4
        >>> bool(np.isclose(slope, grad_phi @ grad_phi, rtol=1e-6))
        True
        """
        recognition = self._check_recognition(recognition)
        x = self._check(x)
        states, q, signal = self._enumerate(x, recognition)
        weights = q / x.shape[0]
        grad_theta = self._weighted_gradient(x, states, weights)
        grad_phi = recognition._weighted_score(x, states, weights * signal)
        return grad_theta, grad_phi


class RecognitionNetwork:
    r"""The inference network :math:`q_\phi(z \mid x) = \prod_h \mathrm{Bern}(z_h; \sigma((Ux + d)_h))`.

    Parameters
    ----------
    weights : array_like, shape (num_hidden, num_visible)
        :math:`U`.
    bias : array_like, shape (num_hidden,)
        :math:`d`.

    Attributes
    ----------
    weights, bias : ndarray
        :math:`U` and :math:`d`, copies of the arguments (the training loop
        of :func:`train_nvil` updates them in place).
    num_hidden, num_visible : int
        :math:`H` and :math:`D`.
    params : ndarray, shape (num_hidden * (num_visible + 1),)
        :math:`\phi` as one flat vector: the matrix :math:`[U, d]` of shape
        ``(num_hidden, num_visible + 1)``, row-major.

    Raises
    ------
    ValueError
        If a parameter is not finite or the shapes do not fit.

    Notes
    -----
    With :math:`\pi = \sigma(Ux + d)`,

    .. math::

        \ln q_\phi(z \mid x) = \sum_h \bigl(z_h (Ux + d)_h - \ln(1 + e^{(Ux + d)_h})\bigr),
        \\
        \nabla_{[U, d]} \ln q_\phi(z \mid x) = (z - \pi) \otimes [x, 1].

    Examples
    --------
    >>> recognition = RecognitionNetwork.initialize(num_visible=3, num_hidden=2, rng=0)
    >>> x = np.array([[1.0, 0.0, 1.0]])
    >>> z = recognition.sample(x, 5, rng=1)
    >>> z.shape, recognition.log_prob(x, z).shape, recognition.score(x, z).shape
    ((5, 1, 2), (5, 1), (5, 1, 8))
    """

    def __init__(self, weights, bias):
        weights = finite_array(weights, "weights", ndim=2)
        bias = finite_array(bias, "bias", ndim=1)
        if weights.shape[0] != bias.size:
            raise ValueError(
                f"weights must have shape (num_hidden, num_visible) with num_hidden = {bias.size} "
                f"to match bias, got {weights.shape}"
            )
        self.weights = weights.copy()
        self.bias = bias.copy()
        self.num_hidden, self.num_visible = (int(n) for n in weights.shape)

    def __repr__(self) -> str:
        return f"RecognitionNetwork(num_visible={self.num_visible}, num_hidden={self.num_hidden})"

    @classmethod
    def initialize(cls, num_visible: int, num_hidden: int, *, scale: float = 0.1, rng=None):
        r"""A network with zero bias and weights drawn from :math:`\mathcal N(0, \text{scale}^2)`.

        Parameters
        ----------
        num_visible, num_hidden : int
            :math:`D \ge 1` and :math:`H \ge 1`.
        scale : float, default 0.1
            The standard deviation of the initial weights (positive).
        rng : None, int or numpy.random.Generator, keyword-only
            Source of randomness.

        Returns
        -------
        RecognitionNetwork
            A new network: :math:`d = 0` and
            :math:`U_{hd} \sim \mathcal N(0, \text{scale}^2)` independently.

        Raises
        ------
        TypeError
            If a size is not an integer, ``scale`` is not a number or ``rng``
            is not a seed, a generator or ``None``.
        ValueError
            If a size is smaller than 1, ``scale`` is not positive and finite,
            or ``rng`` is a negative seed.

        Examples
        --------
        >>> recognition = RecognitionNetwork.initialize(num_visible=3, num_hidden=2, rng=0)
        >>> recognition
        RecognitionNetwork(num_visible=3, num_hidden=2)
        >>> recognition.weights.shape, recognition.bias
        ((2, 3), array([0., 0.]))
        """
        num_visible = check_num_samples(num_visible, "num_visible")
        num_hidden = check_num_samples(num_hidden, "num_hidden")
        scale = positive_scalar(scale, "scale")
        rng = as_generator(rng)
        return cls(scale * rng.standard_normal((num_hidden, num_visible)), np.zeros(num_hidden))

    @property
    def params(self) -> np.ndarray:
        r""":math:`\phi` as one new flat array: the matrix :math:`[U, d]` of shape ``(num_hidden, num_visible + 1)``, row-major."""
        return np.concatenate([self.weights, self.bias[:, None]], axis=1).ravel()

    @property
    def num_params(self) -> int:
        r""":math:`H (D + 1)`, the length of ``params``."""
        return self.num_hidden * (self.num_visible + 1)

    def with_params(self, params) -> "RecognitionNetwork":
        r"""A network of the same shape with the flat parameter vector ``params``.

        Parameters
        ----------
        params : array_like, shape (num_params,)
            :math:`\phi` in the order of ``params``: the rows of
            :math:`[U, d]`, one latent unit after the other.

        Returns
        -------
        RecognitionNetwork
            A new network; this one is not changed.

        Raises
        ------
        TypeError
            If ``params`` is not numeric.
        ValueError
            If ``params`` is not 1-D, holds NaN or infinity, or does not have
            length ``num_params``.

        Examples
        --------
        >>> recognition = RecognitionNetwork.initialize(num_visible=2, num_hidden=1, rng=0)
        >>> new = recognition.with_params([1.0, 2.0, 3.0])
        >>> new.weights, new.bias
        (array([[1., 2.]]), array([3.]))
        """
        params = finite_array(params, "params", ndim=1)
        if params.size != self.num_params:
            raise ValueError(f"params must have length {self.num_params}, got {params.size}")
        matrix = params.reshape(self.num_hidden, self.num_visible + 1)
        return type(self)(matrix[:, :-1], matrix[:, -1])

    # -- unchecked ---------------------------------------------------------------------
    def _ascend(self, step: np.ndarray) -> None:
        """Add a flat step (in the order of ``params``) to the parameters in place."""
        matrix = step.reshape(self.num_hidden, self.num_visible + 1)
        self.weights += matrix[:, :-1]
        self.bias += matrix[:, -1]

    def _logits(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weights.T + self.bias

    def _log_prob(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.sum(_log_bernoulli(z, self._logits(x)), axis=-1)

    def _sample(self, x: np.ndarray, shape: tuple, rng: np.random.Generator) -> np.ndarray:
        probs = _sigmoid(self._logits(x))
        return (rng.random(shape + probs.shape) < probs).astype(float)

    def _weighted_score(self, x: np.ndarray, z: np.ndarray, weights: np.ndarray) -> np.ndarray:
        r""":math:`\sum w\, \nabla_\phi \ln q_\phi(z \mid x)` over every axis of ``weights``."""
        centred = weights[..., None] * (z - _sigmoid(self._logits(x)))  # (..., N, H)
        centred = centred.reshape((-1,) + centred.shape[-2:]).sum(axis=0)  # (N, H)
        return np.concatenate([centred.T @ x, centred.sum(axis=0)[:, None]], axis=1).ravel()

    # -- checked -----------------------------------------------------------------------
    def _check(self, x, z=None):
        return _check_x_z(x, z, self.num_visible, self.num_hidden)

    def probs(self, x) -> np.ndarray:
        r""":math:`\pi = \sigma(Ux + d)` for every data point, shape ``(N, num_hidden)``.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.

        Returns
        -------
        ndarray, shape (N, num_hidden)
            :math:`\pi_{nh} = q_\phi(z_h = 1 \mid x_n)`.

        Raises
        ------
        TypeError
            If ``x`` is not numeric.
        ValueError
            If ``x`` is not binary of shape ``(N, num_visible)``.

        Examples
        --------
        >>> recognition = RecognitionNetwork(weights=[[1.0, -1.0]], bias=[0.0])
        >>> np.round(recognition.probs([[1.0, 0.0], [0.0, 1.0]]), 4)
        array([[0.7311],
               [0.2689]])
        """
        return _sigmoid(self._logits(self._check(x)))

    def entropy(self, x) -> np.ndarray:
        r"""The entropy of :math:`q_\phi(z \mid x_n)` for every data point, in nats; shape ``(N,)``.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.

        Returns
        -------
        ndarray, shape (N,)
            :math:`\mathbb H[q_\phi(z \mid x_n)]`, in nats.

        Raises
        ------
        TypeError
            If ``x`` is not numeric.
        ValueError
            If ``x`` is not binary of shape ``(N, num_visible)``.

        Notes
        -----
        With :math:`a = Ux + d` and :math:`\pi = \sigma(a)`,
        :math:`\mathbb H[q_\phi(z \mid x)] = \sum_h \bigl(\ln(1 + e^{a_h}) - \pi_h a_h\bigr)`,
        between 0 (deterministic) and :math:`H \ln 2`.

        Examples
        --------
        >>> recognition = RecognitionNetwork(weights=np.zeros((2, 1)), bias=[0.0, 50.0])
        >>> np.round(recognition.entropy([[1.0]]), 6)
        array([0.693147])
        """
        logits = self._logits(self._check(x))
        return np.sum(np.logaddexp(0.0, logits) - _sigmoid(logits) * logits, axis=-1)

    def sample(self, x, num_samples: int, *, rng=None) -> np.ndarray:
        r"""Draw ``num_samples`` latent vectors for every data point; shape ``(num_samples, N, num_hidden)``.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.
        num_samples : int
            :math:`S`, independent samples per data point.
        rng : None, int or numpy.random.Generator, keyword-only
            Source of randomness.

        Returns
        -------
        ndarray, shape (num_samples, N, num_hidden)
            :math:`z_{sn} \sim q_\phi(z \mid x_n)`, as floats 0.0 and 1.0.

        Raises
        ------
        TypeError, ValueError
            If ``num_samples`` is not a positive integer, ``x`` is not binary
            of shape ``(N, num_visible)`` or ``rng`` is not a non-negative
            seed, a generator or ``None``.

        Examples
        --------
        >>> recognition = RecognitionNetwork(weights=[[2.0, 0.0]], bias=[-1.0])
        >>> x = np.array([[1.0, 0.0], [0.0, 0.0]])
        >>> z = recognition.sample(x, 10000, rng=0)
        >>> z.shape
        (10000, 2, 1)
        >>> p = recognition.probs(x)
        >>> bool(np.all(abs(z.mean(axis=0) - p) < 4 * np.sqrt(p * (1 - p) / 10000)))
        True
        """
        x = self._check(x)
        num_samples = check_num_samples(num_samples)
        return self._sample(x, (num_samples,), as_generator(rng))

    def log_prob(self, x, z) -> np.ndarray:
        r""":math:`\ln q_\phi(z \mid x_n)` for every sample and data point; shape ``(..., N)``.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.
        z : array_like, shape (..., N, num_hidden)
            Binary latent states (leading axes broadcast).

        Returns
        -------
        ndarray, shape (..., N)
            :math:`\sum_h \ln \mathrm{Bern}(z_h; \pi_{nh})`, in nats.

        Raises
        ------
        TypeError
            If an input is not numeric.
        ValueError
            If an input is not binary or the shapes do not fit.

        Examples
        --------
        Summed over the :math:`2^H` latent states, :math:`q_\phi` is 1:

        >>> recognition = RecognitionNetwork.initialize(num_visible=3, num_hidden=2, rng=0)
        >>> x = np.array([[1.0, 0.0, 1.0]])
        >>> states = np.array([[[0.0, 0.0]], [[1.0, 0.0]], [[0.0, 1.0]], [[1.0, 1.0]]])
        >>> recognition.log_prob(x, states).shape
        (4, 1)
        >>> bool(np.isclose(np.exp(recognition.log_prob(x, states)).sum(), 1.0))
        True
        """
        x, z = self._check(x, z)
        return self._log_prob(x, z)

    def score(self, x, z) -> np.ndarray:
        r""":math:`\nabla_\phi \ln q_\phi(z \mid x_n) = (z - \pi_n) \otimes [x_n, 1]`; shape ``(..., N, num_params)``.

        Parameters
        ----------
        x : array_like, shape (N, num_visible)
            Binary data.
        z : array_like, shape (..., N, num_hidden)
            Binary latent states (leading axes broadcast).

        Returns
        -------
        ndarray, shape (..., N, num_params)
            The score, in the order of ``params``.

        Raises
        ------
        TypeError
            If an input is not numeric.
        ValueError
            If an input is not binary or the shapes do not fit.

        Examples
        --------
        The score has mean zero under :math:`q_\phi`, which is what makes a
        baseline free of bias:

        >>> recognition = RecognitionNetwork.initialize(num_visible=3, num_hidden=2, rng=0)
        >>> x = np.array([[1.0, 0.0, 1.0]])
        >>> states = np.array([[[0.0, 0.0]], [[1.0, 0.0]], [[0.0, 1.0]], [[1.0, 1.0]]])
        >>> score = recognition.score(x, states)
        >>> score.shape
        (4, 1, 8)
        >>> q = np.exp(recognition.log_prob(x, states))
        >>> bool(np.allclose(np.sum(q[..., None] * score, axis=0), 0.0))
        True
        """
        x, z = self._check(x, z)
        centred = z - _sigmoid(self._logits(x))
        shape = centred.shape[:-1]
        augmented = np.broadcast_to(np.concatenate([x, np.ones((x.shape[0], 1))], axis=1), shape + (self.num_visible + 1,))
        return (centred[..., :, None] * augmented[..., None, :]).reshape(shape + (-1,))


@dataclasses.dataclass
class NVILHistory:
    r"""What :func:`train_nvil` measured.

    A plain record: :func:`train_nvil` fills it in and returns it. Each
    parameter is stored, as given, in the attribute of the same name.

    Parameters
    ----------
    model : SigmoidBeliefNetwork
        The trained generative model.
    recognition : RecognitionNetwork
        The trained inference network.
    steps : ndarray, shape (num_evaluations,)
        The steps at which the exact quantities were evaluated (0 is the
        initial network; the last is ``num_steps``).
    log_likelihood : ndarray, shape (num_evaluations,)
        The exact mean log-likelihood :math:`\frac1N\sum_n \ln p_\theta(x_n)` over the data.
    elbo : ndarray, shape (num_evaluations,)
        The exact mean ELBO over the data.
    elbo_estimate : ndarray, shape (num_steps,)
        The training ELBO estimate at each step: the mean learning signal of
        the minibatch, before the update.
    variance_steps : ndarray, shape (num_variance_checks,)
        The steps at which the gradient variance was measured.
    gradient_variance : ndarray, shape (num_variance_checks,)
        The total variance :math:`\sum_j \mathrm{Var}[\hat g_j]` of the
        :math:`\phi`-gradient estimate on the whole data set (one estimate
        uses ``num_samples`` samples per data point), with the baselines'
        state at that step and *before* variance normalisation.
    gradient_norm_squared : ndarray, shape (num_variance_checks,)
        :math:`\lVert \nabla_\phi \mathcal L \rVert^2`, the exact gradient's
        squared norm at the same steps.
    normalizer_scale : ndarray, shape (num_steps,)
        The number the centred signal was divided by (1 without variance normalisation).
    signal_evaluations_per_step : int
        ``batch_size * num_samples``: learning signals computed per step.

    Attributes
    ----------
    model, recognition : SigmoidBeliefNetwork, RecognitionNetwork
        The trained networks.
    steps, log_likelihood, elbo : ndarray, shape (num_evaluations,)
        The exact evaluations during training.
    elbo_estimate, normalizer_scale : ndarray, shape (num_steps,)
        One entry per training step.
    variance_steps, gradient_variance, gradient_norm_squared : ndarray, shape (num_variance_checks,)
        The gradient-variance measurements.
    signal_evaluations_per_step : int
        The cost of one step in learning signals.

    Raises
    ------
    TypeError
        If a field is missing or an unknown one is given (the dataclass
        constructor checks nothing else: the values come from
        :func:`train_nvil`).

    Notes
    -----
    The two exact curves differ by a Kullback-Leibler divergence, so
    ``elbo <= log_likelihood`` at every evaluation:

    .. math::

        \frac1N \sum_n \ln p_\theta(x_n) - \frac1N \sum_n \mathcal L(x_n)
        = \frac1N \sum_n \mathrm{KL}\bigl(q_\phi(z \mid x_n) \,\|\, p_\theta(z \mid x_n)\bigr) \ge 0.

    The centred estimate :math:`\hat g` is unbiased (the baselines do not
    depend on the sample they centre), so its mean squared length splits into
    signal and noise,

    .. math::

        \mathbb E \lVert \hat g \rVert^2
        = \lVert \nabla_\phi \mathcal L \rVert^2 + \sum_j \mathrm{Var}[\hat g_j],

    and ``gradient_variance / gradient_norm_squared`` is the noise-to-signal
    ratio of one step.

    Examples
    --------
    >>> history = train_nvil(bars_and_stripes(2), 2, num_steps=4, batch_size=3,
    ...                      learning_rate=0.1, num_samples=2, leave_one_out=True,
    ...                      eval_every=2, variance_repeats=5, rng=0)
    >>> history.steps, history.variance_steps, history.signal_evaluations_per_step
    (array([0, 2, 4]), array([0, 2, 4]), 6)
    >>> bool(np.all(history.elbo <= history.log_likelihood))
    True
    """

    model: SigmoidBeliefNetwork
    recognition: RecognitionNetwork
    steps: np.ndarray
    log_likelihood: np.ndarray
    elbo: np.ndarray
    elbo_estimate: np.ndarray
    variance_steps: np.ndarray
    gradient_variance: np.ndarray
    gradient_norm_squared: np.ndarray
    normalizer_scale: np.ndarray
    signal_evaluations_per_step: int


class _Remedies:
    """The state of NVIL's variance-reduction remedies during training (not public)."""

    def __init__(self, *, centering, input_baseline, variance_normalization, leave_one_out,
                 num_visible, decay, baseline_learning_rate):
        self.centering = MovingAverageBaseline(decay=decay) if centering else None
        self.input_baseline = (
            LinearBaseline(num_visible, learning_rate=baseline_learning_rate) if input_baseline else None
        )
        self.normalizer = VarianceNormalizer(decay=decay) if variance_normalization else None
        self.leave_one_out = leave_one_out

    def centre(self, x: np.ndarray, signal: np.ndarray) -> np.ndarray:
        """The centred signal, with the state before this step; ``signal`` has shape (..., S, N)."""
        if self.leave_one_out:
            return signal - leave_one_out_baseline(signal, axis=-2)
        centred = signal
        if self.input_baseline is not None:
            centred = centred - self.input_baseline.predict(x)
        if self.centering is not None:
            centred = centred - self.centering.value
        return centred

    @property
    def scale(self) -> float:
        return 1.0 if self.normalizer is None else self.normalizer.scale

    def update(self, x: np.ndarray, signal: np.ndarray, centred: np.ndarray) -> None:
        """NVIL's updates, after the step's estimate was formed; ``signal`` has shape (S, N)."""
        input_part = 0.0 if self.input_baseline is None else self.input_baseline.predict(x)
        constant_part = 0.0 if self.centering is None else self.centering.value
        if self.centering is not None:
            self.centering.update(signal - input_part)
        if self.input_baseline is not None:
            self.input_baseline.update(x, (signal - constant_part).mean(axis=0))
        if self.normalizer is not None:
            self.normalizer.update(centred)


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def train_nvil(
    data,
    num_hidden: int,
    *,
    num_steps: int,
    batch_size: int,
    learning_rate: float,
    num_samples: int = 1,
    centering: bool = False,
    input_baseline: bool = False,
    variance_normalization: bool = False,
    leave_one_out: bool = False,
    decay: float = 0.9,
    baseline_learning_rate: float = 0.05,
    init_scale: float = 0.1,
    eval_every: int = 100,
    variance_every: int | None = None,
    variance_repeats: int = 50,
    model: SigmoidBeliefNetwork | None = None,
    recognition: RecognitionNetwork | None = None,
    rng=None,
) -> NVILHistory:
    r"""Train a :class:`SigmoidBeliefNetwork` and its :class:`RecognitionNetwork` with NVIL.

    Each step draws a minibatch :math:`x_1, \dots, x_B`, ``num_samples``
    latent samples :math:`z_{sn} \sim q_\phi(z \mid x_n)` for each, and takes
    one gradient-ascent step on the ELBO,

    .. math::

        \theta &\leftarrow \theta + \eta\,\frac{1}{SB}\sum_{s,n} \nabla_\theta \ln p_\theta(x_n, z_{sn}),
        \\
        \phi &\leftarrow \phi + \eta\,\frac{1}{SB}\sum_{s,n} \frac{\ell_{sn} - b_{sn}}{s_v}\,
            \nabla_\phi \ln q_\phi(z_{sn} \mid x_n),

    where the baseline :math:`b_{sn}` and the scale :math:`s_v` depend on the
    switches: plain score function :math:`b = 0, s_v = 1`; ``centering`` adds
    the running mean :math:`c`; ``input_baseline`` adds a linear
    :math:`b_\psi(x_n)` fitted to :math:`\ell - c`; ``variance_normalization``
    divides by :math:`\max(1, \sqrt v)`, :math:`v` the running variance of
    the centred signal; ``leave_one_out`` uses the mean signal of the other
    samples of the same data point. Baselines are used with their state before
    the step and updated after it (Mnih & Gregor 2014, section 3.3).

    Parameters
    ----------
    data : array_like, shape (N, D)
        Binary training data.
    num_hidden : int
        :math:`H`, the number of latent units (at most 12: the exact
        log-likelihood enumerates :math:`2^H` states).
    num_steps, batch_size : int
        The number of steps and the minibatch size :math:`B \le N`. Minibatches
        run through random permutations of the data, epoch after epoch.
    learning_rate : float
        :math:`\eta`, the step size of plain stochastic gradient ascent.
    num_samples : int, default 1
        :math:`S`, samples of :math:`z` per data point and step.
    centering, input_baseline, variance_normalization, leave_one_out : bool
        NVIL's remedies, switched on one at a time. ``leave_one_out`` needs
        ``num_samples >= 2`` and excludes ``centering`` and ``input_baseline``
        (it removes any baseline that depends on :math:`x` alone exactly).
    decay : float, default 0.9
        The decay of the running mean and running variance.
    baseline_learning_rate : float, default 0.05
        The step size of the input-dependent baseline's regression.
    init_scale : float, default 0.1
        The standard deviation of the initial weights.
    eval_every : int, default 100
        Evaluate the exact log-likelihood and ELBO every this many steps.
    variance_every : int, optional
        Measure the gradient variance every this many steps (default:
        ``eval_every``).
    variance_repeats : int, default 50
        Independent gradient estimates per variance measurement (at least 2).
    model, recognition : SigmoidBeliefNetwork, RecognitionNetwork, optional
        The networks to start from (copied, not changed). By default both are
        drawn with :meth:`SigmoidBeliefNetwork.initialize` and
        :meth:`RecognitionNetwork.initialize` from ``init_scale`` and the seed.
    rng : None, int or numpy.random.Generator, keyword-only
        The seed. It is split into independent streams for the
        initialisation, the data order, the training samples and the variance
        measurements, so runs with the same seed and different switches start
        from the same networks and see the same minibatches.

    Returns
    -------
    NVILHistory
        The trained networks (new objects; ``model`` and ``recognition`` are
        not changed), the exact log-likelihood and ELBO along the way, the
        training estimates and the measured gradient variance.

    Raises
    ------
    TypeError
        If a count is not an integer or a switch is not a bool.
    ValueError
        If ``data`` is not binary and 2-D, ``batch_size`` exceeds the number of
        data points, a rate is not positive, ``leave_one_out`` is set with
        ``num_samples < 2`` or together with ``centering``/``input_baseline``,
        or ``num_hidden > 12``.

    Notes
    -----
    The update in :math:`\phi` follows the ELBO's gradient in expectation
    (up to the positive scale :math:`s_v`) because a baseline that does not
    depend on the sample leaves the score-function estimator unbiased:

    .. math::

        \mathbb E_{q_\phi}\bigl[(\ell(x, z) - b)\,\nabla_\phi \ln q_\phi(z \mid x)\bigr]
        = \nabla_\phi \mathcal L(x) - b\,\nabla_\phi \sum_z q_\phi(z \mid x)
        = \nabla_\phi \mathcal L(x),

    since :math:`\sum_z q_\phi(z \mid x) = 1` for every :math:`\phi`. The
    running mean and the input-dependent baseline use only earlier steps; the
    leave-one-out baseline of sample :math:`s` uses only the other samples,
    which are independent of :math:`z_s`. The update in :math:`\theta` needs
    no such remedy: :math:`\nabla_\theta \mathcal L(x) =
    \mathbb E_{q_\phi}[\nabla_\theta \ln p_\theta(x, z)]`, since
    :math:`q_\phi` does not depend on :math:`\theta`.

    Examples
    --------
    >>> history = train_nvil(bars_and_stripes(2), 2, num_steps=20, batch_size=6,
    ...                      learning_rate=0.1, centering=True, eval_every=10, rng=0)
    >>> history.steps
    array([ 0, 10, 20])
    >>> history.log_likelihood.shape, history.elbo_estimate.shape
    ((3,), (20,))
    >>> bool(np.all(history.elbo <= history.log_likelihood))
    True
    """
    data = finite_array(data, "data", ndim=2)
    if not np.all((data == 0.0) | (data == 1.0)):
        raise ValueError("data must hold only 0s and 1s")
    num_data, num_visible = data.shape
    num_hidden = check_num_samples(num_hidden, "num_hidden")
    if num_hidden > MAX_ENUMERATED_HIDDEN:
        raise ValueError(
            f"num_hidden must be at most {MAX_ENUMERATED_HIDDEN} (the exact log-likelihood "
            f"enumerates 2**num_hidden states), got {num_hidden}"
        )
    num_steps = check_num_samples(num_steps, "num_steps")
    batch_size = check_num_samples(batch_size, "batch_size")
    if batch_size > num_data:
        raise ValueError(f"batch_size must be at most the number of data points {num_data}, got {batch_size}")
    learning_rate = positive_scalar(learning_rate, "learning_rate")
    num_samples = check_num_samples(num_samples, "num_samples")
    centering = _check_flag(centering, "centering")
    input_baseline = _check_flag(input_baseline, "input_baseline")
    variance_normalization = _check_flag(variance_normalization, "variance_normalization")
    leave_one_out = _check_flag(leave_one_out, "leave_one_out")
    if leave_one_out and num_samples < 2:
        raise ValueError(
            f"leave_one_out needs num_samples >= 2 samples per data point, got num_samples={num_samples}"
        )
    if leave_one_out and (centering or input_baseline):
        raise ValueError(
            "leave_one_out cannot be combined with centering or input_baseline: it cancels "
            "any baseline that does not depend on the sample exactly"
        )
    eval_every = check_num_samples(eval_every, "eval_every")
    variance_every = eval_every if variance_every is None else check_num_samples(variance_every, "variance_every")
    variance_repeats = check_num_samples(variance_repeats, "variance_repeats", minimum=2)
    remedies = _Remedies(
        centering=centering,
        input_baseline=input_baseline,
        variance_normalization=variance_normalization,
        leave_one_out=leave_one_out,
        num_visible=num_visible,
        decay=decay,
        baseline_learning_rate=baseline_learning_rate,
    )

    init_rng, order_rng, sample_rng, variance_rng = as_generator(rng).spawn(4)
    if model is None:
        model = SigmoidBeliefNetwork.initialize(num_visible, num_hidden, scale=init_scale, rng=init_rng)
    if recognition is None:
        recognition = RecognitionNetwork.initialize(num_visible, num_hidden, scale=init_scale, rng=init_rng)
    if not isinstance(model, SigmoidBeliefNetwork):
        raise TypeError(f"model must be a SigmoidBeliefNetwork, got {type(model).__name__}")
    if (model.num_visible, model.num_hidden) != (num_visible, num_hidden):
        raise ValueError(
            f"model has (num_visible, num_hidden) = ({model.num_visible}, {model.num_hidden}), "
            f"the data and num_hidden ask for ({num_visible}, {num_hidden})"
        )
    recognition = model._check_recognition(recognition)
    model, recognition = model.with_params(model.params), recognition.with_params(recognition.params)
    num_epochs = -(-num_steps * batch_size // num_data)
    order = np.concatenate([order_rng.permutation(num_data) for _ in range(num_epochs)])

    steps, log_likelihood, elbo = [], [], []
    variance_steps, gradient_variance, gradient_norm_squared = [], [], []
    elbo_estimate = np.empty(num_steps)
    normalizer_scale = np.empty(num_steps)

    def evaluate(step: int) -> None:
        if step % eval_every == 0 or step == num_steps:
            steps.append(step)
            log_likelihood.append(float(np.mean(model.log_marginal(data))))
            elbo.append(float(np.mean(model.exact_elbo(data, recognition))))
        if step % variance_every == 0 or step == num_steps:
            z = recognition._sample(data, (variance_repeats, num_samples), variance_rng)
            signal = model._log_joint(data, z) - recognition._log_prob(data, z)
            centred = remedies.centre(data, signal)  # (R, S, N)
            weights = centred / (num_samples * num_data)
            residual = weights[..., None] * (z - _sigmoid(recognition._logits(data)))
            estimates = np.concatenate(
                [np.einsum("rsnh,nd->rhd", residual, data), residual.sum(axis=(1, 2))[:, :, None]], axis=2
            ).reshape(variance_repeats, -1)
            _, exact_phi = model.exact_elbo_gradient(data, recognition)
            variance_steps.append(step)
            gradient_variance.append(float(np.sum(np.var(estimates, axis=0, ddof=1))))
            gradient_norm_squared.append(float(exact_phi @ exact_phi))

    for step in range(num_steps):
        evaluate(step)
        x = data[order[step * batch_size : (step + 1) * batch_size]]
        z = recognition._sample(x, (num_samples,), sample_rng)  # (S, B, H)
        signal = model._log_joint(x, z) - recognition._log_prob(x, z)  # (S, B)
        centred = remedies.centre(x, signal)
        scale = remedies.scale
        weights = np.full(signal.shape, 1.0 / signal.size)
        grad_theta = model._weighted_gradient(x, z, weights)
        grad_phi = recognition._weighted_score(x, z, weights * centred / scale)
        remedies.update(x, signal, centred)
        elbo_estimate[step] = float(signal.mean())
        normalizer_scale[step] = scale
        model._ascend(learning_rate * grad_theta)
        recognition._ascend(learning_rate * grad_phi)
    evaluate(num_steps)

    return NVILHistory(
        model=model,
        recognition=recognition,
        steps=np.array(steps),
        log_likelihood=np.array(log_likelihood),
        elbo=np.array(elbo),
        elbo_estimate=elbo_estimate,
        variance_steps=np.array(variance_steps),
        gradient_variance=np.array(gradient_variance),
        gradient_norm_squared=np.array(gradient_norm_squared),
        normalizer_scale=normalizer_scale,
        signal_evaluations_per_step=batch_size * num_samples,
    )

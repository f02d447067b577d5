"""A sigmoid belief network and its recognition network, trained with NVIL.

Data ``x`` are ``(N, D)``, latents ``z`` are ``(n, H)`` with row ``i`` from data
row ``i % N``; every sum over the :math:`2^H` states is exact. The story:
:ref:`chap-belief-network`.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from .baselines import LeaveOneOutBaseline, NVILBaseline
from .estimators import elbo_gradient, learning_signal, score_function_terms
from .families import Family, _sigmoid
from .optim import SGD

__all__ = [
    "NVILHistory",
    "RecognitionNetwork",
    "SigmoidBeliefNetwork",
    "bars_and_stripes",
    "train_nvil",
]

#: The most numbers one exact sum may hold (states times rows or pixels).
MAX_ENTRIES = 2**24


def _binary(value: object, name: str, width: int | None = None) -> np.ndarray:
    array = _checks.real_array(value, name, ndim=2)
    width = array.shape[1] if width is None else width
    if array.shape[1] != width or not np.all((array == 0.0) | (array == 1.0)):
        raise ValueError(
            f"{name} must have shape (rows, {width}) and hold only 0s and 1s, got shape {array.shape}"
        )
    return array


def _states(num_hidden: int, width: int) -> np.ndarray:
    """All :math:`2^H` binary vectors, refused before allocating if ``2**H * width`` exceeds ``MAX_ENTRIES``."""
    if 2**num_hidden * max(width, num_hidden) > MAX_ENTRIES:
        raise ValueError(
            f"an exact sum over 2**{num_hidden} latent states (num_hidden) x {width} would exceed "
            f"{MAX_ENTRIES} numbers: use fewer hidden units or fewer rows"
        )
    states = np.arange(2**num_hidden)[:, None] >> np.arange(num_hidden)
    return (states & 1).astype(float)


def _weights(num_visible, num_hidden, scale, rng, transpose=False) -> np.ndarray:
    """Weights drawn from N(0, scale^2), shape ``(D, H)`` or, transposed, ``(H, D)``."""
    num_visible = _checks.count(num_visible, "num_visible")
    shape = (num_visible, _checks.count(num_hidden, "num_hidden"))
    scale = _checks.scalar(scale, "scale", low=0.0)
    draws = _checks.generator(rng).standard_normal(shape[::-1] if transpose else shape)
    return scale * draws


def _flat(params: object, size: int) -> np.ndarray:
    """``params`` checked to be a flat real array of length ``size``."""
    params = _checks.real_array(params, "params", ndim=1)
    if params.size != size:
        raise ValueError(f"params must have length {size}, got {params.size}")
    return params


def bars_and_stripes(size: int = 4) -> np.ndarray:
    """Every distinct bars-and-stripes image of ``size`` by ``size`` pixels, one flattened image per row.

    Parameters
    ----------
    size : int, default 4
        The side, 1 to 12.

    Returns
    -------
    ndarray, shape (2 * 2**size - 2, size**2)
        The bars (column subsets in binary order), then the stripes not already listed.

    Examples
    --------
    >>> bars_and_stripes(4).shape, bars_and_stripes(4)[5, :4]
    ((30, 16), array([1., 0., 1., 0.]))
    """
    size = _checks.count(size, "size", maximum=12)
    subsets = _states(size, 1)
    bars = np.repeat(subsets[:, None, :], size, axis=1)
    stripes = np.repeat(subsets[:, :, None], size, axis=2)
    return np.concatenate([bars, stripes[1:-1]]).reshape(-1, size * size)


class SigmoidBeliefNetwork:
    r"""The generative model :math:`p_\theta(x, z)`, :math:`\theta = (b, W, c)`.

    :math:`p_\theta(z) = \prod_h \mathrm{Bern}(z_h; \sigma(b_h))` and
    :math:`p_\theta(x \mid z) = \prod_d \mathrm{Bern}(x_d; \sigma((Wz + c)_d))`.

    Parameters
    ----------
    prior_logits, weights, visible_bias : array_like, shapes (H,), (D, H), (D,)
        :math:`b`, :math:`W` and :math:`c`; copied, read-only.

    Examples
    --------
    >>> import itertools
    >>> every_x = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    >>> model = SigmoidBeliefNetwork.initialize(4, 2, rng=0)
    >>> round(float(np.exp(model.log_marginal(every_x)).sum()), 12)
    1.0
    """

    def __init__(
        self, prior_logits: object, weights: object, visible_bias: object
    ) -> None:
        self.prior_logits = _checks.real_array(prior_logits, "prior_logits", ndim=1)
        self.weights = _checks.real_array(weights, "weights", ndim=2)
        self.visible_bias = _checks.real_array(visible_bias, "visible_bias", ndim=1)
        self.num_visible = self.visible_bias.size
        self.num_hidden = self.prior_logits.size
        if self.weights.shape != (self.num_visible, self.num_hidden):
            raise ValueError(
                f"weights must have shape {(self.num_visible, self.num_hidden)}, got {self.weights.shape}"
            )

    def __repr__(self) -> str:
        return f"SigmoidBeliefNetwork(num_visible={self.num_visible}, num_hidden={self.num_hidden})"

    @classmethod
    def initialize(
        cls, num_visible: int, num_hidden: int, *, scale: float = 0.1, rng=None
    ) -> SigmoidBeliefNetwork:
        r"""A network with zero biases and weights :math:`W_{dh} \sim \mathcal N(0, \text{scale}^2)`.

        Parameters
        ----------
        num_visible, num_hidden : int
            :math:`D` and :math:`H`.
        scale : float, default 0.1
            The weights' standard deviation.
        rng : None, int or numpy.random.Generator
            The seed.

        Returns
        -------
        SigmoidBeliefNetwork
            A new network.
        """
        weights = _weights(num_visible, num_hidden, scale, rng)
        return cls(np.zeros(weights.shape[1]), weights, np.zeros(len(weights)))

    @property
    def params(self) -> np.ndarray:
        r""":math:`\theta`: :math:`b`, :math:`W` row-major, :math:`c`."""
        parts = [self.prior_logits, self.weights.ravel(), self.visible_bias]
        return np.concatenate(parts)

    @property
    def num_params(self) -> int:
        """:math:`H + DH + D`, the length of ``params``."""
        return self.num_hidden * (self.num_visible + 1) + self.num_visible

    def with_params(self, params: object) -> SigmoidBeliefNetwork:
        r"""The network of the same shape at the flat ``params``.

        Parameters
        ----------
        params : array_like, shape (num_params,)
            :math:`\theta` in the order of ``params``.

        Returns
        -------
        SigmoidBeliefNetwork
            A new network.
        """
        H, D = self.num_hidden, self.num_visible
        prior, weights, bias = np.split(_flat(params, self.num_params), [H, H + D * H])
        return SigmoidBeliefNetwork(prior, weights.reshape(D, H), bias)

    def _x_and_z(self, x: object, z: object) -> tuple[np.ndarray, np.ndarray]:
        x, z = _binary(x, "x", self.num_visible), _binary(z, "z", self.num_hidden)
        if len(z) % len(x):
            raise ValueError(
                f"z must have a multiple of len(x) = {len(x)} rows, got {len(z)}"
            )
        return np.tile(x, (len(z) // len(x), 1)), z

    def log_joint(self, x: object, z: object) -> np.ndarray:
        r""":math:`\ln p_\theta(x, z_i)` for every row of ``z``, row ``i`` with ``x[i % N]``.

        Parameters
        ----------
        x, z : array_like, shapes (N, D) and (n, H)
            Binary data, and binary latents with ``n`` a multiple of ``N``.

        Returns
        -------
        ndarray, shape (n,)
            In nats.
        """
        x, z = self._x_and_z(x, z)
        logits = z @ self.weights.T + self.visible_bias
        prior = z * self.prior_logits - np.logaddexp(0.0, self.prior_logits)
        likelihood = x * logits - np.logaddexp(0.0, logits)
        return prior.sum(axis=1) + likelihood.sum(axis=1)

    def grad_log_joint(self, x: object, z: object) -> np.ndarray:
        r""":math:`\nabla_\theta \ln p_\theta(x, z_i)`: :math:`z - \sigma(b)`, :math:`(x - \sigma(a)) z^\top`, :math:`x - \sigma(a)`.

        Parameters
        ----------
        x, z : array_like, shapes (N, D) and (n, H)
            Binary data, and binary latents with ``n`` a multiple of ``N``.

        Returns
        -------
        ndarray, shape (n, num_params)
            In the order of ``params``; :math:`a = Wz + c`.
        """
        x, z = self._x_and_z(x, z)
        residual = x - _sigmoid(z @ self.weights.T + self.visible_bias)
        d_weights = (residual[:, :, None] * z[:, None, :]).reshape(len(z), -1)
        d_prior = z - _sigmoid(self.prior_logits)
        return np.concatenate([d_prior, d_weights, residual], axis=1)

    def _log_joint_table(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""All states :math:`s_k` and :math:`\ln p_\theta(x_n, s_k)`, shape ``(N, K)``, in ``O(NK + KD)`` memory."""
        states = _states(self.num_hidden, max(len(x), self.num_visible))
        logits = states @ self.weights.T + self.visible_bias  # (K, D)
        normalizer = np.logaddexp(0.0, self.prior_logits).sum()
        log_prior = states @ self.prior_logits - normalizer
        return states, x @ logits.T - np.logaddexp(0.0, logits).sum(axis=1) + log_prior

    def log_marginal(self, x: object) -> np.ndarray:
        r"""The exact :math:`\ln p_\theta(x_n) = \ln \sum_z p_\theta(x_n, z)`, by enumeration.

        Parameters
        ----------
        x : array_like, shape (N, D)
            Binary data.

        Returns
        -------
        ndarray, shape (N,)
            In nats.
        """
        table = self._log_joint_table(_binary(x, "x", self.num_visible))[1]
        top = table.max(axis=1)
        return top + np.log(np.exp(table - top[:, None]).sum(axis=1))

    def sample(self, num_samples: int, *, rng=None) -> tuple[np.ndarray, np.ndarray]:
        r"""Draw :math:`z \sim p_\theta(z)`, then :math:`x \sim p_\theta(x \mid z)`.

        Parameters
        ----------
        num_samples : int
            Independent pairs.
        rng : None, int or numpy.random.Generator
            The seed.

        Returns
        -------
        tuple of ndarray
            ``(x, z)``, shapes ``(num_samples, D)`` and ``(num_samples, H)``: the pixels and the latents that made them.
        """
        maximum = MAX_ENTRIES // self.num_visible
        num_samples = _checks.count(num_samples, "num_samples", maximum=maximum)
        rng, shape = _checks.generator(rng), (num_samples, self.num_hidden)
        z = (rng.random(shape) < _sigmoid(self.prior_logits)).astype(float)
        probs = _sigmoid(z @ self.weights.T + self.visible_bias)
        return (rng.random(probs.shape) < probs).astype(float), z

    def _tables(self, x: object, recognition: object) -> tuple[np.ndarray, ...]:
        x = _binary(x, "x", self.num_visible)
        if not isinstance(
            recognition, RecognitionNetwork
        ) or recognition.weights.shape != (self.num_hidden, self.num_visible):
            raise TypeError(
                f"recognition must be a RecognitionNetwork with {self.num_hidden} hidden and "
                f"{self.num_visible} visible units, got {recognition!r}"
            )
        states, log_joint = self._log_joint_table(x)
        logits = x @ recognition.weights.T + recognition.bias  # (N, H)
        log_q = logits @ states.T - np.logaddexp(0.0, logits).sum(axis=1, keepdims=True)
        return x, states, np.exp(log_q), log_joint - log_q

    def exact_elbo(self, x: object, recognition: RecognitionNetwork) -> np.ndarray:
        r"""The ELBO of every row, :math:`\sum_z q_\phi(z \mid x_n)(\ln p_\theta(x_n, z) - \ln q_\phi(z \mid x_n))`.

        Parameters
        ----------
        x : array_like, shape (N, D)
            Binary data.
        recognition : RecognitionNetwork
            :math:`q_\phi(z \mid x)`.

        Returns
        -------
        ndarray, shape (N,)
            :math:`\mathcal L(x_n) \le \ln p_\theta(x_n)`.
        """
        _, _, q, signal = self._tables(x, recognition)
        return np.sum(q * signal, axis=1)

    def exact_elbo_gradient(
        self, x: object, recognition: RecognitionNetwork
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""Exact gradients of the mean ELBO over the rows, in :math:`\theta` and in :math:`\phi`.

        Parameters
        ----------
        x : array_like, shape (N, D)
            Binary data.
        recognition : RecognitionNetwork
            :math:`q_\phi(z \mid x)`.

        Returns
        -------
        tuple of ndarray
            ``(grad_theta, grad_phi)``, in the order of ``params`` and of ``recognition.params``.
        """
        x, states, q, signal = self._tables(x, recognition)
        expected_z, state_mass = q @ states, q.sum(axis=0)  # (N, H), (K,)
        visible_probs = _sigmoid(states @ self.weights.T + self.visible_bias)  # (K, D)
        d_prior = expected_z.mean(axis=0) - _sigmoid(self.prior_logits)
        expected_xz = (visible_probs * state_mass[:, None]).T @ states
        d_weights = (x.T @ expected_z - expected_xz) / len(x)
        d_bias = (x.sum(axis=0) - state_mass @ visible_probs) / len(x)
        # sum_k q (l - L)(s_k - pi_n) = sum_k q (l - L) s_k, because sum_k q (l - L) = 0
        per_row = (q * (signal - np.sum(q * signal, axis=1, keepdims=True))) @ states
        matrix = np.concatenate([per_row.T @ x, per_row.sum(axis=0)[:, None]], axis=1)
        grad_phi = matrix.ravel() / len(x)
        return np.concatenate([d_prior, d_weights.ravel(), d_bias]), grad_phi


class RecognitionNetwork(Family):
    r""":math:`q_\phi(z \mid x) = \prod_h \mathrm{Bern}(z_h; \sigma((Ux + d)_h))`, :math:`\phi = [U, d]` row-major.

    ``given(x)`` binds a batch; the bound network (``with_params`` keeps the
    batch) is a family over ``z`` of shape ``(n, H)``, ``n`` a multiple of
    ``len(x)`` (row ``i`` from :math:`x_{i \bmod N}`), with score
    :math:`(z - \pi) \otimes [x, 1]`.

    Parameters
    ----------
    weights, bias : array_like, shapes (H, D) and (H,)
        :math:`U` and :math:`d`; copied, read-only.
    x : array_like, shape (N, D), optional
        The batch to bind (``given(x)`` is the usual way).

    Examples
    --------
    >>> q = RecognitionNetwork.initialize(4, 2, rng=0).given(bars_and_stripes(2))
    >>> z = q.sample(12, rng=1)  # two per image, row i from image i % 6
    >>> q.log_prob(z).shape, q.score(z).shape, q.entropy().shape
    ((12,), (12, 10), (6,))
    """

    def __init__(self, weights: object, bias: object, x: object = None) -> None:
        self.weights = _checks.real_array(weights, "weights", ndim=2)
        self.bias = _checks.real_array(bias, "bias", ndim=1)
        self.dim = self.weights.shape[0]
        if self.bias.shape != (self.dim,):
            raise ValueError(
                f"bias must have shape ({self.dim},) to match weights, got {self.bias.shape}"
            )
        self.x = None if x is None else _binary(x, "x", self.weights.shape[1])
        if self.x is not None:
            self.logits = self.x @ self.weights.T + self.bias
            self.logits.flags.writeable = False

    def __repr__(self) -> str:
        rows = "" if self.x is None else f", given {len(self.x)} rows"
        return f"RecognitionNetwork(num_visible={self.weights.shape[1]}, num_hidden={self.dim}{rows})"

    @classmethod
    def initialize(
        cls, num_visible: int, num_hidden: int, *, scale: float = 0.1, rng=None
    ) -> RecognitionNetwork:
        r"""A network with zero bias and weights :math:`U_{hd} \sim \mathcal N(0, \text{scale}^2)`.

        Parameters
        ----------
        num_visible, num_hidden : int
            :math:`D` and :math:`H`.
        scale : float, default 0.1
            The weights' standard deviation.
        rng : None, int or numpy.random.Generator
            The seed.

        Returns
        -------
        RecognitionNetwork
            A new, unbound network.
        """
        weights = _weights(num_visible, num_hidden, scale, rng, transpose=True)
        return cls(weights, np.zeros(len(weights)))

    def given(self, x: object) -> RecognitionNetwork:
        r"""This network bound to the batch ``x``: the family :math:`q_\phi(\cdot \mid x)`.

        Parameters
        ----------
        x : array_like, shape (N, D)
            Binary data.

        Returns
        -------
        RecognitionNetwork
            The bound network.
        """
        return RecognitionNetwork(self.weights, self.bias, x)

    @property
    def params(self) -> np.ndarray:
        params = np.concatenate([self.weights, self.bias[:, None]], axis=1).ravel()
        params.flags.writeable = False
        return params

    @property
    def param_dims(self) -> np.ndarray:
        return np.repeat(np.arange(self.dim), self.weights.shape[1] + 1)

    def with_params(self, params: object) -> RecognitionNetwork:
        matrix = _flat(params, self.num_params).reshape(self.dim, -1)
        return RecognitionNetwork(matrix[:, :-1], matrix[:, -1], self.x)

    def _bound(
        self, num_rows: int | None = None, name: str = ""
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""The logits :math:`Ux_n + d`, tiled to ``num_rows`` rows if given (row ``i`` from :math:`x_{i \bmod N}`), and ``x``."""
        if self.x is None:
            raise ValueError(
                "this RecognitionNetwork has no input: call recognition.given(x) first"
            )
        if num_rows is None:
            return self.logits, self.x
        if num_rows % len(self.x):
            raise ValueError(
                f"{name} must be a multiple of len(x) = {len(self.x)}, one block per data row; got {num_rows}"
            )
        return np.tile(self.logits, (num_rows // len(self.x), 1)), self.x

    @property
    def probs(self) -> np.ndarray:
        r""":math:`\pi_n = \sigma(Ux_n + d)`, shape ``(N, H)``."""
        return _sigmoid(self._bound()[0])

    def entropy(self) -> np.ndarray:
        r"""The entropy of :math:`q_\phi(z \mid x_n)` for every row, :math:`\sum_h \ln(1 + e^{a_h}) - \pi_h a_h`.

        Returns
        -------
        ndarray, shape (N,)
            In nats, between 0 and :math:`H \ln 2`.
        """
        logits = self._bound()[0]
        return np.sum(np.logaddexp(0.0, logits) - _sigmoid(logits) * logits, axis=1)

    def sample(self, num_samples: int, *, rng=None) -> np.ndarray:
        maximum = MAX_ENTRIES // self.dim
        num_samples = _checks.count(num_samples, "num_samples", maximum=maximum)
        probs = _sigmoid(self._bound(num_samples, "num_samples")[0])
        return (_checks.generator(rng).random(probs.shape) < probs).astype(float)

    def log_prob_per_dimension(self, z: object) -> np.ndarray:
        z = _binary(z, "z", self.dim)
        logits = self._bound(len(z), "len(z)")[0]
        return z * logits - np.logaddexp(0.0, logits)

    def _centred(self, z: object) -> tuple[np.ndarray, np.ndarray]:
        z = _binary(z, "z", self.dim)
        logits, x = self._bound(len(z), "len(z)")
        return z - _sigmoid(logits), x

    def score(self, z: object) -> np.ndarray:
        centred, x = self._centred(z)
        inputs = np.hstack([x, np.ones((len(x), 1))])
        inputs = np.tile(inputs, (len(centred) // len(x), 1))
        return (centred[:, :, None] * inputs[:, None, :]).reshape(len(centred), -1)

    def score_mean(
        self, z: ArrayLike, weights: ArrayLike, *, squared: bool = False
    ) -> np.ndarray:
        if squared or np.ndim(weights) != 1:
            return Family.score_mean(self, z, weights, squared=squared)
        centred, x = self._centred(z)
        weights = _checks.real_array(weights, "weights", ndim=1, copy=False)
        if weights.shape != (len(centred),):
            raise ValueError(
                f"weights must have shape ({len(centred)},), got {weights.shape}"
            )
        per_row = (weights[:, None] * centred).reshape(-1, len(x), self.dim).sum(axis=0)
        matrix = np.concatenate([per_row.T @ x, per_row.sum(axis=0)[:, None]], axis=1)
        return matrix.ravel() / len(centred)


@dataclasses.dataclass(frozen=True)
class NVILHistory:
    r"""What :func:`train_nvil` measured.

    Parameters
    ----------
    model, recognition : SigmoidBeliefNetwork, RecognitionNetwork
        The trained networks.
    steps, log_likelihood, elbo : ndarray
        The steps of the evaluations, and the exact mean :math:`\ln p_\theta(x)` and ELBO there.
    elbo_estimate : ndarray, shape (steps done,)
        Each step's mean learning signal, before the update.
    variance_steps, gradient_variance, gradient_norm_squared : ndarray
        The steps of the variance measurements, the total variance of the whole-data
        :math:`\phi`-gradient estimate (before variance normalisation) and the exact gradient's squared norm.
    signal_evaluations_per_step : int
        ``batch_size * num_samples``.
    interrupted : bool
        True if Ctrl-C stopped the run; everything above then covers the steps done.

    Examples
    --------
    >>> steps = dict(num_steps=4, batch_size=6, step_size=0.1, eval_every=2)
    >>> train_nvil(bars_and_stripes(2), 2, **steps, variance_repeats=2, rng=0).steps
    array([0, 2, 4])
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
    signal_evaluations_per_step: int
    interrupted: bool = False


class _PerRow:
    """A baseline applied among the samples of each data row: the columns of ``signal.reshape(-1, N)``."""

    uses_score = False

    def __init__(self, baseline, num_rows: int) -> None:
        self.baseline, self.num_rows = baseline, num_rows

    def __call__(self, signal: np.ndarray, score: object = None) -> np.ndarray:
        rows = signal.reshape(-1, self.num_rows)
        return np.asarray(self.baseline(rows, None)).ravel()


def train_nvil(
    data: object,
    num_hidden: int,
    *,
    num_steps: int,
    batch_size: int,
    step_size: float,
    num_samples: int = 1,
    centering: bool = False,
    input_baseline: bool = False,
    variance_normalization: bool = False,
    leave_one_out: bool = False,
    decay: float = 0.9,
    baseline_step_size: float = 0.05,
    init_scale: float = 0.1,
    eval_every: int = 100,
    variance_every: int | None = None,
    variance_repeats: int = 50,
    rng=None,
    progress: bool = False,
) -> NVILHistory:
    r"""Train a :class:`SigmoidBeliefNetwork` and a :class:`RecognitionNetwork` on the ELBO, with NVIL's remedies.

    Plain gradient ascent on minibatches (epochs of random permutations); a
    baseline is updated after each step, which keeps the estimate unbiased.
    Ctrl-C stops the run and returns what was done. See :ref:`chap-belief-network`.

    Parameters
    ----------
    data : array_like, shape (N, D)
        Binary data.
    num_hidden : int
        :math:`H`.
    num_steps, batch_size : int
        Steps, and rows per minibatch.
    step_size : float
        The gradient ascent's step size.
    num_samples : int, default 1
        Latent samples per row and step.
    centering, input_baseline, variance_normalization, leave_one_out : bool, default False
        The remedies: centring and an input-dependent baseline (Mnih & Gregor
        2014, section 2.3.1), variance normalisation (2.3.2), or leave-one-out
        among each row's samples (needs ``num_samples >= 2``, excludes the others).
    decay, baseline_step_size, init_scale : float, default 0.9, 0.05 and 0.1
        Of the running mean and variance (in [0, 1)), of the input-dependent
        baseline's regression, and the initial weights' standard deviation.
    eval_every, variance_every, variance_repeats : int, default 100, ``eval_every`` and 50
        How often to evaluate the exact log-likelihood and ELBO, how often to
        measure the gradient variance, and from how many gradient estimates.
    rng : None, int or numpy.random.Generator
        Split into streams for initialisation, minibatches, training and variance measurements.
    progress : bool, default False
        Print each evaluation to stderr.

    Returns
    -------
    NVILHistory
        The trained networks and the measurements.

    Examples
    --------
    >>> steps = dict(num_steps=20, batch_size=6, step_size=0.1, eval_every=10)
    >>> history = train_nvil(
    ...     bars_and_stripes(2), 2, **steps, centering=True, variance_repeats=5, rng=0
    ... )
    >>> history.steps, bool(np.all(history.elbo <= history.log_likelihood))
    (array([ 0, 10, 20]), True)
    """
    data = _binary(data, "data")
    num_data, num_visible = data.shape
    num_hidden = _checks.count(num_hidden, "num_hidden")
    _states(num_hidden, max(num_data, num_visible))  # the exact sums must be affordable
    batch_size = _checks.count(batch_size, "batch_size")
    num_samples = _checks.count(num_samples, "num_samples")
    if batch_size > num_data:
        raise ValueError(
            f"batch_size must be at most the {num_data} rows of data, got {batch_size}"
        )
    maximum = _checks.MAX_ELEMENTS // batch_size  # of the minibatch order
    num_steps = _checks.count(num_steps, "num_steps", maximum=maximum)
    remedies = (centering, input_baseline, variance_normalization, leave_one_out)
    names = "centering input_baseline variance_normalization leave_one_out".split()
    centering, input_baseline, variance_normalization, leave_one_out = map(
        _checks.flag, remedies, names
    )
    decay = _checks.scalar(decay, "decay", 0.0, _checks.BELOW_ONE)
    tiny = np.finfo(float).tiny
    baseline_step_size = _checks.scalar(baseline_step_size, "baseline_step_size", tiny)
    uses_nvil = centering or input_baseline or variance_normalization
    if leave_one_out and (num_samples < 2 or uses_nvil):
        raise ValueError(
            "leave_one_out needs num_samples >= 2 and excludes the other remedies"
        )
    eval_every = _checks.count(eval_every, "eval_every")
    variance_every = eval_every if variance_every is None else variance_every
    variance_every = _checks.count(variance_every, "variance_every")
    variance_repeats = _checks.count(variance_repeats, "variance_repeats", minimum=2)
    init_rng, order_rng, sample_rng, variance_rng = _checks.generator(rng).spawn(4)
    sizes = (num_visible, num_hidden)
    model = SigmoidBeliefNetwork.initialize(*sizes, scale=init_scale, rng=init_rng)
    recognition = RecognitionNetwork.initialize(*sizes, scale=init_scale, rng=init_rng)
    nvil = None
    if uses_nvil:
        nvil = NVILBaseline(
            num_visible if input_baseline else 0,
            decay=decay,
            learning_rate=baseline_step_size,
            normalize=variance_normalization,
        )
    sgd = SGD(step_size)

    def baseline_for(x: np.ndarray):
        if leave_one_out:
            return _PerRow(LeaveOneOutBaseline(), len(x))
        return nvil.given(np.tile(x, (num_samples, 1))) if input_baseline else nvil  # type: ignore[union-attr]  # then nvil is set

    evaluations: list[tuple[int, float, float]] = []  # one tuple per measurement:
    variances: list[tuple[int, float, float]] = []  # Ctrl-C leaves no half record

    def measure(step: int, model, recognition, force: bool = False) -> None:
        def due(rows: list, every: int) -> bool:  # on schedule or forced, not twice
            return (step % every == 0 or force) and not (rows and rows[-1][0] == step)

        if due(evaluations, eval_every):
            log_p = float(model.log_marginal(data).mean())
            elbo = float(model.exact_elbo(data, recognition).mean())
            evaluations.append((step, log_p, elbo))
            if progress:
                message = f"step {step}/{num_steps}  exact log p(x) {log_p:.4f}"
                print(message, file=sys.stderr)
        if due(variances, variance_every):
            q, log_joint = recognition.given(data), lambda z: model.log_joint(data, z)
            size, baseline = num_samples * num_data, baseline_for(data)
            estimates = [
                elbo_gradient(
                    log_joint, q, size, rng=variance_rng, baseline=baseline
                ).gradient
                for _ in range(variance_repeats)
            ]
            scale = 1.0 if nvil is None else nvil.scale  # before variance normalisation
            exact = model.exact_elbo_gradient(data, recognition)[1]
            variance = float(np.var(estimates, axis=0, ddof=1).sum() * scale**2)
            variances.append((step, variance, float(exact @ exact)))

    epochs = -(-num_steps * batch_size // num_data)
    order = np.concatenate([order_rng.permutation(num_data) for _ in range(epochs)])
    elbo_estimate = np.empty(num_steps)
    state, interrupted = (0, model, recognition), False  # replaced once per step
    try:
        for step in range(num_steps):
            measure(*state)
            _, model, recognition = state
            x = data[order[step * batch_size : (step + 1) * batch_size]]
            q, baseline = recognition.given(x), baseline_for(x)
            z = q.sample(num_samples * batch_size, rng=sample_rng)
            # each lambda is called here, in its own iteration: B023 cannot see that
            signal = learning_signal(lambda z: model.log_joint(x, z), q, z)  # noqa: B023
            terms = score_function_terms(lambda _: signal, q, z, baseline=baseline)  # noqa: B023
            grad_phi = terms.mean(axis=0)
            grad_theta = model.grad_log_joint(x, z).mean(axis=0)
            if nvil is not None:  # the caller updates the baseline, after the step
                nvil.update(
                    signal, np.tile(x, (num_samples, 1)) if input_baseline else None
                )
            elbo_estimate[step] = signal.mean()
            state = (
                step + 1,
                model.with_params(sgd.step(model.params, grad_theta)),
                recognition.with_params(sgd.step(recognition.params, grad_phi)),
            )
    except KeyboardInterrupt:
        interrupted = True
        print(f"interrupted after {state[0]} of {num_steps} steps", file=sys.stderr)
    measure(*state, force=True)
    done, model, recognition = state
    fields: list = [model, recognition]
    fields += [np.array(column) for column in zip(*evaluations, strict=True)]
    fields += [elbo_estimate[:done].copy()]
    fields += [np.array(column) for column in zip(*variances, strict=True)]
    fields += [batch_size * num_samples, interrupted]
    return NVILHistory(*fields)

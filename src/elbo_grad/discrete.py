r"""Alternatives to the score function for a Bernoulli :math:`q_\phi`: :ref:`chap-alternatives`.

Each targets :math:`\nabla_\phi \mathbb E_{q_\phi}[f(z)]`, :math:`\phi` the
logits, with per-sample terms whose row mean is the estimate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks
from ._checks import RNGLike
from .exact import enumerate_support
from .families import Bernoulli, _num_samples, _sigmoid

__all__ = [
    "arm_terms",
    "disarm_terms",
    "exact_straight_through_gradient",
    "gumbel_softmax_terms",
]


def _bernoulli(q: object) -> Bernoulli:
    family = _checks.family(q)
    if not isinstance(family, Bernoulli):
        raise TypeError(f"q must be a Bernoulli family, got {type(q).__name__}")
    return family


def _temperature(temperature: object) -> float:
    temperature = _checks.scalar(temperature, "temperature")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return temperature


def _antithetic_pair(f, q, num_samples, rng) -> tuple[np.ndarray, ...]:
    """Checks; then the logits, the uniforms, the pair and f(z) - f(z~)."""
    f, q = _checks.checked(f, "f", lambda n: (n,)), _bernoulli(q)
    num_samples = _num_samples(num_samples, q.dim)
    uniform = _checks.generator(rng).random((num_samples, q.dim))
    z = (uniform < _sigmoid(q.logits)).astype(float)  # z ~ q
    z_antithetic = (uniform > _sigmoid(-q.logits)).astype(float)  # the mirror: ~ q too
    return q.logits, uniform, z, z_antithetic, f(z) - f(z_antithetic)


def arm_terms(
    f: Callable, q: Bernoulli, num_samples: int, *, rng: RNGLike = None
) -> np.ndarray:
    r"""The ARM estimator's unbiased terms (Yin & Zhou 2019).

    Parameters
    ----------
    f : callable
        Maps binary ``z`` of shape ``(n, q.dim)`` to shape ``(n,)``.
    q : Bernoulli
        The family; the parameters are its logits :math:`\phi`.
    num_samples : int
        The number of rows; each evaluates ``f`` twice.
    rng : int, numpy.random.Generator or None, keyword-only
        Seed or generator.

    Returns
    -------
    ndarray, shape (num_samples, q.num_params)
        :math:`(f(\tilde z_i) - f(z_i))(u_i - \tfrac12)`, :math:`z_i = [u_i < \sigma(\phi)]`, :math:`\tilde z_i = [u_i > \sigma(-\phi)]`.

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> terms = arm_terms(lambda z: z.sum(axis=1), Bernoulli([0.0]), 4, rng=0)
    >>> terms.shape
    (4, 1)
    """
    _, uniform, _, _, difference = _antithetic_pair(f, q, num_samples, rng)
    return -difference[:, None] * (uniform - 0.5)


def disarm_terms(
    f: Callable, q: Bernoulli, num_samples: int, *, rng: RNGLike = None
) -> np.ndarray:
    r"""The DisARM estimator's terms (Dong, Mnih & Tucker 2020): ARM averaged over :math:`u` given the pair.

    Parameters
    ----------
    f : callable
        Maps binary ``z`` of shape ``(n, q.dim)`` to shape ``(n,)``.
    q : Bernoulli
        The family; the parameters are its logits :math:`\phi`.
    num_samples : int
        The number of rows; each evaluates ``f`` twice.
    rng : int, numpy.random.Generator or None, keyword-only
        Seed or generator.

    Returns
    -------
    ndarray, shape (num_samples, q.num_params)
        :math:`\tfrac12(f(z_i) - f(\tilde z_i))(-1)^{\tilde z_{id}} [z_{id} \ne \tilde z_{id}]\,\sigma(|\phi_d|)`.

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> terms = disarm_terms(lambda z: z.sum(axis=1), Bernoulli([0.0]), 4, rng=0)
    >>> terms.shape
    (4, 1)
    """
    logits, _, z, z_antithetic, difference = _antithetic_pair(f, q, num_samples, rng)
    sign = 1.0 - 2.0 * z_antithetic  # (-1)^{z~}
    differs = z != z_antithetic
    return 0.5 * difference[:, None] * sign * differs * _sigmoid(np.abs(logits))


def gumbel_softmax_terms(
    grad_f: Callable, q: Bernoulli, num_samples: int, *, temperature: float,
    rng: RNGLike = None, straight_through: bool = True,
) -> np.ndarray:  # fmt: skip
    r"""The Gumbel-softmax (binary Concrete) terms, biased for the gradient of E_q[f].

    Parameters
    ----------
    grad_f : callable
        Maps ``z`` of shape ``(n, q.dim)`` to :math:`\nabla_z f(z)`, same shape.
    q : Bernoulli
        The family; the parameters are its logits :math:`\phi`.
    num_samples : int
        The number of rows; each evaluates ``grad_f`` once.
    temperature : float, keyword-only
        :math:`\tau > 0`.
    rng : int, numpy.random.Generator or None, keyword-only
        Seed or generator.
    straight_through : bool, default True, keyword-only
        Evaluate ``grad_f`` at the hard :math:`[\phi + L > 0] \sim q`, not at :math:`y`.

    Returns
    -------
    ndarray, shape (num_samples, q.num_params)
        :math:`\nabla_z f \odot y_i(1 - y_i)/\tau`, :math:`y_i = \sigma((\phi + L_i)/\tau)`, :math:`L_i` logistic noise.

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> q = Bernoulli(logits=[0.0])
    >>> gumbel_softmax_terms(lambda z: 2 * z, q, 4, temperature=0.5, rng=0).shape
    (4, 1)
    """
    q = _bernoulli(q)
    grad_f = _checks.checked(grad_f, "grad_f", lambda n: (n, q.dim))
    num_samples = _num_samples(num_samples, q.dim)
    temperature = _temperature(temperature)
    straight_through = _checks.flag(straight_through, "straight_through")
    noise = _checks.generator(rng).logistic(size=(num_samples, q.dim))
    relaxed = _sigmoid((q.logits + noise) / temperature)
    point = (q.logits + noise > 0).astype(float) if straight_through else relaxed
    return grad_f(point) * relaxed * (1.0 - relaxed) / temperature


def _straight_through_weights(logits, temperature, num_points):
    r"""``(A_d(0), A_d(1))`` by composite Gauss–Legendre in :math:`s = t/\tau`, :math:`|s| \le 60` (beyond, :math:`\sigma'(s) < 10^{-26}`)."""
    nodes, weights = np.polynomial.legendre.leggauss(num_points)
    edges = np.linspace(0.0, 60.0, 61)
    half = 0.5 * np.diff(edges)
    s = (edges[:-1, None] + half[:, None] * (nodes + 1.0)).ravel()
    w = (half[:, None] * weights).ravel()

    def density(t):  # the logistic density, sigma(t) sigma(-t)
        return _sigmoid(t) * _sigmoid(-t)

    upper = (w * density(s) * density(temperature * s - logits[:, None])).sum(axis=1)
    lower = (w * density(s) * density(-temperature * s - logits[:, None])).sum(axis=1)
    return lower, upper


def exact_straight_through_gradient(
    grad_f: Callable, q: Bernoulli, *, temperature: float, num_points: int = 20
) -> np.ndarray:
    r"""The exact mean of the straight-through :func:`gumbel_softmax_terms`, by enumeration and quadrature.

    Parameters
    ----------
    grad_f : callable
        As for :func:`gumbel_softmax_terms`; evaluated at binary points only.
    q : Bernoulli
        The family, small enough to enumerate.
    temperature : float, keyword-only
        :math:`\tau > 0`.
    num_points : int, default 20, keyword-only
        Gauss–Legendre nodes per unit interval of the scaled noise.

    Returns
    -------
    ndarray, shape (q.num_params,)
        :math:`\sum_z \nabla_z f(z)_d \prod_{d' \ne d} q(z_{d'})\, A_d(z_d)`,
        :math:`A_d(z_d) = \mathbb E_L[\sigma'((\phi_d + L)/\tau)/\tau;\
        [\phi_d + L > 0] = z_d]`; minus the gradient it is the bias.

    Examples
    --------
    For :math:`f(z) = z` at :math:`\phi = 0`, :math:`\tau = 1`: :math:`\int \sigma'^2 = 1/6`, not :math:`1/4`.

    >>> from elbo_grad import Bernoulli
    >>> q = Bernoulli([0.0])
    >>> mean = exact_straight_through_gradient(np.ones_like, q, temperature=1.0)
    >>> bool(abs(mean[0] - 1 / 6) < 1e-12)
    True
    """
    q = _bernoulli(q)
    grad_f = _checks.checked(grad_f, "grad_f", lambda n: (n, q.dim))
    temperature = _temperature(temperature)
    num_points = _checks.count(num_points, "num_points", maximum=10_000)
    support = enumerate_support(q)
    marginal = np.where(support == 1.0, q.probs, 1.0 - q.probs)  # q(z_d), (2^D, D)
    lower, upper = _straight_through_weights(q.logits, temperature, num_points)
    noise_weight = np.where(support == 1.0, upper, lower)  # A_d(z_d)
    others = np.stack(  # the product over d' != d of q(z_d')
        [np.prod(np.delete(marginal, d, axis=1), axis=1) for d in range(q.dim)], axis=1
    )
    return np.sum(grad_f(support) * others * noise_weight, axis=0)

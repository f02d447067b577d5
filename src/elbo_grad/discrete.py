r"""Alternatives to the score function for factorised Bernoulli :math:`q_\phi`.

Each estimator targets :math:`\nabla_\phi \mathbb E_{q_\phi}[f(z)]` for
:math:`q_\phi(z) = \prod_d \mathrm{Bern}(z_d; \sigma(\phi_d))` with
parameters the logits :math:`\phi`, and :math:`f` not depending on
:math:`\phi`. As in :mod:`elbo_grad.estimators`, each function returns the
per-sample *terms*, shape ``(num_samples, q.num_params)``, whose row mean is
the estimate:

* :func:`arm_terms` (Yin & Zhou 2019) and :func:`disarm_terms` (Dong, Mnih &
  Tucker 2020): unbiased; each row evaluates :math:`f` at an antithetic pair
  of samples, so it costs **two** evaluations of :math:`f`;
* :func:`gumbel_softmax_terms` (Jang, Gu & Poole 2017; Maddison, Mnih & Teh
  2017): a continuous relaxation that differentiates :math:`f`; biased. Its
  exact mean, for the straight-through form, is
  :func:`exact_straight_through_gradient`.

The module needs only NumPy and a family with ``logits``, ``probs``, ``dim``
and ``num_params``.
"""

from __future__ import annotations

import numbers
from typing import Callable

import numpy as np

__all__ = [
    "arm_terms",
    "disarm_terms",
    "exact_straight_through_gradient",
    "gumbel_softmax_terms",
]

_MAX_ENUMERATED_DIM = 20


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow for large ``|x|``."""
    return np.exp(-np.logaddexp(0.0, -x))


def _check_q(q: object) -> np.ndarray:
    """The logits of a factorised Bernoulli ``q``; TypeError naming ``q`` otherwise."""
    if not all(hasattr(q, name) for name in ("logits", "probs", "dim", "num_params")):
        raise TypeError(
            "q must be a factorised Bernoulli family (with logits, probs, dim and "
            f"num_params), got {type(q).__name__}"
        )
    logits = np.asarray(q.logits, dtype=float)
    if logits.ndim != 1 or logits.size != q.dim or q.num_params != q.dim:
        raise TypeError(
            "q must be a factorised Bernoulli family with one logit per dimension, got "
            f"logits of shape {logits.shape}, dim={q.dim}, num_params={q.num_params}"
        )
    return logits


def _check_callable(function: object, name: str) -> Callable:
    if not callable(function):
        raise TypeError(f"{name} must be callable, got {type(function).__name__}")
    return function


def _check_num_samples(num_samples: object) -> int:
    if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool):
        raise TypeError(f"num_samples must be an integer, got {type(num_samples).__name__}")
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    return int(num_samples)


def _check_temperature(temperature: object) -> float:
    if not isinstance(temperature, numbers.Real) or isinstance(temperature, bool):
        raise TypeError(f"temperature must be a real number, got {type(temperature).__name__}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be positive and finite, got {temperature}")
    return float(temperature)


def _generator(rng: object) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"rng must be a non-negative integer seed, got {rng}")
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be an integer seed, a numpy.random.Generator or None, got {type(rng).__name__}"
    )


def _evaluate(function: Callable, z: np.ndarray, name: str, shape: tuple) -> np.ndarray:
    """``function(z)`` as a finite float array of ``shape``; ValueError naming it otherwise."""
    z.flags.writeable = False  # a callable cannot change the samples the terms use
    value = np.asarray(function(z), dtype=float)
    if value.shape != shape:
        raise ValueError(f"{name} must return shape {shape}, got {value.shape}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} returned NaN or infinity")
    return value


def _antithetic_pair(
    f: Callable, q: object, num_samples: int, rng: object
) -> tuple[np.ndarray, ...]:
    """Checks; then the logits, the uniforms, the pair and f(z) - f(z~)."""
    f = _check_callable(f, "f")
    logits = _check_q(q)
    num_samples = _check_num_samples(num_samples)
    uniform = _generator(rng).random((num_samples, logits.size))
    z = (uniform < _sigmoid(logits)).astype(float)  # z ~ q
    z_antithetic = (uniform > _sigmoid(-logits)).astype(float)  # the same u mirrored: z~ ~ q
    difference = _evaluate(f, z, "f", (num_samples,)) - _evaluate(
        f, z_antithetic, "f", (num_samples,)
    )
    return logits, uniform, z, z_antithetic, difference


def arm_terms(
    f: Callable, q: object, num_samples: int, *, rng: object = None
) -> np.ndarray:
    r"""The ARM estimator's terms of :math:`\nabla_\phi \mathbb E_{q_\phi}[f(z)]` (Yin & Zhou 2019).

    Parameters
    ----------
    f : callable
        Maps binary ``z`` of shape ``(n, q.dim)`` to shape ``(n,)``.
    q : Bernoulli
        A factorised Bernoulli family; the parameters are its logits.
    num_samples : int
        The number of rows; each evaluates ``f`` twice.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness.

    Returns
    -------
    ndarray, shape (num_samples, q.num_params)
        Row ``i`` is :math:`\bigl(f(\tilde z_i) - f(z_i)\bigr)(u_i - \tfrac12)`
        with :math:`z_i = [u_i < \sigma(\phi)]`,
        :math:`\tilde z_i = [u_i > \sigma(-\phi)]`, :math:`u_i \sim U(0,1)^D`;
        each row is unbiased.

    Raises
    ------
    TypeError
        If ``f`` is not callable, ``q`` is not a factorised Bernoulli family,
        ``num_samples`` is not an integer or ``rng`` is not a seed, a
        generator or ``None``.
    ValueError
        If ``num_samples < 1``, ``rng`` is a negative seed, or ``f`` returns
        the wrong shape or a non-finite value.

    Notes
    -----
    Both :math:`z` and :math:`\tilde z` are distributed as :math:`q_\phi`, and

    .. math::

        \nabla_\phi \mathbb E_{q_\phi}[f(z)]
        = \mathbb E_u\bigl[\bigl(f([u > \sigma(-\phi)]) - f([u < \sigma(\phi)])\bigr)
          (u - \tfrac12)\bigr].

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> q = Bernoulli(logits=[0.0, 1.0])
    >>> terms = arm_terms(lambda z: z.sum(axis=1), q, 100_000, rng=0)
    >>> exact = q.probs * (1 - q.probs)
    >>> standard_error = terms.std(axis=0, ddof=1) / np.sqrt(100_000)
    >>> bool(np.all(np.abs(terms.mean(axis=0) - exact) < 4 * standard_error))
    True
    """
    _, uniform, _, _, difference = _antithetic_pair(f, q, num_samples, rng)
    return -difference[:, None] * (uniform - 0.5)


def disarm_terms(
    f: Callable, q: object, num_samples: int, *, rng: object = None
) -> np.ndarray:
    r"""The DisARM estimator's terms of :math:`\nabla_\phi \mathbb E_{q_\phi}[f(z)]` (Dong, Mnih & Tucker 2020).

    ARM with the uniform noise integrated out given the pair
    :math:`(z, \tilde z)`: never more variance than ARM's.

    Parameters
    ----------
    f : callable
        Maps binary ``z`` of shape ``(n, q.dim)`` to shape ``(n,)``.
    q : Bernoulli
        A factorised Bernoulli family; the parameters are its logits.
    num_samples : int
        The number of rows; each evaluates ``f`` twice.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness.

    Returns
    -------
    ndarray, shape (num_samples, q.num_params)
        Row ``i``, column ``d``:
        :math:`\tfrac12\bigl(f(z_i) - f(\tilde z_i)\bigr)(-1)^{\tilde z_{id}}
        [z_{id} \ne \tilde z_{id}]\,\sigma(|\phi_d|)`, for the pair of
        :func:`arm_terms`; each row is unbiased.

    Raises
    ------
    TypeError
        If ``f`` is not callable, ``q`` is not a factorised Bernoulli family,
        ``num_samples`` is not an integer or ``rng`` is not a seed, a
        generator or ``None``.
    ValueError
        If ``num_samples < 1``, ``rng`` is a negative seed, or ``f`` returns
        the wrong shape or a non-finite value.

    Notes
    -----
    The DisARM term is the ARM term averaged over :math:`u` given the pair,
    :math:`\mathbb E[\text{ARM} \mid z, \tilde z]`, so it has the same mean
    and, by the law of total variance, no more variance.

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> q = Bernoulli(logits=[0.0, 1.0])
    >>> terms = disarm_terms(lambda z: z.sum(axis=1), q, 100_000, rng=0)
    >>> exact = q.probs * (1 - q.probs)
    >>> standard_error = terms.std(axis=0, ddof=1) / np.sqrt(100_000)
    >>> bool(np.all(np.abs(terms.mean(axis=0) - exact) < 4 * standard_error))
    True
    """
    logits, _, z, z_antithetic, difference = _antithetic_pair(f, q, num_samples, rng)
    sign = 1.0 - 2.0 * z_antithetic  # (-1)^{z~}
    differs = z != z_antithetic
    return 0.5 * difference[:, None] * sign * differs * _sigmoid(np.abs(logits))


def gumbel_softmax_terms(
    grad_f: Callable,
    q: object,
    num_samples: int,
    *,
    temperature: float,
    rng: object = None,
    straight_through: bool = True,
) -> np.ndarray:
    r"""The Gumbel-softmax (binary Concrete) terms, a biased estimate of :math:`\nabla_\phi \mathbb E_{q_\phi}[f(z)]`.

    Jang, Gu & Poole (2017); Maddison, Mnih & Teh (2017).

    Parameters
    ----------
    grad_f : callable
        Maps ``z`` of shape ``(n, q.dim)`` to :math:`\nabla_z f(z)`, shape
        ``(n, q.dim)``: :math:`f` extended to real :math:`z`.
    q : Bernoulli
        A factorised Bernoulli family; the parameters are its logits.
    num_samples : int
        The number of rows; each evaluates ``grad_f`` once.
    temperature : float, keyword-only
        :math:`\tau > 0`; the relaxation sharpens as :math:`\tau \to 0`.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness.
    straight_through : bool, default True, keyword-only
        Evaluate ``grad_f`` at the hard sample :math:`z = [\phi + L > 0]`
        (which is distributed as :math:`q`) instead of at the relaxed
        :math:`y`.

    Returns
    -------
    ndarray, shape (num_samples, q.num_params)
        Row ``i`` is :math:`\nabla_z f(\cdot)\odot y_i(1 - y_i)/\tau` with
        :math:`y_i = \sigma((\phi + L_i)/\tau)`, :math:`L_i` standard logistic
        noise, and ``grad_f`` evaluated at :math:`z_i` (straight-through) or
        :math:`y_i`. Its mean is not the gradient; for the straight-through
        form it is :func:`exact_straight_through_gradient`.

    Raises
    ------
    TypeError
        If ``grad_f`` is not callable, ``q`` is not a factorised Bernoulli
        family, ``num_samples`` is not an integer, ``temperature`` is not a
        real number, ``straight_through`` is not a bool, or ``rng`` is not a
        seed, a generator or ``None``.
    ValueError
        If ``num_samples < 1``, ``temperature`` is not positive and finite,
        ``rng`` is a negative seed, or ``grad_f`` returns the wrong shape or
        a non-finite value.

    Notes
    -----
    With :math:`y = \sigma((\phi + L)/\tau)`, :math:`\partial y_d /
    \partial\phi_d = y_d(1 - y_d)/\tau`; the chain rule through :math:`y`
    gives the terms. Without straight-through they are unbiased for
    :math:`\nabla_\phi \mathbb E[f(y)]`, the gradient of the relaxed
    objective, not of :math:`\mathbb E_{q_\phi}[f(z)]`.

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> q = Bernoulli(logits=[0.0])
    >>> terms = gumbel_softmax_terms(lambda z: 2 * z, q, 4, temperature=0.5, rng=0)
    >>> terms.shape
    (4, 1)
    """
    grad_f = _check_callable(grad_f, "grad_f")
    logits = _check_q(q)
    num_samples = _check_num_samples(num_samples)
    temperature = _check_temperature(temperature)
    if not isinstance(straight_through, (bool, np.bool_)):
        raise TypeError(
            f"straight_through must be True or False, got {type(straight_through).__name__}"
        )
    noise = _generator(rng).logistic(size=(num_samples, logits.size))
    relaxed = _sigmoid((logits + noise) / temperature)
    point = (logits + noise > 0).astype(float) if straight_through else relaxed.copy()
    gradient_z = _evaluate(grad_f, point, "grad_f", point.shape)
    return gradient_z * relaxed * (1.0 - relaxed) / temperature


def _straight_through_weights(
    logits: np.ndarray, temperature: float, num_points: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per dimension, :math:`A_d(z) = \mathbb E_L[h(\phi_d + L)\,[\,[\phi_d + L > 0] = z\,]]`.

    With :math:`h(t) = \sigma'(t/\tau)/\tau` and :math:`t = \tau s`:
    :math:`A_d(1) = \int_0^\infty \sigma'(s)\, p_L(\tau s - \phi_d)\,ds`
    (and :math:`s < 0` for :math:`A_d(0)`), by composite Gauss–Legendre on
    :math:`|s| \le 60`, where :math:`\sigma'(s) < 10^{-26}` beyond.
    """
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
    grad_f: Callable, q: object, *, temperature: float, num_points: int = 20
) -> np.ndarray:
    r"""The exact mean of the straight-through :func:`gumbel_softmax_terms`.

    Enumeration over the :math:`2^D` values of :math:`z`, and quadrature
    over the logistic noise of each dimension.

    Parameters
    ----------
    grad_f : callable
        As :func:`gumbel_softmax_terms`; evaluated at the binary points only.
    q : Bernoulli
        A factorised Bernoulli family with at most 20 dimensions.
    temperature : float, keyword-only
        :math:`\tau > 0`.
    num_points : int, default 20, keyword-only
        Gauss–Legendre nodes per unit interval of the scaled noise.

    Returns
    -------
    ndarray, shape (q.num_params,)
        :math:`\sum_z \nabla_z f(z)_d \prod_{d' \ne d} q(z_{d'})\, A_d(z_d)`,
        with :math:`A_d(z_d) = \mathbb E_L\bigl[\sigma'((\phi_d + L)/\tau)/\tau
        \;;\; [\phi_d + L > 0] = z_d\bigr]`; minus the exact gradient it is
        the estimator's bias.

    Raises
    ------
    TypeError
        If ``grad_f`` is not callable, ``q`` is not a factorised Bernoulli
        family, ``temperature`` is not a real number or ``num_points`` is not
        an integer.
    ValueError
        If ``q`` has more than 20 dimensions, ``temperature`` is not positive
        and finite, ``num_points < 1``, or ``grad_f`` returns the wrong shape
        or a non-finite value.

    Notes
    -----
    The hard sample depends on :math:`L_d` only through the sign of
    :math:`\phi_d + L_d`, and the dimensions are independent, so

    .. math::

        \mathbb E[T_d] = \sum_z \nabla_z f(z)_d
            \prod_{d' \ne d} q(z_{d'})\; A_d(z_d).

    Examples
    --------
    For :math:`f(z) = z` the gradient is :math:`\sigma'(\phi)`; at
    :math:`\tau = 1`, :math:`\phi = 0` the estimator's mean is
    :math:`\mathbb E[\sigma'(L)] = \int \sigma'^2 = 1/6`:

    >>> from elbo_grad import Bernoulli
    >>> q = Bernoulli(logits=[0.0])
    >>> mean = exact_straight_through_gradient(np.ones_like, q, temperature=1.0)
    >>> bool(abs(mean[0] - 1 / 6) < 1e-12)
    True
    """
    grad_f = _check_callable(grad_f, "grad_f")
    logits = _check_q(q)
    temperature = _check_temperature(temperature)
    num_points = _check_num_samples(num_points)
    if logits.size > _MAX_ENUMERATED_DIM:
        raise ValueError(
            f"q has {logits.size} dimensions; enumeration needs at most {_MAX_ENUMERATED_DIM}"
        )
    support = (np.arange(2**logits.size)[:, None] >> np.arange(logits.size) & 1).astype(float)
    probs = _sigmoid(logits)
    marginal = np.where(support == 1.0, probs, 1.0 - probs)  # q(z_d), shape (2^D, D)
    lower, upper = _straight_through_weights(logits, temperature, num_points)
    noise_weight = np.where(support == 1.0, upper, lower)  # A_d(z_d)
    others = np.stack(  # prod over d' != d of q(z_d')
        [np.prod(np.delete(marginal, d, axis=1), axis=1) for d in range(logits.size)], axis=1
    )
    gradient_z = _evaluate(grad_f, support, "grad_f", support.shape)
    return np.sum(gradient_z * others * noise_weight, axis=0)

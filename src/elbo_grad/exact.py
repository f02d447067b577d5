r"""Exact references: expectations, gradients and variances without sampling error.

Everything integrates against :math:`q_\phi` with a finite rule
:math:`\mathbb E_q[h] = \sum_j w_j h(z_j)` (:func:`integration_rule`): the
whole support of a discrete family, a Gauss–Hermite grid for a Gaussian. A
result that rounding in the integrand's values could move by more than
``GRADIENT_RTOL`` of its size (or of 1) is refused with a ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from ._checks import count, evaluate, family, function
from .estimators import learning_signal
from .families import Bernoulli, Categorical, DiagonalGaussian

__all__ = [
    "enumerate_support",
    "exact_elbo",
    "exact_elbo_gradient",
    "exact_expectation",
    "exact_gradient",
    "exact_optimal_baseline",
    "exact_single_sample_variance",
    "integration_rule",
]

#: The most numbers (points times max(q.dim, q.num_params)) in one array: 128 MiB.
MAX_ENTRIES = 2**24
#: The most Gauss–Hermite nodes per dimension whose weights NumPy computes
#: accurately (finite, non-negative, summing to 1 within 1e-12).
MAX_NUM_POINTS = 370
#: The relative accuracy an exact result must keep despite rounding in f's values.
GRADIENT_RTOL = 1e-6


def _check_budget(num_points: int, q) -> None:
    width = max(q.dim, q.num_params)
    if num_points * width > MAX_ENTRIES:
        raise ValueError(
            f"an exact computation for q would need {num_points} points x {width} numbers, "
            f"more than {MAX_ENTRIES}: use a smaller q or fewer num_points"
        )


def _grid(values: list[np.ndarray]) -> np.ndarray:
    return np.stack([g.ravel() for g in np.meshgrid(*values, indexing="ij")], axis=1)


def enumerate_support(q: Bernoulli | Categorical) -> np.ndarray:
    """Every value a discrete family can take, one per row, the last coordinate varying fastest.

    Parameters
    ----------
    q : Bernoulli or Categorical
        A discrete family.

    Returns
    -------
    ndarray, shape (K ** q.dim, q.dim)
        Floats 0./1. for a Bernoulli, integer categories for a Categorical.

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> enumerate_support(Bernoulli([0.0, 0.0])).tolist()
    [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    """
    if isinstance(q, Bernoulli):
        values = np.array([0.0, 1.0])
    elif isinstance(q, Categorical):
        values = np.arange(q.num_categories)
    else:
        raise TypeError(
            f"q must be a Bernoulli or Categorical family, got {type(q).__name__}"
        )
    _check_budget(values.size**q.dim, q)
    return _grid([values] * q.dim)


def integration_rule(q, *, num_points: int = 20) -> tuple[np.ndarray, np.ndarray]:
    r"""Points :math:`z_j` and weights :math:`w_j` with :math:`\mathbb E_q[h] = \sum_j w_j h(z_j)`.

    Parameters
    ----------
    q : DiagonalGaussian, Bernoulli or Categorical
        :math:`q_\phi`.
    num_points : int, default 20
        Gauss–Hermite nodes per dimension, at most ``MAX_NUM_POINTS`` (Gaussian only):
        exact for polynomials of degree below ``2 * num_points`` in each coordinate.

    Returns
    -------
    z : ndarray, shape (num_nodes, q.dim)
        The points, read-only.
    weights : ndarray, shape (num_nodes,)
        Non-negative weights summing to one.

    Examples
    --------
    >>> from elbo_grad import DiagonalGaussian
    >>> z, weights = integration_rule(DiagonalGaussian(1.0, np.log(2.0)), num_points=3)
    >>> float(weights @ z[:, 0] ** 2)  # mu^2 + sigma^2
    5.0
    """
    family(q)
    num_points = count(num_points, "num_points")
    if isinstance(q, (Bernoulli, Categorical)):
        z = enumerate_support(q)
        weights = np.exp(q.log_prob(z))
    elif isinstance(q, DiagonalGaussian):
        if num_points > MAX_NUM_POINTS:
            raise ValueError(
                f"num_points must be at most {MAX_NUM_POINTS}: beyond it NumPy's Gauss-Hermite "
                f"weights are inaccurate; got {num_points}"
            )
        _check_budget(num_points**q.dim, q)
        nodes, node_weights = hermegauss(num_points)
        node_weights /= math.sqrt(2.0 * math.pi)  # for the standard normal density
        weights = np.prod(_grid([node_weights] * q.dim), axis=1)
        z = q.reparameterize(_grid([nodes] * q.dim))
    else:
        raise TypeError(
            f"q must be a DiagonalGaussian, Bernoulli or Categorical family, got {type(q).__name__}"
        )
    z.flags.writeable = False
    return z, weights


def exact_expectation(f: Callable, q, *, num_points: int = 20) -> np.ndarray:
    r""":math:`\mathbb E_{q_\phi}[f(z)] = \sum_j w_j f(z_j)` by :func:`integration_rule`.

    Parameters
    ----------
    f : callable
        ``z`` of shape ``(num_nodes, q.dim)`` to an array whose first axis is the nodes.
    q : DiagonalGaussian, Bernoulli or Categorical
        :math:`q_\phi`.
    num_points : int, default 20
        Gauss–Hermite nodes per dimension, as :func:`integration_rule`.

    Returns
    -------
    ndarray, shape f(z).shape[1:]
        The expectation, element by element.

    Examples
    --------
    >>> from elbo_grad import DiagonalGaussian
    >>> q = DiagonalGaussian(1.0, np.log(2.0))
    >>> exact_expectation(lambda z: np.hstack([z, z**2]), q).round(12)
    array([1., 5.])
    """
    z, weights = _rule(f, "f", q, num_points)
    values = f(z)
    try:
        values = np.asarray(values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"f must return a regular array: {error}") from None
    if values.dtype.kind not in "biuf":
        raise TypeError(f"f must return real numbers, got dtype {values.dtype}")
    values = values.astype(float, copy=False)
    if not np.isfinite(values).all():
        raise ValueError("f returned NaN or infinity for some nodes")
    if values.ndim < 1 or values.shape[0] != len(z):
        raise ValueError(
            f"f must return an array whose first axis is the {len(z)} nodes, got shape {values.shape}"
        )
    expectation = np.tensordot(weights, values, axes=(0, 0))
    magnitude = np.tensordot(weights, np.abs(values), axes=(0, 0))
    _check_rounding(expectation, magnitude, "f", "expectation")
    return expectation


def _rule(f: Callable, name: str, q, num_points: int):
    """``f`` checked (a function named ``name``), then :func:`integration_rule`."""
    function(f, name)
    return integration_rule(q, num_points=num_points)


def _score_function_expectation(signal, q, z, weights, name: str) -> np.ndarray:
    r""":math:`\sum_j w_j (f_j - \bar f) s(z_j)`: the centring keeps a large :math:`\bar f` from swamping it."""
    score = q.score(z)
    centred = signal - weights @ signal
    gradient = weights @ (centred[:, None] * score)
    magnitude = weights @ (np.abs(signal)[:, None] * np.abs(score))
    _check_rounding(gradient, magnitude, name, "gradient")
    return gradient


def _check_rounding(result, magnitude, name: str, what: str) -> None:
    """Refuse ``result`` if rounding, a few eps of ``magnitude`` (its sum of absolute values), could move it."""
    rounding = 4 * np.finfo(float).eps * magnitude
    if np.any(rounding > GRADIENT_RTOL * np.maximum(np.abs(result), 1.0)):
        raise ValueError(
            f"{name} is not resolved on q's scale: rounding in its values could move the exact "
            f"{what} by up to {np.max(rounding):.2g}; q's spread is too large or too small "
            f"for the size of {name}'s values"
        )


def exact_gradient(f: Callable, q, *, num_points: int = 20) -> np.ndarray:
    r"""The exact :math:`\nabla_\phi \mathbb E_{q_\phi}[f]` for :math:`f` free of :math:`\phi` (for an ELBO: :func:`exact_elbo_gradient`).

    Parameters
    ----------
    f : callable
        ``z`` of shape ``(num_nodes, q.dim)`` to shape ``(num_nodes,)``.
    q : DiagonalGaussian, Bernoulli or Categorical
        :math:`q_\phi`.
    num_points : int, default 20
        Gauss–Hermite nodes per dimension, as :func:`integration_rule`.

    Returns
    -------
    ndarray, shape (q.num_params,)
        The gradient, in the order of ``q.params``.

    Examples
    --------
    >>> from elbo_grad import DiagonalGaussian
    >>> q = DiagonalGaussian(1.0, np.log(2.0))
    >>> exact_gradient(lambda z: z[:, 0] ** 2, q).round(12)
    array([2., 8.])
    """
    z, weights = _rule(f, "f", q, num_points)
    signal = evaluate(f, z, "f", (len(z),))
    return _score_function_expectation(signal, q, z, weights, "f")


def exact_elbo(log_joint: Callable, q, *, num_points: int = 20) -> float:
    r"""The ELBO :math:`\mathbb E_q[\ln p(x, z) - \ln q_\phi(z)]` by :func:`integration_rule`.

    Parameters
    ----------
    log_joint : callable
        ``z`` of shape ``(num_nodes, q.dim)`` to :math:`\ln p(x, z_j)`, shape ``(num_nodes,)``.
    q : DiagonalGaussian, Bernoulli or Categorical
        :math:`q_\phi`.
    num_points : int, default 20
        Gauss–Hermite nodes per dimension, as :func:`integration_rule`.

    Returns
    -------
    float
        :math:`\mathcal L(\phi)`.

    Examples
    --------
    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian
    >>> model, q = ConjugateGaussian(x=[1.0, 2.0]), DiagonalGaussian(0.5, -0.5)
    >>> bool(np.isclose(exact_elbo(model.log_joint, q), model.exact_elbo(q)))
    True
    """
    z, weights = _rule(log_joint, "log_joint", q, num_points)
    return float(weights @ learning_signal(log_joint, q, z))


def exact_elbo_gradient(log_joint: Callable, q, *, num_points: int = 20) -> np.ndarray:
    r"""The exact :math:`\nabla_\phi \mathcal L = \mathbb E_q[(\ln p(x,z) - \ln q_\phi(z))\, \nabla_\phi \ln q_\phi(z)]`.

    Parameters
    ----------
    log_joint : callable
        ``z`` of shape ``(num_nodes, q.dim)`` to :math:`\ln p(x, z_j)`, shape ``(num_nodes,)``.
    q : DiagonalGaussian, Bernoulli or Categorical
        :math:`q_\phi`.
    num_points : int, default 20
        Gauss–Hermite nodes per dimension, as :func:`integration_rule`.

    Returns
    -------
    ndarray, shape (q.num_params,)
        :math:`\nabla_\phi \mathcal L`, in the order of ``q.params``.

    Examples
    --------
    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> exact_elbo_gradient(model.log_joint, DiagonalGaussian(0.0, 0.0)).round(10) + 0.0
    array([ 3., -2.])
    """
    z, weights = _rule(log_joint, "log_joint", q, num_points)
    signal = learning_signal(log_joint, q, z)
    return _score_function_expectation(signal, q, z, weights, "log_joint")


def exact_optimal_baseline(f: Callable, q, *, num_points: int = 20) -> np.ndarray:
    r"""The variance-minimising constant baseline per parameter, :math:`b_k^* = \mathbb E_q[f s_k^2] / \mathbb E_q[s_k^2]`.

    Parameters
    ----------
    f : callable
        ``z`` of shape ``(num_nodes, q.dim)`` to the signal, shape ``(num_nodes,)`` or ``(num_nodes, P)``.
    q : DiagonalGaussian, Bernoulli or Categorical
        :math:`q_\phi`.
    num_points : int, default 20
        Gauss–Hermite nodes per dimension, as :func:`integration_rule`.

    Returns
    -------
    ndarray, shape (q.num_params,)
        :math:`b_k^*`, in the order of ``q.params``.

    Examples
    --------
    >>> from elbo_grad import DiagonalGaussian
    >>> exact_optimal_baseline(lambda z: z[:, 0] ** 2, DiagonalGaussian(0.0, 0.0))
    array([3., 5.])
    """
    z, weights = _rule(f, "f", q, num_points)
    signal = evaluate(f, z, "f", (len(z),), (len(z), q.num_params)).reshape(len(z), -1)
    squared_score = q.score(z) ** 2
    second_moment = weights @ squared_score
    varies = second_moment > 0  # elsewhere s_k is 0 on q's support: any b is optimal
    numerator = weights @ (signal * squared_score)
    return np.where(varies, numerator / np.where(varies, second_moment, 1.0), 0.0)


def exact_single_sample_variance(f: Callable, q, *, num_points: int = 20) -> np.ndarray:
    r"""The exact variance, per parameter, of one sample's term :math:`T(z)` (two passes, no cancellation).

    Parameters
    ----------
    f : callable
        ``z`` of shape ``(num_nodes, q.dim)`` to the terms, shape ``(num_nodes, P)``
        or ``(num_nodes,)``, e.g. ``lambda z: elbo_terms(log_joint, q, z)``.
    q : DiagonalGaussian, Bernoulli or Categorical
        :math:`q_\phi`.
    num_points : int, default 20
        Gauss–Hermite nodes per dimension, as :func:`integration_rule`.

    Returns
    -------
    ndarray, shape (q.num_params,) or ()
        :math:`\operatorname{Var}_q[T_k(z)]`; an average of :math:`n` terms has this over :math:`n`.

    Examples
    --------
    >>> from elbo_grad import DiagonalGaussian
    >>> q = DiagonalGaussian(0.0, 0.0)  # E[z]'s gradient term: z (z, z^2 - 1)
    >>> exact_single_sample_variance(lambda z: z[:, :1] * q.score(z), q).round(10)
    array([ 2., 10.])
    """
    z, weights = _rule(f, "f", q, num_points)
    terms = evaluate(f, z, "f", (len(z),), (len(z), q.num_params))
    return weights @ (terms - weights @ terms) ** 2

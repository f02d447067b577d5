r"""Exact references: expectations, gradients and estimator variances without sampling error.

Everything here integrates against :math:`q_\phi` with a finite rule
:math:`\mathbb E_q[h(z)] = \sum_j w_j\, h(z_j)` (:func:`integration_rule`):

* for the discrete families (:class:`~elbo_grad.Bernoulli`,
  :class:`~elbo_grad.Categorical`) the rule enumerates the support,
  :math:`w_j = q_\phi(z_j)`, and is exact for every :math:`h`;
* for :class:`~elbo_grad.DiagonalGaussian` it is Gauss–Hermite quadrature
  on :math:`z = \mu + \sigma\odot\varepsilon`, with ``num_points`` nodes per
  dimension (a tensor-product grid). It is exact when :math:`h` is a
  polynomial of degree at most ``2 * num_points - 1`` in each coordinate, as
  for the conjugate model, whose learning signal is quadratic in :math:`z`:
  the squared score-function term is then of degree 8, and the default 20
  nodes are exact to degree 39.

The exact variance is reported per parameter: the diagonal of the covariance
matrix of one sample's term. Its sum is the trace, the expected squared
distance of the estimate from the gradient. An estimator averaging
:math:`n` independent terms has :math:`1/n` times that variance.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from ._validation import check_num_samples
from .distributions import Bernoulli, Categorical, DiagonalGaussian
from .estimators import _evaluate, learning_signal

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

SampleFunction = Callable[[np.ndarray], np.ndarray]
Family = DiagonalGaussian | Bernoulli | Categorical

#: The largest number of points :func:`integration_rule` will build.
MAX_POINTS = 2**20


def _check_size(num_points_total: int, what: str) -> None:
    if num_points_total > MAX_POINTS:
        raise ValueError(
            f"{what} has {num_points_total} points, more than {MAX_POINTS}: "
            "use a smaller q (or fewer num_points) for an exact computation"
        )


def enumerate_support(q: Bernoulli | Categorical) -> np.ndarray:
    r"""Every value :math:`z` a discrete family can take, one per row.

    Parameters
    ----------
    q : Bernoulli or Categorical
        A discrete family with ``q.dim`` variables.

    Returns
    -------
    ndarray, shape (K ** dim, dim)
        Every :math:`z \in \{0, \dots, K - 1\}^D`, as floats, one per row:
        :math:`K = 2` for a Bernoulli family, ``q.num_categories`` for a
        categorical one; the last coordinate varies fastest.

    Raises
    ------
    TypeError
        If ``q`` is not a discrete family.
    ValueError
        If the support has more than ``MAX_POINTS`` (:math:`2^{20}`) values.

    Notes
    -----
    The support is the Cartesian product :math:`\{0, \dots, K - 1\}^D`, so
    a sum over its rows is an exact expectation,

    .. math::

        \mathbb E_{q_\phi}[h(z)] = \sum_{z \in \{0, \dots, K-1\}^D} q_\phi(z)\, h(z),

    at a cost of :math:`K^D` evaluations of :math:`h`.

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> enumerate_support(Bernoulli(logits=[0.0, 0.0]))
    array([[0., 0.],
           [0., 1.],
           [1., 0.],
           [1., 1.]])
    """
    if isinstance(q, Bernoulli):
        num_categories = 2
    elif isinstance(q, Categorical):
        num_categories = q.num_categories
    else:
        raise TypeError(f"q must be a Bernoulli or Categorical family, got {type(q).__name__}")
    _check_size(num_categories**q.dim, "the support of q")
    grids = np.meshgrid(*[np.arange(num_categories, dtype=float)] * q.dim, indexing="ij")
    return np.stack([grid.ravel() for grid in grids], axis=1)


def integration_rule(q: Family, *, num_points: int = 20) -> tuple[np.ndarray, np.ndarray]:
    r"""Points :math:`z_j` and weights :math:`w_j` with :math:`\mathbb E_q[h(z)] = \sum_j w_j h(z_j)`.

    Parameters
    ----------
    q : DiagonalGaussian, Bernoulli or Categorical
        The distribution to integrate against.
    num_points : int, default 20, keyword-only
        Gauss–Hermite nodes per dimension (Gaussian only; ignored for the
        discrete families, whose rule is the whole support).

    Returns
    -------
    z : ndarray, shape (num_nodes, q.dim)
        The points :math:`z_j`, one per row: the support of a discrete
        family (:func:`enumerate_support`), or the tensor grid of
        ``num_points ** q.dim`` Gauss–Hermite nodes mapped through
        :math:`z = \mu + \sigma \odot \varepsilon`.
    weights : ndarray, shape (num_nodes,)
        The weights :math:`w_j`: non-negative, summing to one
        (:math:`q_\phi(z_j)` for a discrete family).

    Raises
    ------
    TypeError
        If ``q`` is not one of the package's families, or ``num_points`` is
        not an integer.
    ValueError
        If ``num_points < 1`` or the rule would have more than
        ``MAX_POINTS`` (:math:`2^{20}`) points.

    Notes
    -----
    For the Gaussian, with the probabilists' Gauss–Hermite nodes
    :math:`\varepsilon_j` and weights :math:`v_j` (weight function
    :math:`e^{-\varepsilon^2/2}`),

    .. math::

        \mathbb E_{\mathcal N(\mu, \sigma^2)}[h(z)]
            = \sum_j \frac{v_j}{\sqrt{2\pi}}\, h(\mu + \sigma\varepsilon_j),

    exact for polynomials :math:`h` of degree at most :math:`2 m - 1` with
    :math:`m` nodes, and a product of such rules over the dimensions.

    Examples
    --------
    >>> from elbo_grad import DiagonalGaussian
    >>> z, weights = integration_rule(DiagonalGaussian(mean=1.0, log_std=np.log(2.0)), num_points=3)
    >>> float(weights @ z[:, 0] ** 2)  # E[z^2] = mu^2 + sigma^2
    5.0
    """
    if isinstance(q, (Bernoulli, Categorical)):
        z = enumerate_support(q)
        return z, np.exp(q.log_prob(z))
    if not isinstance(q, DiagonalGaussian):
        raise TypeError(
            f"q must be a DiagonalGaussian, Bernoulli or Categorical family, got {type(q).__name__}"
        )
    num_points = check_num_samples(num_points, "num_points")
    _check_size(num_points**q.dim, "the Gauss-Hermite grid")
    nodes, node_weights = hermegauss(num_points)
    node_weights = node_weights / np.sqrt(2.0 * np.pi)
    grids = np.meshgrid(*[nodes] * q.dim, indexing="ij")
    noise = np.stack([grid.ravel() for grid in grids], axis=1)
    weight_grids = np.meshgrid(*[node_weights] * q.dim, indexing="ij")
    weights = np.prod(np.stack([grid.ravel() for grid in weight_grids], axis=1), axis=1)
    return q.reparameterize(noise), weights


def exact_expectation(function: SampleFunction, q: Family, *, num_points: int = 20) -> np.ndarray:
    r""":math:`\mathbb E_{q_\phi}[h(z)]` by :func:`integration_rule`.

    Parameters
    ----------
    function : callable
        Maps ``z`` of shape ``(num_nodes, q.dim)`` to an array whose first
        axis is the samples, e.g. ``(num_nodes,)`` or ``(num_nodes, P)``.
    q : DiagonalGaussian, Bernoulli or Categorical
        The distribution to integrate against.
    num_points : int, default 20, keyword-only
        Gauss–Hermite nodes per dimension, as :func:`integration_rule`.

    Returns
    -------
    ndarray, shape function(z).shape[1:]
        :math:`\mathbb E_{q_\phi}[h(z)]`, element by element (a 0-d array
        for a scalar function).

    Raises
    ------
    TypeError
        If ``q`` is not one of the package's families, or ``num_points`` is
        not an integer.
    ValueError
        If ``function`` returns NaN or infinity, or an array whose first axis
        is not the samples; or if ``num_points < 1`` or the rule is too large
        (see :func:`integration_rule`).

    Notes
    -----
    With the points :math:`z_j` and weights :math:`w_j` of
    :func:`integration_rule`,

    .. math::

        \mathbb E_{q_\phi}[h(z)] = \sum_j w_j\, h(z_j),

    exactly for a discrete family, and for a Gaussian up to the error of
    Gauss–Hermite quadrature (zero for a polynomial of degree at most
    ``2 * num_points - 1`` in each coordinate).

    Examples
    --------
    >>> from elbo_grad import Bernoulli, DiagonalGaussian
    >>> round(float(exact_expectation(lambda z: z.sum(axis=1), Bernoulli(logits=[0.0, 0.0, 0.0]))), 12)
    1.5
    >>> q = DiagonalGaussian(mean=1.0, log_std=np.log(2.0))
    >>> exact_expectation(lambda z: np.column_stack([z[:, 0], z[:, 0] ** 2]), q).round(12)  # mu, mu^2 + sigma^2
    array([1., 5.])
    """
    z, weights = integration_rule(q, num_points=num_points)
    values = np.asarray(function(z), dtype=float)
    if values.ndim < 1 or values.shape[0] != z.shape[0]:
        raise ValueError(
            f"function must return an array whose first axis is the {z.shape[0]} samples, "
            f"got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("function returned NaN or infinity for some samples")
    return np.tensordot(weights, values, axes=(0, 0))


def exact_gradient(f: SampleFunction, q: Family, *, num_points: int = 20) -> np.ndarray:
    r"""The exact :math:`\nabla_\phi \mathbb E_{q_\phi}[f(z)] = \mathbb E_q[f(z)\, \nabla_\phi \ln q_\phi(z)]`.

    By enumeration, :math:`\sum_z q_\phi(z) f(z) \nabla_\phi \ln q_\phi(z)`,
    for the discrete families; by Gauss–Hermite quadrature for the Gaussian
    (exact when :math:`f` is a polynomial of degree at most
    ``2 * num_points - 3``).

    Parameters
    ----------
    f : callable
        Maps ``z`` of shape ``(num_nodes, q.dim)`` to shape ``(num_nodes,)``.
        It must not depend on :math:`\phi`.
    q : DiagonalGaussian, Bernoulli or Categorical
        The distribution :math:`q_\phi` whose parameters we differentiate.
    num_points : int, default 20, keyword-only
        Gauss–Hermite nodes per dimension, as :func:`integration_rule`.

    Returns
    -------
    ndarray, shape (q.num_params,)
        :math:`\nabla_\phi \mathbb E_{q_\phi}[f(z)]`, in the order of
        ``q.params``.

    Raises
    ------
    TypeError
        If ``q`` is not one of the package's families, or ``num_points`` is
        not an integer.
    ValueError
        If ``f`` returns the wrong shape or a non-finite value, or
        ``num_points < 1`` or the rule is too large.

    Notes
    -----
    The score-function identity, integrated by :func:`integration_rule`:

    .. math::

        \nabla_\phi \mathbb E_{q_\phi}[f(z)]
            = \mathbb E_{q_\phi}\bigl[f(z)\, \nabla_\phi \ln q_\phi(z)\bigr]
            = \sum_j w_j\, f(z_j)\, \nabla_\phi \ln q_\phi(z_j).

    Examples
    --------
    :math:`\frac{d}{d\phi}\mathbb E[z] = \pi(1 - \pi)` for one Bernoulli variable:

    >>> from elbo_grad import Bernoulli, DiagonalGaussian
    >>> exact_gradient(lambda z: z[:, 0], Bernoulli(logits=[0.0]))
    array([0.25])

    :math:`\nabla_{(\mu, \ln\sigma)} \mathbb E[z^2] = (2\mu, 2\sigma^2)` for a Gaussian:

    >>> exact_gradient(lambda z: z[:, 0] ** 2, DiagonalGaussian(mean=1.0, log_std=np.log(2.0))).round(12)
    array([2., 8.])
    """
    return exact_expectation(lambda z: _evaluate(f, z, "f")[:, None] * q.score(z), q, num_points=num_points)


def exact_elbo(log_joint: SampleFunction, q: Family, *, num_points: int = 20) -> float:
    r"""The ELBO :math:`\mathbb E_q[\ln p(x, z) - \ln q_\phi(z)]` by :func:`integration_rule`.

    A deterministic reference for a model of your own: by enumeration for a
    discrete :math:`q`, and for a Gaussian :math:`q` by Gauss–Hermite
    quadrature, the same expectation the Monte Carlo estimators sample,
    integrated on a grid of ``num_points`` nodes per latent dimension.

    Parameters
    ----------
    log_joint : callable
        Maps ``z`` of shape ``(num_nodes, q.dim)`` to :math:`\ln p(x, z_j)`,
        shape ``(num_nodes,)``.
    q : DiagonalGaussian, Bernoulli or Categorical
        The variational distribution.
    num_points : int, default 20, keyword-only
        Gauss–Hermite nodes per dimension (Gaussian only), as
        :func:`integration_rule`. The rule is exact when the learning signal
        is a polynomial of degree below ``2 * num_points`` in :math:`z`; for
        a smooth log joint the error falls fast as ``num_points`` grows, so
        check a reference by doubling it.

    Returns
    -------
    float
        :math:`\mathcal L(\phi)`.

    Raises
    ------
    TypeError
        If ``q`` is not one of the package's families, or ``num_points`` is
        not an integer.
    ValueError
        If ``log_joint`` returns the wrong shape or a non-finite value (the
        message names ``log_joint``), or ``num_points < 1`` or the rule
        would have more than ``MAX_POINTS`` (:math:`2^{20}`) points.

    See Also
    --------
    exact_elbo_gradient : The gradient of the same integral.
    grid_posterior : The posterior's moments and the evidence on a grid.

    Notes
    -----
    With the points :math:`z_j` and weights :math:`w_j` of
    :func:`integration_rule` (for the Gaussian,
    :math:`z_j = \mu + \sigma \odot \varepsilon_j` at the Gauss–Hermite
    nodes :math:`\varepsilon_j`),

    .. math::

        \mathcal L(\phi) = \mathbb E_{q_\phi}\bigl[\ln p(x, z) - \ln q_\phi(z)\bigr]
            \approx \sum_j w_j\, \bigl(\ln p(x, z_j) - \ln q_\phi(z_j)\bigr).

    Examples
    --------
    On the conjugate model the learning signal is quadratic in :math:`z`, so
    two nodes are already exact:

    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> q = DiagonalGaussian(mean=0.5, log_std=-0.5)
    >>> bool(np.isclose(exact_elbo(model.log_joint, q, num_points=2), model.exact_elbo(q), rtol=1e-12))
    True
    """
    return float(exact_expectation(lambda z: learning_signal(log_joint, q, z), q, num_points=num_points))


def exact_elbo_gradient(log_joint: SampleFunction, q: Family, *, num_points: int = 20) -> np.ndarray:
    r"""The exact ELBO gradient :math:`\mathbb E_q[(\ln p(x,z) - \ln q_\phi(z))\,\nabla_\phi \ln q_\phi(z)]`.

    The score-function identity integrated deterministically: the reference
    to check :func:`elbo_gradient` (or any other estimator) against on a
    model of your own.

    Parameters
    ----------
    log_joint : callable
        Maps ``z`` of shape ``(num_nodes, q.dim)`` to :math:`\ln p(x, z_j)`,
        shape ``(num_nodes,)``.
    q : DiagonalGaussian, Bernoulli or Categorical
        The variational distribution.
    num_points : int, default 20, keyword-only
        Gauss–Hermite nodes per dimension (Gaussian only), as
        :func:`exact_elbo`.

    Returns
    -------
    ndarray, shape (q.num_params,)
        :math:`\nabla_\phi \mathcal L`, in the order of ``q.params`` (for
        the Gaussian: means, then log standard deviations).

    Raises
    ------
    TypeError
        If ``q`` is not one of the package's families, or ``num_points`` is
        not an integer.
    ValueError
        If ``log_joint`` returns the wrong shape or a non-finite value (the
        message names ``log_joint``), or ``num_points < 1`` or the rule
        would have more than ``MAX_POINTS`` (:math:`2^{20}`) points.

    See Also
    --------
    exact_elbo : The ELBO by the same rule.

    Notes
    -----
    With the points :math:`z_j` and weights :math:`w_j` of
    :func:`integration_rule`,

    .. math::

        \nabla_\phi \mathcal L
            &= \mathbb E_{q_\phi}\bigl[(\ln p(x, z) - \ln q_\phi(z))\,\nabla_\phi \ln q_\phi(z)\bigr] \\
            &\approx \sum_j w_j\,\bigl(\ln p(x, z_j) - \ln q_\phi(z_j)\bigr)\,\nabla_\phi \ln q_\phi(z_j).

    Examples
    --------
    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> q = DiagonalGaussian(mean=0.0, log_std=0.0)
    >>> exact_elbo_gradient(model.log_joint, q).round(10) + 0.0
    array([ 3., -2.])
    >>> model.exact_elbo_gradient(q)
    array([ 3., -2.])
    """
    return exact_gradient(lambda z: learning_signal(log_joint, q, z), q, num_points=num_points)


def exact_optimal_baseline(f: SampleFunction, q: Family, *, num_points: int = 20) -> np.ndarray:
    r"""The variance-minimising constant baseline per parameter, :math:`b_k^* = \mathbb E_q[f s_k^2] / \mathbb E_q[s_k^2]`.

    Notes
    -----
    The variance of one term :math:`(f - b) s_k` is a parabola in :math:`b`,

    .. math::

        \operatorname{Var}_q[(f - b) s_k]
            = \mathbb E_q[f^2 s_k^2] - 2 b\, \mathbb E_q[f s_k^2] + b^2\, \mathbb E_q[s_k^2] - g_k^2,

    smallest at :math:`b_k^*`. It is the population value of the coefficient
    :func:`~elbo_grad.optimal_baseline` estimates from samples. It is not the
    mean :math:`\mathbb E_q[f]` unless :math:`f` and :math:`s_k^2` are
    uncorrelated.

    Parameters
    ----------
    f : callable
        Maps ``z`` of shape ``(num_nodes, q.dim)`` to the learning signal,
        shape ``(num_nodes,)``, or to one signal per parameter, shape
        ``(num_nodes, q.num_params)`` (for local learning signals:
        ``lambda z: local_learning_signal(local_log_joint, q, z)[:, q.param_dims]``).
    q : DiagonalGaussian, Bernoulli or Categorical
        The distribution :math:`q_\phi` whose score :math:`s` multiplies the
        signal.
    num_points : int, default 20, keyword-only
        Gauss–Hermite nodes per dimension, as :func:`integration_rule`.

    Returns
    -------
    ndarray, shape (q.num_params,)
        :math:`b_k^*` for every parameter :math:`k`, in the order of
        ``q.params``.

    Raises
    ------
    TypeError
        If ``q`` is not one of the package's families, or ``num_points`` is
        not an integer.
    ValueError
        If ``f`` returns the wrong shape or a non-finite value, or
        ``num_points < 1`` or the rule is too large.

    Examples
    --------
    >>> from elbo_grad import DiagonalGaussian
    >>> q = DiagonalGaussian(mean=0.0, log_std=0.0)
    >>> exact_optimal_baseline(lambda z: z[:, 0] ** 2, q).round(10)  # E[z^2 s^2] / E[s^2]
    array([3., 5.])
    """

    def signal(z: np.ndarray) -> np.ndarray:
        values = np.asarray(f(z), dtype=float)
        if values.shape == (z.shape[0], q.num_params):
            return values
        return _evaluate(f, z, "f")[:, None]

    weighted = exact_expectation(lambda z: signal(z) * q.score(z) ** 2, q, num_points=num_points)
    plain = exact_expectation(lambda z: q.score(z) ** 2, q, num_points=num_points)
    return weighted / plain


def exact_single_sample_variance(
    terms: SampleFunction, q: Family, *, num_points: int = 20
) -> np.ndarray:
    r"""The exact variance, per parameter, of one sample's term of an estimator.

    Parameters
    ----------
    terms : callable
        Maps samples ``z`` of shape ``(num_nodes, q.dim)`` to the estimator's
        per-sample terms, shape ``(num_nodes, q.num_params)``: for instance
        ``lambda z: score_function_terms(f, q, z, baseline=b)`` or
        ``lambda z: pathwise_terms(grad_f, q, z)``. Use a constant baseline
        here: one computed from the batch would treat the nodes as a batch.
    q : DiagonalGaussian, Bernoulli or Categorical
        The distribution the samples come from.
    num_points : int, default 20, keyword-only
        Gauss–Hermite nodes per dimension, as :func:`integration_rule`. The
        squared terms have twice the degree of the terms: for terms
        polynomial of degree :math:`r`, ``num_points > r`` is exact.

    Returns
    -------
    ndarray, shape (q.num_params,)
        :math:`\operatorname{Var}_q[T_k(z)] = \mathbb E_q[(T_k - \mathbb E_q T_k)^2]`
        for each parameter :math:`k`. The estimator averaging :math:`n`
        independent terms has variance this divided by :math:`n`; the sum
        over :math:`k` is the trace of the covariance.

    Raises
    ------
    TypeError
        If ``q`` is not one of the package's families, or ``num_points`` is
        not an integer.
    ValueError
        If ``terms`` returns NaN or infinity or an array whose first axis is
        not the samples, or ``num_points < 1`` or the rule is too large.

    Notes
    -----
    With the points :math:`z_j` and weights :math:`w_j` of
    :func:`integration_rule`,

    .. math::

        \bar T_k = \sum_j w_j\, T_k(z_j), \qquad
        \operatorname{Var}_q[T_k] = \sum_j w_j\, \bigl(T_k(z_j) - \bar T_k\bigr)^2,

    computed in these two passes (mean first, then the mean squared
    deviation), so that a variance far smaller than the squared mean is not
    lost to cancellation.

    Examples
    --------
    The score-function term for :math:`\frac{d}{d\mu}\mathbb E[z]` at
    :math:`\mathcal N(0, 1)` is :math:`z \cdot z`, whose variance is
    :math:`\mathbb E[z^4] - 1 = 2`; the pathwise term is the constant 1:

    >>> from elbo_grad import DiagonalGaussian, pathwise_terms, score_function_terms
    >>> q = DiagonalGaussian(mean=0.0, log_std=0.0)
    >>> f, grad_f = (lambda z: z[:, 0]), (lambda z: np.ones_like(z))
    >>> exact_single_sample_variance(lambda z: score_function_terms(f, q, z), q).round(10)
    array([ 2., 10.])
    >>> exact_single_sample_variance(lambda z: pathwise_terms(grad_f, q, z), q).round(10)
    array([0., 1.])
    """
    mean = exact_expectation(terms, q, num_points=num_points)
    return exact_expectation(lambda z: (np.asarray(terms(z), dtype=float) - mean) ** 2, q, num_points=num_points)

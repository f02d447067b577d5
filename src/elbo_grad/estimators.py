r"""Monte Carlo estimators of gradients of expectations with respect to :math:`\phi`.

The score-function (REINFORCE, likelihood-ratio) identity

.. math::

    \nabla_\phi\, \mathbb E_{q_\phi(z)}[f(z)]
        = \mathbb E_{q_\phi(z)}\bigl[f(z)\, \nabla_\phi \ln q_\phi(z)\bigr]

holds whenever :math:`f` does not depend on :math:`\phi` and the gradient may
be taken under the integral sign. Sampling :math:`z_1, \dots, z_n \sim
q_\phi` turns the right-hand side into an unbiased estimate.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import as_generator, check_num_samples, finite_array

__all__ = ["elbo_gradient", "learning_signal", "score_function_gradient"]


def _evaluate(function: Callable, z: np.ndarray, name: str) -> np.ndarray:
    """Call ``function(z)`` and check it returned one finite number per sample."""
    values = np.asarray(function(z), dtype=float)
    if values.shape != (z.shape[0],):
        raise ValueError(
            f"{name} must return one value per sample, shape ({z.shape[0]},), "
            f"got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} returned NaN or infinity for some samples")
    return values


def _check_baseline(baseline) -> float:
    if baseline is None:
        return 0.0
    return float(finite_array(baseline, "baseline", ndim=0))


def score_function_gradient(
    f: Callable[[np.ndarray], np.ndarray],
    q,
    num_samples: int,
    *,
    rng=None,
    baseline=None,
    return_terms: bool = False,
):
    r"""Score-function estimate of :math:`\nabla_\phi \mathbb E_{q_\phi}[f(z)]`.

    Parameters
    ----------
    f : callable
        Maps samples ``z`` of shape ``(num_samples, q.dim)`` to values of shape
        ``(num_samples,)``. It must not depend on :math:`\phi`.
    q : DiagonalGaussian, Bernoulli or any object with ``sample``, ``score``
        The distribution :math:`q_\phi` whose parameters we differentiate.
    num_samples : int
        The number :math:`n \ge 1` of samples.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness (a seed or a generator).
    baseline : float, optional
        A constant :math:`b` subtracted from :math:`f`. Because the expected
        score is zero, any constant leaves the estimator unbiased; a good one
        lowers its variance.
    return_terms : bool, default False
        Also return the per-sample terms.

    Returns
    -------
    gradient : ndarray, shape (q.num_params,)
        The estimate :math:`\hat g = \frac1n \sum_{i=1}^n (f(z_i) - b)\,
        \nabla_\phi \ln q_\phi(z_i)`.
    terms : ndarray, shape (num_samples, q.num_params)
        Only if ``return_terms``: the summands
        :math:`(f(z_i) - b)\,\nabla_\phi \ln q_\phi(z_i)`, whose row mean is
        ``gradient``. Their sample variance divided by :math:`n` estimates the
        variance of ``gradient``.

    Raises
    ------
    ValueError
        If ``num_samples < 1``, ``baseline`` is not a finite scalar, or ``f``
        returns the wrong shape or a non-finite value.
    TypeError
        If ``num_samples`` is not an integer or ``rng`` is not a seed or a
        generator.

    Notes
    -----
    .. math::

        \nabla_\phi \mathbb E_{q_\phi}[f(z)]
            = \mathbb E_{q_\phi}\bigl[(f(z) - b)\,\nabla_\phi \ln q_\phi(z)\bigr]
            \approx \frac1n \sum_{i=1}^n (f(z_i) - b)\,\nabla_\phi \ln q_\phi(z_i),
            \qquad z_i \sim q_\phi .

    Examples
    --------
    The gradient of :math:`\mathbb E[z^2] = \mu^2 + \sigma^2` for
    :math:`z \sim \mathcal N(1, 1)` is :math:`(2\mu, 2\sigma^2) = (2, 2)`:

    >>> from elbo_grad import DiagonalGaussian
    >>> q = DiagonalGaussian(mean=1.0, log_std=0.0)
    >>> g = score_function_gradient(lambda z: z[:, 0] ** 2, q, 100_000, rng=0)
    >>> g.shape
    (2,)
    >>> bool(abs(g[0] - 2.0) < 0.1 and abs(g[1] - 2.0) < 0.1)
    True
    """
    num_samples = check_num_samples(num_samples)
    b = _check_baseline(baseline)
    rng = as_generator(rng)
    z = q.sample(num_samples, rng=rng)
    signal = _evaluate(f, z, "f") - b
    terms = signal[:, None] * q.score(z)
    gradient = terms.mean(axis=0)
    return (gradient, terms) if return_terms else gradient


def learning_signal(log_joint: Callable[[np.ndarray], np.ndarray], q, z) -> np.ndarray:
    r"""The ELBO's learning signal :math:`\ln p(x, z_i) - \ln q_\phi(z_i)` for every row of ``z``.

    The factor that multiplies the score in the estimator of
    :func:`elbo_gradient`; its mean under :math:`q_\phi` is the ELBO.

    Parameters
    ----------
    log_joint : callable
        Maps ``z`` of shape ``(num_samples, q.dim)`` to :math:`\ln p(x, z_i)`,
        shape ``(num_samples,)``.
    q : DiagonalGaussian or Bernoulli
        The variational distribution.
    z : array_like, shape (num_samples, q.dim)
        Samples.

    Returns
    -------
    ndarray, shape (num_samples,)
        :math:`\ln p(x, z_i) - \ln q_\phi(z_i)` for each row ``z[i]``.

    Raises
    ------
    ValueError
        If ``log_joint`` returns the wrong shape or a non-finite value, or
        ``z`` does not fit ``q`` (wrong shape, NaN or infinity).

    Notes
    -----
    .. math::

        \ell_\phi(z) = \ln p(x, z) - \ln q_\phi(z),\qquad
        \mathcal L(\phi) = \mathbb E_{q_\phi}[\ell_\phi(z)]
        \approx \frac1n \sum_{i=1}^n \ell_\phi(z_i).

    Examples
    --------
    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> q = model.posterior()
    >>> signal = learning_signal(model.log_joint, q, q.sample(5, rng=0))
    >>> bool(np.allclose(signal, model.log_evidence()))  # constant at the posterior
    True
    """
    z = np.asarray(z, dtype=float)
    return _evaluate(log_joint, z, "log_joint") - q.log_prob(z)


def elbo_gradient(
    log_joint: Callable[[np.ndarray], np.ndarray],
    q,
    num_samples: int,
    *,
    rng=None,
    baseline=None,
    return_terms: bool = False,
):
    r"""The score-function estimate of :math:`\nabla_\phi \mathcal L(\phi)`, the gradient of the ELBO.

    This is the Monte Carlo line of the derivation (Mnih & Gregor 2014,
    appendix B): :func:`score_function_gradient` applied to the learning
    signal of :func:`learning_signal`.

    Parameters
    ----------
    log_joint : callable
        Maps ``z`` of shape ``(num_samples, q.dim)`` to
        :math:`\ln p(x, z_i)`, shape ``(num_samples,)``, for the observed
        :math:`x`.
    q : DiagonalGaussian or Bernoulli
        The variational distribution :math:`q_\phi(z \mid x)`.
    num_samples : int
        The number :math:`n \ge 1` of samples.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness.
    baseline : float, optional
        A constant :math:`b` subtracted from the learning signal (unbiased for
        any constant).
    return_terms : bool, default False
        Also return the per-sample terms, shape ``(num_samples, q.num_params)``.

    Returns
    -------
    gradient : ndarray, shape (q.num_params,)
        The estimate of :math:`\nabla_\phi \mathcal L`, in the order of
        ``q.params``.
    terms : ndarray, shape (num_samples, q.num_params)
        Only if ``return_terms``: the per-sample summands, whose row mean is
        ``gradient``.

    Raises
    ------
    ValueError
        If ``num_samples < 1``, ``baseline`` is not a finite scalar, or
        ``log_joint`` returns the wrong shape or a non-finite value (the
        message names ``log_joint``).
    TypeError
        If ``num_samples`` is not an integer or ``rng`` is not a seed or a
        generator.

    Notes
    -----
    With :math:`z_1, \dots, z_n \sim q_\phi` and a constant baseline :math:`b`,

    .. math::

        \nabla_\phi \mathcal L
            = \mathbb E_{q_\phi}\bigl[(\ln p(x, z) - \ln q_\phi(z))\,
              \nabla_\phi \ln q_\phi(z)\bigr]
            \approx \frac1n \sum_{i=1}^n \bigl(\ln p(x, z_i) - \ln q_\phi(z_i) - b\bigr)\,
              \nabla_\phi \ln q_\phi(z_i).

    The :math:`-\ln q_\phi` inside the expectation depends on :math:`\phi`
    too, yet no extra term appears: its own gradient has expectation
    :math:`\mathbb E_q[\nabla_\phi \ln q_\phi] = 0`.

    Examples
    --------
    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> q = DiagonalGaussian(mean=0.0, log_std=0.0)
    >>> g = elbo_gradient(model.log_joint, q, 10_000, rng=0)
    >>> model.exact_elbo_gradient(q)
    array([ 3., -2.])
    >>> bool(np.all(np.abs(g - model.exact_elbo_gradient(q)) < 0.2))
    True
    """
    return score_function_gradient(
        lambda z: learning_signal(log_joint, q, z),
        q,
        num_samples,
        rng=rng,
        baseline=baseline,
        return_terms=return_terms,
    )

r"""Monte Carlo estimators of gradients in :math:`\phi` (:ref:`chap-estimator`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from ._checks import RNGLike
from .baselines import Baseline, ConstantBaseline
from .families import DiagonalGaussian, Family

__all__ = [
    "Estimate",
    "elbo_gradient",
    "elbo_terms",
    "expectation_gradient",
    "learning_signal",
    "local_elbo_gradient",
    "local_learning_signal",
    "pathwise_elbo_gradient",
    "pathwise_elbo_terms",
    "pathwise_terms",
    "score_function_terms",
]

#: What ``baseline=`` accepts: None, a number, one number per parameter, a Baseline.
BaselineLike = None | float | ArrayLike | Baseline
Entropy = Literal["analytic", "sticking-the-landing"]


@dataclasses.dataclass(frozen=True)
class Estimate:
    r"""A gradient estimate with its standard errors, as every estimator returns it.

    Parameters
    ----------
    gradient, standard_error : ndarray, shape (P,)
        :math:`\frac1n \sum_i t_i` and :math:`\operatorname{sd}(t_{\cdot k})/\sqrt n` (NaN if :math:`n = 1`), per ``q.params``.
    elbo, elbo_standard_error : float or None
        :math:`\frac1n \sum_i (\ln p(x, z_i) - \ln q_\phi(z_i))` and its standard error.
    num_samples : int
        :math:`n`.
    terms : ndarray, shape (n, P), or None
        The terms :math:`t_i`, if asked for.

    Examples
    --------
    >>> estimate = elbo_gradient(lambda z: -z[:, 0], DiagonalGaussian(0.0, 0.0), 10)
    >>> estimate.gradient.shape, estimate.standard_error.shape, estimate.num_samples
    ((2,), (2,), 10)
    """

    gradient: np.ndarray
    standard_error: np.ndarray
    elbo: float | None
    elbo_standard_error: float | None
    num_samples: int
    terms: np.ndarray | None = None


def elbo_gradient(
    log_joint: Callable,
    q: Family,
    num_samples: int,
    *,
    rng: RNGLike = None,
    baseline: BaselineLike = None,
    return_terms: bool = False,
) -> Estimate:
    r"""Score-function estimate of the ELBO's gradient :math:`\nabla_\phi \mathcal L`.

    .. math::

        \nabla_\phi \mathcal L \approx \frac1n \sum_{i=1}^n
        \bigl(\ln p(x, z_i) - \ln q_\phi(z_i) - b\bigr)\,\nabla_\phi \ln q_\phi(z_i),
        \qquad z_i \sim q_\phi .

    Derivation: :ref:`chap-derivation-expectation`; the code: :ref:`chap-estimator`.

    Parameters
    ----------
    log_joint : callable
        ``z`` of shape ``(n, D)`` to :math:`\ln p(x, z_i)`, shape ``(n,)``.
    q : Family
        :math:`q_\phi`.
    num_samples : int
        :math:`n`.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness (SPEC 7).
    baseline : None, float, array_like of shape (P,) or Baseline, keyword-only
        :math:`b`; never updated here: call its ``update`` after the step.
    return_terms : bool, default False
        Keep the per-sample terms in the result.

    Returns
    -------
    Estimate
        The gradient, its standard errors, and the ELBO estimate.

    Examples
    --------
    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> q = DiagonalGaussian(mean=0.0, log_std=0.0)
    >>> estimate = elbo_gradient(model.log_joint, q, 10_000, rng=0)
    >>> error = np.abs(estimate.gradient - [3.0, -2.0])  # the exact gradient is (3, -2)
    >>> bool(np.all(error < 4 * estimate.standard_error))
    True
    """
    log_joint, q, num_samples, baseline, return_terms = _arguments(
        log_joint, "log_joint", q, num_samples, baseline, return_terms, (1,)
    )
    z = q.sample(num_samples, rng=rng)  # z_i ~ q_φ
    signal = log_joint(z) - q.log_prob(z)  # ln p(x, z_i) − ln q(z_i)
    centred = _subtract(signal, baseline, q, z)  # ln p(x, z_i) − ln q(z_i) − b
    gradient = q.score_mean(z, centred)  # (1/n) Σ_i (…) ∇_φ ln q(z_i)
    return _estimate(q, z, centred, gradient, return_terms, signal)


def expectation_gradient(
    f: Callable, q: Family, num_samples: int, *,
    rng: RNGLike = None, baseline: BaselineLike = None, return_terms: bool = False,
) -> Estimate:  # fmt: skip
    r"""Score-function estimate of :math:`\nabla_\phi \mathbb E_q[f]` for :math:`f` free of :math:`\phi`: not the ELBO's.

    Parameters
    ----------
    f : callable
        ``z`` of shape ``(n, D)`` to :math:`f(z_i)`, shape ``(n,)`` or ``(n, P)``.
    q : Family
        :math:`q_\phi`.
    num_samples : int
        :math:`n`.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness (SPEC 7).
    baseline : None, float, array_like of shape (P,) or Baseline, keyword-only
        :math:`b`.
    return_terms : bool, default False
        Keep the per-sample terms in the result.

    Returns
    -------
    Estimate
        The gradient and its standard errors (``elbo`` is None).

    Examples
    --------
    >>> q = DiagonalGaussian(mean=1.0, log_std=0.0)  # E[z^2] = mu^2 + sigma^2
    >>> estimate = expectation_gradient(lambda z: z[:, 0] ** 2, q, 100_000, rng=0)
    >>> bool(np.all(abs(estimate.gradient - 2.0) < 4 * estimate.standard_error))
    True
    """
    f, q, num_samples, baseline, return_terms = _arguments(
        f, "f", q, num_samples, baseline, return_terms, (1,), (1, "P")
    )
    z = q.sample(num_samples, rng=rng)  # z_i ~ q_φ
    centred = _subtract(f(z), baseline, q, z)  # f(z_i) − b
    gradient = q.score_mean(z, centred)  # (1/n) Σ_i (…) ∇_φ ln q(z_i)
    return _estimate(q, z, centred, gradient, return_terms)


def local_elbo_gradient(
    local_log_joint: Callable, q: Family, num_samples: int, *,
    rng: RNGLike = None, baseline: BaselineLike = None, return_terms: bool = False,
) -> Estimate:  # fmt: skip
    r"""The ELBO's gradient with the local signals of :func:`local_learning_signal`.

    Parameters
    ----------
    local_log_joint : callable
        As in :func:`local_learning_signal`.
    q : Family
        A factorised :math:`q_\phi`.
    num_samples : int
        :math:`n`.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness (SPEC 7).
    baseline : None, float, array_like of shape (P,) or Baseline, keyword-only
        :math:`b`, subtracted from each parameter's signal.
    return_terms : bool, default False
        Keep the per-sample terms in the result.

    Returns
    -------
    Estimate
        The gradient and its standard errors (``elbo`` is None).

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> q, local_log_joint = Bernoulli([0.0, 0.0]), lambda z: z * [1.0, 2.0]
    >>> estimate = local_elbo_gradient(local_log_joint, q, 100_000, rng=0)
    >>> bool(np.all(abs(estimate.gradient - [0.25, 0.5]) < 4 * estimate.standard_error))
    True
    """
    local_log_joint, q, num_samples, baseline, return_terms = _arguments(
        local_log_joint, "local_log_joint", q, num_samples, baseline, return_terms,
        (1, "D"))  # fmt: skip
    z = q.sample(num_samples, rng=rng)  # z_i ~ q_φ
    signal = local_log_joint(z) - q.log_prob_per_dimension(z)  # ℓ_d(z_i)
    centred = _subtract(signal[:, q.param_dims], baseline, q, z)
    gradient = q.score_mean(z, centred)  # (1/n) Σ_i (ℓ_d(k) − b) ∂_k ln q
    return _estimate(q, z, centred, gradient, return_terms)


def pathwise_elbo_gradient(
    grad_log_joint: Callable, q: DiagonalGaussian, num_samples: int, *,
    rng: RNGLike = None, entropy: Entropy = "analytic", return_terms: bool = False,
) -> Estimate:  # fmt: skip
    r"""The pathwise (reparameterisation) estimate of :math:`\nabla_\phi \mathcal L` (:ref:`chap-variance`).

    Parameters
    ----------
    grad_log_joint : callable
        ``z`` of shape ``(n, D)`` to :math:`\nabla_z \ln p(x, z_i)`, shape ``(n, D)``.
    q : DiagonalGaussian
        :math:`q_\phi`.
    num_samples : int
        :math:`n`.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness (SPEC 7).
    entropy : {"analytic", "sticking-the-landing"}, keyword-only
        See :func:`pathwise_elbo_terms`.
    return_terms : bool, default False
        Keep the per-sample terms in the result.

    Returns
    -------
    Estimate
        The gradient and its standard errors (``elbo`` is None).

    Examples
    --------
    >>> from elbo_grad import ConjugateGaussian
    >>> model, q = ConjugateGaussian(x=[1.0, 2.0]), DiagonalGaussian(0.0, 0.0)
    >>> estimate = pathwise_elbo_gradient(model.grad_log_joint, q, 10_000, rng=0)
    >>> bool(np.all(abs(estimate.gradient - [3, -2]) < 4 * estimate.standard_error))
    True
    """
    name = "grad_log_joint"
    _, q, n, _, return_terms = _arguments(
        grad_log_joint, name, q, num_samples, None, return_terms, family=_gaussian
    )
    z = q.sample(n, rng=rng)
    terms = pathwise_elbo_terms(grad_log_joint, q, z, entropy=entropy)
    return _summary(terms.mean(axis=0), (terms * terms).mean(axis=0), n,
                    terms if return_terms else None)  # fmt: skip


def learning_signal(log_joint: Callable, q: Family, z: ArrayLike) -> np.ndarray:
    r"""The learning signal :math:`\ln p(x, z_i) - \ln q_\phi(z_i)`, row by row.

    Parameters
    ----------
    log_joint : callable
        ``z`` of shape ``(n, D)`` to :math:`\ln p(x, z_i)`, shape ``(n,)``.
    q : Family
        :math:`q_\phi`.
    z : array_like, shape (n, D)
        Samples.

    Returns
    -------
    ndarray, shape (n,)
        The signal; its mean under :math:`q_\phi` is the ELBO.

    Examples
    --------
    >>> learning_signal(lambda z: -(z[:, 0] ** 2), DiagonalGaussian(0.0, 0.0), [[0.0]])
    array([0.91893853])
    """
    log_joint, q = _checked(log_joint, "log_joint", q, (1,))
    z = _checks.samples(z, q.dim)
    return log_joint(z) - q.log_prob(z)


def local_learning_signal(
    local_log_joint: Callable, q: Family, z: ArrayLike
) -> np.ndarray:
    r"""Rao-Blackwellised signals :math:`[\ln p(x, z_i)]_d - \ln q_\phi(z_{id})`, :math:`d` the dimension of parameter :math:`k`.

    Parameters
    ----------
    local_log_joint : callable
        ``z`` of shape ``(n, D)`` to shape ``(n, D)``: column :math:`d` sums the factors of :math:`\ln p(x, z_i)` with :math:`z_d`.
    q : Family
        A factorised :math:`q_\phi`.
    z : array_like, shape (n, D)
        Samples.

    Returns
    -------
    ndarray, shape (n, P)
        One signal per sample and parameter (``q.param_dims`` maps :math:`k` to :math:`d`).

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> local_learning_signal(lambda z: 2.0 * z, Bernoulli([0.0, 0.0]), [[1.0, 0.0]])
    array([[2.69314718, 0.69314718]])
    """
    local_log_joint, q = _checked(local_log_joint, "local_log_joint", q, (1, "D"))
    z = _checks.samples(z, q.dim)
    return (local_log_joint(z) - q.log_prob_per_dimension(z))[:, q.param_dims]


def score_function_terms(
    f: Callable, q: Family, z: ArrayLike, *, baseline: BaselineLike = None
) -> np.ndarray:
    r"""The terms :math:`(f(z_i) - b_i)\,\nabla_\phi \ln q_\phi(z_i)` at samples ``z``.

    Parameters
    ----------
    f : callable
        ``z`` of shape ``(n, D)`` to :math:`f(z_i)`, shape ``(n,)`` or ``(n, P)``; free of :math:`\phi`.
    q : Family
        The family the samples come from.
    z : array_like, shape (n, D)
        Samples.
    baseline : None, float, array_like of shape (P,) or Baseline, keyword-only
        :math:`b`, evaluated on this batch.

    Returns
    -------
    ndarray, shape (n, P)
        One term per sample; their mean estimates :math:`\nabla_\phi \mathbb E_q[f]`.

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> f = lambda z: 3.0 * z[:, 0] + 1.0
    >>> score_function_terms(f, Bernoulli([0.0]), [[0.0], [1.0]])
    array([[-0.5],
           [ 2. ]])
    """
    f, q = _checked(f, "f", q, (1,), (1, "P"))
    z, baseline = _checks.samples(z, q.dim), _baseline(baseline)
    return _subtract(f(z), baseline, q, z).reshape(len(z), -1) * q.score(z)


def elbo_terms(
    log_joint: Callable, q: Family, z: ArrayLike, *, baseline: BaselineLike = None
) -> np.ndarray:
    r"""The ELBO's terms :math:`(\ln p(x, z_i) - \ln q(z_i) - b)\nabla_\phi \ln q(z_i)`.

    Parameters
    ----------
    log_joint : callable
        ``z`` of shape ``(n, D)`` to :math:`\ln p(x, z_i)`, shape ``(n,)``.
    q : Family
        The family the samples come from.
    z : array_like, shape (n, D)
        Samples.
    baseline : None, float, array_like of shape (P,) or Baseline, keyword-only
        :math:`b`, evaluated on this batch.

    Returns
    -------
    ndarray, shape (n, P)
        One term per sample; their mean is :func:`elbo_gradient`'s estimate.

    Examples
    --------
    >>> elbo_terms(lambda z: -(z[:, 0] ** 2), DiagonalGaussian(0.0, 0.0), [[1.0]])
    array([[0.41893853, 0.        ]])
    """
    signal = learning_signal(log_joint, q, z)
    return score_function_terms(lambda _: signal, q, z, baseline=baseline)


def pathwise_terms(grad_f: Callable, q: DiagonalGaussian, z: ArrayLike) -> np.ndarray:
    r"""The pathwise terms :math:`\nabla_z f(z_i)\,\partial z_i/\partial\phi` at ``z``.

    Parameters
    ----------
    grad_f : callable
        ``z`` of shape ``(n, D)`` to :math:`\nabla_z f(z_i)`, shape ``(n, D)``.
    q : DiagonalGaussian
        The family the samples come from.
    z : array_like, shape (n, D)
        Samples.

    Returns
    -------
    ndarray, shape (n, 2 * D)
        One term per sample: :math:`\partial_{z_d} f` and :math:`\partial_{z_d} f\,\sigma_d\varepsilon_d`.

    Examples
    --------
    >>> pathwise_terms(lambda z: 2 * z, DiagonalGaussian(1.0, 0.0), [[2.0]])
    array([[4., 4.]])
    """
    grad_f, q = _checked(grad_f, "grad_f", q, (1, "D"), family=_gaussian)
    z = _checks.samples(z, q.dim)
    return _chain_rule(grad_f(z), q, z)


def pathwise_elbo_terms(
    grad_log_joint: Callable, q: DiagonalGaussian, z: ArrayLike, *,
    entropy: Entropy = "analytic",
) -> np.ndarray:  # fmt: skip
    r"""The pathwise ELBO estimator's terms at samples ``z``.

    Parameters
    ----------
    grad_log_joint : callable
        ``z`` of shape ``(n, D)`` to :math:`\nabla_z \ln p(x, z_i)`, shape ``(n, D)``.
    q : DiagonalGaussian
        The family the samples come from.
    z : array_like, shape (n, D)
        Samples.
    entropy : {"analytic", "sticking-the-landing"}, keyword-only
        Add :math:`\nabla_\phi H[q_\phi]`, or :math:`-\nabla_z \ln q_\phi` only (Roeder et al. 2017).

    Returns
    -------
    ndarray, shape (n, 2 * D)
        One term per sample.

    Examples
    --------
    >>> pathwise_elbo_terms(lambda z: -z, DiagonalGaussian(0.0, 0.0), [[1.0]])
    array([[-1.,  0.]])
    """
    if entropy not in ("analytic", "sticking-the-landing"):
        raise ValueError("entropy must be 'analytic' or 'sticking-the-landing'")
    name = "grad_log_joint"
    grad_log_joint, q = _checked(grad_log_joint, name, q, (1, "D"), family=_gaussian)
    z = _checks.samples(z, q.dim)
    if entropy == "analytic":
        return _chain_rule(grad_log_joint(z), q, z) + q.entropy_gradient()
    minus_grad_log_q = (z - q.mean) / q.std**2
    return _chain_rule(grad_log_joint(z) + minus_grad_log_q, q, z)


# The checks the public functions share, at the boundary, and the summary step.


def _checked(f, name, q, *shapes, family=_checks.family) -> tuple[Callable, Any]:
    """``f`` checked to return one of ``shapes`` (1: n, "D": q.dim, "P": q.num_params); ``family(q)``."""
    f, q = _checks.function(f, name), family(q)
    sizes = {"D": q.dim, "P": q.num_params}
    shape = [lambda n, s=s: tuple(n if k == 1 else sizes[k] for k in s) for s in shapes]
    return _checks.checked(f, name, *shape), q


def _arguments(
    f, name, q, num_samples, baseline, return_terms, *shapes, family=_checks.family
) -> tuple[Callable, Any, int, Baseline, bool]:
    """The estimators' checks, once."""
    f, q = _checked(f, name, q, *shapes, family=family)
    maximum = _checks.MAX_ELEMENTS // max(q.dim, q.num_params)
    num_samples = _checks.count(num_samples, "num_samples", maximum=maximum)
    return_terms = _checks.flag(return_terms, "return_terms")
    return f, q, num_samples, _baseline(baseline), return_terms


def _baseline(baseline: object) -> Baseline:
    """``baseline=`` as a Baseline object."""
    if isinstance(baseline, (type, bool, np.bool_, str)):
        raise TypeError(f"baseline must be an instance or numbers, got {baseline!r}")
    if isinstance(baseline, Baseline) and callable(baseline):
        return baseline
    # ConstantBaseline checks the value itself, with an error naming `baseline`
    return ConstantBaseline(0.0 if baseline is None else baseline)  # type: ignore[arg-type]


def _gaussian(q: object) -> DiagonalGaussian:
    if not isinstance(q, DiagonalGaussian):
        raise TypeError(f"q must be a DiagonalGaussian here, got {type(q).__name__}")
    return q


def _subtract(signal, baseline: Baseline, q: Family, z: np.ndarray) -> np.ndarray:
    """``signal - b``: shape (n,) for one signal per sample, else (n, P)."""
    b = baseline(signal, q.score(z) if baseline.uses_score else None)
    b, n = _checks.real_array(b, "baseline's value", copy=False), len(signal)
    if b.shape == signal.shape or b.ndim == 0:
        return signal - b
    if b.shape in ((1, q.num_params), (n, q.num_params)):
        return signal.reshape(n, -1) - b
    raise ValueError(
        f"baseline gave shape {b.shape}, which does not fit {signal.shape}"
    )


def _chain_rule(gradient_z, q: DiagonalGaussian, z: np.ndarray) -> np.ndarray:
    """Through z = mu + sigma * eps: (g, g * sigma * eps) per row."""
    return np.concatenate([gradient_z, gradient_z * (z - q.mean)], axis=1)


def _estimate(q, z, centred, gradient, return_terms, signal=None) -> Estimate:
    """Standard errors from the mean square of the terms, without forming them."""
    mean_square = q.score_mean(z, centred * centred, squared=True)
    terms = centred.reshape(len(z), -1) * q.score(z) if return_terms else None
    return _summary(gradient, mean_square, len(z), terms, signal)


def _summary(gradient, mean_square, n, terms=None, signal=None) -> Estimate:
    """sd/sqrt(n) per parameter from (1/n) sum t^2 - g^2, and the ELBO estimate."""
    nan = np.full(gradient.shape, np.nan)
    variance = np.maximum(mean_square - gradient**2, 0) * n / (n - 1) if n > 1 else nan
    elbo = elbo_se = None
    if signal is not None:
        elbo = float(np.mean(signal))
        elbo_se = float(np.std(signal, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    for array in (gradient, variance, terms):
        if array is not None:
            array.flags.writeable = False
    return Estimate(gradient, np.sqrt(variance / n), elbo, elbo_se, n, terms)

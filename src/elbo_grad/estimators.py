r"""Monte Carlo estimators of gradients of expectations with respect to :math:`\phi`.

The score-function (REINFORCE, likelihood-ratio) identity

.. math::

    \nabla_\phi\, \mathbb E_{q_\phi(z)}[f(z)]
        = \mathbb E_{q_\phi(z)}\bigl[f(z)\, \nabla_\phi \ln q_\phi(z)\bigr]

holds whenever :math:`f` does not depend on :math:`\phi` and the gradient may
be taken under the integral sign. Sampling :math:`z_1, \dots, z_n \sim
q_\phi` turns the right-hand side into an unbiased estimate.

Every estimator here is the average of per-sample *terms*; each can return
them (``return_terms=True``), and the ``*_terms`` functions evaluate them at
given samples, which is what the exact variances of :mod:`elbo_grad.exact`
integrate. The families are those of :mod:`elbo_grad.distributions`:

* the score-function estimator (:func:`score_function_gradient`,
  :func:`elbo_gradient`) with the baselines of :mod:`elbo_grad.baselines`;
* its local, Rao-Blackwellised form for factorised :math:`q`
  (:func:`local_score_function_gradient`, :func:`local_elbo_gradient`);
* the pathwise (reparameterisation) estimator for the Gaussian
  (:func:`pathwise_gradient`, :func:`pathwise_elbo_gradient`).
"""

from __future__ import annotations

from typing import Callable, Literal, Protocol, Union

import numpy as np
from numpy.typing import ArrayLike

from ._validation import RNGLike, as_generator, check_num_samples, finite_array
from .baselines import (
    MovingAverageBaseline,
    leave_one_out_baseline,
    leave_one_out_optimal_baseline,
    optimal_baseline,
)
from .distributions import DiagonalGaussian

__all__ = [
    "elbo_gradient",
    "learning_signal",
    "local_elbo_gradient",
    "local_learning_signal",
    "local_score_function_gradient",
    "local_score_function_terms",
    "pathwise_elbo_gradient",
    "pathwise_elbo_terms",
    "pathwise_gradient",
    "pathwise_terms",
    "score_function_gradient",
    "score_function_terms",
]

#: A function of a batch of samples ``z``, shape ``(num_samples, dim)``.
SampleFunction = Callable[[np.ndarray], np.ndarray]

#: What the ``baseline`` argument of the score-function estimators accepts.
Baseline = Union[None, float, ArrayLike, str, MovingAverageBaseline]

#: A baseline after :func:`_check_baseline`.
CheckedBaseline = Union[None, float, np.ndarray, str, MovingAverageBaseline]

#: The baselines computed from the batch itself, and the fewest samples each needs.
SAMPLE_BASELINES = {"leave-one-out": 2, "optimal": 2, "optimal-leave-one-out": 3}


class Family(Protocol):
    """What the score-function estimators need of a variational family."""

    dim: int

    @property
    def num_params(self) -> int: ...

    @property
    def param_dims(self) -> np.ndarray: ...

    def sample(self, num_samples: int, *, rng: RNGLike = None) -> np.ndarray: ...

    def log_prob(self, z: ArrayLike) -> np.ndarray: ...

    def log_prob_per_dimension(self, z: ArrayLike) -> np.ndarray: ...

    def score(self, z: ArrayLike) -> np.ndarray: ...


def _evaluate(function: Callable, z: np.ndarray, name: str) -> np.ndarray:
    """Call ``function(z)`` and check it returned one finite number per sample."""
    if not callable(function):
        raise TypeError(f"{name} must be callable, got {type(function).__name__}")
    values = np.asarray(function(z), dtype=float)
    if values.shape != (z.shape[0],):
        raise ValueError(
            f"{name} must return one value per sample, shape ({z.shape[0]},), "
            f"got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} returned NaN or infinity for some samples")
    return values


def _evaluate_per_dimension(function: Callable, z: np.ndarray, name: str) -> np.ndarray:
    """Call ``function(z)`` and check it returned one finite number per sample and dimension."""
    if not callable(function):
        raise TypeError(f"{name} must be callable, got {type(function).__name__}")
    values = np.asarray(function(z), dtype=float)
    if values.shape != z.shape:
        raise ValueError(
            f"{name} must return one value per sample and dimension, shape {z.shape}, "
            f"got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} returned NaN or infinity for some samples")
    return values


def _check_baseline(
    baseline: Baseline, num_params: int, num_samples: int
) -> CheckedBaseline:
    """Validate ``baseline`` before any sample is drawn.

    Returns ``None``, a float, an array of shape ``(num_params,)``, one of the
    names in :data:`SAMPLE_BASELINES`, or the :class:`MovingAverageBaseline`
    itself.
    """
    if baseline is None or isinstance(baseline, MovingAverageBaseline):
        return baseline
    if isinstance(baseline, str):
        if baseline not in SAMPLE_BASELINES:
            raise ValueError(
                f"baseline must be a number, an array of shape ({num_params},), a "
                f"MovingAverageBaseline or one of {sorted(SAMPLE_BASELINES)}, got {baseline!r}"
            )
        minimum = SAMPLE_BASELINES[baseline]
        if num_samples < minimum:
            raise ValueError(
                f"baseline={baseline!r} needs num_samples >= {minimum}, got {num_samples}"
            )
        return baseline
    value = finite_array(baseline, "baseline")
    if value.ndim == 0:
        return float(value)
    if value.shape != (num_params,):
        raise ValueError(
            f"baseline must be a scalar or have shape ({num_params},) (one per parameter), "
            f"got shape {value.shape}"
        )
    return value


def _centred_signal(signal: np.ndarray, score: np.ndarray, baseline: CheckedBaseline) -> np.ndarray:
    r"""The centred signal :math:`\ell_{ik} - b_{ik}` for a checked baseline.

    ``signal`` is ``(num_samples,)`` (one learning signal shared by every
    parameter) or ``(num_samples, num_params)`` (local signals); the result
    is ``(num_samples, 1)`` or ``(num_samples, num_params)``.
    """
    if signal.ndim == 1:
        signal = signal[:, None]
    if baseline is None:
        return signal
    if isinstance(baseline, MovingAverageBaseline):
        return signal - baseline.value
    if isinstance(baseline, str):
        if baseline == "leave-one-out":
            return signal - leave_one_out_baseline(signal)
        if baseline == "optimal":
            return signal - optimal_baseline(signal, score)
        return signal - leave_one_out_optimal_baseline(signal, score)  # "optimal-leave-one-out"
    return signal - baseline  # a constant, or one constant per parameter


def _centred_terms(signal: np.ndarray, score: np.ndarray, baseline: CheckedBaseline) -> np.ndarray:
    r"""The terms :math:`(\ell_{ik} - b_{ik})\, s_{ik}` for a checked baseline."""
    return _centred_signal(signal, score, baseline) * score


def _average(terms: np.ndarray, return_terms: bool) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    gradient = terms.mean(axis=0)
    return (gradient, terms) if return_terms else gradient


def _score_function_average(
    signal: np.ndarray, score: np.ndarray, baseline: CheckedBaseline, return_terms: bool
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""The score-function estimate :math:`\frac1n \sum_i (\ell_{ik} - b_{ik})\, s_{ik}`, and the terms if asked."""
    centred = _centred_signal(signal, score, baseline)  # shape (n, 1) or (n, P)
    if return_terms:
        terms = centred * score
        return terms.mean(axis=0), terms
    # The same average without storing the n-by-P terms: one dot product per parameter.
    return np.einsum("ik,ik->k", np.broadcast_to(centred, score.shape), score) / score.shape[0]


def score_function_terms(
    f: SampleFunction, q: Family, z: ArrayLike, *, baseline: Baseline = None
) -> np.ndarray:
    r"""The score-function estimator's per-sample terms :math:`(f(z_i) - b)\,\nabla_\phi \ln q_\phi(z_i)` at given samples.

    Parameters
    ----------
    f : callable
        Maps ``z`` of shape ``(num_samples, q.dim)`` to shape ``(num_samples,)``.
    q : DiagonalGaussian, Bernoulli or Categorical
        The distribution the samples come from.
    z : array_like, shape (num_samples, q.dim)
        The samples.
    baseline : as :func:`score_function_gradient`, keyword-only
        A baseline computed from the batch (``"leave-one-out"``, ...) uses the
        rows of ``z`` as the batch; a :class:`MovingAverageBaseline`
        contributes its current value and is not updated.

    Returns
    -------
    ndarray, shape (num_samples, q.num_params)
        Row ``i`` is :math:`(f(z_i) - b)\,\nabla_\phi \ln q_\phi(z_i)`; the
        row mean is :func:`score_function_gradient`'s estimate from these
        samples.

    Raises
    ------
    ValueError
        If ``z`` does not fit ``q``, ``f`` returns the wrong shape or a
        non-finite value, or ``baseline`` is invalid.
    TypeError
        If ``z`` is not numeric.

    Notes
    -----
    For a constant baseline :math:`b` each term is unbiased for the gradient:

    .. math::

        \mathbb E_{q_\phi}\bigl[(f(z) - b)\,\nabla_\phi \ln q_\phi(z)\bigr]
            = \nabla_\phi \mathbb E_{q_\phi}[f(z)],

    since :math:`\mathbb E_{q_\phi}[\nabla_\phi \ln q_\phi(z)] = 0`.

    Examples
    --------
    >>> from elbo_grad import Bernoulli, exact_expectation
    >>> q = Bernoulli(logits=[0.0])
    >>> f = lambda z: 3.0 * z[:, 0] + 1.0
    >>> score_function_terms(f, q, np.array([[0.0], [1.0]]))
    array([[-0.5],
           [ 2. ]])

    Averaged exactly over :math:`q`, the terms give
    :math:`\frac{d}{d\phi}\mathbb E[3z + 1] = 3\pi(1 - \pi) = 0.75`, with or
    without a baseline:

    >>> exact_expectation(lambda z: score_function_terms(f, q, z), q)
    array([0.75])
    >>> exact_expectation(lambda z: score_function_terms(f, q, z, baseline=2.5), q)
    array([0.75])
    """
    z = finite_array(z, "z", ndim=2)
    checked = _check_baseline(baseline, q.num_params, z.shape[0])
    return _centred_terms(_evaluate(f, z, "f"), q.score(z), checked)


def score_function_gradient(
    f: SampleFunction,
    q: Family,
    num_samples: int,
    *,
    rng: RNGLike = None,
    baseline: Baseline = None,
    return_terms: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
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
        lowers its variance. Also accepted (see the baselines below):

        * an array of shape ``(q.num_params,)``: one constant :math:`b_k` per
          parameter (unbiased);
        * a :class:`~elbo_grad.MovingAverageBaseline`: its current value is
          subtracted, then it is updated with this batch's values of
          :math:`f`, so it carries over to the next call (unbiased);
        * ``"leave-one-out"``: :math:`b_i` is the mean of :math:`f` over the
          other samples (unbiased; needs ``num_samples >= 2``);
        * ``"optimal"``: the per-parameter coefficient
          :math:`\hat a_k = \widehat{\operatorname{Cov}}(f s_k, s_k) /
          \widehat{\operatorname{Var}}(s_k)` estimated from these samples
          (**biased**, by :math:`O(1/n)`; needs ``num_samples >= 2``);
        * ``"optimal-leave-one-out"``: that coefficient estimated for each
          sample from the other samples (unbiased; needs ``num_samples >= 3``).
    return_terms : bool, default False
        Also return the per-sample terms. (With a baseline computed from the
        batch the terms are not independent, so their spread no longer gives
        the standard error exactly.)

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
            &= \mathbb E_{q_\phi}\bigl[(f(z) - b)\,\nabla_\phi \ln q_\phi(z)\bigr] \\
            &\approx \frac1n \sum_{i=1}^n (f(z_i) - b)\,\nabla_\phi \ln q_\phi(z_i),
            \qquad z_i \sim q_\phi .

    Examples
    --------
    The gradient of :math:`\mathbb E[z^2] = \mu^2 + \sigma^2` for
    :math:`z \sim \mathcal N(1, 1)` is :math:`(2\mu, 2\sigma^2) = (2, 2)`:

    >>> from elbo_grad import DiagonalGaussian
    >>> q = DiagonalGaussian(mean=1.0, log_std=0.0)
    >>> g, terms = score_function_gradient(lambda z: z[:, 0] ** 2, q, 100_000, rng=0, return_terms=True)
    >>> g.shape
    (2,)
    >>> standard_error = terms.std(axis=0, ddof=1) / np.sqrt(100_000)
    >>> bool(np.all(np.abs(g - [2.0, 2.0]) < 4 * standard_error))
    True
    """
    num_samples = check_num_samples(num_samples)
    checked = _check_baseline(baseline, q.num_params, num_samples)
    rng = as_generator(rng)
    z = q.sample(num_samples, rng=rng)
    signal = _evaluate(f, z, "f")
    result = _score_function_average(signal, q.score(z), checked, return_terms)
    if isinstance(checked, MovingAverageBaseline):
        checked.update(signal)
    return result


def learning_signal(log_joint: SampleFunction, q: Family, z: ArrayLike) -> np.ndarray:
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
    TypeError
        If ``z`` is not numeric.

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
    z = finite_array(z, "z", ndim=2)
    return _evaluate(log_joint, z, "log_joint") - q.log_prob(z)


def elbo_gradient(
    log_joint: SampleFunction,
    q: Family,
    num_samples: int,
    *,
    rng: RNGLike = None,
    baseline: Baseline = None,
    return_terms: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
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
        any constant), or any other baseline :func:`score_function_gradient`
        accepts.
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
            &= \mathbb E_{q_\phi}\bigl[(\ln p(x, z) - \ln q_\phi(z))\,
              \nabla_\phi \ln q_\phi(z)\bigr] \\
            &\approx \frac1n \sum_{i=1}^n \bigl(\ln p(x, z_i) - \ln q_\phi(z_i) - b\bigr)\,
              \nabla_\phi \ln q_\phi(z_i).

    The :math:`-\ln q_\phi` inside the expectation depends on :math:`\phi`
    too, yet no extra term appears: its own gradient has expectation
    :math:`\mathbb E_q[\nabla_\phi \ln q_\phi] = 0`.

    Examples
    --------
    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> q = DiagonalGaussian(mean=0.0, log_std=0.0)
    >>> g, terms = elbo_gradient(model.log_joint, q, 10_000, rng=0, return_terms=True)
    >>> model.exact_elbo_gradient(q)
    array([ 3., -2.])
    >>> standard_error = terms.std(axis=0, ddof=1) / np.sqrt(10_000)
    >>> bool(np.all(np.abs(g - model.exact_elbo_gradient(q)) < 4 * standard_error))
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


# --- Local learning signals (Rao-Blackwellisation) ---------------------------


def local_score_function_terms(
    local_f: SampleFunction, q: Family, z: ArrayLike, *, baseline: Baseline = None
) -> np.ndarray:
    r"""The local score-function estimator's per-sample terms at given samples.

    Term :math:`(i, k)` is :math:`\bigl(f_{d(k)}(z_i) - b\bigr)\,
    \partial_{\phi_k} \ln q_\phi(z_i)`, where :math:`d(k)` = ``q.param_dims[k]``
    is the latent dimension parameter :math:`k` acts on. See
    :func:`local_score_function_gradient`.

    Parameters
    ----------
    local_f : callable
        Maps ``z`` of shape ``(num_samples, q.dim)`` to shape
        ``(num_samples, q.dim)``: column :math:`d` is :math:`f_d(z)`.
    q : DiagonalGaussian, Bernoulli or Categorical
        The factorised distribution the samples come from.
    z : array_like, shape (num_samples, q.dim)
        The samples, one per row.
    baseline : as :func:`score_function_terms`, keyword-only
        Subtracted from each parameter's local signal; a baseline computed
        from the batch uses the rows of ``z`` as the batch.

    Returns
    -------
    ndarray, shape (num_samples, q.num_params)
        Term :math:`(i, k)` above; the row mean is
        :func:`local_score_function_gradient`'s estimate from these samples.

    Raises
    ------
    ValueError
        If ``z`` does not fit ``q``, ``local_f`` returns the wrong shape or a
        non-finite value, or ``baseline`` is invalid.
    TypeError
        If ``z`` is not numeric.

    Notes
    -----
    For a factorised :math:`q` and local functions with :math:`f - f_d`
    independent of :math:`z_d`, each term is unbiased:

    .. math::

        \mathbb E_{q_\phi}\bigl[(f_{d(k)}(z) - b)\,\partial_{\phi_k} \ln q_\phi(z)\bigr]
            = \frac{\partial}{\partial \phi_k} \mathbb E_{q_\phi}[f(z)].

    Examples
    --------
    :math:`f(z) = z_1 + 2 z_2` for two independent bits with
    :math:`\pi = (1/2, 1/2)`: the local functions are :math:`z_1` and
    :math:`2 z_2`, and the terms average exactly to the gradient
    :math:`(\pi_1(1-\pi_1), 2\pi_2(1-\pi_2)) = (0.25, 0.5)`:

    >>> from elbo_grad import Bernoulli, exact_expectation
    >>> q = Bernoulli(logits=[0.0, 0.0])
    >>> local_f = lambda z: z * [1.0, 2.0]
    >>> local_score_function_terms(local_f, q, np.array([[1.0, 1.0]]))
    array([[0.5, 1. ]])
    >>> exact_expectation(lambda z: local_score_function_terms(local_f, q, z), q)
    array([0.25, 0.5 ])
    """
    z = finite_array(z, "z", ndim=2)
    checked = _check_baseline(baseline, q.num_params, z.shape[0])
    signal = _evaluate_per_dimension(local_f, z, "local_f")[:, q.param_dims]
    return _centred_terms(signal, q.score(z), checked)


def local_score_function_gradient(
    local_f: SampleFunction,
    q: Family,
    num_samples: int,
    *,
    rng: RNGLike = None,
    baseline: Baseline = None,
    return_terms: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Score-function estimate of :math:`\nabla_\phi \mathbb E_{q_\phi}[f(z)]` with local learning signals.

    For a *factorised* :math:`q_\phi(z) = \prod_d q_{\phi_d}(z_d)`, the
    parameters of dimension :math:`d` only need the part :math:`f_d` of
    :math:`f` that depends on :math:`z_d`: the rest is independent of
    :math:`z_d` and multiplies a score with mean zero. Dropping it is a
    Rao-Blackwellisation, and usually lowers the variance a lot.

    Parameters
    ----------
    local_f : callable
        Maps ``z`` of shape ``(num_samples, q.dim)`` to the local functions
        :math:`f_d(z_i)`, shape ``(num_samples, q.dim)``. It is correct when,
        for every :math:`d`, :math:`f(z) - f_d(z)` does not depend on
        :math:`z_d`; for :math:`f` a sum of terms, :math:`f_d` is the sum of
        the terms that contain :math:`z_d` (its Markov blanket).
    q : DiagonalGaussian, Bernoulli or Categorical
        A factorised family; ``q.param_dims`` says which dimension each
        parameter belongs to.
    num_samples : int
        The number :math:`n \ge 1` of samples.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness.
    baseline : as :func:`score_function_gradient`, keyword-only
        Computed per parameter from the local signals (a
        :class:`~elbo_grad.MovingAverageBaseline` tracks the mean over every
        dimension's signal).
    return_terms : bool, default False
        Also return the per-sample terms, shape ``(num_samples, q.num_params)``.

    Returns
    -------
    gradient : ndarray, shape (q.num_params,)
        The estimate :math:`\frac1n \sum_i (f_{d(k)}(z_i) - b)\,
        \partial_{\phi_k} \ln q_\phi(z_i)` for every parameter :math:`k`.
    terms : ndarray, shape (num_samples, q.num_params)
        Only if ``return_terms``: the summands, whose row mean is
        ``gradient``.

    Raises
    ------
    ValueError, TypeError
        As :func:`score_function_gradient`, with ``local_f`` named when it
        returns the wrong shape or a non-finite value.

    Notes
    -----
    Because :math:`q` factorises, for every function :math:`h` of the other
    coordinates :math:`z_{-d}`,
    :math:`\mathbb E_q[h(z_{-d})\, \partial_{\phi_k} \ln q(z)] =
    \mathbb E[h(z_{-d})]\,\mathbb E[\partial_{\phi_k} \ln q_{\phi_d}(z_d)] = 0`
    for a parameter :math:`k` of dimension :math:`d`. Hence

    .. math::

        \frac{\partial}{\partial \phi_k} \mathbb E_q[f(z)]
            = \mathbb E_q\bigl[f_{d(k)}(z)\, \partial_{\phi_k} \ln q_\phi(z)\bigr]
            \approx \frac1n \sum_{i=1}^n f_{d(k)}(z_i)\, \partial_{\phi_k} \ln q_\phi(z_i).

    Examples
    --------
    :math:`f(z) = z_1 + 2 z_2` for independent Bernoulli variables: the local
    functions are :math:`f_1 = z_1`, :math:`f_2 = 2 z_2`, and the gradient is
    :math:`(\pi_1(1-\pi_1), 2\pi_2(1-\pi_2)) = (0.25, 0.5)` at
    :math:`\pi = (1/2, 1/2)`:

    >>> from elbo_grad import Bernoulli
    >>> q = Bernoulli(logits=[0.0, 0.0])
    >>> g, terms = local_score_function_gradient(
    ...     lambda z: z * [1.0, 2.0], q, 100_000, rng=0, return_terms=True
    ... )
    >>> standard_error = terms.std(axis=0, ddof=1) / np.sqrt(100_000)
    >>> bool(np.all(np.abs(g - [0.25, 0.5]) < 4 * standard_error))
    True
    """
    num_samples = check_num_samples(num_samples)
    checked = _check_baseline(baseline, q.num_params, num_samples)
    rng = as_generator(rng)
    z = q.sample(num_samples, rng=rng)
    signal = _evaluate_per_dimension(local_f, z, "local_f")[:, q.param_dims]
    result = _score_function_average(signal, q.score(z), checked, return_terms)
    if isinstance(checked, MovingAverageBaseline):
        checked.update(signal)
    return result


def local_learning_signal(local_log_joint: SampleFunction, q: Family, z: ArrayLike) -> np.ndarray:
    r"""Local learning signals :math:`\ell_d(z_i) = [\ln p(x, z_i)]_d - \ln q_{\phi_d}(z_{id})`.

    Parameters
    ----------
    local_log_joint : callable
        Maps ``z`` of shape ``(num_samples, q.dim)`` to shape
        ``(num_samples, q.dim)``: column :math:`d` is the sum of the factors
        of :math:`\ln p(x, z)` that contain :math:`z_d`.
    q : DiagonalGaussian, Bernoulli or Categorical
        A factorised family.
    z : array_like, shape (num_samples, q.dim)
        Samples, one per row.

    Returns
    -------
    ndarray, shape (num_samples, q.dim)
        Entry ``(i, d)`` is :math:`\ell_d(z_i)`.

    Raises
    ------
    ValueError
        If ``z`` does not fit ``q`` (wrong shape, NaN or infinity), or
        ``local_log_joint`` returns the wrong shape or a non-finite value.
    TypeError
        If ``z`` is not numeric.

    Notes
    -----
    With :math:`\ln p(x, z) = \sum_c \psi_c(z_{C_c})` a sum of factors and
    :math:`q_\phi(z) = \prod_d q_{\phi_d}(z_d)`,

    .. math::

        \ell_d(z) = \sum_{c:\, d \in C_c} \psi_c(z_{C_c}) - \ln q_{\phi_d}(z_d),
        \qquad
        \mathbb E_{q_\phi}\bigl[\ell_{d(k)}(z)\,\partial_{\phi_k} \ln q_\phi(z)\bigr]
            = \frac{\partial \mathcal L}{\partial \phi_k} .

    A factor that touches several latents appears in each of their
    signals, so the local signals need not sum to the learning signal.

    Examples
    --------
    With factors :math:`z_1` and :math:`2 z_2`, one per latent, the local
    signals do sum to the learning signal:

    >>> from elbo_grad import Bernoulli
    >>> q = Bernoulli(logits=[0.0, 0.0])
    >>> z = np.array([[1.0, 0.0]])
    >>> local = local_learning_signal(lambda z: z * [1.0, 2.0], q, z)
    >>> local.round(4)  # 1 + ln 2 and 0 + ln 2
    array([[1.6931, 0.6931]])
    >>> bool(np.allclose(local.sum(axis=1), learning_signal(lambda z: z @ [1.0, 2.0], q, z)))
    True
    """
    z = finite_array(z, "z", ndim=2)
    values = _evaluate_per_dimension(local_log_joint, z, "local_log_joint")
    return values - q.log_prob_per_dimension(z)


def local_elbo_gradient(
    local_log_joint: SampleFunction,
    q: Family,
    num_samples: int,
    *,
    rng: RNGLike = None,
    baseline: Baseline = None,
    return_terms: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""The score-function ELBO gradient with local learning signals (Rao-Blackwellised).

    :func:`local_score_function_gradient` with
    :math:`f_d = \ell_d =` :func:`local_learning_signal`: the factors of the
    log joint that contain :math:`z_d`, minus :math:`\ln q_{\phi_d}(z_d)`.
    With a factorised :math:`q` and
    :math:`\ln p(x, z) = \sum_c \psi_c(z_{C_c})` a sum of factors, the
    parameters of dimension :math:`d` see only the factors :math:`c` with
    :math:`d \in C_c` (Ranganath, Gerrish & Blei 2014, section 3.1).

    Parameters
    ----------
    local_log_joint : callable
        As :func:`local_learning_signal`: column :math:`d` of its value is
        the sum of the factors of :math:`\ln p(x, z)` that contain
        :math:`z_d`.
    q : DiagonalGaussian, Bernoulli or Categorical
        The factorised variational distribution.
    num_samples : int
        The number :math:`n \ge 1` of samples.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness.
    baseline : as :func:`score_function_gradient`, keyword-only
        Subtracted from each parameter's local learning signal.
    return_terms : bool, default False
        Also return the per-sample terms, shape ``(num_samples, q.num_params)``.

    Returns
    -------
    gradient : ndarray, shape (q.num_params,)
        The estimate of :math:`\nabla_\phi \mathcal L`, in the order of
        ``q.params``.
    terms : ndarray, shape (num_samples, q.num_params)
        Only if ``return_terms``: the summands, whose row mean is
        ``gradient``.

    Raises
    ------
    ValueError, TypeError
        As :func:`score_function_gradient`, with ``local_log_joint`` named
        when it returns the wrong shape or a non-finite value.

    Notes
    -----
    With the local learning signals :math:`\ell_d` of
    :func:`local_learning_signal` and :math:`d(k)` the dimension of
    parameter :math:`k`,

    .. math::

        \frac{\partial \mathcal L}{\partial \phi_k}
            = \mathbb E_{q_\phi}\bigl[\ell_{d(k)}(z)\,\partial_{\phi_k} \ln q_\phi(z)\bigr]
            \approx \frac1n \sum_{i=1}^n \ell_{d(k)}(z_i)\,\partial_{\phi_k} \ln q_\phi(z_i).

    Examples
    --------
    A chain :math:`\ln p(x, z) = 2 z_1 z_2 + \text{const}` over two bits: each
    bit's local factor is the whole coupling.

    >>> from elbo_grad import Bernoulli
    >>> from elbo_grad.exact import exact_elbo_gradient
    >>> q = Bernoulli(logits=[0.5, -0.5])
    >>> g, terms = local_elbo_gradient(
    ...     lambda z: 2.0 * z[:, [0]] * z[:, [1]] * [1.0, 1.0], q, 200_000, rng=0, return_terms=True
    ... )
    >>> exact = exact_elbo_gradient(lambda z: 2.0 * z[:, 0] * z[:, 1], q)
    >>> standard_error = terms.std(axis=0, ddof=1) / np.sqrt(200_000)
    >>> bool(np.all(np.abs(g - exact) < 4 * standard_error))
    True
    """

    def local_signal(z: np.ndarray) -> np.ndarray:
        return local_learning_signal(local_log_joint, q, z)

    return local_score_function_gradient(
        local_signal, q, num_samples, rng=rng, baseline=baseline, return_terms=return_terms
    )


# --- The pathwise (reparameterisation) estimator -------------------------------


def _check_reparameterizable(q: object) -> DiagonalGaussian:
    if not isinstance(q, DiagonalGaussian):
        raise TypeError(
            "q must be a DiagonalGaussian: the pathwise estimator needs a family "
            f"sampled by reparameterisation, got {type(q).__name__}"
        )
    return q


def _chain_rule(gradient_z: np.ndarray, q: DiagonalGaussian, z: np.ndarray) -> np.ndarray:
    r""":math:`\nabla_z h(z_i) \cdot \partial z_i / \partial \phi` for every row, shape ``(num_samples, num_params)``."""
    jacobian = q.reparameterization_jacobian(q.standardize(z))
    return gradient_z[:, q.param_dims] * jacobian


def pathwise_terms(grad_f: SampleFunction, q: DiagonalGaussian, z: ArrayLike) -> np.ndarray:
    r"""The pathwise estimator's per-sample terms :math:`\nabla_z f(z_i) \cdot \partial z_i / \partial\phi` at given samples.

    Parameters
    ----------
    grad_f : callable
        Maps ``z`` of shape ``(num_samples, q.dim)`` to :math:`\nabla_z f(z_i)`,
        shape ``(num_samples, q.dim)``.
    q : DiagonalGaussian
        The distribution the samples come from.
    z : array_like, shape (num_samples, q.dim)
        Samples; the noise that made them is recovered as
        :math:`\varepsilon_i = (z_i - \mu)/\sigma`.

    Returns
    -------
    ndarray, shape (num_samples, q.num_params)
        Row ``i`` is :math:`\nabla_\phi f(\mu + \sigma \odot \varepsilon_i)`,
        in the order of ``q.params``; the row mean is
        :func:`pathwise_gradient`'s estimate from these samples.

    Raises
    ------
    TypeError
        If ``q`` is not a :class:`~elbo_grad.DiagonalGaussian`.
    ValueError
        If ``z`` does not fit ``q`` or ``grad_f`` returns the wrong shape or a
        non-finite value.

    Notes
    -----
    By the chain rule through :math:`z_d = \mu_d + \sigma_d \varepsilon_d`,

    .. math::

        \frac{\partial f(z)}{\partial \mu_d} = \frac{\partial f}{\partial z_d},
        \qquad
        \frac{\partial f(z)}{\partial \ln\sigma_d} = \frac{\partial f}{\partial z_d}\,\sigma_d \varepsilon_d,

    and :math:`\mathbb E_\varepsilon[\nabla_\phi f(z)] = \nabla_\phi \mathbb E_{q_\phi}[f(z)]`.

    Examples
    --------
    >>> from elbo_grad import DiagonalGaussian, exact_expectation
    >>> q = DiagonalGaussian(mean=1.0, log_std=0.0)
    >>> pathwise_terms(lambda z: 2 * z, q, np.array([[2.0]]))  # d(z^2)/dz = 2z; dz/dmu = 1, dz/dln(sigma) = 1
    array([[4., 4.]])

    Averaged over :math:`q` they give the gradient of
    :math:`\mathbb E[z^2] = \mu^2 + \sigma^2`, :math:`(2\mu, 2\sigma^2) = (2, 2)`:

    >>> exact_expectation(lambda z: pathwise_terms(lambda z: 2 * z, q, z), q).round(12)
    array([2., 2.])
    """
    q = _check_reparameterizable(q)
    z = q._check_z(z)
    return _chain_rule(_evaluate_per_dimension(grad_f, z, "grad_f"), q, z)


def pathwise_gradient(
    grad_f: SampleFunction,
    q: DiagonalGaussian,
    num_samples: int,
    *,
    rng: RNGLike = None,
    return_terms: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Pathwise (reparameterisation) estimate of :math:`\nabla_\phi \mathbb E_{q_\phi}[f(z)]`.

    Writing :math:`z = \mu + \sigma \odot \varepsilon` with
    :math:`\varepsilon \sim \mathcal N(0, I)` moves :math:`\phi` out of the
    distribution and into the integrand, where the chain rule can reach it
    (Kingma & Welling 2014).

    Parameters
    ----------
    grad_f : callable
        Maps ``z`` of shape ``(num_samples, q.dim)`` to the gradient
        :math:`\nabla_z f(z_i)`, shape ``(num_samples, q.dim)``. :math:`f` must
        be differentiable and must not depend on :math:`\phi`.
    q : DiagonalGaussian
        The distribution :math:`q_\phi`.
    num_samples : int
        The number :math:`n \ge 1` of samples.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness.
    return_terms : bool, default False
        Also return the per-sample terms, shape ``(num_samples, q.num_params)``.

    Returns
    -------
    gradient : ndarray, shape (q.num_params,)
        Means first, then log standard deviations, as ``q.params``.
    terms : ndarray, shape (num_samples, q.num_params)
        Only if ``return_terms``.

    Raises
    ------
    TypeError
        If ``q`` is not a :class:`~elbo_grad.DiagonalGaussian`, or
        ``num_samples``/``rng`` have the wrong type.
    ValueError
        If ``num_samples < 1`` or ``grad_f`` returns the wrong shape or a
        non-finite value.

    Notes
    -----
    .. math::

        \nabla_\phi \mathbb E_{q_\phi}[f(z)]
            = \mathbb E_{\varepsilon}\bigl[\nabla_\phi f(\mu + \sigma\odot\varepsilon)\bigr],
        \\
        \frac{\partial}{\partial \mu_d} = \frac{\partial f}{\partial z_d}, \quad
        \frac{\partial}{\partial \ln\sigma_d} = \frac{\partial f}{\partial z_d}\,\sigma_d\varepsilon_d .

    Examples
    --------
    The gradient of :math:`\mathbb E[z^2] = \mu^2 + \sigma^2` at
    :math:`\mathcal N(1, 1)` is :math:`(2\mu, 2\sigma^2) = (2, 2)`:

    >>> from elbo_grad import DiagonalGaussian
    >>> q = DiagonalGaussian(mean=1.0, log_std=0.0)
    >>> g, terms = pathwise_gradient(lambda z: 2 * z, q, 100_000, rng=0, return_terms=True)
    >>> standard_error = terms.std(axis=0, ddof=1) / np.sqrt(100_000)
    >>> bool(np.all(np.abs(g - [2.0, 2.0]) < 4 * standard_error))
    True
    """
    q = _check_reparameterizable(q)
    num_samples = check_num_samples(num_samples)
    z = q.sample(num_samples, rng=as_generator(rng))
    return _average(pathwise_terms(grad_f, q, z), return_terms)


Entropy = Literal["analytic", "sticking-the-landing"]


def _check_entropy(entropy: str) -> None:
    if entropy not in ("analytic", "sticking-the-landing"):
        raise ValueError(
            f"entropy must be 'analytic' or 'sticking-the-landing', got {entropy!r}"
        )


def pathwise_elbo_terms(
    grad_log_joint: SampleFunction,
    q: DiagonalGaussian,
    z: ArrayLike,
    *,
    entropy: Entropy = "analytic",
) -> np.ndarray:
    r"""The pathwise ELBO estimator's per-sample terms at given samples.

    Parameters
    ----------
    grad_log_joint : callable
        Maps ``z`` of shape ``(num_samples, q.dim)`` to
        :math:`\nabla_z \ln p(x, z_i)`, shape ``(num_samples, q.dim)``.
    q : DiagonalGaussian
        The distribution the samples come from.
    z : array_like, shape (num_samples, q.dim)
        Samples; the noise that made them is recovered as
        :math:`\varepsilon_i = (z_i - \mu)/\sigma`.
    entropy : {"analytic", "sticking-the-landing"}, keyword-only
        How the :math:`-\mathbb E_q[\ln q_\phi]` part is handled; see
        :func:`pathwise_elbo_gradient`.

    Returns
    -------
    ndarray, shape (num_samples, q.num_params)
        Row ``i`` is one sample's estimate of :math:`\nabla_\phi \mathcal L`,
        in the order of ``q.params``; the row mean is
        :func:`pathwise_elbo_gradient`'s estimate from these samples.

    Raises
    ------
    TypeError
        If ``q`` is not a :class:`~elbo_grad.DiagonalGaussian`.
    ValueError
        If ``entropy`` is not one of the two forms, ``z`` does not fit ``q``,
        or ``grad_log_joint`` returns the wrong shape or a non-finite value.

    Notes
    -----
    With :math:`J_i = \partial z_i / \partial \phi` (see :func:`pathwise_terms`),
    the term for sample :math:`i` is

    .. math::

        \text{analytic:}\quad &\nabla_z \ln p(x, z_i)\, J_i + \nabla_\phi H[q_\phi], \\
        \text{sticking the landing:}\quad
            &\bigl(\nabla_z \ln p(x, z_i) - \nabla_z \ln q_\phi(z_i)\bigr)\, J_i .

    Both have mean :math:`\nabla_\phi \mathcal L` under :math:`q_\phi`.

    Examples
    --------
    Averaged exactly over :math:`q`, the terms give the ELBO gradient of the
    conjugate model; at the posterior the sticking-the-landing terms vanish
    sample by sample:

    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian, exact_expectation
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> q = DiagonalGaussian(mean=0.0, log_std=0.0)
    >>> exact_expectation(lambda z: pathwise_elbo_terms(model.grad_log_joint, q, z), q).round(10) + 0.0
    array([ 3., -2.])
    >>> posterior = model.posterior()
    >>> z = posterior.sample(3, rng=0)
    >>> pathwise_elbo_terms(model.grad_log_joint, posterior, z, entropy="sticking-the-landing").round(12) + 0.0
    array([[0., 0.],
           [0., 0.],
           [0., 0.]])
    """
    q = _check_reparameterizable(q)
    _check_entropy(entropy)
    z = q._check_z(z)
    gradient_z = _evaluate_per_dimension(grad_log_joint, z, "grad_log_joint")
    if entropy == "analytic":
        return _chain_rule(gradient_z, q, z) + q.entropy_gradient()
    return _chain_rule(gradient_z - q.grad_z_log_prob(z), q, z)


def pathwise_elbo_gradient(
    grad_log_joint: SampleFunction,
    q: DiagonalGaussian,
    num_samples: int,
    *,
    rng: RNGLike = None,
    entropy: Entropy = "analytic",
    return_terms: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Pathwise (reparameterisation) estimate of the ELBO gradient :math:`\nabla_\phi \mathcal L`.

    Parameters
    ----------
    grad_log_joint : callable
        Maps ``z`` of shape ``(num_samples, q.dim)`` to
        :math:`\nabla_z \ln p(x, z_i)`, shape ``(num_samples, q.dim)``.
    q : DiagonalGaussian
        The variational distribution.
    num_samples : int
        The number :math:`n \ge 1` of samples.
    rng : None, int or numpy.random.Generator, keyword-only
        Source of randomness.
    entropy : {"analytic", "sticking-the-landing"}, keyword-only
        How the :math:`-\mathbb E_q[\ln q_\phi]` part is handled:

        * ``"analytic"`` (default): the ELBO is written
          :math:`\mathbb E_q[\ln p(x,z)] + H[q_\phi]`; the first part is
          estimated pathwise and the Gaussian entropy's exact gradient
          (0 for each mean, 1 for each :math:`\ln\sigma_d`) is added to every
          term, so it contributes no variance.
        * ``"sticking-the-landing"`` (Roeder, Wu & Duvenaud 2017): the whole
          integrand :math:`\ln p(x,z) - \ln q_\phi(z)` is differentiated
          pathwise through :math:`z` only, dropping the score term
          :math:`-\nabla_\phi \ln q_\phi(z)|_{z \text{ fixed}}`, whose mean is
          zero. It is unbiased, and its variance vanishes when :math:`q` is the
          exact posterior.
    return_terms : bool, default False
        Also return the per-sample terms, shape ``(num_samples, q.num_params)``.

    Returns
    -------
    gradient : ndarray, shape (q.num_params,)
        The estimate of :math:`\nabla_\phi \mathcal L`: means first, then
        log standard deviations, as ``q.params``.
    terms : ndarray, shape (num_samples, q.num_params)
        Only if ``return_terms``: the summands, whose row mean is
        ``gradient``.

    Raises
    ------
    TypeError
        If ``q`` is not a :class:`~elbo_grad.DiagonalGaussian`, or
        ``num_samples``/``rng`` have the wrong type.
    ValueError
        If ``num_samples < 1``, ``entropy`` is unknown, or ``grad_log_joint``
        returns the wrong shape or a non-finite value.

    Notes
    -----
    With :math:`z = \mu + \sigma\odot\varepsilon`,

    .. math::

        \text{analytic:}\quad
        \nabla_\phi \mathcal L = \mathbb E_\varepsilon\Bigl[\nabla_z \ln p(x, z)\,
            \frac{\partial z}{\partial \phi}\Bigr] + \nabla_\phi H[q_\phi],

    .. math::

        \text{sticking the landing:}\quad
        \nabla_\phi \mathcal L = \mathbb E_\varepsilon\Bigl[\bigl(\nabla_z \ln p(x, z)
            - \nabla_z \ln q_\phi(z)\bigr)\, \frac{\partial z}{\partial \phi}\Bigr].

    Examples
    --------
    >>> from elbo_grad import ConjugateGaussian, DiagonalGaussian
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> q = DiagonalGaussian(mean=0.0, log_std=0.0)
    >>> g, terms = pathwise_elbo_gradient(model.grad_log_joint, q, 10_000, rng=0, return_terms=True)
    >>> standard_error = terms.std(axis=0, ddof=1) / np.sqrt(10_000)
    >>> bool(np.all(np.abs(g - model.exact_elbo_gradient(q)) < 4 * standard_error))
    True
    >>> at_posterior = model.posterior()
    >>> pathwise_elbo_gradient(model.grad_log_joint, at_posterior, 5, rng=0,
    ...                        entropy="sticking-the-landing").round(12) + 0.0
    array([0., 0.])
    """
    q = _check_reparameterizable(q)
    num_samples = check_num_samples(num_samples)
    _check_entropy(entropy)
    z = q.sample(num_samples, rng=as_generator(rng))
    return _average(pathwise_elbo_terms(grad_log_joint, q, z, entropy=entropy), return_terms)

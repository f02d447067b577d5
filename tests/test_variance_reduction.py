"""Variance reduction: baselines and local signals keep the mean exact and lower the variance.

Exact means and variances come from enumeration written in this file (a chain of four bits).
"""

import itertools

import numpy as np
import pytest
from conftest import standard_error, support

from elbo_grad import (
    Bernoulli,
    DiagonalGaussian,
    LeaveOneOutBaseline,
    MovingAverageBaseline,
    SameBatchOptimalBaseline,
    elbo_gradient,
    elbo_terms,
    local_elbo_gradient,
    local_learning_signal,
    score_function_terms,
)

FIELD, COUPLING = np.array([0.5, -0.3, 0.8, -1.0]), 1.2
Q = Bernoulli([0.2, -0.4, 0.6, 0.1])


def log_joint(z):
    """ln p(x, z) of a chain: sum_d h_d z_d + J sum_d z_d z_{d+1} (unnormalised)."""
    return z @ FIELD + COUPLING * np.sum(z[:, :-1] * z[:, 1:], axis=1)


def local_log_joint(z):
    """Column d: the factors of ln p that involve z_d."""
    pair = COUPLING * z[:, :-1] * z[:, 1:]
    local = z * FIELD
    local[:, :-1] += pair
    local[:, 1:] += pair
    return local


VALUES, PROBS = support(Q)
PI = 1.0 / (1.0 + np.exp(-np.asarray(Q.params)))
EXACT = (PROBS * (log_joint(VALUES) - np.log(PROBS))) @ (VALUES - PI)


def exact_mean_and_variance(terms):
    """E_q[t] and Var_q[t] per parameter of single-sample terms t(z), by enumeration."""
    mean = PROBS @ terms
    return mean, PROBS @ (terms - mean) ** 2


def test_local_signals_keep_the_mean_and_lower_the_variance():
    """Left: the global signal's single-sample variance. Right: the local signal's, both exact."""
    global_mean, global_variance = exact_mean_and_variance(
        elbo_terms(log_joint, Q, VALUES)
    )
    local_signal = local_learning_signal(local_log_joint, Q, VALUES)
    local_mean, local_variance = exact_mean_and_variance(
        score_function_terms(lambda _: local_signal, Q, VALUES)
    )
    np.testing.assert_allclose(global_mean, EXACT, atol=1e-13)
    np.testing.assert_allclose(local_mean, EXACT, atol=1e-13)
    assert np.all(local_variance < global_variance)


@pytest.mark.parametrize(
    "baseline", [None, LeaveOneOutBaseline()], ids=["none", "leave-one-out"]
)
def test_local_elbo_gradient_is_unbiased(baseline):
    estimate = local_elbo_gradient(
        local_log_joint, Q, 100_000, rng=5, baseline=baseline
    )
    assert np.all(np.abs(estimate.gradient - EXACT) < 4 * estimate.standard_error)


def test_per_parameter_constant_baseline_keeps_the_mean_exactly():
    b = np.array([1.0, -2.0, 0.5, 3.0])
    mean, _ = exact_mean_and_variance(elbo_terms(log_joint, Q, VALUES, baseline=b))
    np.testing.assert_allclose(mean, EXACT, atol=1e-13)


def test_moving_average_updated_by_the_caller_stays_unbiased_and_lowers_the_spread(
    conjugate_model,
):
    """A training-style loop: use the baseline, then update it. The mean of the estimates stays exact."""
    q = DiagonalGaussian(0.2, -0.3)
    baseline, rng = MovingAverageBaseline(decay=0.8), np.random.default_rng(7)
    estimates, plain = [], []
    for _ in range(300):
        estimate = elbo_gradient(
            conjugate_model.log_joint, q, 20, rng=rng, baseline=baseline
        )
        baseline.update([estimate.elbo])
        estimates.append(estimate.gradient)
        plain.append(elbo_gradient(conjugate_model.log_joint, q, 20, rng=rng).gradient)
    estimates, plain = np.array(estimates[20:]), np.array(plain[20:])
    assert np.all(
        np.abs(estimates.mean(axis=0) - conjugate_model.exact_elbo_gradient(q))
        < 4 * standard_error(estimates)
    )
    assert np.all(estimates.std(axis=0) < plain.std(axis=0))


def exact_mean_of_estimate(baseline, num_samples):
    """E[(1/n) sum_i (l_i - b_i) s_i] over all n-tuples of samples of a two-bit q."""
    q = Bernoulli([0.3, -0.4])
    values, probs = support(q)
    signal = (values[:, 0] + 2 * values[:, 1] - 0.5) ** 2
    score = values - 1.0 / (1.0 + np.exp(-np.array([0.3, -0.4])))
    total = 0.0
    for index in itertools.product(range(4), repeat=num_samples):
        index = list(index)
        b = np.asarray(baseline(signal[index], score[index]))
        centred = signal[index][:, None] - (b if b.ndim == 2 else b.reshape(-1, 1))
        total = total + np.prod(probs[index]) * np.mean(centred * score[index], axis=0)
    return total - (probs * signal) @ score


def test_same_batch_optimal_bias_shrinks_like_one_over_n():
    """The bias at n = 2, 3, 4, 5, exactly: n * bias tends to a constant."""
    biases = np.array(
        [exact_mean_of_estimate(SameBatchOptimalBaseline(), n) for n in (2, 3, 4, 5)]
    )
    assert np.all(np.abs(biases[-1]) < np.abs(biases[0]))
    scaled = biases * np.array([2, 3, 4, 5])[:, None]
    np.testing.assert_allclose(scaled[-1], scaled[-2], rtol=0.3)

"""The score-function estimators against exact gradients, and their refusals of bad input."""

import numpy as np
import pytest
from conftest import standard_error, support

from elbo_grad import (
    Bernoulli,
    Categorical,
    DiagonalGaussian,
    Estimate,
    LeaveOneOutBaseline,
    MovingAverageBaseline,
    elbo_gradient,
    elbo_terms,
    expectation_gradient,
    learning_signal,
    score_function_terms,
)


def test_elbo_gradient_is_within_four_standard_errors_of_the_exact_gradient(
    conjugate_model,
):
    """Left: the estimate. Right: the conjugate model's closed-form ELBO gradient."""
    q = DiagonalGaussian(mean=0.4, log_std=-0.5)
    estimate = elbo_gradient(conjugate_model.log_joint, q, 200_000, rng=1)
    assert isinstance(estimate, Estimate) and estimate.num_samples == 200_000
    exact = conjugate_model.exact_elbo_gradient(q)
    assert np.all(np.abs(estimate.gradient - exact) < 4 * estimate.standard_error)
    assert (
        abs(estimate.elbo - conjugate_model.exact_elbo(q))
        < 4 * estimate.elbo_standard_error
    )


def exact_elbo_gradient_by_enumeration(log_joint, q):
    """sum_z q(z) (ln p(x, z) - ln q(z)) (z - pi): the score written out, not taken from the package."""
    values, probs = support(q)
    pi = 1.0 / (1.0 + np.exp(-np.asarray(q.params)))
    return (probs * (log_joint(values) - np.log(probs))) @ (values - pi)


def test_elbo_gradient_matches_enumeration_for_bernoulli():
    q = Bernoulli([0.3, -0.8, 1.1])
    log_joint = lambda z: 1.5 * z[:, 0] * z[:, 1] - 2.0 * z[:, 2] + 0.3 * z[:, 0]  # noqa: E731
    exact = exact_elbo_gradient_by_enumeration(log_joint, q)
    for baseline in [None, 1.7, LeaveOneOutBaseline()]:
        estimate = elbo_gradient(log_joint, q, 100_000, rng=2, baseline=baseline)
        assert np.all(
            np.abs(estimate.gradient - exact) < 4 * estimate.standard_error
        ), baseline


def test_standard_error_is_the_spread_of_repeated_estimates():
    """Left: the mean reported standard error. Right: the standard deviation of 400 independent estimates."""
    q = DiagonalGaussian([0.2, -0.4], [0.1, -0.3])
    log_joint = lambda z: -0.5 * np.sum((z - 1.0) ** 2, axis=1)  # noqa: E731
    rng = np.random.default_rng(3)
    estimates = [elbo_gradient(log_joint, q, 100, rng=rng) for _ in range(400)]
    spread = np.std([e.gradient for e in estimates], axis=0, ddof=1)
    reported = np.mean([e.standard_error for e in estimates], axis=0)
    # The spread of 400 draws is known to about 1/sqrt(2 * 399) = 3.5 %; allow 4 of those.
    np.testing.assert_allclose(reported, spread, rtol=0.15)


def test_terms_average_to_the_gradient_and_give_the_standard_error(family):
    log_joint = lambda z: -np.sum(np.asarray(z, float) ** 2, axis=1)  # noqa: E731
    estimate = elbo_gradient(log_joint, family, 500, rng=4, return_terms=True)
    np.testing.assert_allclose(
        estimate.terms.mean(axis=0), estimate.gradient, atol=1e-12
    )
    np.testing.assert_allclose(
        standard_error(estimate.terms),
        estimate.standard_error,
        rtol=1e-6,
    )
    z = family.sample(500, rng=4)
    np.testing.assert_allclose(
        elbo_terms(log_joint, family, z), estimate.terms, atol=1e-12
    )
    assert estimate.gradient.flags.writeable is False


def test_expectation_gradient_of_a_square_under_a_gaussian():
    """d/d(mu, ln sigma) E[z^2] = (2 mu, 2 sigma^2)."""
    q = DiagonalGaussian(mean=1.0, log_std=0.2)
    estimate = expectation_gradient(lambda z: z[:, 0] ** 2, q, 200_000, rng=5)
    exact = [2.0, 2.0 * np.exp(0.4)]
    assert np.all(np.abs(estimate.gradient - exact) < 4 * estimate.standard_error)
    assert estimate.elbo is None


def test_expectation_gradient_of_log_joint_is_not_the_elbo_gradient(conjugate_model):
    """0.1's trap: score_function_gradient(log_joint, ...) returned grad E[ln p], off by grad H = (0, 1).

    Now the ELBO has its own call; the difference of the two on the same samples estimates the
    entropy gradient, (0, 1) for (mu, ln sigma).
    """
    q = DiagonalGaussian(0.5, -0.2)
    elbo = elbo_gradient(
        conjugate_model.log_joint, q, 200_000, rng=6, return_terms=True
    )
    not_elbo = expectation_gradient(
        conjugate_model.log_joint, q, 200_000, rng=6, return_terms=True
    )
    difference = elbo.terms - not_elbo.terms
    assert np.all(
        np.abs(difference.mean(axis=0) - [0.0, 1.0]) < 4 * standard_error(difference)
    )
    assert np.all(
        np.abs(elbo.gradient - conjugate_model.exact_elbo_gradient(q))
        < 4 * elbo.standard_error
    )


def test_per_parameter_signal_and_baseline_in_score_function_terms():
    q = Bernoulli([0.0, 0.0])
    z = np.array([[1.0, 0.0], [0.0, 1.0]])
    terms = score_function_terms(lambda z: z * [1.0, 2.0], q, z, baseline=[0.5, 1.0])
    np.testing.assert_allclose(terms, [[0.25, 0.5], [0.25, 0.5]])


def test_user_callables_cannot_corrupt_the_samples():
    """Issue 15 (3): f writing into z made the score wrong; now z is read-only inside f."""
    q = DiagonalGaussian(1.0, 0.0)
    with pytest.raises(ValueError, match="read-only"):
        expectation_gradient(lambda z: (z[:, 0] ** 2, z.fill(0))[0], q, 1000, rng=0)


def test_stateful_baselines_are_not_updated_by_the_estimator():
    baseline = MovingAverageBaseline(decay=0.5, initial=2.0)
    elbo_gradient(
        lambda z: -(z[:, 0] ** 2),
        DiagonalGaussian(0.0, 0.0),
        100,
        rng=0,
        baseline=baseline,
    )
    assert baseline.value == 2.0


def test_a_baseline_subtracted_from_the_signal():
    q = Bernoulli([0.0])
    z = np.array([[1.0], [0.0]])
    signal = learning_signal(lambda z: 3.0 * z[:, 0], q, z)
    np.testing.assert_allclose(
        elbo_terms(lambda z: 3.0 * z[:, 0], q, z, baseline=1.0),
        (signal - 1.0)[:, None] * (z - 0.5),
    )


Q = DiagonalGaussian(0.0, 0.0)
F = lambda z: z[:, 0]  # noqa: E731


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: elbo_gradient(Q, F, 10), TypeError, "^log_joint"),
        (lambda: elbo_gradient(F, F, 10), TypeError, "^q"),
        (
            lambda: elbo_gradient(F, DiagonalGaussian, 10),
            TypeError,
            "^q must be a family instance",
        ),
        (lambda: elbo_gradient(3, Q, 10), TypeError, "^log_joint"),
        (lambda: expectation_gradient(None, Q, 10), TypeError, "^f"),
        (
            lambda: elbo_gradient(F, Q, 10, return_terms="no"),
            TypeError,
            "^return_terms",
        ),
        (lambda: elbo_gradient(F, Q, 10, baseline=True), TypeError, "^baseline"),
        (lambda: elbo_gradient(F, Q, 10, baseline="optimal"), TypeError, "^baseline"),
        (
            lambda: elbo_gradient(F, Q, 10, baseline=LeaveOneOutBaseline),
            TypeError,
            "^baseline",
        ),
        (lambda: elbo_gradient(F, Q, 10**30), ValueError, "^num_samples"),
        (lambda: elbo_gradient(F, Q, 0), ValueError, "^num_samples"),
        (lambda: elbo_gradient(F, Q, 10, rng=-1), ValueError, "^rng"),
        (
            lambda: elbo_gradient(lambda z: z[:, 0] + 1j, Q, 10),
            TypeError,
            "^log_joint must return real",
        ),
        (
            lambda: elbo_gradient(lambda z: z, Categorical(np.zeros((2, 2))), 10),
            ValueError,
            "^log_joint must return",
        ),
        (
            lambda: elbo_gradient(lambda z: np.log(z[:, 0] * 0), Q, 10),
            ValueError,
            "^log_joint returned NaN",
        ),
    ],
)
def test_bad_input_is_refused_with_the_argument_named(call, error, match):
    with np.errstate(divide="ignore"), pytest.raises(error, match=match):
        call()


def test_a_baseline_of_the_wrong_shape_is_named():
    """A per-sample b of shape (n,) against per-parameter signals (n, P), with n == P."""

    class PerSample:
        uses_score = False

        def __call__(self, signal, score):
            return np.ones(len(signal))

    q = Bernoulli([0.0, 0.0])
    with pytest.raises(ValueError, match="^baseline gave shape"):
        score_function_terms(
            lambda z: np.ones((len(z), 2)),
            q,
            [[0.0, 1.0], [1.0, 1.0]],
            baseline=PerSample(),
        )

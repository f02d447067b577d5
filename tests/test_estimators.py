"""The score-function estimators against exact gradients."""

import math

import numpy as np
import pytest

from elbo_grad import Bernoulli, ConjugateGaussian, DiagonalGaussian, elbo_gradient, learning_signal
from elbo_grad import score_function_gradient

SEED = 1992
NUM_SAMPLES = 200_000
TOLERANCE = 4.0  # standard errors


def assert_within_standard_errors(estimate, terms, exact, tolerance=TOLERANCE):
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(terms.shape[0])
    deviation = np.abs(estimate - exact)
    assert np.all(deviation < tolerance * standard_error), (estimate, exact, standard_error)


def test_terms_average_to_gradient(conjugate_model):
    q = DiagonalGaussian(mean=0.2, log_std=-0.1)
    gradient, terms = elbo_gradient(conjugate_model.log_joint, q, 50, rng=SEED, return_terms=True)
    assert terms.shape == (50, 2)
    np.testing.assert_allclose(terms.mean(axis=0), gradient, rtol=1e-14)


@pytest.mark.parametrize(
    ("mean", "log_std"), [(0.0, 0.0), (1.2, -0.9), (-2.0, 0.5)]
)
def test_elbo_gradient_is_unbiased(conjugate_model, mean, log_std):
    q = DiagonalGaussian(mean=mean, log_std=log_std)
    gradient, terms = elbo_gradient(
        conjugate_model.log_joint, q, NUM_SAMPLES, rng=SEED, return_terms=True
    )
    assert_within_standard_errors(gradient, terms, conjugate_model.exact_elbo_gradient(q))


@pytest.mark.parametrize("baseline", [-5.0, 3.0, 40.0])
def test_constant_baseline_keeps_estimator_unbiased(conjugate_model, baseline):
    q = DiagonalGaussian(mean=0.4, log_std=-0.3)
    gradient, terms = elbo_gradient(
        conjugate_model.log_joint, q, NUM_SAMPLES, rng=SEED, baseline=baseline, return_terms=True
    )
    assert_within_standard_errors(gradient, terms, conjugate_model.exact_elbo_gradient(q))


def test_good_baseline_reduces_variance(conjugate_model):
    q = DiagonalGaussian(mean=0.4, log_std=-0.3)
    _, plain = elbo_gradient(conjugate_model.log_joint, q, 20_000, rng=SEED, return_terms=True)
    _, centred = elbo_gradient(
        conjugate_model.log_joint,
        q,
        20_000,
        rng=SEED,
        baseline=conjugate_model.exact_elbo(q),
        return_terms=True,
    )
    assert np.all(centred.var(axis=0) < plain.var(axis=0))


def test_score_function_gradient_of_gaussian_moments():
    """d/dphi E[z^2] for N(mu, sigma^2): (2 mu, 2 sigma^2) in (mu, log sigma)."""
    q = DiagonalGaussian(mean=0.7, log_std=0.3)
    gradient, terms = score_function_gradient(
        lambda z: z[:, 0] ** 2, q, NUM_SAMPLES, rng=SEED, return_terms=True
    )
    exact = np.array([2 * 0.7, 2 * np.exp(0.6)])
    assert_within_standard_errors(gradient, terms, exact)


def test_score_function_gradient_bernoulli_by_enumeration():
    """Exact gradient by enumerating all 2^3 outcomes, differentiated by central differences."""
    logits = np.array([-0.5, 0.3, 1.4])
    weights = np.array([1.0, -2.0, 0.5])

    def f(z):
        return np.sin(z @ weights) + z[:, 0] * z[:, 2]

    outcomes = np.array(np.meshgrid(*[[0.0, 1.0]] * 3, indexing="ij")).reshape(3, -1).T

    def expectation(phi):
        return np.exp(Bernoulli(phi).log_prob(outcomes)) @ f(outcomes)

    step = 1e-6
    exact = np.array(
        [
            (expectation(logits + step * e) - expectation(logits - step * e)) / (2 * step)
            for e in np.eye(3)
        ]
    )
    q = Bernoulli(logits)
    # The score-function identity by enumeration: sum_z q(z) f(z) score(z).
    np.testing.assert_allclose(
        np.exp(q.log_prob(outcomes)) @ (f(outcomes)[:, None] * q.score(outcomes)), exact, atol=1e-8
    )
    gradient, terms = score_function_gradient(f, q, NUM_SAMPLES, rng=SEED, return_terms=True)
    assert_within_standard_errors(gradient, terms, exact)


def test_same_seed_same_estimate(conjugate_model):
    q = DiagonalGaussian(mean=0.0, log_std=0.0)
    first = elbo_gradient(conjugate_model.log_joint, q, 100, rng=5)
    second = elbo_gradient(conjugate_model.log_joint, q, 100, rng=5)
    np.testing.assert_array_equal(first, second)


def test_learning_signal(conjugate_model):
    """ln p(x, z) - ln q(z), written out with the math module for the fixture's model."""

    def log_normal(value, mean, std):
        return -0.5 * math.log(2 * math.pi * std**2) - (value - mean) ** 2 / (2 * std**2)

    q = DiagonalGaussian(mean=0.0, log_std=0.0)
    z = np.array([[0.5], [-1.0]])
    expected = [
        log_normal(zi, 0.0, 1.3) + sum(log_normal(xj, zi, 0.7) for xj in (0.8, 1.9, 1.4)) - log_normal(zi, 0.0, 1.0)
        for zi in (0.5, -1.0)
    ]
    np.testing.assert_allclose(learning_signal(conjugate_model.log_joint, q, z), expected, rtol=1e-13)


def test_single_sample_is_allowed(conjugate_model):
    q = DiagonalGaussian(mean=0.0, log_std=0.0)
    assert elbo_gradient(conjugate_model.log_joint, q, 1, rng=0).shape == (2,)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_samples": 0}, ValueError, "num_samples"),
        ({"num_samples": 2.5}, TypeError, "num_samples"),
        ({"rng": "seed"}, TypeError, "rng"),
        ({"baseline": np.nan}, ValueError, "baseline"),
        ({"baseline": [1.0, 2.0, 3.0]}, ValueError, "baseline"),
        ({"baseline": "mean"}, ValueError, "baseline"),
        ({"baseline": "leave-one-out", "num_samples": 1}, ValueError, "num_samples"),
    ],
)
def test_bad_arguments_raise(conjugate_model, kwargs, error, message):
    q = DiagonalGaussian(mean=0.0, log_std=0.0)
    arguments = {"num_samples": 10, "rng": 0} | kwargs
    with pytest.raises(error, match=message):
        elbo_gradient(conjugate_model.log_joint, q, **arguments)


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda z: np.full(z.shape[0], np.nan), "NaN or infinity"),
        (lambda z: np.full(z.shape[0], -np.inf), "NaN or infinity"),
        (lambda z: z, "one value per sample"),
        (lambda z: np.zeros(z.shape[0] + 1), "one value per sample"),
    ],
)
def test_bad_function_output_raises(function, message):
    q = DiagonalGaussian(mean=0.0, log_std=0.0)
    with pytest.raises(ValueError, match=f"^f (must|returned) .*{message}|^f returned {message}"):
        score_function_gradient(function, q, 10, rng=0)
    with pytest.raises(ValueError, match="log_joint"):
        elbo_gradient(function, q, 10, rng=0)


@pytest.mark.parametrize(
    ("z", "error"),
    [
        ([["a"], ["b"]], TypeError),
        (np.array([[np.nan]]), ValueError),
        (np.zeros(3), ValueError),
        (np.zeros((2, 2)), ValueError),
    ],
)
def test_learning_signal_rejects_bad_z(conjugate_model, z, error):
    q = DiagonalGaussian(mean=0.0, log_std=0.0)
    with pytest.raises(error, match=r"^z must"):
        learning_signal(conjugate_model.log_joint, q, z)


def test_non_callable_function_raises_type_error(conjugate_model):
    q = DiagonalGaussian(mean=0.0, log_std=0.0)
    with pytest.raises(TypeError, match=r"^f must be callable"):
        score_function_gradient(None, q, 10, rng=0)
    with pytest.raises(TypeError, match=r"^log_joint must be callable"):
        elbo_gradient([1.0], q, 10, rng=0)

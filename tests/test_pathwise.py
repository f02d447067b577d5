"""The pathwise (reparameterisation) estimator and what it needs of the Gaussian."""

import numpy as np
import pytest

from elbo_grad import (
    Bernoulli,
    DiagonalGaussian,
    pathwise_elbo_gradient,
    pathwise_elbo_terms,
    pathwise_gradient,
    pathwise_terms,
)
from elbo_grad.exact import exact_expectation

SEED = 2013
NUM_SAMPLES = 100_000
TOLERANCE = 4.0  # standard errors


def assert_within_standard_errors(gradient, terms, exact):
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(terms.shape[0])
    assert np.all(np.abs(gradient - exact) < TOLERANCE * standard_error), (gradient, exact, standard_error)


@pytest.fixture
def q():
    return DiagonalGaussian(mean=[0.5, -1.0], log_std=[0.2, -0.6])


def test_sample_with_noise_matches_sample(q):
    z, noise = q.sample_with_noise(5, rng=SEED)
    np.testing.assert_array_equal(z, q.sample(5, rng=SEED))
    np.testing.assert_allclose(q.reparameterize(noise), z, rtol=1e-15)
    np.testing.assert_allclose(q.standardize(z), noise, rtol=1e-12, atol=1e-14)


def test_jacobian_matches_finite_differences(q):
    """d z / d phi with the noise held fixed, by central differences of reparameterize."""
    noise = np.random.default_rng(SEED).standard_normal((4, q.dim))
    params, step = q.params, 1e-6
    numerical = np.empty((4, q.num_params))
    for k in range(q.num_params):
        shift = np.zeros_like(params)
        shift[k] = step
        upper = DiagonalGaussian.from_params(params + shift).reparameterize(noise)
        lower = DiagonalGaussian.from_params(params - shift).reparameterize(noise)
        numerical[:, k] = ((upper - lower) / (2 * step))[:, q.param_dims[k]]
    np.testing.assert_allclose(q.reparameterization_jacobian(noise), numerical, rtol=1e-7, atol=1e-9)


def test_grad_z_log_prob_matches_finite_differences(q):
    z = q.sample(3, rng=SEED)
    step = 1e-6
    numerical = np.stack(
        [(q.log_prob(z + step * e) - q.log_prob(z - step * e)) / (2 * step) for e in np.eye(q.dim)], axis=1
    )
    np.testing.assert_allclose(q.grad_z_log_prob(z), numerical, rtol=1e-7)


def test_entropy_and_its_gradient(q):
    assert q.entropy() == pytest.approx(float(exact_expectation(lambda z: -q.log_prob(z), q)), rel=1e-12)
    step = 1e-6
    numerical = [
        (
            DiagonalGaussian.from_params(q.params + step * e).entropy()
            - DiagonalGaussian.from_params(q.params - step * e).entropy()
        )
        / (2 * step)
        for e in np.eye(q.num_params)
    ]
    np.testing.assert_allclose(q.entropy_gradient(), numerical, atol=1e-8)


def test_pathwise_gradient_of_quadratic_cost(q):
    """E[sum_d (z_d - k)^2] = sum_d (mu_d - k)^2 + sigma_d^2: gradient (2(mu - k), 2 sigma^2)."""
    k = 1.5
    gradient, terms = pathwise_gradient(lambda z: 2 * (z - k), q, NUM_SAMPLES, rng=SEED, return_terms=True)
    exact = np.concatenate([2 * (q.mean - k), 2 * q.std**2])
    assert_within_standard_errors(gradient, terms, exact)
    np.testing.assert_allclose(terms.mean(axis=0), gradient, rtol=1e-14)


def test_pathwise_terms_match_estimator(q):
    gradient, terms = pathwise_gradient(lambda z: np.cos(z), q, 10, rng=SEED, return_terms=True)
    z = q.sample(10, rng=SEED)
    np.testing.assert_allclose(pathwise_terms(lambda z: np.cos(z), q, z), terms, rtol=1e-12)


def test_conjugate_grad_log_joint_matches_finite_differences(conjugate_model):
    z = np.array([[-1.0], [0.3], [2.5]])
    step = 1e-6
    numerical = (conjugate_model.log_joint(z + step) - conjugate_model.log_joint(z - step)) / (2 * step)
    np.testing.assert_allclose(conjugate_model.grad_log_joint(z)[:, 0], numerical, rtol=1e-7)


@pytest.mark.parametrize("entropy", ["analytic", "sticking-the-landing"])
@pytest.mark.parametrize(("mean", "log_std"), [(0.0, 0.0), (1.2, -0.9), (-2.0, 0.5)])
def test_pathwise_elbo_gradient_is_unbiased(conjugate_model, entropy, mean, log_std):
    q = DiagonalGaussian(mean=mean, log_std=log_std)
    gradient, terms = pathwise_elbo_gradient(
        conjugate_model.grad_log_joint, q, NUM_SAMPLES, rng=SEED, entropy=entropy, return_terms=True
    )
    assert_within_standard_errors(gradient, terms, conjugate_model.exact_elbo_gradient(q))


def test_sticking_the_landing_has_zero_variance_at_the_posterior(conjugate_model):
    posterior = conjugate_model.posterior()
    z = posterior.sample(1000, rng=SEED)
    stl = pathwise_elbo_terms(conjugate_model.grad_log_joint, posterior, z, entropy="sticking-the-landing")
    np.testing.assert_allclose(stl, 0.0, atol=1e-12)
    analytic = pathwise_elbo_terms(conjugate_model.grad_log_joint, posterior, z, entropy="analytic")
    # The analytic form's log-std term is 1 - eps^2 there, with variance 2.
    assert analytic[:, 1].var() > 1.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: pathwise_gradient(lambda z: z, Bernoulli([0.0]), 5, rng=0), TypeError, "DiagonalGaussian"),
        (lambda m: pathwise_gradient(lambda z: z[:, 0], DiagonalGaussian(0.0, 0.0), 5, rng=0), ValueError, "grad_f"),
        (lambda m: pathwise_gradient(lambda z: z / 0.0, DiagonalGaussian(0.0, 0.0), 5, rng=0), ValueError, "grad_f"),
        (lambda m: pathwise_gradient(lambda z: z, DiagonalGaussian(0.0, 0.0), 0, rng=0), ValueError, "num_samples"),
        (
            lambda m: pathwise_elbo_gradient(m.grad_log_joint, DiagonalGaussian(0.0, 0.0), 5, rng=0, entropy="exact"),
            ValueError,
            "entropy",
        ),
        (
            lambda m: pathwise_elbo_gradient(lambda z: np.full_like(z, np.inf), DiagonalGaussian(0.0, 0.0), 5, rng=0),
            ValueError,
            "grad_log_joint",
        ),
        (lambda m: DiagonalGaussian(0.0, 0.0).reparameterize(np.zeros((2, 3))), ValueError, "noise"),
    ],
)
def test_bad_input_raises(conjugate_model, call, error, message):
    with np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(error, match=message):
            call(conjugate_model)

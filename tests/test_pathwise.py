"""The Gaussian's reparameterisation and the pathwise estimators, against quadrature and closed forms."""

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss

from elbo_grad import (
    Bernoulli,
    DiagonalGaussian,
    pathwise_elbo_gradient,
    pathwise_elbo_terms,
    pathwise_terms,
)

Q = DiagonalGaussian(mean=[0.4, -1.0], log_std=[-0.3, 0.2])


def quadrature_mean(function, q, num_points=30):
    """E_q[function(z)] by a tensor Gauss-Hermite rule written here, independent of the package."""
    nodes, weights = hermegauss(num_points)
    weights = weights / weights.sum()
    grids = np.meshgrid(*[nodes] * q.dim, indexing="ij")
    eps = np.stack([g.ravel() for g in grids], axis=1)
    w = np.prod(np.meshgrid(*[weights] * q.dim, indexing="ij"), axis=0).ravel()
    return w @ function(np.asarray(q.mean) + np.exp(q.log_std) * eps)


def test_sample_is_reparameterize_of_the_same_noise():
    noise = np.random.default_rng(0).standard_normal((5, 2))
    np.testing.assert_allclose(Q.sample(5, rng=0), Q.reparameterize(noise), rtol=1e-15)
    np.testing.assert_allclose(
        Q.reparameterize(noise),
        np.asarray(Q.mean) + np.exp(Q.log_std) * noise,
        rtol=1e-15,
    )


def test_entropy_and_its_gradient():
    """Left: entropy(). Right: -E[ln q] by quadrature; the gradient against a central difference."""
    assert np.isclose(Q.entropy(), -quadrature_mean(Q.log_prob, Q), rtol=1e-12)
    step = 1e-6
    numeric = [
        (
            Q.with_params(Q.params + step * e).entropy()
            - Q.with_params(Q.params - step * e).entropy()
        )
        / (2 * step)
        for e in np.eye(4)
    ]
    np.testing.assert_allclose(Q.entropy_gradient(), numeric, atol=1e-8)


def test_pathwise_terms_average_to_the_gradient_of_a_quadratic():
    """d/d(mu, ln sigma) E[sum z^2] = (2 mu, 2 sigma^2), by quadrature of the terms."""
    mean = quadrature_mean(lambda z: pathwise_terms(lambda z: 2 * z, Q, z), Q)
    np.testing.assert_allclose(mean, np.r_[2 * Q.mean, 2 * Q.std**2], rtol=1e-12)


@pytest.mark.parametrize("entropy", ["analytic", "sticking-the-landing"])
def test_pathwise_elbo_terms_average_exactly_and_the_estimate_is_unbiased(
    conjugate_model, entropy
):
    q = DiagonalGaussian(0.3, -0.4)
    exact = conjugate_model.exact_elbo_gradient(q)
    terms_mean = quadrature_mean(
        lambda z: pathwise_elbo_terms(
            conjugate_model.grad_log_joint, q, z, entropy=entropy
        ),
        q,
    )
    np.testing.assert_allclose(terms_mean, exact, rtol=1e-10)
    estimate = pathwise_elbo_gradient(
        conjugate_model.grad_log_joint, q, 20_000, rng=1, entropy=entropy
    )
    assert np.all(np.abs(estimate.gradient - exact) < 4 * estimate.standard_error)


def test_sticking_the_landing_terms_vanish_at_the_posterior(conjugate_model):
    posterior = conjugate_model.posterior()
    z = posterior.sample(50, rng=2)
    terms = pathwise_elbo_terms(
        conjugate_model.grad_log_joint, posterior, z, entropy="sticking-the-landing"
    )
    np.testing.assert_allclose(terms, 0.0, atol=1e-12)


def test_bad_input_is_named(conjugate_model):
    with pytest.raises(TypeError, match="^q"):
        pathwise_elbo_gradient(conjugate_model.grad_log_joint, Bernoulli([0.0]), 10)
    with pytest.raises(ValueError, match="^entropy"):
        pathwise_elbo_terms(
            conjugate_model.grad_log_joint, Q, [[0.0, 0.0]], entropy="exact"
        )
    with pytest.raises(ValueError, match="^grad_f must return"):
        pathwise_terms(lambda z: z[:, 0], Q, [[0.0, 0.0]])
    with pytest.raises(TypeError, match="^grad_log_joint"):
        pathwise_elbo_gradient(Q, conjugate_model.grad_log_joint, 10)

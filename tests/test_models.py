"""The conjugate Gaussian model's closed forms, checked independently."""

import numpy as np
import pytest

from elbo_grad import ConjugateGaussian, DiagonalGaussian


def quadrature_elbo(model, q, num_points=20_001):
    """E_q[ln p(x,z) - ln q(z)] by the trapezoidal rule on +-12 standard deviations."""
    grid = np.linspace(q.mean[0] - 12 * q.std[0], q.mean[0] + 12 * q.std[0], num_points)[:, None]
    density = np.exp(q.log_prob(grid))
    return np.trapezoid(density * (model.log_joint(grid) - q.log_prob(grid)), grid[:, 0])


@pytest.mark.parametrize(("mean", "log_std"), [(0.0, 0.0), (1.5, -1.2), (-0.7, 0.8)])
def test_exact_elbo_matches_quadrature(conjugate_model, mean, log_std):
    q = DiagonalGaussian(mean=mean, log_std=log_std)
    assert conjugate_model.exact_elbo(q) == pytest.approx(quadrature_elbo(conjugate_model, q), rel=1e-9)


@pytest.mark.parametrize(("mean", "log_std"), [(0.0, 0.0), (1.5, -1.2), (-0.7, 0.8)])
def test_exact_gradient_matches_finite_differences(conjugate_model, mean, log_std):
    step = 1e-6
    params = np.array([mean, log_std])
    numerical = [
        (
            conjugate_model.exact_elbo(DiagonalGaussian.from_params(params + step * e))
            - conjugate_model.exact_elbo(DiagonalGaussian.from_params(params - step * e))
        )
        / (2 * step)
        for e in np.eye(2)
    ]
    q = DiagonalGaussian(mean=mean, log_std=log_std)
    np.testing.assert_allclose(conjugate_model.exact_elbo_gradient(q), numerical, rtol=1e-7, atol=1e-7)


def test_posterior_maximises_elbo_and_attains_evidence(conjugate_model):
    posterior = conjugate_model.posterior()
    np.testing.assert_allclose(conjugate_model.exact_elbo_gradient(posterior), 0.0, atol=1e-12)
    assert conjugate_model.exact_elbo(posterior) == pytest.approx(conjugate_model.log_evidence(), abs=1e-12)
    for shift in ([0.1, 0.0], [0.0, 0.1], [-0.2, -0.3]):
        other = DiagonalGaussian.from_params(posterior.params + np.array(shift))
        assert conjugate_model.exact_elbo(other) < conjugate_model.log_evidence()


def test_log_evidence_matches_marginal_gaussian():
    """x ~ N(0, sigma^2 I + sigma0^2 11^T): the evidence computed independently."""
    x = np.array([0.3, -1.1, 2.0, 0.4])
    prior_std, noise_std = 1.7, 0.6
    model = ConjugateGaussian(x=x, prior_std=prior_std, noise_std=noise_std)
    covariance = noise_std**2 * np.eye(4) + prior_std**2 * np.ones((4, 4))
    _, log_det = np.linalg.slogdet(covariance)
    expected = -0.5 * (4 * np.log(2 * np.pi) + log_det + x @ np.linalg.solve(covariance, x))
    assert model.log_evidence() == pytest.approx(expected, rel=1e-12)


def test_log_joint_shape_and_value():
    model = ConjugateGaussian(x=2.0, prior_std=1.0, noise_std=1.0)
    value = model.log_joint(np.array([[1.0]]))
    expected = -np.log(2 * np.pi) - 0.5 - 0.5
    np.testing.assert_allclose(value, [expected])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": [np.nan]}, "x"),
        ({"x": []}, "x"),
        ({"x": [[1.0]]}, "x"),
        ({"x": [1.0], "prior_std": 0.0}, "prior_std"),
        ({"x": [1.0], "noise_std": -1.0}, "noise_std"),
        ({"x": [1.0], "noise_std": np.inf}, "noise_std"),
    ],
)
def test_bad_model_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConjugateGaussian(**kwargs)


def test_wrong_q_raises(conjugate_model):
    with pytest.raises(TypeError, match="q must be"):
        conjugate_model.exact_elbo(DiagonalGaussian(mean=[0.0, 0.0], log_std=[0.0, 0.0]))
    with pytest.raises(ValueError, match="z"):
        conjugate_model.log_joint(np.zeros((3, 2)))

"""The conjugate Gaussian model's closed forms, the exact references on a Poisson regression, the grid posterior."""

import numpy as np
import pytest

from elbo_grad import ConjugateGaussian, DiagonalGaussian


def trapezoid_elbo(model, q, num_points=20_001):
    """E_q[ln p(x,z) - ln q(z)] by the trapezoidal rule on +-12 standard deviations."""
    grid = np.linspace(q.mean[0] - 12 * q.std[0], q.mean[0] + 12 * q.std[0], num_points)[:, None]
    density = np.exp(q.log_prob(grid))
    return np.trapezoid(density * (model.log_joint(grid) - q.log_prob(grid)), grid[:, 0])


@pytest.mark.parametrize(("mean", "log_std"), [(0.0, 0.0), (1.5, -1.2), (-0.7, 0.8)])
def test_exact_elbo_matches_the_trapezoidal_rule(conjugate_model, mean, log_std):
    q = DiagonalGaussian(mean=mean, log_std=log_std)
    assert conjugate_model.exact_elbo(q) == pytest.approx(trapezoid_elbo(conjugate_model, q), rel=1e-9)


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
    with pytest.raises(ValueError, match=r"^z must"):
        conjugate_model.log_joint(np.zeros((3, 2)))


# The exact references on a model without a conjugate prior, and the grid posterior ------

from math import lgamma  # noqa: E402

from elbo_grad import elbo_gradient, exact_elbo, exact_elbo_gradient, grid_posterior  # noqa: E402


class PoissonRegression:
    """y_j ~ Poisson(exp(w . x_j)), w ~ N(0, prior_std^2 I): a model whose ELBO needs E_q[exp(w . x)]."""

    def __init__(self, design, counts, prior_std):
        self.design = np.asarray(design, dtype=float)
        self.counts = np.asarray(counts, dtype=float)
        self.prior_std = prior_std
        self.log_factorials = np.array([lgamma(c + 1.0) for c in self.counts])

    def log_joint(self, z):
        eta = z @ self.design.T
        log_likelihood = np.sum(self.counts * eta - np.exp(eta) - self.log_factorials, axis=1)
        log_prior = np.sum(-0.5 * np.log(2 * np.pi * self.prior_std**2) - 0.5 * (z / self.prior_std) ** 2, axis=1)
        return log_prior + log_likelihood

    def closed_form_elbo(self, params):
        """Independent closed form: E_q[exp(w . x)] = exp(m . x + (s^2) . x^2 / 2) (log-normal mean)."""
        dim = self.design.shape[1]
        m, s = params[:dim], np.exp(params[dim:])
        expected_rate = np.exp(self.design @ m + 0.5 * (self.design**2) @ s**2)
        likelihood = np.sum(self.counts * (self.design @ m) - expected_rate - self.log_factorials)
        prior = np.sum(-0.5 * np.log(2 * np.pi * self.prior_std**2) - (m**2 + s**2) / (2 * self.prior_std**2))
        entropy = np.sum(0.5 * np.log(2 * np.pi * np.e) + np.log(s))
        return likelihood + prior + entropy


@pytest.fixture
def poisson_model():
    covariate = np.linspace(-1.0, 1.0, 12)
    design = np.stack([np.ones_like(covariate), covariate], axis=1)
    counts = np.array([0, 1, 0, 2, 1, 1, 3, 2, 4, 3, 6, 5])
    return PoissonRegression(design, counts, prior_std=1.5)


POISSON_PARAMS = [(0.0, 0.0, 0.0, 0.0), (0.6, 1.1, -1.5, -1.0), (-0.4, 0.3, -0.2, -2.0)]


@pytest.mark.parametrize("params", POISSON_PARAMS)
def test_exact_elbo_matches_poisson_closed_form(poisson_model, params):
    """Not a polynomial in z: Gauss-Hermite quadrature with the default 20 nodes is still exact to rounding."""
    q = DiagonalGaussian.from_params(np.array(params))
    assert exact_elbo(poisson_model.log_joint, q) == pytest.approx(
        poisson_model.closed_form_elbo(np.array(params)), rel=1e-11
    )


@pytest.mark.parametrize("params", POISSON_PARAMS)
def test_exact_elbo_gradient_matches_poisson_closed_form(poisson_model, params):
    params = np.array(params)
    step = 1e-6
    numerical = [
        (poisson_model.closed_form_elbo(params + step * e) - poisson_model.closed_form_elbo(params - step * e))
        / (2 * step)
        for e in np.eye(4)
    ]
    q = DiagonalGaussian.from_params(params)
    np.testing.assert_allclose(exact_elbo_gradient(poisson_model.log_joint, q), numerical, rtol=1e-7, atol=1e-6)


def test_monte_carlo_gradient_agrees_with_exact_elbo_gradient(poisson_model):
    """The score-function estimate lands within 4 standard errors of the quadrature reference."""
    q = DiagonalGaussian.from_params(np.array([0.6, 1.1, -1.5, -1.0]))
    gradient, terms = elbo_gradient(poisson_model.log_joint, q, 200_000, rng=2014, return_terms=True)
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(terms.shape[0])
    reference = exact_elbo_gradient(poisson_model.log_joint, q)
    assert np.all(np.abs(gradient - reference) < 4 * standard_error), (gradient, reference, standard_error)


def test_exact_elbo_converges_as_num_points_grows(poisson_model):
    q = DiagonalGaussian.from_params(np.array([0.0, 0.0, 0.0, 0.0]))
    exact = poisson_model.closed_form_elbo(q.params)
    errors = [abs(exact_elbo(poisson_model.log_joint, q, num_points=k) - exact) for k in (2, 4, 8, 16)]
    assert all(later < earlier for earlier, later in zip(errors, errors[1:])), errors
    assert errors[0] > 1e-3 and errors[-1] < 1e-9


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_points": 0}, ValueError, "num_points"),
        ({"num_points": 4.0}, TypeError, "num_points"),
        ({"num_points": 1025}, ValueError, "more than"),
        ({"log_joint": lambda z: z}, ValueError, "log_joint must return"),
        ({"log_joint": lambda z: np.full(len(z), np.nan)}, ValueError, "log_joint"),
    ],
)
def test_exact_elbo_and_gradient_reject_bad_arguments(poisson_model, kwargs, error, message):
    arguments = {"log_joint": poisson_model.log_joint, "q": DiagonalGaussian(mean=[0.0, 0.0], log_std=[0.0, 0.0])}
    arguments.update(kwargs)
    for function in (exact_elbo, exact_elbo_gradient):
        with pytest.raises(error, match=message):
            function(**arguments)


def correlated_gaussian():
    """log_joint = log N(z; mean, covariance) + log_evidence: a 2-D posterior known exactly."""
    mean = np.array([0.5, -1.0])
    covariance = np.array([[0.4, -0.3], [-0.3, 0.9]])
    log_evidence = -7.25
    precision = np.linalg.inv(covariance)
    _, log_det = np.linalg.slogdet(covariance)

    def log_joint(z):
        centred = z - mean
        quadratic = np.einsum("ni,ij,nj->n", centred, precision, centred)
        return log_evidence - np.log(2 * np.pi) - 0.5 * log_det - 0.5 * quadratic

    return log_joint, mean, covariance, log_evidence


def test_grid_posterior_recovers_a_correlated_gaussian():
    log_joint, mean, covariance, log_evidence = correlated_gaussian()
    axes = [np.linspace(-5.0, 6.0, 301), np.linspace(-9.0, 7.0, 401)]
    grid_mean, grid_covariance, grid_log_evidence = grid_posterior(log_joint, axes)
    np.testing.assert_allclose(grid_mean, mean, atol=1e-9)
    np.testing.assert_allclose(grid_covariance, covariance, atol=1e-9)
    assert grid_log_evidence == pytest.approx(log_evidence, abs=1e-9)


def test_grid_posterior_of_the_conjugate_model(conjugate_model):
    mean, covariance, log_evidence = grid_posterior(conjugate_model.log_joint, [np.linspace(-4.0, 6.0, 2001)])
    posterior = conjugate_model.posterior()
    assert mean.shape == (1,) and covariance.shape == (1, 1)
    assert mean[0] == pytest.approx(posterior.mean[0], abs=1e-10)
    assert covariance[0, 0] == pytest.approx(posterior.std[0] ** 2, rel=1e-9)
    assert log_evidence == pytest.approx(conjugate_model.log_evidence(), abs=1e-10)


def test_grid_posterior_allows_zero_density():
    """A half-normal posterior (log_joint = -inf below 0): mean sqrt(2/pi).

    At the jump to zero density the trapezoidal rule is only first order: the
    error is below one grid step h.
    """

    def log_joint(z):
        return np.where(z[:, 0] >= 0.0, -0.5 * z[:, 0] ** 2, -np.inf)

    axis = np.linspace(-1.0, 8.0, 9001)
    step = axis[1] - axis[0]
    mean, covariance, log_evidence = grid_posterior(log_joint, [axis])
    assert mean[0] == pytest.approx(np.sqrt(2 / np.pi), abs=step)
    assert covariance[0, 0] == pytest.approx(1 - 2 / np.pi, abs=step)
    assert log_evidence == pytest.approx(0.5 * np.log(np.pi / 2), abs=step)


@pytest.mark.parametrize(
    ("axes", "log_joint", "error", "message"),
    [
        ([np.linspace(-1.0, 1.0, 2)], None, ValueError, "at least 3 points"),
        ([np.array([0.0, 2.0, 1.0])], None, ValueError, "strictly increasing"),
        ([np.array([0.0, np.nan, 1.0])], None, ValueError, r"axes\[0\]"),
        ([np.zeros((3, 3))], None, ValueError, r"axes\[0\]"),
        ([["a", "b", "c"]], None, TypeError, r"axes\[0\]"),
        (np.linspace(-10.0, 10.0, 11), None, ValueError, "sequence of 1-D arrays"),
        ([], None, ValueError, "at least one axis"),
        ([np.linspace(-1.0, 1.0, 11)], None, ValueError, "does not cover the posterior"),
        ([np.linspace(-10.0, 10.0, 11)], lambda z: z, ValueError, "log_joint must return"),
        ([np.linspace(-10.0, 10.0, 11)], lambda z: np.full(len(z), np.nan), ValueError, "NaN"),
        ([np.linspace(-10.0, 10.0, 11)], lambda z: np.full(len(z), -np.inf), ValueError, "-infinity at every"),
        ([np.linspace(0.0, 1.0, 4000)] * 2, None, ValueError, "more than"),
    ],
)
def test_grid_posterior_bad_arguments_raise(axes, log_joint, error, message):
    def standard_normal(z):
        return -0.5 * np.sum(z**2, axis=1)

    with pytest.raises(error, match=message):
        grid_posterior(log_joint or standard_normal, axes)


def test_boltzmann_chain_rejects_non_binary_z():
    from elbo_grad import BoltzmannChain

    chain = BoltzmannChain(field=[0.2, -0.4, 1.0], coupling=[0.5, -1.0])
    with pytest.raises(ValueError, match="0s and 1s"):
        chain.log_joint(np.array([[0.5, 1.0, 0.0]]))
    with pytest.raises(ValueError, match="0s and 1s"):
        chain.local_log_joint(np.array([[2.0, 1.0, 0.0]]))

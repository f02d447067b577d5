"""The exact references: enumeration, Gauss-Hermite quadrature, exact gradients and variances."""

import math

import numpy as np
import pytest

from elbo_grad import (
    Bernoulli,
    Categorical,
    DiagonalGaussian,
    elbo_gradient,
    learning_signal,
    pathwise_elbo_gradient,
    pathwise_elbo_terms,
    pathwise_terms,
    score_function_gradient,
    score_function_terms,
)
from elbo_grad.exact import (
    MAX_POINTS,
    enumerate_support,
    exact_elbo,
    exact_elbo_gradient,
    exact_expectation,
    exact_gradient,
    exact_optimal_baseline,
    exact_single_sample_variance,
    integration_rule,
)

SEED = 1401


def gaussian_moment(mean, std, order):
    """E[z^order] for z ~ N(mean, std^2), from the binomial expansion and E[eps^j] = (j-1)!! for even j."""
    return sum(
        math.comb(order, j) * mean ** (order - j) * std**j * math.prod(range(j - 1, 0, -2))
        for j in range(0, order + 1, 2)
    )


def test_enumerate_support_order_and_size():
    support = enumerate_support(Categorical([[0.0, 0.0, 0.0]] * 2))
    assert support.shape == (9, 2)
    np.testing.assert_array_equal(support[:4], [[0, 0], [0, 1], [0, 2], [1, 0]])
    assert len({tuple(row) for row in enumerate_support(Bernoulli(np.zeros(5)))}) == 32


@pytest.mark.parametrize("num_points", [3, 5, 8])
def test_gauss_hermite_is_exact_up_to_degree_2m_minus_1(num_points):
    q = DiagonalGaussian(mean=0.7, log_std=0.4)
    z, weights = integration_rule(q, num_points=num_points)
    assert weights.sum() == pytest.approx(1.0, rel=1e-13)
    for order in range(2 * num_points):
        exact = gaussian_moment(0.7, math.exp(0.4), order)
        assert weights @ z[:, 0] ** order == pytest.approx(exact, rel=1e-11), order
    # One degree higher, the rule is no longer exact.
    order = 2 * num_points
    assert abs(weights @ z[:, 0] ** order - gaussian_moment(0.7, math.exp(0.4), order)) > 1e-6


def test_tensor_product_rule_in_two_dimensions():
    q = DiagonalGaussian(mean=[1.0, -2.0], log_std=[0.0, 0.5])
    value = exact_expectation(lambda z: z[:, 0] ** 2 * z[:, 1] ** 3, q, num_points=4)
    assert value == pytest.approx(gaussian_moment(1.0, 1.0, 2) * gaussian_moment(-2.0, math.exp(0.5), 3), rel=1e-12)


def finite_difference_gradient(f, q, rebuild, step=1e-6):
    def expectation(params):
        return float(exact_expectation(f, rebuild(params)))

    return np.array(
        [(expectation(q.params + step * e) - expectation(q.params - step * e)) / (2 * step) for e in np.eye(q.num_params)]
    )


@pytest.mark.parametrize(
    ("q", "rebuild"),
    [
        (Bernoulli([-0.5, 0.3, 1.4]), Bernoulli.from_params),
        (Categorical([[0.2, -0.4, 1.0], [0.0, 0.3, -0.8]]), lambda p: Categorical.from_params(p, num_categories=3)),
        (DiagonalGaussian([0.3, -0.2], [0.1, -0.4]), DiagonalGaussian.from_params),
    ],
    ids=["bernoulli", "categorical", "gaussian"],
)
def test_exact_gradient_matches_finite_differences(q, rebuild):
    """The score-function identity, summed or integrated exactly, against differentiating the exact expectation."""

    def f(z):
        return z[:, 0] ** 3 - 2.0 * z[:, 0] * z[:, -1] + z.sum(axis=1) ** 2

    np.testing.assert_allclose(exact_gradient(f, q), finite_difference_gradient(f, q, rebuild), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("mean", "log_std"), [(0.0, 0.0), (1.5, -1.2), (-0.7, 0.8)])
def test_exact_elbo_and_gradient_match_closed_forms(conjugate_model, mean, log_std):
    q = DiagonalGaussian(mean=mean, log_std=log_std)
    assert exact_elbo(conjugate_model.log_joint, q) == pytest.approx(conjugate_model.exact_elbo(q), rel=1e-12)
    np.testing.assert_allclose(
        exact_elbo_gradient(conjugate_model.log_joint, q), conjugate_model.exact_elbo_gradient(q), rtol=1e-10, atol=1e-10
    )


def assert_variance_matches_samples(exact_variance, terms):
    """The sample variance of i.i.d. terms is within 4 of its standard errors of the exact variance."""
    deviations = (terms - terms.mean(axis=0)) ** 2
    standard_error = deviations.std(axis=0, ddof=1) / np.sqrt(terms.shape[0])
    assert np.all(np.abs(terms.var(axis=0, ddof=1) - exact_variance) < 4 * standard_error), (
        terms.var(axis=0, ddof=1),
        exact_variance,
        standard_error,
    )


def test_exact_variance_of_score_function_elbo_terms(conjugate_model):
    q = DiagonalGaussian(mean=0.4, log_std=-0.3)

    def signal(z):
        return learning_signal(conjugate_model.log_joint, q, z)

    for baseline in (None, -3.0):
        exact = exact_single_sample_variance(lambda z: score_function_terms(signal, q, z, baseline=baseline), q)
        _, terms = elbo_gradient(conjugate_model.log_joint, q, 200_000, rng=SEED, baseline=baseline, return_terms=True)
        assert_variance_matches_samples(exact, terms)


def test_exact_variance_of_pathwise_elbo_terms(conjugate_model):
    q = DiagonalGaussian(mean=0.4, log_std=-0.3)
    for entropy in ("analytic", "sticking-the-landing"):
        exact = exact_single_sample_variance(
            lambda z: pathwise_elbo_terms(conjugate_model.grad_log_joint, q, z, entropy=entropy), q
        )
        _, terms = pathwise_elbo_gradient(
            conjugate_model.grad_log_joint, q, 200_000, rng=SEED, entropy=entropy, return_terms=True
        )
        assert_variance_matches_samples(exact, terms)


def test_exact_variance_by_enumeration_matches_samples():
    q = Categorical([[0.2, -0.4, 1.0], [0.0, 0.3, -0.8]])

    def f(z):
        return np.sin(z[:, 0]) + z[:, 0] * z[:, 1]

    exact = exact_single_sample_variance(lambda z: score_function_terms(f, q, z), q)
    _, terms = score_function_gradient(f, q, 200_000, rng=SEED, return_terms=True)
    assert_variance_matches_samples(exact, terms)


@pytest.mark.parametrize("num_samples", [1, 4, 16])
def test_variance_of_the_average_is_single_sample_variance_over_n(conjugate_model, num_samples):
    """Many independent n-sample estimates: their variance is Var(one term) / n."""
    q = DiagonalGaussian(mean=0.4, log_std=-0.3)
    single = exact_single_sample_variance(
        lambda z: pathwise_terms(conjugate_model.grad_log_joint, q, z), q
    )
    num_repeats = 20_000
    z = q.sample(num_repeats * num_samples, rng=SEED)
    terms = pathwise_terms(conjugate_model.grad_log_joint, q, z).reshape(num_repeats, num_samples, 2)
    estimates = terms.mean(axis=1)
    assert_variance_matches_samples(single / num_samples, estimates)


def test_optimal_baseline_is_the_vertex_of_the_variance_parabola(conjugate_model):
    q = DiagonalGaussian(mean=0.4, log_std=-0.3)

    def signal(z):
        return learning_signal(conjugate_model.log_joint, q, z)

    def variance(baseline):
        return exact_single_sample_variance(lambda z: score_function_terms(signal, q, z, baseline=baseline), q)

    best = exact_optimal_baseline(signal, q)
    squared_score = exact_expectation(lambda z: q.score(z) ** 2, q)
    for shift in (-2.0, 0.5, 3.0):
        # Var(b* + delta) = Var(b*) + delta^2 E[s^2]: the vertex of a parabola.
        np.testing.assert_allclose(variance(best + shift), variance(best) + shift**2 * squared_score, rtol=1e-9)
    mean_signal = exact_elbo(conjugate_model.log_joint, q)
    assert np.all(variance(best) < variance(np.full(2, mean_signal)))


def test_sizes_beyond_the_limit_raise():
    with pytest.raises(ValueError, match="more than"):
        enumerate_support(Bernoulli(np.zeros(21)))
    with pytest.raises(ValueError, match="more than"):
        integration_rule(DiagonalGaussian(np.zeros(5), np.zeros(5)), num_points=20)
    assert 2**20 == MAX_POINTS


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: enumerate_support(DiagonalGaussian(0.0, 0.0)), TypeError, "Bernoulli or Categorical"),
        (lambda: integration_rule("q"), TypeError, "q must be"),
        (lambda: integration_rule(DiagonalGaussian(0.0, 0.0), num_points=0), ValueError, "num_points"),
        (lambda: exact_expectation(lambda z: np.log(z[:, 0] - 5.0), Bernoulli([0.0])), ValueError, "NaN"),
        (lambda: exact_expectation(lambda z: 1.0, Bernoulli([0.0])), ValueError, "first axis"),
        (lambda: exact_gradient(lambda z: z, Bernoulli([0.0, 0.0])), ValueError, "f must return"),
    ],
)
def test_bad_input_raises(call, error, message):
    with np.errstate(invalid="ignore", divide="ignore"):
        with pytest.raises(error, match=message):
            call()

"""The exact references: enumeration, Gauss-Hermite quadrature, exact gradients and variances."""

import math
import time
import warnings

import numpy as np
import pytest
from conftest import standard_error
from numpy.polynomial.hermite_e import hermegauss

from elbo_grad import (
    Bernoulli,
    Categorical,
    ConjugateGaussian,
    DiagonalGaussian,
    elbo_terms,
)
from elbo_grad.exact import (
    MAX_NUM_POINTS,
    enumerate_support,
    exact_elbo,
    exact_elbo_gradient,
    exact_expectation,
    exact_gradient,
    exact_optimal_baseline,
    exact_single_sample_variance,
    integration_rule,
)

MODEL = ConjugateGaussian(x=[0.8, 1.9, 1.4], prior_std=1.3, noise_std=0.7)


def gaussian_moment(mean, std, order):
    """E[z^order] for z ~ N(mean, std^2), from the binomial expansion and E[eps^j] = (j-1)!!."""
    return sum(
        math.comb(order, j)
        * mean ** (order - j)
        * std**j
        * math.prod(range(j - 1, 0, -2))
        for j in range(0, order + 1, 2)
    )


def test_enumerate_support_order_size_and_dtype():
    support = enumerate_support(Categorical(np.zeros((2, 3))))
    assert support.dtype.kind == "i" and support.shape == (9, 2)
    np.testing.assert_array_equal(support[:4], [[0, 0], [0, 1], [0, 2], [1, 0]])
    assert len({tuple(row) for row in enumerate_support(Bernoulli(np.zeros(5)))}) == 32


@pytest.mark.parametrize("num_points", [3, 5, 8])
def test_gauss_hermite_is_exact_up_to_degree_2m_minus_1(num_points):
    z, weights = integration_rule(DiagonalGaussian(0.7, 0.4), num_points=num_points)
    for order in range(2 * num_points):
        assert weights @ z[:, 0] ** order == pytest.approx(
            gaussian_moment(0.7, math.exp(0.4), order), rel=1e-11
        )
    order = 2 * num_points  # one degree higher the rule is no longer exact
    assert (
        abs(weights @ z[:, 0] ** order - gaussian_moment(0.7, math.exp(0.4), order))
        > 1e-6
    )


def test_tensor_product_rule_in_two_dimensions():
    q = DiagonalGaussian([1.0, -2.0], [0.0, 0.5])
    value = exact_expectation(lambda z: z[:, 0] ** 2 * z[:, 1] ** 3, q, num_points=4)
    expected = gaussian_moment(1.0, 1.0, 2) * gaussian_moment(-2.0, math.exp(0.5), 3)
    assert value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "q",
    [
        Bernoulli([-0.5, 0.3, 1.4]),
        Categorical([[0.2, -0.4, 1.0], [0.0, 0.3, -0.8]]),
        DiagonalGaussian([0.3, -0.2], [0.1, -0.4]),
    ],
    ids=["bernoulli", "categorical", "gaussian"],
)
def test_exact_gradient_matches_finite_differences_of_the_expectation(q):
    """Left: the score-function identity summed exactly. Right: central differences of E_q[f] in params."""

    def f(z):
        return z[:, 0] ** 3 - 2.0 * z[:, 0] * z[:, -1] + z.sum(axis=1) ** 2

    step = 1e-6
    differences = [
        (
            exact_expectation(f, q.with_params(q.params + step * e))
            - exact_expectation(f, q.with_params(q.params - step * e))
        )
        / (2 * step)
        for e in np.eye(q.num_params)
    ]
    np.testing.assert_allclose(exact_gradient(f, q), differences, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("mean", "log_std"), [(0.0, 0.0), (1.5, -1.2), (-0.7, 0.8)])
def test_exact_elbo_and_gradient_match_the_closed_forms(mean, log_std):
    q = DiagonalGaussian(mean, log_std)
    assert exact_elbo(MODEL.log_joint, q) == pytest.approx(
        MODEL.exact_elbo(q), rel=1e-12
    )
    np.testing.assert_allclose(
        exact_elbo_gradient(MODEL.log_joint, q),
        MODEL.exact_elbo_gradient(q),
        rtol=1e-10,
        atol=1e-10,
    )


@pytest.mark.parametrize(
    "q",
    [DiagonalGaussian(0.4, -0.3), Bernoulli([0.3, -1.0])],
    ids=["gaussian", "bernoulli"],
)
def test_single_sample_variance_matches_the_sample_variance(q):
    """Exact Var of one ELBO term, against the variance of 200,000 sampled terms (4 standard errors)."""

    def log_joint(z):
        return -0.5 * ((z - 1.0) ** 2).sum(axis=1)

    exact = exact_single_sample_variance(
        lambda z: elbo_terms(log_joint, q, z, baseline=-1.0), q
    )
    terms = elbo_terms(log_joint, q, q.sample(200_000, rng=1401), baseline=-1.0)
    deviations = (terms - terms.mean(axis=0)) ** 2
    assert np.all(
        np.abs(terms.var(axis=0, ddof=1) - exact) < 4 * standard_error(deviations)
    )


def test_optimal_baseline_is_the_vertex_of_the_variance_parabola():
    q = DiagonalGaussian(0.4, -0.3)

    def variance(baseline):
        return exact_single_sample_variance(
            lambda z: elbo_terms(MODEL.log_joint, q, z, baseline=baseline), q
        )

    best = exact_optimal_baseline(lambda z: MODEL.log_joint(z) - q.log_prob(z), q)
    squared_score = exact_expectation(lambda z: q.score(z) ** 2, q)
    for shift in (-2.0, 0.5, 3.0):  # Var(b* + delta) = Var(b*) + delta^2 E[s^2]
        np.testing.assert_allclose(
            variance(best + shift), variance(best) + shift**2 * squared_score, rtol=1e-9
        )


# Issue 15 ---------------------------------------------------------------------------------


def test_num_points_is_refused_where_the_gauss_hermite_weights_become_inaccurate():
    """MAX_NUM_POINTS is the largest count whose weights NumPy computes accurately, checked here directly."""

    def accurate(num_points):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, weights = hermegauss(num_points)
        weights = weights / math.sqrt(2 * math.pi)
        return bool(
            np.all(np.isfinite(weights))
            and np.all(weights >= 0)
            and abs(weights.sum() - 1) < 1e-12
        )

    assert accurate(MAX_NUM_POINTS) and not accurate(MAX_NUM_POINTS + 1)
    q = DiagonalGaussian(0.0, 0.0)
    assert integration_rule(q, num_points=MAX_NUM_POINTS)[1].sum() == pytest.approx(
        1.0, abs=1e-12
    )
    for num_points in (MAX_NUM_POINTS + 1, 500, 20_000):
        with pytest.raises(ValueError, match="^num_points must be at most"):
            exact_expectation(lambda z: z[:, 0], q, num_points=num_points)


@pytest.mark.parametrize(
    "call",
    [
        lambda: exact_gradient(
            lambda z: z[:, 0], Categorical(np.zeros((2, 1000)))
        ),  # 10^6 points x 2000 params
        lambda: exact_elbo(lambda z: z[:, 0], Bernoulli(np.zeros(40))),
        lambda: integration_rule(
            DiagonalGaussian(np.zeros(6), np.zeros(6)), num_points=20
        ),
    ],
)
def test_the_budget_counts_points_times_parameters_and_refuses_before_allocating(call):
    start = time.perf_counter()
    with pytest.raises(ValueError, match="points x"):
        call()
    assert time.perf_counter() - start < 1.0


def test_centring_keeps_a_small_gradient_from_being_swamped_by_a_large_mean_of_f():
    """d/d ln(sigma) E[-(z - 2)^2 / 2] = -sigma^2, tiny next to f ~ -1150; the uncentred sum gets it 200% wrong."""
    q = DiagonalGaussian(50.0, -9.0)
    gradient = exact_gradient(lambda z: -0.5 * (z[:, 0] - 2.0) ** 2, q)
    np.testing.assert_allclose(gradient, [-48.0, -(q.std[0] ** 2)], rtol=1e-5)


def test_an_unresolvable_learning_signal_is_refused_and_a_resolvable_one_is_exact():
    def log_joint(z):
        return -0.5 * ((z - 2.0) ** 2).sum(axis=1)

    # sigma = e^-37.8: the values -0.5 (sigma eps - 2)^2 all round to -2, so no rule can see the slope.
    with pytest.raises(ValueError, match="^log_joint is not resolved"):
        exact_elbo_gradient(log_joint, DiagonalGaussian(0.0, -37.8), num_points=30)
    q = DiagonalGaussian(0.0, -12.0)
    np.testing.assert_allclose(
        exact_elbo_gradient(log_joint, q, num_points=30),
        [2.0, 1.0 - q.std[0] ** 2],
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda q: exact_expectation(3, q), "f"),
        (lambda q: exact_gradient(q, lambda z: z), "f"),
        (lambda q: exact_optimal_baseline("f", q), "f"),
        (lambda q: exact_single_sample_variance(None, q), "f"),
        (lambda q: exact_elbo(3, q), "log_joint"),
        (lambda q: exact_elbo_gradient(q, q), "log_joint"),
    ],
)
def test_a_non_callable_is_a_type_error_naming_the_argument(call, name):
    with pytest.raises(TypeError, match=f"^{name} must be a function"):
        call(Bernoulli([0.0]))


def test_f_cannot_write_into_the_nodes():
    with pytest.raises(ValueError, match="read-only"):
        exact_gradient(
            lambda z: (z[:, 0] ** 2, z.fill(0))[0], DiagonalGaussian(1.0, 0.0)
        )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: enumerate_support(DiagonalGaussian(0.0, 0.0)),
            TypeError,
            "^q must be a Bernoulli",
        ),
        (lambda: integration_rule("q"), TypeError, "^q must be a family"),
        (
            lambda: integration_rule(DiagonalGaussian(0.0, 0.0), num_points=0),
            ValueError,
            "^num_points",
        ),
        (
            lambda: exact_expectation(
                lambda z: np.log(z[:, 0] - 5.0), Bernoulli([0.0])
            ),
            ValueError,
            "NaN",
        ),
        (
            lambda: exact_expectation(lambda z: 1.0, Bernoulli([0.0])),
            ValueError,
            "^f must return",
        ),
        (
            lambda: exact_gradient(lambda z: z, Bernoulli([0.0, 0.0])),
            ValueError,
            "^f must return",
        ),
        (
            lambda: exact_gradient(lambda z: z[:, 0] + 1j, Bernoulli([0.0])),
            TypeError,
            "^f must return real",
        ),
    ],
)
def test_bad_input_raises(call, error, message):
    with np.errstate(invalid="ignore", divide="ignore"):
        with pytest.raises(error, match=message):
            call()

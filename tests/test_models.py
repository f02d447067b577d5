"""The book's models: closed forms against quadrature, enumeration, grids and high-precision references."""

import mpmath
import numpy as np
import pytest

from elbo_grad import (
    Bernoulli,
    BoltzmannChain,
    ConjugateGaussian,
    DiagonalGaussian,
    enumerate_support,
    exact_elbo,
    exact_elbo_gradient,
    exact_expectation,
    grid_posterior,
    local_learning_signal,
)

MODEL = ConjugateGaussian(x=[0.8, 1.9, 1.4], prior_std=1.3, noise_std=0.7)


def log_evidence_mpmath(x, prior_std, noise_std):
    """ln N(x; 0, noise^2 I + prior^2 11^T) at 500 digits from the float inputs, by mpmath's own det and solve."""
    with mpmath.workdps(500):
        n = len(x)
        covariance = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                covariance[i, j] = mpmath.mpf(prior_std) ** 2 + (
                    mpmath.mpf(noise_std) ** 2 if i == j else 0
                )
        vector = mpmath.matrix([mpmath.mpf(v) for v in x])
        quadratic = (vector.T * mpmath.lu_solve(covariance, vector))[0]
        return float(
            -(
                n * mpmath.log(2 * mpmath.pi)
                + mpmath.log(mpmath.det(covariance))
                + quadratic
            )
            / 2
        )


@pytest.mark.parametrize(("mean", "log_std"), [(0.0, 0.0), (1.5, -1.2), (-0.7, 0.8)])
def test_closed_form_elbo_and_gradient_match_quadrature_and_finite_differences(
    mean, log_std
):
    q = DiagonalGaussian(mean, log_std)
    assert MODEL.exact_elbo(q) == pytest.approx(
        exact_elbo(MODEL.log_joint, q), rel=1e-12
    )
    step = 1e-6
    differences = [
        (
            MODEL.exact_elbo(q.with_params(q.params + step * e))
            - MODEL.exact_elbo(q.with_params(q.params - step * e))
        )
        / (2 * step)
        for e in np.eye(2)
    ]
    np.testing.assert_allclose(
        MODEL.exact_elbo_gradient(q), differences, rtol=1e-6, atol=1e-8
    )


def test_posterior_is_the_elbo_maximiser_and_the_evidence_matches_a_grid():
    posterior = MODEL.posterior()
    np.testing.assert_allclose(
        exact_elbo_gradient(MODEL.log_joint, posterior), 0.0, atol=1e-12
    )
    assert MODEL.exact_elbo(posterior) == pytest.approx(MODEL.log_evidence(), rel=1e-12)
    mean, covariance, log_evidence = grid_posterior(
        MODEL.log_joint, [np.linspace(-4.0, 6.0, 2001)]
    )
    assert mean[0] == pytest.approx(posterior.mean[0], rel=1e-6)
    assert covariance[0, 0] == pytest.approx(posterior.std[0] ** 2, rel=1e-5)
    assert log_evidence == pytest.approx(MODEL.log_evidence(), rel=1e-7)


@pytest.mark.parametrize(
    ("x", "prior_std", "noise_std"),
    [
        (
            [1e9, 1e9 + 1e-6],
            1e15,
            1e-7,
        ),  # the issue's case: -43.34, was -44.76 by Bayes' rule at the posterior mean
        ([0.8, 1.9, 1.4], 1.3, 0.7),
        ([3.0, -2.0, 5.0, 1.0], 1e-100, 1.0),
        ([3.0, -2.0], 1.0, 1e100),
        ([1e-3, 2e-3], 1e50, 1e-60),
    ],
)
def test_log_evidence_has_no_cancellation(x, prior_std, noise_std):
    value = ConjugateGaussian(x, prior_std, noise_std).log_evidence()
    assert value == pytest.approx(
        log_evidence_mpmath(x, prior_std, noise_std), rel=1e-13, abs=1e-12
    )


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("prior_std", 1e-200),
        ("noise_std", 1e200),
        ("prior_std", 0.0),
        ("noise_std", -1.0),
        ("prior_std", np.nan),
    ],
)
def test_standard_deviations_out_of_range_are_refused_by_name(argument, value):
    with pytest.raises(ValueError, match=f"^{argument} must"):
        ConjugateGaussian([1.0], **{argument: value})


def test_models_own_read_only_copies_of_their_arrays():
    x, field, coupling = (
        np.array([1.0, 2.0]),
        np.array([1.0, -1.0, 0.5]),
        np.array([2.0, -1.0]),
    )
    model, chain = ConjugateGaussian(x), BoltzmannChain(field, coupling)
    before = (model.log_evidence(), chain.log_normalizer)
    x += 5.0
    field += 3.0
    coupling *= 0.0
    assert (model.log_evidence(), chain.log_normalizer) == before
    for array in (model.x, chain.field, chain.coupling):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 9.0
    with pytest.raises(AttributeError):
        chain.field = np.zeros(3)


def test_boltzmann_normaliser_matches_a_transfer_matrix_and_probabilities_sum_to_one():
    """Z = 1^T prod_d T_d 1 over the chain's 2x2 transfer matrices: independent of enumeration."""
    field, coupling = np.array([1.0, -1.0, 0.5, 2.0]), np.array([2.0, -1.0, 0.3])
    chain = BoltzmannChain(field, coupling)
    vector = np.exp(field[0] * np.array([0.0, 1.0]))
    for d in range(1, len(field)):
        transfer = np.exp(
            coupling[d - 1] * np.outer([0, 1], [0, 1]) + field[d] * np.array([0.0, 1.0])
        )
        vector = vector @ transfer
    assert chain.log_normalizer == pytest.approx(np.log(vector.sum()), rel=1e-13)
    states = enumerate_support(Bernoulli(np.zeros(4)))
    assert np.exp(chain.log_joint(states)).sum() == pytest.approx(1.0, rel=1e-13)


def test_local_signals_give_the_same_exact_gradient_as_the_full_one():
    chain = BoltzmannChain(field=[1.0, -1.0, 0.5], coupling=[2.0, -1.0])
    q = Bernoulli([0.3, -0.2, 0.8])
    local = exact_expectation(
        lambda z: local_learning_signal(chain.local_log_joint, q, z) * q.score(z), q
    )
    np.testing.assert_allclose(
        local, exact_elbo_gradient(chain.log_joint, q), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ConjugateGaussian([[1.0, 2.0]]), ValueError, "^x must be"),
        (lambda: ConjugateGaussian([1.0, np.inf]), ValueError, "^x must be finite"),
        (lambda: MODEL.exact_elbo(Bernoulli([0.0])), TypeError, "^q must be"),
        (lambda: MODEL.log_joint([[0.0, 1.0]]), ValueError, "^z must have shape"),
        (lambda: BoltzmannChain([1.0, 2.0], [1.0, 2.0]), ValueError, "^coupling must"),
        (
            lambda: BoltzmannChain([1.0, 2.0], [1.0]).log_joint([[0.5, 1.0]]),
            ValueError,
            "^z must",
        ),
        (
            lambda: grid_posterior(MODEL.log_joint, [np.linspace(-1.0, 1.0, 11)]),
            ValueError,
            "^axes do not cover",
        ),
        (
            lambda: grid_posterior(MODEL.log_joint, [[0.0, 2.0, 1.0]]),
            ValueError,
            "^axes\\[0\\]",
        ),
        (
            lambda: grid_posterior(MODEL.log_joint, [np.linspace(0, 1, 3000)] * 3),
            ValueError,
            "^axes span",
        ),
        (
            lambda: grid_posterior([np.linspace(0, 1, 3)], MODEL.log_joint),
            TypeError,
            "^log_joint must be",
        ),
        (lambda: grid_posterior(MODEL.log_joint, 5), TypeError, "^axes must be"),
        (
            lambda: grid_posterior(lambda z: z[:, 0] + 1j, [np.linspace(0, 1, 3)]),
            TypeError,
            "^log_joint must return real",
        ),
        (lambda: BoltzmannChain([[1.0, 2.0]], [1.0]), ValueError, "^field must be 1-D"),
    ],
)
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()

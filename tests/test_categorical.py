"""The Categorical family: densities, scores and sampling, checked by enumeration."""

import math

import numpy as np
import pytest

from elbo_grad import Bernoulli, Categorical
from elbo_grad.exact import enumerate_support

SEED = 1990
LOGITS = np.array([[0.3, -1.2, 2.0], [0.0, 0.5, -0.5]])


def test_shapes_and_param_order():
    q = Categorical(LOGITS)
    assert (q.dim, q.num_categories, q.num_params) == (2, 3, 6)
    z = q.sample(7, rng=SEED)
    assert z.shape == (7, 2) and q.log_prob(z).shape == (7,) and q.score(z).shape == (7, 6)
    np.testing.assert_array_equal(q.params, LOGITS.ravel())
    np.testing.assert_array_equal(q.param_dims, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(Categorical.from_params(q.params, num_categories=3).logits, LOGITS)


def test_one_variable_from_1d_logits():
    q = Categorical([0.0, 1.0, 2.0, 3.0])
    assert (q.dim, q.num_categories) == (1, 4)
    assert Categorical.from_params(q.params).num_categories == 4


def test_probabilities_sum_to_one_over_the_support():
    q = Categorical(LOGITS)
    support = enumerate_support(q)
    assert support.shape == (9, 2)
    assert math.isclose(np.exp(q.log_prob(support)).sum(), 1.0, rel_tol=1e-13)
    np.testing.assert_allclose(q.probs.sum(axis=1), 1.0, rtol=1e-14)


def test_log_prob_per_dimension_sums_to_log_prob():
    q = Categorical(LOGITS)
    z = q.sample(20, rng=SEED)
    np.testing.assert_allclose(q.log_prob_per_dimension(z).sum(axis=1), q.log_prob(z), rtol=1e-14)


def test_score_matches_finite_differences():
    q = Categorical(LOGITS)
    z = q.sample(6, rng=SEED)
    params, step = q.params, 1e-6
    numerical = np.empty((6, params.size))
    for k in range(params.size):
        shift = np.zeros_like(params)
        shift[k] = step
        upper = Categorical.from_params(params + shift, num_categories=3).log_prob(z)
        lower = Categorical.from_params(params - shift, num_categories=3).log_prob(z)
        numerical[:, k] = (upper - lower) / (2 * step)
    np.testing.assert_allclose(q.score(z), numerical, rtol=1e-6, atol=1e-8)


def test_expected_score_is_zero_exactly():
    q = Categorical(LOGITS)
    support = enumerate_support(q)
    np.testing.assert_allclose(np.exp(q.log_prob(support)) @ q.score(support), 0.0, atol=1e-15)


def test_sample_frequencies_match_probabilities():
    """Each category's frequency within 4 binomial standard errors of its probability."""
    q = Categorical(LOGITS)
    num_samples = 100_000
    z = q.sample(num_samples, rng=SEED)
    frequencies = (z[:, :, None] == np.arange(3)).mean(axis=0)
    standard_error = np.sqrt(q.probs * (1 - q.probs) / num_samples)
    assert np.all(np.abs(frequencies - q.probs) < 4 * standard_error)


def test_two_categories_are_a_bernoulli():
    """Categorical([0, phi]) is Bernoulli(phi): same log-density, and the score in phi agrees."""
    phi = np.array([-0.7, 1.3])
    categorical = Categorical(np.stack([np.zeros(2), phi], axis=1))
    bernoulli = Bernoulli(phi)
    z = enumerate_support(bernoulli)
    np.testing.assert_allclose(categorical.log_prob(z), bernoulli.log_prob(z), rtol=1e-13)
    np.testing.assert_allclose(categorical.score(z)[:, [1, 3]], bernoulli.score(z), atol=1e-15)


def test_extreme_logits_stay_finite():
    q = Categorical([[-800.0, 0.0, 800.0]])
    z = np.array([[0.0], [2.0]])
    assert np.all(np.isfinite(q.log_prob(z))) and np.all(np.isfinite(q.score(z)))
    assert q.log_prob(z)[0] == pytest.approx(-1600.0)
    assert np.all(q.sample(100, rng=SEED) == 2.0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Categorical(1.0), "logits"),
        (lambda: Categorical([[1.0]]), "at least 2 categories"),
        (lambda: Categorical(np.zeros((2, 2, 2))), "logits"),
        (lambda: Categorical([0.0, np.nan]), "logits"),
        (lambda: Categorical.from_params([0.0, 1.0, 2.0], num_categories=2), "num_categories"),
    ],
)
def test_bad_parameters_raise(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("z", [[[0.5, 0.0]], [[3.0, 0.0]], [[-1.0, 0.0]], [[0.0]]])
def test_bad_z_raises(z):
    with pytest.raises(ValueError, match=r"^z must"):
        Categorical(LOGITS).score(np.array(z))

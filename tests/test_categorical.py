"""The Categorical family and the estimators on it, against enumeration."""

import numpy as np
import pytest
from conftest import support

from elbo_grad import (
    Bernoulli,
    Categorical,
    LeaveOneOutOptimalBaseline,
    expectation_gradient,
)

Q = Categorical(logits=[[0.2, -1.0, 0.5], [1.0, 0.0, -0.3]])


def test_params_are_the_logits_row_by_row_and_the_score_follows_them():
    assert Q.dim == 2 and Q.num_categories == 3 and Q.num_params == 6
    np.testing.assert_array_equal(Q.params, np.ravel(Q.logits))
    np.testing.assert_array_equal(Q.param_dims, [0, 0, 0, 1, 1, 1])
    score = Q.score([[2, 0]])[0]
    np.testing.assert_allclose(score, np.r_[[0, 0, 1], [1, 0, 0]] - Q.probs.ravel())


def test_two_categories_are_a_bernoulli():
    """Categorical([0, phi]) and Bernoulli(phi): same probabilities, and the score in phi is the same."""
    phi = 0.7
    categorical, bernoulli = Categorical([[0.0, phi]]), Bernoulli([phi])
    z = np.array([[0], [1]])
    np.testing.assert_allclose(
        categorical.log_prob(z), bernoulli.log_prob(z.astype(float)), rtol=1e-14
    )
    np.testing.assert_allclose(
        categorical.score(z)[:, 1], bernoulli.score(z.astype(float))[:, 0], rtol=1e-14
    )


def test_extreme_logits_stay_finite():
    q = Categorical([[800.0, -800.0, 0.0]])
    z = q.sample(10, rng=0)
    assert np.all(z == 0)
    assert np.all(np.isfinite(q.log_prob([[1], [2]]))) and np.all(
        np.isfinite(q.score([[1], [2]]))
    )


@pytest.mark.parametrize("logits", [[0.0, 1.0], [[0.0]], np.zeros((2, 2, 2))])
def test_logits_must_be_a_table_with_two_or_more_categories(logits):
    with pytest.raises(ValueError, match="^logits"):
        Categorical(logits)


def test_expectation_gradient_against_enumeration():
    """Left: the estimate. Right: sum_z q(z) f(z) (onehot(z) - pi), enumerated with its own probabilities."""
    table = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])

    def f(z):
        return (
            table[0, z[:, 0]] * table[1, z[:, 1]]
        )  # integer samples index the table directly

    values, probs = support(Q)
    one_hot = (values[:, :, None] == np.arange(3)).reshape(len(values), -1)
    exact = (probs * f(values)) @ (one_hot - Q.probs.ravel())
    for baseline in [None, 2.0, LeaveOneOutOptimalBaseline()]:
        estimate = expectation_gradient(f, Q, 50_000, rng=3, baseline=baseline)
        assert np.all(
            np.abs(estimate.gradient - exact) < 4 * estimate.standard_error
        ), baseline

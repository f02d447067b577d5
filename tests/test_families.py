"""The families: samples, log-densities and scores, each checked against an independent computation."""

import numpy as np
import pytest
from conftest import rebuild, support
from numpy.polynomial.hermite_e import hermegauss

from elbo_grad import Bernoulli, Categorical, DiagonalGaussian, Family


def test_every_family_follows_the_protocol(family):
    assert isinstance(family, Family)
    z = family.sample(7, rng=0)
    assert z.shape == (7, family.dim)
    assert family.log_prob(z).shape == (7,)
    assert family.log_prob_per_dimension(z).shape == (7, family.dim)
    assert family.score(z).shape == (7, family.num_params)
    assert family.param_dims.shape == (family.num_params,)


def test_score_is_the_central_difference_of_log_prob(family):
    """Left: score(z). Right: (ln q_{phi + h e_k}(z) - ln q_{phi - h e_k}(z)) / 2h."""
    z = family.sample(5, rng=1)
    step = 1e-6
    numeric = np.stack(
        [
            (
                rebuild(family, family.params + step * e).log_prob(z)
                - rebuild(family, family.params - step * e).log_prob(z)
            )
            / (2 * step)
            for e in np.eye(family.num_params)
        ],
        axis=1,
    )
    np.testing.assert_allclose(family.score(z), numeric, atol=1e-7)


def test_log_prob_per_dimension_sums_to_log_prob(family):
    z = family.sample(6, rng=2)
    np.testing.assert_allclose(
        family.log_prob_per_dimension(z).sum(axis=1), family.log_prob(z), rtol=1e-13
    )


@pytest.mark.parametrize("squared", [False, True])
def test_score_mean_is_the_weighted_mean_of_the_score_matrix(family, squared):
    """Left: the family's fast score_mean. Right: the mean of w_i * score(z_i) (squared) from score()."""
    z = family.sample(50, rng=3)
    weights = np.random.default_rng(4).normal(size=50)
    score = family.score(z) ** (2 if squared else 1)
    np.testing.assert_allclose(
        family.score_mean(z, weights, squared=squared),
        (weights[:, None] * score).mean(axis=0),
        atol=1e-13,
    )
    per_parameter = np.random.default_rng(5).normal(size=(50, family.num_params))
    np.testing.assert_allclose(
        family.score_mean(z, per_parameter),
        (per_parameter * family.score(z)).mean(axis=0),
    )


@pytest.mark.parametrize(
    "q",
    [Bernoulli([0.3, -1.2]), Categorical([[0.2, -1.0, 0.5], [1.0, 0.0, -0.3]])],
    ids=["bernoulli", "categorical"],
)
def test_discrete_probabilities_and_expected_score_by_enumeration(q):
    """Left: exp(log_prob) over the support. Right: the product of softmax/sigmoid probabilities."""
    values, probs = support(q)
    np.testing.assert_allclose(np.exp(q.log_prob(values)), probs, rtol=1e-13)
    assert np.isclose(probs.sum(), 1.0)
    np.testing.assert_allclose(probs @ q.score(values), 0.0, atol=1e-15)


def test_gaussian_expected_score_is_zero_and_its_variance_the_fisher_information():
    """Gauss-Hermite: E[s] = 0 and E[s^2] = (1/sigma^2, 2) per dimension."""
    q = DiagonalGaussian([0.5, -2.0], [0.3, -0.4])
    nodes, weights = hermegauss(20)
    weights = weights / weights.sum()
    grid = np.stack(np.meshgrid(nodes, nodes, indexing="ij"), -1).reshape(-1, 2)
    w = np.outer(weights, weights).ravel()
    score = q.score(q.mean + q.std * grid)
    np.testing.assert_allclose(w @ score, 0.0, atol=1e-13)
    np.testing.assert_allclose(
        w @ score**2, np.r_[np.exp(-2 * q.log_std), 2.0, 2.0], rtol=1e-12
    )


def test_categorical_samples_are_integers_that_index_a_table():
    q = Categorical(np.log([[0.2, 0.3, 0.5]]))
    z = q.sample(100_000, rng=0)
    assert z.dtype.kind == "i"
    table = np.array([10.0, 20.0, 30.0])
    assert table[z[:, 0]].shape == (100_000,)
    frequencies = np.bincount(z[:, 0], minlength=3) / 100_000
    standard_error = np.sqrt(q.probs[0] * (1 - q.probs[0]) / 100_000)
    assert np.all(np.abs(frequencies - q.probs[0]) < 4 * standard_error)


@pytest.mark.parametrize(
    "q",
    [
        DiagonalGaussian([0.0, 1.0], [0.0, 0.5]),
        Bernoulli([1.0, 2.0, 3.0]),
        Categorical(np.zeros((2, 4))),
    ],
    ids=["gaussian", "bernoulli", "categorical"],
)
def test_with_params_keeps_the_shape_and_refuses_another(q):
    moved = q.with_params(q.params + 1.0)
    assert (
        type(moved) is type(q)
        and moved.dim == q.dim
        and moved.num_params == q.num_params
    )
    np.testing.assert_array_equal(moved.params, q.params + 1.0)
    with pytest.raises(ValueError, match="^params"):
        q.with_params(np.zeros(q.num_params + 1))


def test_categorical_with_params_cannot_lose_the_number_of_categories():
    """0.1's from_params(params) silently built 1 variable x 21 categories."""
    q = Categorical(np.zeros((7, 3)))
    assert q.with_params(np.arange(21.0)).logits.shape == (7, 3)


def test_families_own_read_only_copies_of_their_arrays():
    mean = np.array([0.0, 1.0])
    q = DiagonalGaussian(mean, [0.0, 0.0])
    mean += 5.0
    np.testing.assert_array_equal(q.mean, [0.0, 1.0])
    params = q.params
    with pytest.raises(ValueError):
        params[0] = 3.0
    logits = np.zeros(3)
    b = Bernoulli(logits)
    b.with_params(logits).params  # noqa: B018
    logits[0] = 9.0
    assert b.logits[0] == 0.0


def test_gaussian_refuses_a_std_too_small_for_its_mean():
    """Issue 15 (2): at sigma < 1e-6 |mu| the score recomputed from z = mu + sigma eps would lose eps."""
    with pytest.raises(ValueError, match="^log_std"):
        DiagonalGaussian(1.0, -40.0)
    with pytest.raises(ValueError, match="^log_std"):
        DiagonalGaussian(0.0, -301.0)
    q = DiagonalGaussian(
        1.0, np.log(1e-6)
    )  # the smallest accepted: the score stays exact
    z = q.sample(100_000, rng=0)
    noise = np.random.default_rng(0).standard_normal((100_000, 1))
    np.testing.assert_allclose(q.score(z)[:, 1], noise[:, 0] ** 2 - 1, atol=1e-6)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ([1 + 5j], TypeError, "^logits"),
        (["1.5"], TypeError, "^logits"),
        ([np.nan], ValueError, "^logits"),
        ([], ValueError, "^logits"),
    ],
)
def test_bad_parameters_are_refused_with_the_argument_named(bad, error, match):
    with pytest.raises(error, match=match):
        Bernoulli(bad)


def test_deeply_nested_lists_give_a_value_error_not_a_recursion_error():
    nested = 0.0
    for _ in range(3000):
        nested = [nested]
    with pytest.raises(ValueError, match="^logits"):
        Bernoulli(nested)


def test_samples_outside_the_support_are_refused():
    with pytest.raises(ValueError, match="^z"):
        Bernoulli([0.0]).score([[0.5]])
    with pytest.raises(ValueError, match="^z"):
        Categorical(np.zeros((1, 3))).log_prob([[3]])
    with pytest.raises(ValueError, match="^z"):
        DiagonalGaussian([0.0, 0.0], [0.0, 0.0]).score([[0.0]])


def test_huge_num_samples_is_refused_before_allocating():
    with pytest.raises(ValueError, match="^num_samples"):
        DiagonalGaussian(0.0, 0.0).sample(10**30)
    with pytest.raises(TypeError, match="^num_samples"):
        DiagonalGaussian(0.0, 0.0).sample(10.0)


def test_same_seed_same_samples_and_a_generator_advances(family):
    np.testing.assert_array_equal(
        family.sample(4, rng=3), family.sample(4, rng=np.random.default_rng(3))
    )
    generator = np.random.default_rng(3)
    assert not np.array_equal(
        family.sample(50, rng=generator), family.sample(50, rng=generator)
    )
    with pytest.raises(TypeError, match="^rng"):
        family.sample(3, rng=1.5)

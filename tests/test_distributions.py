"""The variational families: shapes, densities, scores."""

import math

import numpy as np
import pytest

from elbo_grad import Bernoulli, DiagonalGaussian

from conftest import rebuild

SEED = 20140101


def test_shapes(family):
    z = family.sample(7, rng=SEED)
    assert z.shape == (7, family.dim)
    assert family.log_prob(z).shape == (7,)
    assert family.score(z).shape == (7, family.num_params)
    assert family.params.shape == (family.num_params,)


def test_from_params_round_trip(family):
    clone = rebuild(family, family.params)
    np.testing.assert_array_equal(clone.params, family.params)


def test_gaussian_params_order():
    q = DiagonalGaussian(mean=[1.0, 2.0], log_std=[-1.0, -2.0])
    np.testing.assert_array_equal(q.params, [1.0, 2.0, -1.0, -2.0])


def test_gaussian_log_prob_matches_formula():
    q = DiagonalGaussian(mean=[0.5, -1.0], log_std=[0.2, -0.3])
    z = np.array([[0.0, 0.0], [1.5, -2.0]])
    sigma = np.exp([0.2, -0.3])
    expected = [
        sum(
            -0.5 * math.log(2 * math.pi * s**2) - (zi - mi) ** 2 / (2 * s**2)
            for zi, mi, s in zip(row, [0.5, -1.0], sigma)
        )
        for row in z
    ]
    np.testing.assert_allclose(q.log_prob(z), expected, rtol=1e-13)


def test_bernoulli_log_prob_sums_to_one_over_all_outcomes():
    q = Bernoulli(logits=[-0.4, 1.1, 3.0])
    outcomes = np.array(np.meshgrid(*[[0.0, 1.0]] * 3, indexing="ij")).reshape(3, -1).T
    assert math.isclose(np.exp(q.log_prob(outcomes)).sum(), 1.0, rel_tol=1e-13)


def test_bernoulli_extreme_logits_stay_finite():
    q = Bernoulli(logits=[-800.0, 800.0])
    z = np.array([[0.0, 1.0], [1.0, 0.0]])
    log_prob = q.log_prob(z)
    assert np.all(np.isfinite(log_prob))
    assert log_prob[0] == pytest.approx(0.0, abs=1e-300)
    assert log_prob[1] == pytest.approx(-1600.0)
    np.testing.assert_allclose(q.score(z), [[0.0, 0.0], [1.0, -1.0]])


def test_score_matches_finite_differences(family):
    """Central differences of log_prob in each parameter; error O(h^2)."""
    z = family.sample(5, rng=SEED)
    params = family.params
    step = 1e-6
    numerical = np.empty((5, params.size))
    for k in range(params.size):
        shift = np.zeros_like(params)
        shift[k] = step
        upper = rebuild(family, params + shift).log_prob(z)
        lower = rebuild(family, params - shift).log_prob(z)
        numerical[:, k] = (upper - lower) / (2 * step)
    np.testing.assert_allclose(family.score(z), numerical, rtol=1e-6, atol=1e-7)


def test_expected_score_is_zero(family):
    """E_q[score] = 0 (link L4), within 4 standard errors in every coordinate."""
    num_samples = 200_000
    scores = family.score(family.sample(num_samples, rng=SEED))
    mean = scores.mean(axis=0)
    standard_error = scores.std(axis=0, ddof=1) / np.sqrt(num_samples)
    assert np.all(np.abs(mean) < 4 * standard_error), (mean, standard_error)


def test_bernoulli_expected_score_is_zero_exactly():
    """By enumeration: sum_z q(z) score(z) = 0 to rounding error."""
    q = Bernoulli(logits=[-0.4, 1.1, 3.0])
    outcomes = np.array(np.meshgrid(*[[0.0, 1.0]] * 3, indexing="ij")).reshape(3, -1).T
    weights = np.exp(q.log_prob(outcomes))
    np.testing.assert_allclose(weights @ q.score(outcomes), 0.0, atol=1e-15)


def test_gaussian_sample_moments():
    q = DiagonalGaussian(mean=[1.0, -2.0], log_std=[0.0, -1.0])
    num_samples = 100_000
    z = q.sample(num_samples, rng=SEED)
    standard_error = q.std / np.sqrt(num_samples)
    assert np.all(np.abs(z.mean(axis=0) - q.mean) < 4 * standard_error)


def test_same_seed_same_samples(family):
    np.testing.assert_array_equal(family.sample(4, rng=3), family.sample(4, rng=3))


def test_generator_state_advances(family):
    rng = np.random.default_rng(0)
    first = family.sample(50, rng=rng)
    second = family.sample(50, rng=rng)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: DiagonalGaussian(mean=np.nan, log_std=0.0), "mean"),
        (lambda: DiagonalGaussian(mean=0.0, log_std=np.inf), "log_std"),
        (lambda: DiagonalGaussian(mean=[0.0, 1.0], log_std=[0.0]), "same shape"),
        (lambda: DiagonalGaussian(mean=[[0.0]], log_std=[[0.0]]), "1-D"),
        (lambda: DiagonalGaussian(mean=[], log_std=[]), "mean must not be empty"),
        (lambda: Bernoulli(logits=[0.0, -np.inf]), "logits"),
        (lambda: Bernoulli(logits=[[0.0]]), "logits"),
        (lambda: DiagonalGaussian.from_params([0.0, 1.0, 2.0]), "even length"),
    ],
)
def test_bad_parameters_raise(build, argument):
    with pytest.raises(ValueError, match=argument):
        build()


def test_non_numeric_parameters_raise_type_error():
    with pytest.raises(TypeError, match="mean"):
        DiagonalGaussian(mean="zero", log_std=0.0)


@pytest.mark.parametrize("num_samples", [0, -3])
def test_too_few_samples_raise(family, num_samples):
    with pytest.raises(ValueError, match="num_samples"):
        family.sample(num_samples, rng=0)


@pytest.mark.parametrize("num_samples", [2.0, "10", True])
def test_non_integer_num_samples_raise(family, num_samples):
    with pytest.raises(TypeError, match="num_samples"):
        family.sample(num_samples, rng=0)


@pytest.mark.parametrize("rng", [1.5, "seed", np.random.RandomState(0), True])
def test_bad_rng_raises_type_error(family, rng):
    with pytest.raises(TypeError, match="rng"):
        family.sample(3, rng=rng)


def test_negative_seed_raises(family):
    with pytest.raises(ValueError, match="rng"):
        family.sample(3, rng=-1)


@pytest.mark.parametrize(
    "z", [np.zeros(3), np.zeros((2, 5)), np.full((2, 3), np.nan), np.zeros((2, 3, 1))]
)
def test_bad_z_raises(z):
    q = DiagonalGaussian(mean=[0.0, 0.0, 0.0], log_std=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"^z must"):
        q.log_prob(z)
    with pytest.raises(ValueError, match=r"^z must"):
        q.score(z)


def test_bernoulli_rejects_non_binary_z():
    with pytest.raises(ValueError, match="0s and 1s"):
        Bernoulli(logits=[0.0]).log_prob(np.array([[0.5]]))


@pytest.mark.parametrize("mean", ["1.5", ["0.0", "1.0"], np.array(["2"]), [[0.0], ["1"]]])
def test_text_parameters_raise_type_error(mean):
    """Strings that happen to parse as numbers are refused, not silently converted."""
    with pytest.raises(TypeError, match="mean must be an array of real numbers"):
        DiagonalGaussian(mean=mean, log_std=0.0)


@pytest.mark.parametrize("log_std", [-1000.0, 710.0, [0.0, 301.0]])
def test_log_std_whose_variance_would_overflow_raises(log_std):
    """exp(-1000) underflows to 0 and exp(710) overflows: refused instead of a NaN later."""
    mean = np.zeros(np.shape(log_std))
    with pytest.raises(ValueError, match="log_std must lie in"):
        DiagonalGaussian(mean=mean, log_std=log_std)


def test_extreme_but_allowed_log_std_gives_finite_values():
    q = DiagonalGaussian(mean=[0.0, 0.0], log_std=[-300.0, 300.0])
    z = q.sample(3, rng=SEED)
    assert np.all(np.isfinite(q.log_prob(z))) and np.all(np.isfinite(q.score(z)))

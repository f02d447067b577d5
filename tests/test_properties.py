"""Property-based tests: no estimator returns NaN or infinity, or crashes, for valid parameters
across a wide range, and every invalid input raises an error that names the argument.

Deterministic (``derandomize=True``) and small, so that CI is reproducible and fast.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elbo_grad import (
    Bernoulli,
    Categorical,
    DiagonalGaussian,
    MovingAverageBaseline,
    elbo_gradient,
    local_elbo_gradient,
    local_score_function_gradient,
    pathwise_elbo_gradient,
    pathwise_gradient,
    score_function_gradient,
)
from elbo_grad.exact import exact_single_sample_variance
from elbo_grad.estimators import score_function_terms

FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None)

means = st.floats(-1e3, 1e3, allow_nan=False)
log_stds = st.floats(-10.0, 5.0, allow_nan=False)
logits = st.floats(-50.0, 50.0, allow_nan=False)
seeds = st.integers(0, 2**32 - 1)


@st.composite
def gaussians(draw):
    dim = draw(st.integers(1, 3))
    return DiagonalGaussian(
        mean=draw(st.lists(means, min_size=dim, max_size=dim)),
        log_std=draw(st.lists(log_stds, min_size=dim, max_size=dim)),
    )


@st.composite
def discrete_families(draw):
    if draw(st.booleans()):
        dim = draw(st.integers(1, 4))
        return Bernoulli(draw(st.lists(logits, min_size=dim, max_size=dim)))
    dim, num_categories = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    rows = st.lists(logits, min_size=num_categories, max_size=num_categories)
    return Categorical(draw(st.lists(rows, min_size=dim, max_size=dim)))


@st.composite
def baselines(draw, num_params):
    kind = draw(st.sampled_from(["none", "constant", "per-parameter", "moving", "named"]))
    if kind == "constant":
        return draw(st.floats(-1e3, 1e3, allow_nan=False))
    if kind == "per-parameter":
        return np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=num_params, max_size=num_params)))
    if kind == "moving":
        return MovingAverageBaseline(decay=draw(st.floats(0.0, 0.99)), initial=draw(st.floats(-1e3, 1e3)))
    if kind == "named":
        return draw(st.sampled_from(["leave-one-out", "optimal", "optimal-leave-one-out"]))
    return None


def gaussian_log_joint(z):
    """A standard normal prior and a Gaussian likelihood of x = 1 in every dimension."""
    return -0.5 * np.sum(z**2, axis=1) - 0.5 * np.sum((1.0 - z) ** 2, axis=1)


def gaussian_grad_log_joint(z):
    return -z + (1.0 - z)


def assert_finite(result):
    for array in result if isinstance(result, tuple) else (result,):
        assert np.all(np.isfinite(array)), array


@FAST
@given(q=gaussians(), data=st.data(), num_samples=st.integers(3, 20), seed=seeds)
def test_gaussian_estimators_stay_finite(q, data, num_samples, seed):
    baseline = data.draw(baselines(q.num_params))
    assert_finite(
        score_function_gradient(lambda z: np.sum((z - 1.0) ** 2, axis=1), q, num_samples, rng=seed, baseline=baseline)
    )
    assert_finite(elbo_gradient(gaussian_log_joint, q, num_samples, rng=seed, baseline=baseline, return_terms=True))
    assert_finite(local_elbo_gradient(lambda z: -(z**2) - 0.5 * (1.0 - z) ** 2, q, num_samples, rng=seed, baseline=baseline))
    assert_finite(pathwise_gradient(lambda z: 2 * (z - 1.0), q, num_samples, rng=seed, return_terms=True))
    for entropy in ("analytic", "sticking-the-landing"):
        assert_finite(pathwise_elbo_gradient(gaussian_grad_log_joint, q, num_samples, rng=seed, entropy=entropy))


@FAST
@given(q=discrete_families(), data=st.data(), num_samples=st.integers(3, 20), seed=seeds)
def test_discrete_estimators_stay_finite(q, data, num_samples, seed):
    baseline = data.draw(baselines(q.num_params))

    def f(z):
        return np.sin(z).sum(axis=1) + 3.0 * z[:, 0]

    assert_finite(score_function_gradient(f, q, num_samples, rng=seed, baseline=baseline, return_terms=True))
    assert_finite(elbo_gradient(f, q, num_samples, rng=seed, baseline=baseline))
    assert_finite(local_score_function_gradient(lambda z: np.cos(z), q, num_samples, rng=seed, baseline=baseline))
    assert_finite(exact_single_sample_variance(lambda z: score_function_terms(f, q, z), q))


@FAST
@given(q=st.one_of(gaussians(), discrete_families()), num_samples=st.integers(1, 2), seed=seeds)
def test_smallest_batches_stay_finite(q, num_samples, seed):
    assert_finite(elbo_gradient(lambda z: -np.sum(z**2, axis=1), q, num_samples, rng=seed))
    assert_finite(score_function_gradient(lambda z: z[:, 0], q, 2, rng=seed, baseline="optimal"))


# --- Invalid input --------------------------------------------------------------

bad_numbers = st.sampled_from([np.nan, np.inf, -np.inf])


@FAST
@given(dim=st.integers(1, 4), position=st.integers(0, 3), bad=bad_numbers, which=st.sampled_from(["mean", "log_std"]))
def test_non_finite_gaussian_parameters_are_named(dim, position, bad, which):
    values = {"mean": np.zeros(dim), "log_std": np.zeros(dim)}
    values[which][position % dim] = bad
    with pytest.raises(ValueError, match=which):
        DiagonalGaussian(**values)


@FAST
@given(dim=st.integers(1, 4), position=st.integers(0, 3), bad=bad_numbers, categorical=st.booleans())
def test_non_finite_logits_are_named(dim, position, bad, categorical):
    values = np.zeros((dim, 3)) if categorical else np.zeros(dim)
    values.flat[position % values.size] = bad
    with pytest.raises(ValueError, match="logits"):
        (Categorical if categorical else Bernoulli)(values)


@FAST
@given(num_samples=st.one_of(st.integers(-100, 0), st.floats(0.5, 10.0), st.booleans()), pathwise=st.booleans())
def test_bad_num_samples_is_named(num_samples, pathwise):
    q = DiagonalGaussian(0.0, 0.0)
    with pytest.raises((ValueError, TypeError), match="num_samples"):
        if pathwise:
            pathwise_gradient(lambda z: z, q, num_samples, rng=0)
        else:
            elbo_gradient(gaussian_log_joint, q, num_samples, rng=0)


@FAST
@given(
    baseline=st.one_of(
        st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=6).map(np.array),
        bad_numbers,
        st.sampled_from(["mean", "optimum", ""]),
    )
)
def test_bad_baseline_is_named(baseline):
    q = DiagonalGaussian([0.0], [0.0])  # two parameters
    with pytest.raises(ValueError, match="baseline"):
        elbo_gradient(gaussian_log_joint, q, 10, rng=0, baseline=baseline)


@FAST
@given(position=st.integers(0, 9), bad=bad_numbers)
def test_non_finite_function_values_are_named(position, bad):
    q = DiagonalGaussian([0.0, 0.0], [0.0, 0.0])

    def f(z):
        values = np.zeros(z.shape[0])
        values[position % z.shape[0]] = bad
        return values

    def grad_f(z):
        values = np.zeros_like(z)
        values[position % z.shape[0], 0] = bad
        return values

    with pytest.raises(ValueError, match="f returned"):
        score_function_gradient(f, q, 10, rng=0)
    with pytest.raises(ValueError, match="log_joint"):
        elbo_gradient(f, q, 10, rng=0)
    with pytest.raises(ValueError, match="grad_f"):
        pathwise_gradient(grad_f, q, 10, rng=0)
    with pytest.raises(ValueError, match="grad_log_joint"):
        pathwise_elbo_gradient(grad_f, q, 10, rng=0)

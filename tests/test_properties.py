"""Property-based tests: finite results for valid input at legal extremes, named errors for invalid input.

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
    LeaveOneOutBaseline,
    LeaveOneOutOptimalBaseline,
    MovingAverageBaseline,
    SameBatchOptimalBaseline,
    elbo_gradient,
    expectation_gradient,
    local_elbo_gradient,
    pathwise_elbo_gradient,
)

FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None)

means = st.floats(-1e3, 1e3, allow_nan=False)
log_stds = st.floats(-10.0, 5.0, allow_nan=False)
logits = st.floats(-50.0, 50.0, allow_nan=False)
seeds = st.integers(0, 2**32 - 1)


@st.composite
def gaussians(draw):
    """A Gaussian at legal extremes: sigma down to the refusal line 1e-6 |mu|."""
    dim = draw(st.integers(1, 3))
    mean = np.array(draw(st.lists(means, min_size=dim, max_size=dim)))
    log_std = np.array(draw(st.lists(log_stds, min_size=dim, max_size=dim)))
    return DiagonalGaussian(
        mean, np.maximum(log_std, np.log(1e-6 * np.abs(mean) + 1e-300) + 1e-9)
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
    kind = draw(
        st.sampled_from(
            [
                "none",
                "constant",
                "per-parameter",
                "moving",
                "loo",
                "same",
                "loo-optimal",
            ]
        )
    )
    return {
        "none": None,
        "constant": draw(st.floats(-1e3, 1e3)),
        "per-parameter": np.array(
            draw(
                st.lists(st.floats(-1e3, 1e3), min_size=num_params, max_size=num_params)
            )
        ),
        "moving": MovingAverageBaseline(
            decay=draw(st.floats(0.0, 0.99)), initial=draw(st.floats(-1e3, 1e3))
        ),
        "loo": LeaveOneOutBaseline(),
        "same": SameBatchOptimalBaseline(),
        "loo-optimal": LeaveOneOutOptimalBaseline(),
    }[kind]


def gaussian_log_joint(z):
    return -0.5 * np.sum(z**2, axis=1) - 0.5 * np.sum((1.0 - z) ** 2, axis=1)


def assert_finite(estimate):
    for array in (
        estimate.gradient,
        estimate.standard_error,
        estimate.elbo,
        estimate.terms,
    ):
        assert array is None or np.all(np.isfinite(array)), estimate


@FAST
@given(q=gaussians(), data=st.data(), num_samples=st.integers(3, 20), seed=seeds)
def test_gaussian_estimators_stay_finite(q, data, num_samples, seed):
    baseline = data.draw(baselines(q.num_params))
    assert_finite(
        expectation_gradient(
            lambda z: np.sum((z - 1.0) ** 2, axis=1),
            q,
            num_samples,
            rng=seed,
            baseline=baseline,
        )
    )
    assert_finite(
        elbo_gradient(
            gaussian_log_joint,
            q,
            num_samples,
            rng=seed,
            baseline=baseline,
            return_terms=True,
        )
    )
    assert_finite(
        local_elbo_gradient(
            lambda z: -(z**2) - 0.5 * (1.0 - z) ** 2,
            q,
            num_samples,
            rng=seed,
            baseline=baseline,
        )
    )
    for entropy in ("analytic", "sticking-the-landing"):
        assert_finite(
            pathwise_elbo_gradient(
                lambda z: 1.0 - 2 * z, q, num_samples, rng=seed, entropy=entropy
            )
        )


@FAST
@given(
    q=discrete_families(), data=st.data(), num_samples=st.integers(3, 20), seed=seeds
)
def test_discrete_estimators_stay_finite(q, data, num_samples, seed):
    baseline = data.draw(baselines(q.num_params))

    def f(z):
        return np.sin(z).sum(axis=1) + 3.0 * z[:, 0]

    assert_finite(
        expectation_gradient(
            f, q, num_samples, rng=seed, baseline=baseline, return_terms=True
        )
    )
    assert_finite(elbo_gradient(f, q, num_samples, rng=seed, baseline=baseline))
    assert_finite(
        local_elbo_gradient(
            lambda z: np.cos(z), q, num_samples, rng=seed, baseline=baseline
        )
    )


@FAST
@given(signal=st.lists(st.floats(-1e308, 1e308), min_size=3, max_size=8))
def test_leave_one_out_and_moving_average_stay_finite_up_to_1e308(signal):
    assert np.all(np.isfinite(LeaveOneOutBaseline()(signal, None)))
    baseline = MovingAverageBaseline(decay=0.5, initial=1e308)
    baseline.update(signal)
    assert np.isfinite(baseline.value)


@FAST
@given(signal=st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=6), data=st.data())
def test_leave_one_out_rows_never_read_their_own_sample(signal, data):
    """Changing sample i changes no entry of row i of either leave-one-out baseline."""
    n = len(signal)
    score = np.array(
        data.draw(
            st.lists(
                st.lists(st.floats(-3, 3), min_size=2, max_size=2),
                min_size=n,
                max_size=n,
            )
        )
    )
    i = data.draw(st.integers(0, n - 1))
    changed_signal, changed_score = np.array(signal), score.copy()
    changed_signal[i], changed_score[i] = 12.5, [0.75, -2.0]
    for baseline in (LeaveOneOutBaseline(), LeaveOneOutOptimalBaseline()):
        before = np.broadcast_to(
            baseline(np.array(signal), score),
            score.shape if baseline.uses_score else (n,),
        )
        after = np.broadcast_to(
            baseline(changed_signal, changed_score),
            score.shape if baseline.uses_score else (n,),
        )
        np.testing.assert_array_equal(before[i], after[i])


@FAST
@given(q=st.one_of(gaussians(), discrete_families()), seed=seeds)
def test_one_sample_gives_a_finite_gradient_and_nan_standard_error(q, seed):
    estimate = elbo_gradient(
        lambda z: -np.sum(np.asarray(z, float) ** 2, axis=1), q, 1, rng=seed
    )
    assert np.all(np.isfinite(estimate.gradient)) and np.all(
        np.isnan(estimate.standard_error)
    )


bad_numbers = st.sampled_from([np.nan, np.inf, -np.inf])


@FAST
@given(
    dim=st.integers(1, 4),
    position=st.integers(0, 3),
    bad=bad_numbers,
    which=st.sampled_from(["mean", "log_std"]),
)
def test_non_finite_gaussian_parameters_are_named(dim, position, bad, which):
    values = {"mean": np.zeros(dim), "log_std": np.zeros(dim)}
    values[which][position % dim] = bad
    with pytest.raises(ValueError, match=f"^{which}"):
        DiagonalGaussian(**values)


@FAST
@given(
    dim=st.integers(1, 4),
    position=st.integers(0, 3),
    bad=bad_numbers,
    categorical=st.booleans(),
)
def test_non_finite_logits_are_named(dim, position, bad, categorical):
    values = np.zeros((dim, 3)) if categorical else np.zeros(dim)
    values.flat[position % values.size] = bad
    with pytest.raises(ValueError, match="^logits"):
        (Categorical if categorical else Bernoulli)(values)


@FAST
@given(
    num_samples=st.one_of(
        st.integers(-100, 0),
        st.floats(0.5, 10.0),
        st.booleans(),
        st.integers(2**40, 10**30),
    ),
    pathwise=st.booleans(),
)
def test_bad_num_samples_is_named(num_samples, pathwise):
    q = DiagonalGaussian(0.0, 0.0)
    with pytest.raises((ValueError, TypeError), match="^num_samples"):
        if pathwise:
            pathwise_elbo_gradient(lambda z: -z, q, num_samples, rng=0)
        else:
            elbo_gradient(gaussian_log_joint, q, num_samples, rng=0)


@FAST
@given(
    baseline=st.one_of(
        st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=6).map(np.array),
        bad_numbers,
    )
)
def test_bad_baseline_is_named(baseline):
    q = DiagonalGaussian([0.0], [0.0])  # two parameters
    with pytest.raises(ValueError, match="^baseline"):
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

    with pytest.raises(ValueError, match="^f returned"):
        expectation_gradient(f, q, 10, rng=0)
    with pytest.raises(ValueError, match="^log_joint returned"):
        elbo_gradient(f, q, 10, rng=0)
    with pytest.raises(ValueError, match="^grad_log_joint returned"):
        pathwise_elbo_gradient(grad_f, q, 10, rng=0)

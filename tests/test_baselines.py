"""NVIL's remedies: running-average centering, variance normalisation, linear baseline."""

import numpy as np
import pytest

from elbo_grad import (
    DiagonalGaussian,
    LinearBaseline,
    MovingAverageBaseline,
    VarianceNormalizer,
    learning_signal,
    leave_one_out_baseline,
)

SEED = 2014


def test_moving_average_follows_its_recursion():
    baseline = MovingAverageBaseline(decay=0.8, initial=1.0)
    expected = 1.0
    rng = np.random.default_rng(SEED)
    for _ in range(20):
        batch = rng.normal(3.0, 1.0, size=5)
        baseline.update(batch)
        expected = 0.8 * expected + 0.2 * batch.mean()
    assert baseline.value == pytest.approx(expected, rel=1e-14)


def test_moving_average_converges_to_mean_signal():
    baseline = MovingAverageBaseline(decay=0.99)
    rng = np.random.default_rng(SEED)
    for _ in range(3000):
        baseline.update(rng.normal(-7.0, 2.0, size=10))
    # The stationary standard deviation of the average: 2/sqrt(10) * sqrt((1-a)/(1+a)).
    stationary_sd = 2.0 / np.sqrt(10) * np.sqrt(0.01 / 1.99)
    assert abs(baseline.value + 7.0) < 4 * stationary_sd


def test_centering_with_running_baseline_is_unbiased(conjugate_model):
    """Averaged over many steps, centred estimates match the exact gradient.

    The baseline used at each step depends only on earlier steps, so each
    step's estimate is unbiased; their mean is compared with the exact
    gradient within 4 standard errors of that mean.
    """
    q = DiagonalGaussian(mean=0.3, log_std=-0.4)
    baseline = MovingAverageBaseline(decay=0.9)
    rng = np.random.default_rng(SEED)
    estimates = []
    for _ in range(4000):
        z = q.sample(4, rng=rng)
        signal = learning_signal(conjugate_model.log_joint, q, z)
        estimates.append(((signal - baseline.value)[:, None] * q.score(z)).mean(axis=0))
        baseline.update(signal)
    estimates = np.array(estimates)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    deviation = np.abs(estimates.mean(axis=0) - conjugate_model.exact_elbo_gradient(q))
    assert np.all(deviation < 4 * standard_error), (deviation, standard_error)


def test_variance_normalizer_recursion_and_scale():
    normalizer = VarianceNormalizer(decay=0.5, initial_variance=4.0)
    normalizer.update([1.0, -3.0])  # mean square 5
    assert normalizer.variance == pytest.approx(4.5)
    assert normalizer.scale == pytest.approx(np.sqrt(4.5))
    np.testing.assert_allclose(normalizer.normalize([np.sqrt(4.5)]), [1.0])


def test_variance_normalizer_never_amplifies():
    normalizer = VarianceNormalizer(decay=0.0, initial_variance=1.0)
    normalizer.update([0.01, -0.01])
    assert normalizer.scale == 1.0
    np.testing.assert_array_equal(normalizer.normalize([0.5, -2.0]), [0.5, -2.0])


def test_linear_baseline_recovers_linear_signal():
    rng = np.random.default_rng(SEED)
    true_weights, true_bias = np.array([1.5, -2.0, 0.5]), 4.0
    baseline = LinearBaseline(num_features=3, learning_rate=0.1)
    for _ in range(3000):
        features = rng.normal(size=(16, 3))
        baseline.update(features, features @ true_weights + true_bias)
    np.testing.assert_allclose(baseline.weights, true_weights, atol=1e-6)
    assert baseline.bias == pytest.approx(true_bias, abs=1e-6)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: MovingAverageBaseline(decay=1.0), "decay"),
        (lambda: MovingAverageBaseline(decay=-0.1), "decay"),
        (lambda: MovingAverageBaseline(decay=np.nan), "decay"),
        (lambda: MovingAverageBaseline(initial=np.inf), "initial"),
        (lambda: VarianceNormalizer(initial_variance=0.0), "initial_variance"),
        (lambda: LinearBaseline(num_features=0), "num_features"),
        (lambda: LinearBaseline(num_features=2, learning_rate=-1.0), "learning_rate"),
    ],
)
def test_bad_construction_raises(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_bad_signals_raise():
    with pytest.raises(ValueError, match="signal"):
        MovingAverageBaseline().update([1.0, np.nan])
    with pytest.raises(ValueError, match="signal"):
        MovingAverageBaseline().update([])
    with pytest.raises(ValueError, match="signal"):
        VarianceNormalizer().update([np.inf])
    baseline = LinearBaseline(num_features=2)
    with pytest.raises(ValueError, match="features"):
        baseline.predict(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="signal"):
        baseline.update(np.zeros((3, 2)), np.zeros(2))


def test_leave_one_out_matches_definition():
    rng = np.random.default_rng(SEED)
    signal = rng.normal(size=(5, 3))
    expected = np.array([[np.delete(signal[:, k], i).mean() for k in range(3)] for i in range(5)])
    np.testing.assert_allclose(leave_one_out_baseline(signal), expected, rtol=1e-13)
    np.testing.assert_allclose(leave_one_out_baseline(signal.T, axis=1), expected.T, rtol=1e-13)


def test_leave_one_out_is_unbiased_and_batch_mean_is_not(conjugate_model):
    """With n samples, the batch-mean baseline shrinks the gradient by (n-1)/n; leave-one-out does not."""
    q = DiagonalGaussian(mean=0.3, log_std=-0.4)
    num_samples, num_repeats = 3, 100_000
    z = q.sample(num_samples * num_repeats, rng=SEED).reshape(num_repeats, num_samples, 1)
    flat = z.reshape(-1, 1)
    signal = learning_signal(conjugate_model.log_joint, q, flat).reshape(num_repeats, num_samples)
    score = q.score(flat).reshape(num_repeats, num_samples, 2)
    exact = conjugate_model.exact_elbo_gradient(q)

    def mean_and_standard_error(baseline):
        estimates = ((signal - baseline)[..., None] * score).mean(axis=1)
        return estimates.mean(axis=0), estimates.std(axis=0, ddof=1) / np.sqrt(num_repeats)

    loo_mean, loo_se = mean_and_standard_error(leave_one_out_baseline(signal, axis=1))
    assert np.all(np.abs(loo_mean - exact) < 4 * loo_se)
    batch_mean, batch_se = mean_and_standard_error(signal.mean(axis=1, keepdims=True))
    shrunk = exact * (num_samples - 1) / num_samples
    assert np.all(np.abs(batch_mean - shrunk) < 4 * batch_se)
    assert np.all(np.abs(batch_mean - exact) > 4 * batch_se)


def test_leave_one_out_needs_two_samples():
    with pytest.raises(ValueError, match="at least 2 samples"):
        leave_one_out_baseline([1.0])
    with pytest.raises(ValueError, match="signal"):
        leave_one_out_baseline([1.0, np.nan])


@pytest.mark.parametrize(("axis", "error"), [(5, ValueError), (-3, ValueError), (1.5, TypeError), (True, TypeError)])
def test_leave_one_out_bad_axis_raises(axis, error):
    with pytest.raises(error, match="axis"):
        leave_one_out_baseline(np.zeros((3, 2)), axis=axis)


def test_optimal_baseline_mismatched_shapes_raise_a_clear_error():
    from elbo_grad import optimal_baseline

    with pytest.raises(ValueError, match="signal of shape .* does not match score"):
        optimal_baseline(np.ones(5), np.ones((4, 2)))

"""Baselines: the protocol, exact unbiasedness by enumeration, and overflow-free state."""

import itertools

import numpy as np
import pytest
from conftest import support

from elbo_grad import (
    Baseline,
    Bernoulli,
    ConstantBaseline,
    LeaveOneOutBaseline,
    LeaveOneOutOptimalBaseline,
    MovingAverageBaseline,
    NVILBaseline,
    SameBatchOptimalBaseline,
)

ALL = [
    ConstantBaseline(1.0),
    MovingAverageBaseline(),
    LeaveOneOutBaseline(),
    SameBatchOptimalBaseline(),
    LeaveOneOutOptimalBaseline(),
    NVILBaseline(),
    NVILBaseline(2).given([1.0, 0.0]),
]


@pytest.mark.parametrize("baseline", ALL, ids=lambda baseline: type(baseline).__name__)
def test_every_baseline_follows_the_protocol(baseline):
    assert isinstance(baseline, Baseline)
    signal, score = (
        np.array([1.0, 2.0, 4.0, 3.0]),
        np.array([[0.5, -1.0], [0.1, 0.0], [-0.4, 1.0], [0.2, 0.3]]),
    )
    b = np.asarray(baseline(signal, score if baseline.uses_score else None))
    assert (
        b.ndim == 0
        or b.shape == signal.shape
        or np.broadcast_shapes(b.shape, score.shape) == score.shape
    )


# Issue 15 (1): f = (z1 + 2 z2 - 0.5)^2 under Bernoulli(logits=[0.3, -0.4]) with n = 3.
Q = Bernoulli([0.3, -0.4])
VALUES, PROBS = support(Q)
F = (VALUES[:, 0] + 2 * VALUES[:, 1] - 0.5) ** 2
SCORE = VALUES - 1.0 / (1.0 + np.exp(-np.array([0.3, -0.4])))  # z - pi, written out
EXACT = (PROBS * F) @ SCORE


def expected_estimate(baseline):
    """E[(1/3) sum_i (f_i - b_i) s_i], enumerating all 4^3 triples of samples with their probabilities."""
    total = np.zeros(2)
    for triple in itertools.product(range(4), repeat=3):
        index = list(triple)
        signal, score = F[index], SCORE[index]
        b = (
            np.broadcast_to(baseline(signal, score), score.shape)
            if np.ndim(baseline(signal, score)) == 2
            else np.asarray(baseline(signal, score)).reshape(-1, 1)
        )
        total += np.prod(PROBS[index]) * np.mean((signal[:, None] - b) * score, axis=0)
    return total


def test_leave_one_out_optimal_baseline_is_exactly_unbiased_by_enumeration():
    """Left: the exact mean of the estimator over all 64 triples. Right: sum_z q(z) f(z) s(z)."""
    np.testing.assert_allclose(
        expected_estimate(LeaveOneOutOptimalBaseline()), EXACT, atol=1e-14
    )


def test_leave_one_out_mean_baseline_is_exactly_unbiased_by_enumeration():
    np.testing.assert_allclose(
        expected_estimate(LeaveOneOutBaseline()), EXACT, atol=1e-14
    )


def test_same_batch_optimal_baseline_is_biased_as_its_name_says():
    bias = expected_estimate(SameBatchOptimalBaseline()) - EXACT
    assert np.max(np.abs(bias)) > 0.01


def test_leave_one_out_optimal_coefficient_is_zero_where_the_other_scores_tie():
    """Issue 15's example: rows 1 and 2 tie, so row 0's coefficient is 0 (0.1 gave 0.375)."""
    b = LeaveOneOutOptimalBaseline()(
        [0.07, 2.7, 2.7], [[0.83, -0.83], [-0.17, 0.17], [-0.17, 0.17]]
    )
    np.testing.assert_array_equal(b[0], [0.0, 0.0])


def test_leave_one_out_optimal_rows_are_the_same_batch_coefficient_of_the_others():
    rng = np.random.default_rng(0)
    signal, score = rng.normal(size=7), rng.normal(size=(7, 3))
    b = LeaveOneOutOptimalBaseline()(signal, score)
    for i in range(7):
        others = np.arange(7) != i
        np.testing.assert_allclose(
            b[i],
            SameBatchOptimalBaseline()(signal[others], score[others])[0],
            rtol=1e-9,
        )


def test_leave_one_out_baseline_is_precise_and_finite_at_extremes():
    """Issue 15 (7): at 1e308 the 0.1 sum overflowed; 'total minus own' lost the small values."""
    np.testing.assert_array_equal(
        LeaveOneOutBaseline()([1e308, 1e308, 1.0], None),
        [5e307 + 0.5, 5e307 + 0.5, 1e308],
    )
    np.testing.assert_array_equal(LeaveOneOutBaseline()([1e16, 1.0, 1.0], None)[0], 1.0)


def test_moving_average_stays_finite_up_to_1e308():
    baseline = MovingAverageBaseline(decay=0.9)
    baseline.update([1e308, 1e308, 1e308])
    assert baseline.value == pytest.approx(1e307)
    baseline.update(np.full(1000, -1e308))
    assert np.isfinite(baseline.value)


@pytest.mark.parametrize("decay", [np.nan, 1.0, -0.1, True, "0.5"])
def test_bad_decay_is_refused(decay):
    with pytest.raises((ValueError, TypeError), match="^decay"):
        MovingAverageBaseline(decay=decay)


def test_a_failed_update_leaves_the_state_unchanged():
    baseline = MovingAverageBaseline(decay=0.5, initial=1.0)
    with pytest.raises(ValueError, match="^signal"):
        baseline.update([1.0, np.nan])
    assert baseline.value == 1.0


def test_nvil_centring_with_an_input_dependent_part_is_unbiased_and_normalisation_divides():
    """Frozen state: b = c + w.x does not depend on z, so the mean is exact; with v = 16 it is exact / 4."""
    nvil = NVILBaseline(num_features=1, decay=0.0, normalize=False)
    nvil.update(np.array([3.0, 5.0]), features=[[1.0], [1.0]])
    given = nvil.given([2.0])
    expected = PROBS @ ((F - given(F, None))[:, None] * SCORE)
    np.testing.assert_allclose(expected, EXACT, atol=1e-14)
    scaled = NVILBaseline(decay=0.5, normalize=True)
    scaled.variance = 16.0
    expected = PROBS @ ((F - scaled(F, None))[:, None] * SCORE)
    np.testing.assert_allclose(expected, EXACT / 4.0, atol=1e-14)


def test_nvil_regression_learns_an_input_dependent_signal():
    nvil = NVILBaseline(num_features=2, decay=0.5, learning_rate=0.5, normalize=False)
    features = np.array([[1.0, 0.0], [0.0, 1.0]])
    for _ in range(300):
        nvil.update([3.0, -1.0], features)
    np.testing.assert_allclose(
        nvil.given(features)(np.zeros(2), None), [3.0, -1.0], atol=1e-6
    )

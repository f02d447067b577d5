"""The sigmoid belief network: exact sums against brute force, the recognition network as a family, training."""

import itertools
import time

import numpy as np
import pytest
from conftest import standard_error

from elbo_grad import (
    Family,
    LeaveOneOutBaseline,
    RecognitionNetwork,
    SigmoidBeliefNetwork,
    bars_and_stripes,
    belief_network,
    elbo_gradient,
    train_nvil,
)

MODEL = SigmoidBeliefNetwork.initialize(num_visible=4, num_hidden=3, scale=1.0, rng=0)
RECOGNITION = RecognitionNetwork.initialize(
    num_visible=4, num_hidden=3, scale=1.0, rng=1
)
X = bars_and_stripes(2)  # 6 images of 4 pixels
STATES = np.array(list(itertools.product([0.0, 1.0], repeat=3)))


def brute_force_log_q(x, z):
    """ln q(z | x) from the definition, one data row and one state at a time."""
    pi = 1 / (1 + np.exp(-(RECOGNITION.weights @ x + RECOGNITION.bias)))
    return np.sum(np.log(np.where(z == 1, pi, 1 - pi)))


def test_bars_and_stripes_are_distinct_and_complete():
    images = bars_and_stripes(3)
    assert images.shape == (14, 9) and len(np.unique(images, axis=0)) == 14


def test_exact_sums_match_a_loop_over_states_and_probabilities_sum_to_one():
    every_x = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    joint = np.array(
        [[MODEL.log_joint(x[None], s[None])[0] for s in STATES] for x in every_x]
    )
    np.testing.assert_allclose(
        MODEL.log_marginal(every_x), np.log(np.exp(joint).sum(axis=1)), rtol=1e-12
    )
    assert np.exp(MODEL.log_marginal(every_x)).sum() == pytest.approx(1.0, rel=1e-12)
    log_q = np.array([[brute_force_log_q(x, s) for s in STATES] for x in X])
    joint = np.array(
        [[MODEL.log_joint(x[None], s[None])[0] for s in STATES] for x in X]
    )
    np.testing.assert_allclose(
        MODEL.exact_elbo(X, RECOGNITION),
        np.sum(np.exp(log_q) * (joint - log_q), axis=1),
        rtol=1e-12,
    )
    assert np.all(MODEL.exact_elbo(X, RECOGNITION) < MODEL.log_marginal(X))


def test_exact_gradients_match_finite_differences_of_the_exact_elbo():
    grad_theta, grad_phi = MODEL.exact_elbo_gradient(X, RECOGNITION)
    step = 1e-6

    def mean_elbo(networks):
        model, recognition = networks
        return model.exact_elbo(X, recognition).mean()

    def slope(make, params, e):
        return (
            mean_elbo(make(params + step * e)) - mean_elbo(make(params - step * e))
        ) / (2 * step)

    theta = [
        slope(lambda p: (MODEL.with_params(p), RECOGNITION), MODEL.params, e)
        for e in np.eye(MODEL.num_params)
    ]
    phi = [
        slope(lambda p: (MODEL, RECOGNITION.with_params(p)), RECOGNITION.params, e)
        for e in np.eye(RECOGNITION.num_params)
    ]
    np.testing.assert_allclose(grad_theta, theta, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_phi, phi, rtol=1e-6, atol=1e-8)


def test_the_bound_recognition_network_is_a_family_with_the_right_score():
    q = RECOGNITION.given(X)
    assert isinstance(q, Family) and (q.dim, q.num_params) == (3, 15)
    z = np.tile(
        STATES[[1, 6, 3, 0, 7, 5]], (2, 1)
    )  # 12 rows: two blocks of one state per data row
    log_q = np.array([brute_force_log_q(X[i % 6], z[i]) for i in range(12)])
    np.testing.assert_allclose(q.log_prob(z), log_q, rtol=1e-12)
    step = 1e-6
    differences = np.array(
        [
            (
                q.with_params(q.params + step * e).log_prob(z)
                - q.with_params(q.params - step * e).log_prob(z)
            )
            / (2 * step)
            for e in np.eye(q.num_params)
        ]
    ).T
    np.testing.assert_allclose(q.score(z), differences, rtol=1e-6, atol=1e-8)
    weights = np.linspace(-1.0, 2.0, 12)
    np.testing.assert_allclose(
        q.score_mean(z, weights),
        (weights[:, None] * q.score(z)).mean(axis=0),
        rtol=1e-12,
    )
    np.testing.assert_array_equal(q.with_params(q.params).x, X)
    with pytest.raises(
        ValueError, match="^num_samples must be a multiple of len\\(x\\) = 6"
    ):
        q.sample(7, rng=0)


def test_general_elbo_gradient_on_the_recognition_network_matches_the_exact_gradient():
    """4000 samples per row in one call, within its own standard errors; and 2000 calls of one sample per row."""
    _, exact = MODEL.exact_elbo_gradient(X, RECOGNITION)
    q = RECOGNITION.given(X)
    estimate = elbo_gradient(lambda z: MODEL.log_joint(X, z), q, 6 * 4000, rng=0)
    assert np.all(np.abs(estimate.gradient - exact) < 4 * estimate.standard_error)
    gradients = np.array(
        [
            elbo_gradient(lambda z: MODEL.log_joint(X, z), q, 6, rng=seed).gradient
            for seed in range(2000)
        ]
    )
    assert np.all(
        np.abs(gradients.mean(axis=0) - exact) < 4 * standard_error(gradients)
    )


def test_samples_row_i_come_from_data_row_i_mod_n():
    q = RecognitionNetwork([[8.0, -8.0]], [0.0]).given(
        [[1.0, 0.0], [0.0, 1.0]]
    )  # pi = sigma(8), sigma(-8)
    z = q.sample(20_000, rng=0).reshape(10_000, 2)
    pi = 1 / (1 + np.exp(-np.array([8.0, -8.0])))
    assert np.all(
        np.abs(z.mean(axis=0) - pi) < 4 * np.sqrt(pi * (1 - pi) / 10_000) + 1e-12
    )


def test_log_joint_checks_x_and_z_separately():
    model = SigmoidBeliefNetwork([0.0], [[0.0], [0.0]], [0.0, 0.0])
    with pytest.raises(TypeError, match="^z must be"):
        model.log_joint([[0.0, 1.0], [1.0, 1.0]], None)
    with pytest.raises(ValueError, match="^x must have shape"):
        model.log_joint([[0.0, 1.0, 1.0]], [[1.0]])
    with pytest.raises(ValueError, match="^z must have a multiple"):
        model.log_joint([[0.0, 1.0], [1.0, 1.0]], [[1.0]])


def test_log_marginal_of_a_large_network_runs_in_bounded_memory_or_is_refused_quickly():
    model = SigmoidBeliefNetwork.initialize(784, 12, rng=0)
    x = (np.random.default_rng(0).random((1000, 784)) < 0.5).astype(float)
    values = model.log_marginal(
        x
    )  # 4096 states x 1000 rows: 4 million numbers, not 3 billion
    assert (
        values.shape == (1000,) and np.all(np.isfinite(values)) and np.all(values < 0)
    )
    start = time.perf_counter()
    with pytest.raises(ValueError, match="^an exact sum over 2\\*\\*16"):
        SigmoidBeliefNetwork.initialize(784, 16, rng=0).log_marginal(x)
    assert time.perf_counter() - start < 0.5


SETTINGS = dict(
    num_steps=300,
    batch_size=10,
    step_size=0.3,
    eval_every=100,
    variance_repeats=10,
    rng=0,
)


@pytest.mark.parametrize(
    "switches",
    [
        dict(),
        dict(centering=True),
        dict(centering=True, input_baseline=True, variance_normalization=True),
        dict(num_samples=4, leave_one_out=True),
    ],
    ids=["plain", "centring", "nvil", "leave-one-out"],
)
def test_training_raises_the_exact_log_likelihood(switches):
    history = train_nvil(bars_and_stripes(3), 4, **SETTINGS, **switches)
    np.testing.assert_array_equal(history.steps, [0, 100, 200, 300])
    assert history.elbo_estimate.shape == (300,) and not history.interrupted
    assert np.all(history.elbo <= history.log_likelihood)
    assert (
        history.log_likelihood[-1] > history.log_likelihood[0] + 0.1
    )  # fixed seed: gains 0.14 to 0.40 nats
    assert history.log_likelihood[-1] == pytest.approx(
        history.model.log_marginal(bars_and_stripes(3)).mean()
    )


def test_leave_one_out_within_rows_is_unbiased():
    """The package's leave-one-out baseline applied within each data row's 4 samples, as training uses it."""
    _, exact = MODEL.exact_elbo_gradient(X, RECOGNITION)
    baseline = belief_network._PerRow(LeaveOneOutBaseline(), len(X))
    estimates = np.array(
        [
            elbo_gradient(
                lambda z: MODEL.log_joint(X, z),
                RECOGNITION.given(X),
                24,
                rng=seed,
                baseline=baseline,
            ).gradient
            for seed in range(3000)
        ]
    )
    assert np.all(
        np.abs(estimates.mean(axis=0) - exact) < 4 * standard_error(estimates)
    )


def test_interrupted_training_returns_a_consistent_history(monkeypatch, capsys):
    calls = {"n": 0}
    original = SigmoidBeliefNetwork.grad_log_joint

    def interrupting(self, x, z):
        calls["n"] += 1
        if calls["n"] == 42:
            raise KeyboardInterrupt
        return original(self, x, z)

    monkeypatch.setattr(SigmoidBeliefNetwork, "grad_log_joint", interrupting)
    history = train_nvil(bars_and_stripes(3), 4, **SETTINGS, progress=True)
    assert history.interrupted and history.elbo_estimate.shape == (41,)
    np.testing.assert_array_equal(history.steps, [0, 41])
    assert history.log_likelihood[-1] == pytest.approx(
        history.model.log_marginal(bars_and_stripes(3)).mean()
    )
    err = capsys.readouterr().err
    assert "interrupted after 41 of 300 steps" in err and "step 0/300" in err


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (dict(decay=np.nan), ValueError, "^decay must be finite"),
        (dict(decay=1.0), ValueError, "^decay must lie"),
        (dict(num_steps=10**9), ValueError, "^num_steps must be at most"),
        (dict(leave_one_out=True), ValueError, "^leave_one_out needs"),
        (dict(centering="yes"), TypeError, "^centering must be True or False"),
        (dict(batch_size=15), ValueError, "^batch_size must be at most the 14 rows"),
    ],
)
def test_bad_training_input_raises_before_running(arguments, error, message):
    settings = dict(SETTINGS) | arguments
    with pytest.raises(error, match=message):
        train_nvil(bars_and_stripes(3), 2, **settings)

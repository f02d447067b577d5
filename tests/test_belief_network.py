"""The sigmoid belief network: exact sums, gradients, estimators and the NVIL training loop.

Every exact quantity is checked by an independent route (a plain Python loop
over latent states, central finite differences, a closed-form posterior), and
every Monte Carlo estimate against an exact value within a stated multiple of
its own standard error.
"""

import itertools
import math

import numpy as np
import pytest

from elbo_grad import (
    RecognitionNetwork,
    SigmoidBeliefNetwork,
    bars_and_stripes,
    leave_one_out_baseline,
    train_nvil,
)

SEED = 2014
NUM_VISIBLE, NUM_HIDDEN = 4, 3


@pytest.fixture
def model():
    rng = np.random.default_rng(SEED)
    return SigmoidBeliefNetwork(
        prior_logits=rng.normal(0.0, 1.0, NUM_HIDDEN),
        weights=rng.normal(0.0, 1.5, (NUM_VISIBLE, NUM_HIDDEN)),
        visible_bias=rng.normal(0.0, 1.0, NUM_VISIBLE),
    )


@pytest.fixture
def recognition():
    rng = np.random.default_rng(SEED + 1)
    return RecognitionNetwork(
        weights=rng.normal(0.0, 1.0, (NUM_HIDDEN, NUM_VISIBLE)), bias=rng.normal(0.0, 1.0, NUM_HIDDEN)
    )


@pytest.fixture
def x():
    return np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1], [0, 1, 1, 0], [1, 1, 1, 1]], dtype=float)


def _sigmoid(a):
    return 1.0 / (1.0 + math.exp(-a))


def _log_bernoulli(value, probability):
    return math.log(probability) if value == 1 else math.log(1.0 - probability)


def loop_log_joint(model, x_row, z_row):
    """ln p(x, z) by a plain loop over units, straight from the definition."""
    total = sum(_log_bernoulli(z_row[h], _sigmoid(model.prior_logits[h])) for h in range(model.num_hidden))
    for d in range(model.num_visible):
        logit = model.visible_bias[d] + sum(model.weights[d, h] * z_row[h] for h in range(model.num_hidden))
        total += _log_bernoulli(x_row[d], _sigmoid(logit))
    return total


def loop_log_q(recognition, x_row, z_row):
    total = 0.0
    for h in range(recognition.num_hidden):
        logit = recognition.bias[h] + sum(recognition.weights[h, d] * x_row[d] for d in range(recognition.num_visible))
        total += _log_bernoulli(z_row[h], _sigmoid(logit))
    return total


def central_difference(function, params, step=1e-6):
    return np.array(
        [(function(params + step * e) - function(params - step * e)) / (2 * step) for e in np.eye(params.size)]
    )


# -- data --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_bars_and_stripes_are_distinct_and_complete(size):
    images = bars_and_stripes(size)
    assert images.shape == (2 * 2**size - 2, size * size)
    assert len(np.unique(images, axis=0)) == len(images), "duplicate images"
    squares = images.reshape(-1, size, size)
    is_bars = np.all(squares == squares[:, :1, :], axis=(1, 2))  # every row the same
    is_stripes = np.all(squares == squares[:, :, :1], axis=(1, 2))  # every column the same
    assert np.all(is_bars | is_stripes)
    # Every subset of columns appears as bars and every subset of rows as stripes.
    assert len({tuple(s[0]) for s in squares[is_bars]}) == 2**size
    assert len({tuple(s[:, 0]) for s in squares[is_stripes]}) == 2**size


def test_bars_and_stripes_of_size_four_has_thirty_images():
    images = bars_and_stripes()
    assert images.shape == (30, 16)
    assert set(np.unique(images)) == {0.0, 1.0}


@pytest.mark.parametrize(("size", "error"), [(0, ValueError), (13, ValueError), (2.0, TypeError), (True, TypeError)])
def test_bars_and_stripes_rejects_bad_size(size, error):
    with pytest.raises(error, match="size"):
        bars_and_stripes(size)


# -- exact sums ----------------------------------------------------------------------------


def test_log_joint_and_log_q_match_plain_loops(model, recognition, x):
    z = recognition.sample(x, 3, rng=SEED)
    log_joint = model.log_joint(x, z)
    log_q = recognition.log_prob(x, z)
    for s, n in itertools.product(range(3), range(len(x))):
        assert log_joint[s, n] == pytest.approx(loop_log_joint(model, x[n], z[s, n]), rel=1e-12)
        assert log_q[s, n] == pytest.approx(loop_log_q(recognition, x[n], z[s, n]), rel=1e-12)


def test_log_marginal_matches_brute_force_loop(model, x):
    for n in range(len(x)):
        total = sum(
            math.exp(loop_log_joint(model, x[n], z_row))
            for z_row in itertools.product([0, 1], repeat=model.num_hidden)
        )
        assert model.log_marginal(x)[n] == pytest.approx(math.log(total), rel=1e-12)


def test_log_marginal_sums_to_one_over_all_images(model):
    every_x = np.array(list(itertools.product([0.0, 1.0], repeat=model.num_visible)))
    assert np.exp(model.log_marginal(every_x)).sum() == pytest.approx(1.0, rel=1e-12)


def test_exact_elbo_matches_loop_and_bounds_log_marginal(model, recognition, x):
    elbo = model.exact_elbo(x, recognition)
    for n in range(len(x)):
        expected = 0.0
        for z_row in itertools.product([0, 1], repeat=model.num_hidden):
            log_q = loop_log_q(recognition, x[n], z_row)
            expected += math.exp(log_q) * (loop_log_joint(model, x[n], z_row) - log_q)
        assert elbo[n] == pytest.approx(expected, rel=1e-12)
    assert np.all(elbo < model.log_marginal(x))


def test_exact_posterior_with_one_latent_unit_makes_the_elbo_tight(x):
    """With H = 1 the posterior logit is linear in x, so q can equal p(z|x) and ELBO = ln p(x).

    ln p(z=1|x) - ln p(z=0|x) = b + w.x - sum_d [softplus(w_d + c_d) - softplus(c_d)].
    """
    rng = np.random.default_rng(SEED)
    w, c, b = rng.normal(0, 1.5, NUM_VISIBLE), rng.normal(0, 1, NUM_VISIBLE), rng.normal()
    model = SigmoidBeliefNetwork(prior_logits=[b], weights=w[:, None], visible_bias=c)
    offset = b - np.sum(np.logaddexp(0, w + c) - np.logaddexp(0, c))
    posterior = RecognitionNetwork(weights=w[None, :], bias=[offset])
    np.testing.assert_allclose(model.exact_elbo(x, posterior), model.log_marginal(x), rtol=1e-12)
    _, grad_phi = model.exact_elbo_gradient(x, posterior)
    np.testing.assert_allclose(grad_phi, 0.0, atol=1e-12)


# -- exact gradients against finite differences ----------------------------------------------


def test_grad_log_joint_matches_finite_differences(model, recognition, x):
    z = recognition.sample(x, 2, rng=SEED)
    analytic = model.grad_log_joint(x, z)  # (2, N, num_params)
    assert analytic.shape == (2, len(x), model.num_params)
    for s, n in itertools.product(range(2), range(len(x))):
        numerical = central_difference(
            lambda params: model.with_params(params).log_joint(x[n : n + 1], z[s, n : n + 1])[0], model.params
        )
        np.testing.assert_allclose(analytic[s, n], numerical, rtol=1e-6, atol=1e-7)


def test_score_matches_finite_differences(recognition, x):
    z = recognition.sample(x, 2, rng=SEED)
    analytic = recognition.score(x, z)
    assert analytic.shape == (2, len(x), recognition.num_params)
    for s, n in itertools.product(range(2), range(len(x))):
        numerical = central_difference(
            lambda params: recognition.with_params(params).log_prob(x[n : n + 1], z[s, n : n + 1])[0],
            recognition.params,
        )
        np.testing.assert_allclose(analytic[s, n], numerical, rtol=1e-6, atol=1e-7)


def test_exact_elbo_gradient_matches_finite_differences(model, recognition, x):
    grad_theta, grad_phi = model.exact_elbo_gradient(x, recognition)
    numerical_theta = central_difference(
        lambda params: model.with_params(params).exact_elbo(x, recognition).mean(), model.params
    )
    numerical_phi = central_difference(
        lambda params: model.exact_elbo(x, recognition.with_params(params)).mean(), recognition.params
    )
    np.testing.assert_allclose(grad_theta, numerical_theta, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_phi, numerical_phi, rtol=1e-6, atol=1e-8)


# -- Monte Carlo estimators against the exact gradient ----------------------------------------


def _within(estimates, exact, multiple=4.0):
    """Mean of rows of ``estimates`` within ``multiple`` standard errors of ``exact``, coordinatewise."""
    mean = estimates.mean(axis=0)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    deviation = np.abs(mean - exact)
    assert np.all(deviation < multiple * standard_error), np.max(deviation / standard_error)
    return standard_error


def test_score_function_phi_gradient_is_unbiased(model, recognition, x):
    """(1/N) sum_n l(x_n, z_n) grad ln q(z_n|x_n): one estimate per draw of z for every data point."""
    num_draws = 40_000
    z = recognition.sample(x, num_draws, rng=SEED)  # (draws, N, H)
    signal = model.learning_signal(x, z, recognition)
    estimates = (signal[..., None] * recognition.score(x, z)).mean(axis=1)
    _, exact_phi = model.exact_elbo_gradient(x, recognition)
    _within(estimates, exact_phi)


def test_theta_gradient_estimate_is_unbiased(model, recognition, x):
    num_draws = 40_000
    z = recognition.sample(x, num_draws, rng=SEED + 2)
    estimates = model.grad_log_joint(x, z).mean(axis=1)
    exact_theta, _ = model.exact_elbo_gradient(x, recognition)
    _within(estimates, exact_theta)


def test_leave_one_out_phi_gradient_is_unbiased_and_less_variable(model, recognition, x):
    num_draws, num_samples = 20_000, 4
    z = recognition.sample(x, num_draws * num_samples, rng=SEED + 3).reshape(
        num_draws, num_samples, len(x), model.num_hidden
    )
    signal = model.learning_signal(x, z, recognition)  # (draws, S, N)
    score = recognition.score(x, z)
    centred = signal - leave_one_out_baseline(signal, axis=1)
    loo = (centred[..., None] * score).mean(axis=(1, 2))
    plain = (signal[..., None] * score).mean(axis=(1, 2))
    _, exact_phi = model.exact_elbo_gradient(x, recognition)
    _within(loo, exact_phi)
    assert loo.var(axis=0).sum() < plain.var(axis=0).sum()


def test_batched_gradients_equal_the_mean_of_per_sample_gradients(model, recognition, x):
    z = recognition.sample(x, 3, rng=SEED)
    weights = np.random.default_rng(SEED).random((3, len(x)))
    np.testing.assert_allclose(
        model._weighted_gradient(x, z, weights),
        np.einsum("sn,snp->p", weights, model.grad_log_joint(x, z)),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        recognition._weighted_score(x, z, weights),
        np.einsum("sn,snp->p", weights, recognition.score(x, z)),
        rtol=1e-12,
    )


# -- bad input ---------------------------------------------------------------------------------


def test_networks_reject_bad_input(model, recognition, x):
    with pytest.raises(ValueError, match="weights"):
        SigmoidBeliefNetwork(prior_logits=[0.0, 0.0], weights=np.zeros((3, 3)), visible_bias=np.zeros(3))
    with pytest.raises(ValueError, match="prior_logits"):
        SigmoidBeliefNetwork(prior_logits=[np.nan], weights=np.zeros((3, 1)), visible_bias=np.zeros(3))
    with pytest.raises(ValueError, match="x must hold only 0s and 1s"):
        model.log_marginal(x * 0.5)
    with pytest.raises(ValueError, match="last axis of length 4"):
        model.log_marginal(x[:, :3])
    with pytest.raises(ValueError, match="does not broadcast"):
        model.log_joint(x, np.zeros((2, 3, NUM_HIDDEN)))
    with pytest.raises(TypeError, match="recognition"):
        model.exact_elbo(x, object())
    with pytest.raises(ValueError, match="recognition"):
        model.exact_elbo(x, RecognitionNetwork(weights=np.zeros((2, NUM_VISIBLE)), bias=np.zeros(2)))
    with pytest.raises(ValueError, match="num_hidden must be at most 12"):
        SigmoidBeliefNetwork.initialize(2, 13, rng=0).log_marginal(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="num_samples"):
        recognition.sample(x, 0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(leave_one_out=True, num_samples=1), ValueError, "num_samples"),
        (dict(leave_one_out=True, num_samples=4, centering=True), ValueError, "centering"),
        (dict(batch_size=31), ValueError, "batch_size"),
        (dict(learning_rate=0.0), ValueError, "learning_rate"),
        (dict(learning_rate=np.inf), ValueError, "learning_rate"),
        (dict(num_steps=2.5), TypeError, "num_steps"),
        (dict(centering=1), TypeError, "centering"),
        (dict(num_hidden=13), ValueError, "num_hidden"),
        (dict(variance_repeats=1), ValueError, "variance_repeats"),
        (dict(decay=1.0, centering=True), ValueError, "decay"),
        (dict(model=SigmoidBeliefNetwork.initialize(16, 3, rng=0)), ValueError, "model"),
        (dict(recognition="q"), TypeError, "recognition"),
    ],
)
def test_train_nvil_rejects_bad_input(kwargs, error, match):
    arguments = dict(num_hidden=2, num_steps=5, batch_size=10, learning_rate=0.1, rng=0) | kwargs
    with pytest.raises(error, match=match):
        train_nvil(bars_and_stripes(4), **arguments)


def test_train_nvil_rejects_non_binary_data():
    with pytest.raises(ValueError, match="data"):
        train_nvil(bars_and_stripes(2) * 0.5, 2, num_steps=5, batch_size=2, learning_rate=0.1)


# -- the training loop -------------------------------------------------------------------------


def test_training_is_reproducible_and_shares_the_start_across_switches():
    data = bars_and_stripes(3)
    common = dict(num_steps=30, batch_size=5, learning_rate=0.2, eval_every=10, rng=SEED)
    first = train_nvil(data, 3, centering=True, **common)
    again = train_nvil(data, 3, centering=True, **common)
    other = train_nvil(data, 3, num_samples=2, leave_one_out=True, **common)
    np.testing.assert_array_equal(first.log_likelihood, again.log_likelihood)
    np.testing.assert_array_equal(first.elbo_estimate, again.elbo_estimate)
    # Same seed, different switches: the same initial networks.
    assert first.log_likelihood[0] == other.log_likelihood[0]
    assert first.elbo[0] == other.elbo[0]
    assert first.signal_evaluations_per_step == 5 and other.signal_evaluations_per_step == 10


def test_measured_gradient_variance_matches_the_exact_variance():
    """At step 0 the plain estimator's variance is known exactly by enumeration.

    One estimate is (1/N) sum_n l_n grad ln q_n with independent z_n, so its
    total variance is (1/N^2) sum_n sum_j Var_q[l_n g_nj]. The measured value is
    a sample variance of 4000 estimates: its relative standard error is about
    sqrt(2/4000) = 2.2%, so 10% is more than 4 standard errors.
    """
    data = bars_and_stripes(2)
    model = SigmoidBeliefNetwork.initialize(4, 3, scale=1.0, rng=SEED)
    recognition = RecognitionNetwork.initialize(4, 3, scale=1.0, rng=SEED + 1)
    history = train_nvil(
        data, 3, num_steps=1, batch_size=6, learning_rate=0.1, variance_repeats=4000,
        model=model, recognition=recognition, rng=SEED,
    )
    states = np.array(list(itertools.product([0.0, 1.0], repeat=3)))[:, None, :]
    q = np.exp(recognition.log_prob(data, states))  # (8, N)
    terms = model.learning_signal(data, states, recognition)[..., None] * recognition.score(data, states)
    mean = np.einsum("kn,knj->nj", q, terms)
    second_moment = np.einsum("kn,knj->nj", q, terms**2)
    exact_variance = np.sum(second_moment - mean**2) / len(data) ** 2
    assert history.gradient_variance[0] == pytest.approx(exact_variance, rel=0.10)
    assert history.gradient_norm_squared[0] == pytest.approx(np.sum(mean.mean(axis=0) ** 2), rel=1e-9)


def test_nvil_learns_bars_and_stripes():
    """A short run of full NVIL raises the exact log-likelihood well above its start."""
    history = train_nvil(
        bars_and_stripes(4),
        8,
        num_steps=1000,
        batch_size=10,
        learning_rate=0.3,
        centering=True,
        input_baseline=True,
        variance_normalization=True,
        eval_every=500,
        rng=SEED,
    )
    assert history.log_likelihood[0] < -10.5
    assert history.log_likelihood[-1] > -7.0
    assert np.all(history.elbo <= history.log_likelihood)


def test_entropy_matches_enumeration(recognition, x):
    states = np.array(list(itertools.product([0.0, 1.0], repeat=NUM_HIDDEN)))[:, None, :]
    log_q = recognition.log_prob(x, states)
    np.testing.assert_allclose(recognition.entropy(x), -np.sum(np.exp(log_q) * log_q, axis=0), rtol=1e-12)

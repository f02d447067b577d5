"""Every baseline and control variate: unbiased where claimed, biased where documented, and what it does to the variance."""

import numpy as np
import pytest

from elbo_grad import (
    Bernoulli,
    BoltzmannChain,
    Categorical,
    ConjugateGaussian,
    DiagonalGaussian,
    LinearBaseline,
    MovingAverageBaseline,
    VarianceNormalizer,
    elbo_gradient,
    learning_signal,
    leave_one_out_baseline,
    leave_one_out_optimal_baseline,
    local_elbo_gradient,
    local_learning_signal,
    local_score_function_gradient,
    local_score_function_terms,
    optimal_baseline,
    score_function_gradient,
    score_function_terms,
)
from elbo_grad.exact import (
    exact_elbo_gradient,
    exact_gradient,
    exact_optimal_baseline,
    exact_single_sample_variance,
)

SEED = 2016
TOLERANCE = 4.0  # standard errors


@pytest.fixture
def q():
    return DiagonalGaussian(mean=0.3, log_std=-0.4)


def batches(model, q, num_samples, num_repeats, seed=SEED):
    """Learning signals and scores of many independent batches: samples on axis 0, batches on axis 1."""
    z = q.sample(num_samples * num_repeats, rng=seed)
    signal = learning_signal(model.log_joint, q, z).reshape(num_samples, num_repeats)
    score = q.score(z).reshape(num_samples, num_repeats, q.num_params)
    return signal, score


def mean_and_standard_error(estimates):
    return estimates.mean(axis=0), estimates.std(axis=0, ddof=1) / np.sqrt(estimates.shape[0])


def test_per_parameter_constant_baseline_is_unbiased(conjugate_model, q):
    gradient, terms = elbo_gradient(
        conjugate_model.log_joint, q, 200_000, rng=SEED, baseline=np.array([-4.0, 9.0]), return_terms=True
    )
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(terms.shape[0])
    assert np.all(np.abs(gradient - conjugate_model.exact_elbo_gradient(q)) < TOLERANCE * standard_error)


def test_moving_average_baseline_is_carried_across_calls(conjugate_model, q):
    """Each call subtracts the current value, then folds in the batch's mean signal."""
    baseline = MovingAverageBaseline(decay=0.5, initial=-2.0)
    _, terms = elbo_gradient(conjugate_model.log_joint, q, 8, rng=SEED, baseline=baseline, return_terms=True)
    z = q.sample(8, rng=SEED)
    signal = learning_signal(conjugate_model.log_joint, q, z)
    np.testing.assert_allclose(terms, (signal + 2.0)[:, None] * q.score(z), rtol=1e-12)
    assert baseline.value == pytest.approx(0.5 * -2.0 + 0.5 * signal.mean(), rel=1e-12)


def test_moving_average_baseline_through_the_estimator_is_unbiased(conjugate_model, q):
    baseline = MovingAverageBaseline(decay=0.9)
    rng = np.random.default_rng(SEED)
    estimates = np.array(
        [elbo_gradient(conjugate_model.log_joint, q, 4, rng=rng, baseline=baseline) for _ in range(3000)]
    )
    mean, standard_error = mean_and_standard_error(estimates)
    assert np.all(np.abs(mean - conjugate_model.exact_elbo_gradient(q)) < TOLERANCE * standard_error)
    plain = np.array([elbo_gradient(conjugate_model.log_joint, q, 4, rng=rng) for _ in range(3000)])
    assert np.all(estimates.var(axis=0) < plain.var(axis=0))


@pytest.mark.parametrize("name", ["leave-one-out", "optimal", "optimal-leave-one-out"])
def test_named_baselines_match_their_functions(conjugate_model, q, name):
    _, terms = elbo_gradient(conjugate_model.log_joint, q, 6, rng=SEED, baseline=name, return_terms=True)
    z = q.sample(6, rng=SEED)
    signal, score = learning_signal(conjugate_model.log_joint, q, z), q.score(z)
    baseline = {
        "leave-one-out": lambda: leave_one_out_baseline(signal)[:, None],
        "optimal": lambda: optimal_baseline(signal, score),
        "optimal-leave-one-out": lambda: leave_one_out_optimal_baseline(signal, score),
    }[name]()
    np.testing.assert_allclose(terms, (signal[:, None] - baseline) * score, rtol=1e-12)
    np.testing.assert_allclose(score_function_terms(lambda z: learning_signal(conjugate_model.log_joint, q, z), q, z, baseline=name), terms, rtol=1e-12)


def test_gradient_without_terms_equals_mean_of_terms(conjugate_model, q):
    for baseline in (None, 2.0, "leave-one-out", "optimal"):
        gradient = elbo_gradient(conjugate_model.log_joint, q, 50, rng=SEED, baseline=baseline)
        _, terms = elbo_gradient(conjugate_model.log_joint, q, 50, rng=SEED, baseline=baseline, return_terms=True)
        np.testing.assert_allclose(gradient, terms.mean(axis=0), rtol=1e-12)


def test_optimal_baseline_matches_sample_covariance_over_variance():
    rng = np.random.default_rng(SEED)
    signal, score = rng.normal(size=7), rng.normal(size=(7, 3))
    expected = [np.cov(signal * score[:, k], score[:, k])[0, 1] / np.var(score[:, k], ddof=1) for k in range(3)]
    np.testing.assert_allclose(optimal_baseline(signal, score), expected, rtol=1e-12)


def test_leave_one_out_optimal_baseline_matches_brute_force():
    rng = np.random.default_rng(SEED)
    signal, score = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    expected = np.array([optimal_baseline(np.delete(signal, i, 0), np.delete(score, i, 0)) for i in range(6)])
    np.testing.assert_allclose(leave_one_out_optimal_baseline(signal, score), expected, rtol=1e-10)


def test_coefficient_is_zero_where_the_score_does_not_vary():
    score = np.full((4, 1), 2e-22)  # a Bernoulli score at logit 50: constant
    assert optimal_baseline(np.arange(4.0), score)[0] == 0.0
    np.testing.assert_array_equal(leave_one_out_optimal_baseline(np.arange(4.0), score), 0.0)


def test_same_sample_optimal_baseline_is_biased_and_leave_one_out_is_not(conjugate_model, q):
    """At n = 5 the coefficient fitted to the batch itself shifts the mean by many standard errors."""
    num_samples, num_repeats = 5, 50_000
    signal, score = batches(conjugate_model, q, num_samples, num_repeats)
    exact = conjugate_model.exact_elbo_gradient(q)

    def estimates(baseline):
        return ((signal[..., None] - baseline) * score).mean(axis=0)

    mean, standard_error = mean_and_standard_error(estimates(optimal_baseline(signal, score)))
    assert np.abs(mean - exact)[0] > 20 * standard_error[0]
    mean, standard_error = mean_and_standard_error(estimates(leave_one_out_optimal_baseline(signal, score)))
    assert np.all(np.abs(mean - exact) < TOLERANCE * standard_error)


def test_same_sample_optimal_baseline_bias_shrinks_with_n(conjugate_model, q):
    exact = conjugate_model.exact_elbo_gradient(q)
    biases = []
    for num_samples in (4, 32):
        signal, score = batches(conjugate_model, q, num_samples, 20_000)
        estimates = ((signal[..., None] - optimal_baseline(signal, score)) * score).mean(axis=0)
        biases.append(abs(estimates.mean(axis=0)[0] - exact[0]))
    assert biases[1] < biases[0] / 4


def test_batch_mean_baseline_equals_scaled_leave_one_out(conjugate_model, q):
    """l_i - mean(l) = (n-1)/n (l_i - b_i^LOO): the batch mean shrinks the estimate by (n-1)/n."""
    gradient = elbo_gradient(conjugate_model.log_joint, q, 5, rng=SEED, baseline="leave-one-out")
    z = q.sample(5, rng=SEED)
    signal = learning_signal(conjugate_model.log_joint, q, z)
    batch_mean = ((signal - signal.mean())[:, None] * q.score(z)).mean(axis=0)
    np.testing.assert_allclose(batch_mean, 4 / 5 * gradient, rtol=1e-12)


# --- Categorical with baselines ---------------------------------------------------


@pytest.mark.parametrize("baseline", [None, 1.5, "leave-one-out", "optimal-leave-one-out"])
def test_categorical_score_function_gradient_against_enumeration(baseline):
    q = Categorical([[0.4, -1.0, 0.2, 1.1], [0.0, 0.5, -0.5, 0.0]])

    def f(z):
        return (z[:, 0] - 1.5) ** 2 + np.cos(z[:, 1]) * z[:, 0]

    gradient, terms = score_function_gradient(f, q, 100_000, rng=SEED, baseline=baseline, return_terms=True)
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(terms.shape[0])
    assert np.all(np.abs(gradient - exact_gradient(f, q)) < TOLERANCE * standard_error)


# --- Local learning signals (Rao-Blackwellisation) ------------------------------


@pytest.fixture
def chain():
    return BoltzmannChain(field=[0.5, -1.0, 1.5, 0.2, -0.3, 0.8], coupling=[1.2, -2.0, 0.7, 1.5, -0.4])


@pytest.fixture
def chain_q():
    return Bernoulli(logits=[0.2, -0.5, 1.0, 0.0, -1.2, 0.6])


def test_local_log_joint_has_every_factor_containing_z_d(chain):
    """Changing z_d changes log_joint exactly as it changes local_log_joint[:, d]."""
    rng = np.random.default_rng(SEED)
    z = (rng.random((20, chain.dim)) < 0.5).astype(float)
    for d in range(chain.dim):
        flipped = z.copy()
        flipped[:, d] = 1 - flipped[:, d]
        np.testing.assert_allclose(
            chain.log_joint(flipped) - chain.log_joint(z),
            chain.local_log_joint(flipped)[:, d] - chain.local_log_joint(z)[:, d],
            atol=1e-12,
        )


@pytest.mark.parametrize("baseline", [None, "leave-one-out"])
def test_local_elbo_gradient_is_unbiased(chain, chain_q, baseline):
    gradient, terms = local_elbo_gradient(
        chain.local_log_joint, chain_q, 100_000, rng=SEED, baseline=baseline, return_terms=True
    )
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(terms.shape[0])
    exact = exact_elbo_gradient(chain.log_joint, chain_q)
    assert np.all(np.abs(gradient - exact) < TOLERANCE * standard_error)


def test_local_signals_reduce_the_exact_variance_given_the_best_baselines(chain, chain_q):
    """By enumeration. The dropped terms r(z_-d) add E[r^2] E[s^2] + 2 E[r] E[f_d s^2] to the variance:
    noise, plus a constant shift that acts as a baseline. With each estimator's optimal constant
    baseline the shift is gone and local signals win for every parameter; without baselines they
    can lose for some (here they do)."""

    def signal(z):
        return learning_signal(chain.log_joint, chain_q, z)

    def local_signal(z):
        return local_learning_signal(chain.local_log_joint, chain_q, z)

    def variances(global_baseline, local_baseline):
        global_variance = exact_single_sample_variance(
            lambda z: score_function_terms(signal, chain_q, z, baseline=global_baseline), chain_q
        )
        local_variance = exact_single_sample_variance(
            lambda z: local_score_function_terms(local_signal, chain_q, z, baseline=local_baseline), chain_q
        )
        return global_variance, local_variance

    global_variance, local_variance = variances(
        exact_optimal_baseline(signal, chain_q),
        exact_optimal_baseline(lambda z: local_signal(z)[:, chain_q.param_dims], chain_q),
    )
    assert np.all(local_variance < global_variance)
    global_variance, local_variance = variances(None, None)
    assert np.any(local_variance > global_variance)


def test_local_score_function_gradient_on_a_gaussian():
    """f(z) = z_1^2 + z_1 z_2 + z_3: local parts z_1^2 + z_1 z_2, z_1 z_2, z_3."""
    q = DiagonalGaussian(mean=[0.5, -1.0, 2.0], log_std=[0.0, -0.5, 0.3])

    def local_f(z):
        return np.stack([z[:, 0] ** 2 + z[:, 0] * z[:, 1], z[:, 0] * z[:, 1], z[:, 2]], axis=1)

    gradient, terms = local_score_function_gradient(local_f, q, 200_000, rng=SEED, return_terms=True)
    exact = exact_gradient(lambda z: z[:, 0] ** 2 + z[:, 0] * z[:, 1] + z[:, 2], q, num_points=4)
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(terms.shape[0])
    assert np.all(np.abs(gradient - exact) < TOLERANCE * standard_error)


def test_local_function_with_wrong_shape_raises(chain_q):
    with pytest.raises(ValueError, match="local_f"):
        local_score_function_gradient(lambda z: z[:, 0], chain_q, 10, rng=0)
    with pytest.raises(ValueError, match="local_log_joint"):
        local_elbo_gradient(lambda z: z[:, :2], chain_q, 10, rng=0)


# --- NVIL's normaliser and input-dependent baseline ----------------------------


def test_variance_normalisation_shrinks_the_mean_by_the_expected_scale(conjugate_model, q):
    """The divisor is fixed before the samples are drawn: E[estimate] = g * E[1 / scale]."""
    rng = np.random.default_rng(SEED)
    centring, normalizer = MovingAverageBaseline(decay=0.9), VarianceNormalizer(decay=0.9)
    estimates, inverse_scales = [], []
    for _ in range(3000):
        z = q.sample(4, rng=rng)
        signal = learning_signal(conjugate_model.log_joint, q, z)
        centred = signal - centring.value
        inverse_scales.append(1 / normalizer.scale)
        estimates.append((normalizer.normalize(centred)[:, None] * q.score(z)).mean(axis=0))
        centring.update(signal)
        normalizer.update(centred)
    mean, standard_error = mean_and_standard_error(np.array(estimates))
    expected = conjugate_model.exact_elbo_gradient(q) * np.mean(inverse_scales)
    assert np.all(np.abs(mean - expected) < TOLERANCE * standard_error)
    assert np.mean(inverse_scales) < 0.5  # the length really is shrunk


def test_linear_input_dependent_baseline_is_unbiased_for_every_input(q):
    """Three data sets, one shared q: predicting b(x) before updating keeps each data set's estimate unbiased."""
    models = [ConjugateGaussian(x=x) for x in ([0.5, 1.0], [-2.0, -1.0], [3.0, 4.0])]
    features = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # one-hot codes of the data sets
    baseline = LinearBaseline(num_features=3, learning_rate=0.05)
    rng = np.random.default_rng(SEED)
    estimates = {j: [] for j in range(3)}
    for step in range(6000):
        j = step % 3
        b = float(baseline.predict(features[[j]])[0])
        z = q.sample(4, rng=rng)
        signal = learning_signal(models[j].log_joint, q, z)
        estimates[j].append(((signal - b)[:, None] * q.score(z)).mean(axis=0))
        baseline.update(features[[j]], [signal.mean()])
    for j, model in enumerate(models):
        mean, standard_error = mean_and_standard_error(np.array(estimates[j]))
        assert np.all(np.abs(mean - model.exact_elbo_gradient(q)) < TOLERANCE * standard_error), j
    # And it has learned each data set's mean learning signal, the ELBO.
    np.testing.assert_allclose(baseline.predict(features), [m.exact_elbo(q) for m in models], atol=0.5)

"""fit, Adam and SGD: the fitted q reaches the exact posterior of the conjugate model."""

import numpy as np
import pytest
from conftest import standard_error

from elbo_grad import (
    Bernoulli,
    ConjugateGaussian,
    DiagonalGaussian,
    LeaveOneOutBaseline,
    MovingAverageBaseline,
)
from elbo_grad.optim import SGD, Adam, FitResult, fit

MODEL = ConjugateGaussian(x=[0.8, 1.9, 1.4], prior_std=1.3, noise_std=0.7)


def batch_means_standard_error(path, num_batches=25):
    """The standard error of the mean of an autocorrelated series, from the spread of its batch means."""
    means = path.reshape(num_batches, -1, *path.shape[1:]).mean(axis=1)
    return standard_error(means)


def test_adam_reaches_the_posterior_within_its_standard_error():
    result = fit(
        MODEL.log_joint,
        DiagonalGaussian(0.0, 0.0),
        num_steps=1500,
        step_size=0.02,
        num_samples=50,
        rng=0,
    )
    assert (
        isinstance(result, FitResult)
        and result.params.shape == (1501, 2)
        and result.elbo.shape == (1500,)
    )
    tail = result.params[-500:]
    standard_error = batch_means_standard_error(tail)
    assert np.all(
        np.abs(tail.mean(axis=0) - MODEL.posterior().params) < 4 * standard_error
    )
    # The ELBO estimates against the closed-form ELBO at the same parameters, then the bound's gap.
    exact = np.array(
        [MODEL.exact_elbo(DiagonalGaussian(*p)) for p in result.params[-501:-1]]
    )
    difference = result.elbo[-500:] - exact
    assert abs(difference.mean()) < 4 * batch_means_standard_error(difference)
    assert (
        0
        <= MODEL.log_evidence() - exact.mean()
        < 0.01
        < MODEL.log_evidence() - result.elbo[:10].mean()
    )


@pytest.mark.parametrize(
    "baseline", [LeaveOneOutBaseline(), MovingAverageBaseline(0.9)]
)
def test_with_a_baseline_the_fit_is_exact_because_the_signal_is_constant_at_the_posterior(
    baseline,
):
    """At q = p(z | x) the learning signal is ln p(x) for every z: a baseline cancels it, the gradient is 0."""
    result = fit(
        MODEL.log_joint,
        DiagonalGaussian(0.0, 0.0),
        num_steps=1500,
        step_size=0.02,
        num_samples=50,
        baseline=baseline,
        rng=0,
    )
    np.testing.assert_allclose(result.q.params, MODEL.posterior().params, atol=1e-9)
    assert result.elbo[-1] == pytest.approx(MODEL.log_evidence(), abs=1e-9)


def test_sgd_climbs_the_elbo_of_a_bernoulli():
    def log_joint(z):
        return (
            2.0 * z[:, 0] - 1.0 * z[:, 1]
        )  # the posterior is proportional to exp(2 z_1 - z_2): logits (2, -1)

    result = fit(
        log_joint,
        Bernoulli([0.0, 0.0]),
        num_steps=3000,
        step_size=0.5,
        num_samples=20,
        optimizer="sgd",
        baseline=LeaveOneOutBaseline(),
        rng=1,
    )
    np.testing.assert_allclose(result.params[-500:].mean(axis=0), [2.0, -1.0], atol=0.1)


def test_the_optimisers_steps_by_their_formulas():
    np.testing.assert_allclose(
        SGD(0.5).step(np.array([1.0, 2.0]), np.array([2.0, -2.0])), [2.0, 1.0]
    )
    adam, params = Adam(0.1, beta1=0.5, beta2=0.75), np.zeros(1)
    gradients, m, v = [2.0, -1.0], 0.0, 0.0
    for t, g in enumerate(gradients, start=1):  # by hand: bias-corrected moments
        m, v = 0.5 * m + 0.5 * g, 0.75 * v + 0.25 * g**2
        expected = params + 0.1 * (m / (1 - 0.5**t)) / (
            np.sqrt(v / (1 - 0.75**t)) + 1e-8
        )
        params = adam.step(params, np.array([g]))
        np.testing.assert_allclose(params, expected, rtol=1e-14)


def test_callback_progress_and_interruption(capsys):
    calls = []

    def callback(step, q, estimate):
        calls.append((step, q.params.copy()))
        if step == 6:
            raise KeyboardInterrupt

    result = fit(
        MODEL.log_joint,
        DiagonalGaussian(0.0, 0.0),
        num_steps=100,
        step_size=0.05,
        num_samples=10,
        callback=callback,
        progress=True,
        rng=0,
    )
    assert (
        result.interrupted
        and result.params.shape == (8, 2)
        and result.elbo.shape == (7,)
    )
    np.testing.assert_array_equal(result.q.params, result.params[-1])
    np.testing.assert_array_equal(calls[-1][1], result.params[-1])
    assert [step for step, _ in calls] == list(range(7))
    assert "interrupted after 7 of 100 steps" in capsys.readouterr().err
    fit(
        MODEL.log_joint,
        DiagonalGaussian(0.0, 0.0),
        num_steps=40,
        step_size=0.05,
        num_samples=10,
        progress=True,
        rng=0,
    )
    assert capsys.readouterr().err.count("step ") == 20


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (dict(optimizer="newton"), ValueError, "^optimizer must"),
        (dict(step_size=0.0), ValueError, "^step_size must"),
        (dict(num_steps=10**12), ValueError, "^num_steps must"),
        (dict(callback=3), TypeError, "^callback must"),
        (
            dict(log_joint=DiagonalGaussian(0.0, 0.0), q=MODEL.log_joint),
            TypeError,
            "^log_joint must",
        ),
        (dict(q=DiagonalGaussian), TypeError, "^q must"),
    ],
)
def test_bad_input_raises(arguments, error, message):
    call = dict(
        log_joint=MODEL.log_joint,
        q=DiagonalGaussian(0.0, 0.0),
        num_steps=5,
        step_size=0.1,
        num_samples=5,
    )
    call.update(arguments)
    log_joint, q = call.pop("log_joint"), call.pop("q")
    with pytest.raises(error, match=message):
        fit(log_joint, q, **call)

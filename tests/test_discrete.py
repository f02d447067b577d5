"""ARM, DisARM and the Gumbel-softmax relaxation against enumeration and quadrature."""

import numpy as np
import pytest
from conftest import standard_error

from elbo_grad import (
    Bernoulli,
    Categorical,
    DiagonalGaussian,
    arm_terms,
    disarm_terms,
    exact_gradient,
    exact_straight_through_gradient,
    gumbel_softmax_terms,
)

SEED = 2020
NUM_SAMPLES = 200_000
TOLERANCE = 4.0  # standard errors


def f(z):
    """A function of three binary latents with interactions (not linear, not separable)."""
    return (z[:, 0] - 0.4) ** 2 + 2.0 * z[:, 1] * z[:, 2] - 3.0 * z[:, 0] * z[:, 2]


def grad_f(z):
    """The gradient of ``f``'s polynomial in real z, written by hand."""
    return np.stack(
        [
            2.0 * (z[:, 0] - 0.4) - 3.0 * z[:, 2],
            2.0 * z[:, 2],
            2.0 * z[:, 1] - 3.0 * z[:, 0],
        ],
        axis=1,
    )


LOGITS = [[-1.2, 0.3, 2.0], [0.0, 0.0, 0.0], [3.5, -2.5, 0.8]]


def assert_within_standard_errors(terms, exact):
    deviation = np.abs(terms.mean(axis=0) - exact)
    assert np.all(deviation < TOLERANCE * standard_error(terms)), (
        terms.mean(axis=0),
        exact,
        standard_error(terms),
    )


@pytest.mark.parametrize("terms_fn", [arm_terms, disarm_terms])
@pytest.mark.parametrize("logits", LOGITS)
def test_unbiased_estimators_match_enumeration(terms_fn, logits):
    q = Bernoulli(logits=logits)
    terms = terms_fn(f, q, NUM_SAMPLES, rng=SEED)
    assert terms.shape == (NUM_SAMPLES, q.num_params)
    assert_within_standard_errors(terms, exact_gradient(f, q))


@pytest.mark.parametrize("terms_fn", [arm_terms, disarm_terms])
def test_one_dimension_closed_form(terms_fn):
    # d/dphi E[z] = sigma(phi)(1 - sigma(phi)), by hand.
    phi = -0.7
    q = Bernoulli(logits=[phi])
    exact = np.exp(-phi) / (1.0 + np.exp(-phi)) ** 2
    assert_within_standard_errors(
        terms_fn(lambda z: z[:, 0], q, NUM_SAMPLES, rng=SEED), exact
    )


def test_disarm_has_no_more_variance_than_arm_on_the_same_noise():
    # DisARM is ARM averaged over u given the pair: with the same seed both see the same pairs.
    q = Bernoulli(logits=LOGITS[0])
    arm = arm_terms(f, q, NUM_SAMPLES, rng=SEED)
    disarm = disarm_terms(f, q, NUM_SAMPLES, rng=SEED)
    assert np.all(disarm.var(axis=0) < arm.var(axis=0))


def simpson(integrand, low, high, num_nodes=400_001):
    """Simpson's rule on [low, high]; the integrand may be evaluated at the end points."""
    u = np.linspace(low, high, num_nodes)
    weights = np.ones(num_nodes)
    weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
    with np.errstate(
        divide="ignore"
    ):  # logit(0) = -inf and logit(1) = inf are fine here
        values = integrand(u)
    return (high - low) / (3.0 * (num_nodes - 1)) * np.dot(weights, values)


def straight_through_mean_by_uniform_quadrature(grad, logits, temperature):
    """E[terms] written in the uniform noise u (L = logit u), Simpson's rule, enumeration over z.

    Independent of the module's rule: a different variable (u, not the scaled noise),
    a different quadrature, and the product over the other dimensions formed directly.
    """
    logits = np.asarray(logits, dtype=float)
    dim = logits.size
    probs = 1.0 / (1.0 + np.exp(-logits))
    support = np.array(
        [[(k >> d) & 1 for d in range(dim)] for k in range(2**dim)], float
    )
    result = np.zeros(dim)
    for d in range(dim):

        def integrand(u, d=d):
            y = 1.0 / (
                1.0 + np.exp(-(logits[d] + np.log(u) - np.log1p(-u)) / temperature)
            )
            return y * (1.0 - y) / temperature

        split = 1.0 - probs[d]  # phi + L > 0  <=>  u > sigma(-phi) = 1 - sigma(phi)
        weight = {
            0.0: simpson(integrand, 0.0, split),
            1.0: simpson(integrand, split, 1.0),
        }
        for z in support:
            others = np.prod(
                [probs[k] if z[k] else 1.0 - probs[k] for k in range(dim) if k != d]
            )
            result[d] += grad(z[None, :])[0, d] * others * weight[z[d]]
    return result


@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("logits", LOGITS[:2])
def test_straight_through_mean_two_ways(logits, temperature):
    q = Bernoulli(logits=logits)
    module = exact_straight_through_gradient(grad_f, q, temperature=temperature)
    independent = straight_through_mean_by_uniform_quadrature(
        grad_f, logits, temperature
    )
    np.testing.assert_allclose(module, independent, rtol=0, atol=1e-8)


@pytest.mark.parametrize("temperature", [0.3, 2.5])
@pytest.mark.parametrize("logits", LOGITS)
def test_straight_through_bias_is_its_exact_value(logits, temperature):
    # The sampled terms' mean is within 4 SE of the exact mean, and the bias is real.
    q = Bernoulli(logits=logits)
    terms = gumbel_softmax_terms(
        grad_f, q, NUM_SAMPLES, temperature=temperature, rng=SEED
    )
    exact_mean = exact_straight_through_gradient(grad_f, q, temperature=temperature)
    assert_within_standard_errors(terms, exact_mean)
    bias = exact_mean - exact_gradient(f, q)
    assert np.max(np.abs(bias) / standard_error(terms)) > TOLERANCE


def test_straight_through_closed_form_for_a_linear_function():
    # f(z) = c z: grad_f = c, so E[terms] = c E[sigma'((phi + L)/tau)/tau]; at tau = 1 and
    # phi = 0 that is c * int sigma'(t)^2 dt = c / 6.
    q = Bernoulli(logits=[0.0, 0.0])
    c = np.array([2.0, -3.0])
    exact = exact_straight_through_gradient(
        lambda z: np.broadcast_to(c, z.shape), q, temperature=1.0
    )
    np.testing.assert_allclose(exact, c / 6.0, rtol=1e-12)


def test_relaxed_terms_are_unbiased_for_the_relaxed_objective():
    # Without straight-through the terms are the pathwise gradient of E[f(y)],
    # y = sigma((phi + L)/tau). For f(y) = y^2, d/dphi E[y^2] by quadrature over L
    # (a central difference of Simpson's rule in u).
    temperature = 0.7

    def relaxed_objective(phi):
        def integrand(u):
            return (
                1.0
                / (1.0 + np.exp(-(phi + np.log(u) - np.log1p(-u)) / temperature)) ** 2
            )

        return simpson(integrand, 0.0, 1.0)

    phi, step = 0.4, 1e-4
    exact = (relaxed_objective(phi + step) - relaxed_objective(phi - step)) / (2 * step)
    q = Bernoulli(logits=[phi])
    terms = gumbel_softmax_terms(
        lambda y: 2.0 * y,
        q,
        NUM_SAMPLES,
        temperature=temperature,
        rng=SEED,
        straight_through=False,
    )
    assert_within_standard_errors(terms, exact)


def test_straight_through_samples_are_distributed_as_q():
    # grad_f sees the hard samples; their frequencies are q's probabilities (4 SE).
    q = Bernoulli(logits=LOGITS[0])
    seen = []

    def recording_grad(z):
        seen.append(z.copy())
        return np.zeros_like(z)

    gumbel_softmax_terms(recording_grad, q, NUM_SAMPLES, temperature=0.5, rng=SEED)
    frequency = seen[0].mean(axis=0)
    error = np.sqrt(q.probs * (1 - q.probs) / NUM_SAMPLES)
    assert np.all(np.isin(seen[0], [0.0, 1.0]))
    assert np.all(np.abs(frequency - q.probs) < TOLERANCE * error)


def test_same_seed_same_terms_and_f_cannot_change_the_samples():
    q = Bernoulli(logits=LOGITS[0])
    np.testing.assert_array_equal(
        arm_terms(f, q, 10, rng=3), arm_terms(f, q, 10, rng=3)
    )

    def vandal(z):
        z[:] = 0.0
        return z.sum(axis=1)

    with pytest.raises(ValueError, match="read-only"):
        disarm_terms(vandal, q, 5, rng=0)


class Bits(Bernoulli):
    """A family derived from Bernoulli: accepted like Bernoulli itself."""


@pytest.mark.parametrize("terms_fn", [arm_terms, disarm_terms])
def test_any_bernoulli_family_is_accepted(terms_fn):
    plain = terms_fn(f, Bernoulli(logits=LOGITS[0]), 10, rng=1)
    np.testing.assert_array_equal(terms_fn(f, Bits(logits=LOGITS[0]), 10, rng=1), plain)


@pytest.mark.parametrize("terms_fn", [arm_terms, disarm_terms])
def test_bad_input_names_the_argument(terms_fn):
    q = Bernoulli(logits=[0.0, 1.0])
    with pytest.raises(
        TypeError, match="^q must be a Bernoulli family, got DiagonalGaussian"
    ):
        terms_fn(f, DiagonalGaussian(mean=0.0, log_std=0.0), 5, rng=0)
    with pytest.raises(
        TypeError, match="^q must be a Bernoulli family, got Categorical"
    ):
        terms_fn(f, Categorical(logits=[[0.0, 1.0]]), 5, rng=0)
    with pytest.raises(TypeError, match="^q must be a family"):
        terms_fn(f, "q", 5, rng=0)
    with pytest.raises(TypeError, match="^f must be a function"):
        terms_fn(q, f, 5, rng=0)  # arguments swapped: the first check names f
    with pytest.raises(TypeError, match="^num_samples must be an integer"):
        terms_fn(f, q, 5.0, rng=0)
    with pytest.raises(ValueError, match="^num_samples must be at least 1"):
        terms_fn(f, q, 0, rng=0)
    with pytest.raises(ValueError, match="^rng must be an integer seed"):
        terms_fn(f, q, 5, rng=-1)
    with pytest.raises(TypeError, match="^rng must be an integer seed"):
        terms_fn(f, q, 5, rng=1.5)
    with pytest.raises(ValueError, match=r"^f must return shape \(5,\)"):
        terms_fn(lambda z: z, q, 5, rng=0)
    with pytest.raises(ValueError, match="^f returned NaN"):
        terms_fn(lambda z: np.full(len(z), np.nan), q, 5, rng=0)


def test_gumbel_softmax_bad_input_names_the_argument():
    q = Bernoulli(logits=[0.0, 1.0])
    with pytest.raises(TypeError, match="^q must be a family"):
        gumbel_softmax_terms(q, grad_f, 5, temperature=1.0)  # arguments swapped
    with pytest.raises(TypeError, match="^grad_f must be a function"):
        gumbel_softmax_terms(q, q, 5, temperature=1.0)
    with pytest.raises(TypeError, match="^temperature must be real numbers"):
        gumbel_softmax_terms(np.zeros_like, q, 5, temperature="1")
    for temperature in (0.0, -1.0):
        with pytest.raises(ValueError, match="^temperature must be positive"):
            gumbel_softmax_terms(np.zeros_like, q, 5, temperature=temperature)
    with pytest.raises(ValueError, match="^temperature must be finite"):
        gumbel_softmax_terms(np.zeros_like, q, 5, temperature=np.inf)
    with pytest.raises(TypeError, match="^straight_through must be True or False"):
        gumbel_softmax_terms(
            np.zeros_like, q, 5, temperature=1.0, straight_through="yes"
        )
    with pytest.raises(ValueError, match=r"^grad_f must return shape \(5, 2\)"):
        gumbel_softmax_terms(lambda z: z[:, 0], q, 5, temperature=1.0)
    with pytest.raises(TypeError, match="^q must be a Bernoulli family"):
        exact_straight_through_gradient(
            np.zeros_like, DiagonalGaussian(0.0, 0.0), temperature=1.0
        )
    with pytest.raises(ValueError, match="^an exact computation for q would need"):
        exact_straight_through_gradient(
            np.zeros_like, Bernoulli(np.zeros(21)), temperature=1.0
        )

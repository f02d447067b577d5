"""The symbolic families of elbo_grad.symbolic, against textbook results and the NumPy families."""

import math

import numpy as np
import pytest
import sympy as sp

from elbo_grad import Bernoulli, DiagonalGaussian
from elbo_grad.symbolic import (
    SymbolicFamily,
    bernoulli,
    book_form,
    categorical,
    check_link,
    equal,
    examples,
    exponential,
    gaussian,
    gradient_of_integral,
    integral,
    latex,
    normal_log_density,
    standard_normal_expectation,
    standard_normal_moment,
    uniform,
)


def poisson():
    """A family with an infinite discrete support, built with the general constructor."""
    z = sp.Symbol("z", integer=True, nonnegative=True)
    eta = sp.Symbol("eta", real=True)
    density = sp.exp(-sp.exp(eta)) * sp.exp(eta * z) / sp.factorial(z)
    return SymbolicFamily(
        "Poisson", z, [eta], density, sp.Range(0, sp.oo), log_params=[eta]
    )


FAMILIES = {
    "gaussian": gaussian,
    "exponential": exponential,
    "bernoulli": bernoulli,
    "categorical-2": lambda: categorical(2),
    "categorical-4": lambda: categorical(4),
    "poisson": poisson,
}


@pytest.mark.parametrize("make", FAMILIES.values(), ids=FAMILIES.keys())
def test_density_is_normalised_and_expected_score_is_zero(make):
    q = make()
    assert equal(q.integrate(q.density), 1)
    assert equal(q.expectation(q.score), sp.zeros(len(q.params), 1))
    assert not q.support_depends_on_params


def test_uniform_has_moving_support_and_nonzero_expected_score():
    q = uniform()
    (theta,) = q.params
    assert q.support_depends_on_params
    assert equal(q.integrate(q.density), 1)
    assert equal(q.expectation(q.score), sp.Matrix([-1 / theta]))


def test_textbook_moments():
    q = gaussian()
    z, (mu, log_sigma) = q.variable, q.params
    assert equal(q.expectation(z), mu)
    assert equal(q.expectation((z - mu) ** 2), sp.exp(2 * log_sigma))
    assert equal(q.expectation((z - mu) ** 4), 3 * sp.exp(4 * log_sigma))
    q = exponential()
    z, (eta,) = q.variable, q.params
    assert equal(q.expectation(z), sp.exp(-eta))
    assert equal(q.expectation(z**2), 2 * sp.exp(-2 * eta))
    q = poisson()
    z, (eta,) = q.variable, q.params
    assert equal(q.expectation(z), sp.exp(eta))


def test_entropies_match_closed_forms():
    q = gaussian()
    (_, log_sigma) = q.params
    assert equal(
        -q.expectation(q.log_density), log_sigma + sp.log(2 * sp.pi * sp.E) / 2
    )
    q = exponential()
    (eta,) = q.params
    assert equal(-q.expectation(q.log_density), 1 - eta)


def test_normal_log_density_is_the_gaussian_family():
    q = gaussian()
    mu, log_sigma = q.params
    assert equal(normal_log_density(q.variable, mu, sp.exp(log_sigma)), q.log_density)
    assert equal(q.integrate(sp.exp(normal_log_density(q.variable, 2, 3))), 1)


def test_gaussian_matches_package_family():
    q = gaussian()
    z, (mu, log_sigma) = q.variable, q.params
    log_prob = sp.lambdify((z, mu, log_sigma), q.log_density, "numpy")
    score = sp.lambdify((z, mu, log_sigma), list(q.score), "numpy")
    rng = np.random.default_rng(7)
    for mean, log_std in rng.normal(size=(5, 2)):
        numeric = DiagonalGaussian(mean=mean, log_std=log_std)
        points = numeric.sample(4, rng=rng)
        np.testing.assert_allclose(
            log_prob(points[:, 0], mean, log_std), numeric.log_prob(points), rtol=1e-12
        )
        np.testing.assert_allclose(
            np.stack(score(points[:, 0], mean, log_std), axis=1),
            numeric.score(points),
            rtol=1e-12,
            atol=1e-12,
        )


def test_bernoulli_matches_package_family():
    q = bernoulli()
    z, (phi,) = q.variable, q.params
    log_prob = sp.lambdify((z, phi), q.log_density, "numpy")
    score = sp.lambdify((z, phi), q.score[0], "numpy")
    points = np.array([[0.0], [1.0]])
    for logit in (-2.0, 0.0, 0.7):
        numeric = Bernoulli(logits=logit)
        np.testing.assert_allclose(
            log_prob(points[:, 0], logit), numeric.log_prob(points), rtol=1e-12
        )
        np.testing.assert_allclose(
            score(points[:, 0], logit), numeric.score(points)[:, 0], rtol=1e-12
        )


@pytest.mark.parametrize(
    ("q", "log_joint"), examples(), ids=lambda value: getattr(value, "name", "")
)
def test_score_function_identity_on_examples(q, log_joint):
    signal = log_joint - q.log_density
    assert equal(q.gradient(q.expectation(signal)), q.expectation(signal * q.score))


def test_dropping_a_term_is_detected():
    q, log_joint = examples()[0]
    signal = log_joint - q.log_density
    wrong = q.expectation(log_joint * q.score)  # forgets that ln q depends on z
    assert not equal(q.gradient(q.expectation(signal)), wrong)


def test_integrate_takes_matrices_entrywise():
    q = exponential()
    z = q.variable
    result = q.expectation(sp.Matrix([1, z]))
    assert isinstance(result, sp.MatrixBase)
    assert equal(result, sp.Matrix([1, sp.exp(-q.params[0])]))


def test_foreign_symbols_with_familiar_names_are_left_alone():
    """A model's own positive sigma must not be confused with the family's scale."""
    q = gaussian()
    sigma = sp.Symbol("sigma", positive=True)
    assert equal(q.expectation(sigma * q.variable), sigma * q.params[0])
    lambda_ = sp.Symbol("lambda", positive=True)
    q = exponential()
    assert equal(q.expectation(lambda_ * q.variable), lambda_ * sp.exp(-q.params[0]))


def test_integral_that_only_converges_as_a_whole():
    """1/z - 1/(z + 1) on [1, oo): each term diverges, the difference integrates to ln 2."""
    z = sp.Symbol("z", positive=True)
    a = sp.Symbol("a", positive=True)
    pareto = SymbolicFamily("Pareto", z, [a], a / z ** (a + 1), sp.Interval(1, sp.oo))
    assert equal(pareto.integrate(1 / z - 1 / (z + 1)), sp.log(2))


def test_equal():
    a = sp.Symbol("a", real=True)
    assert equal(sp.cosh(a) ** 2 - sp.sinh(a) ** 2, 1)
    # ln(a²) = 2 ln a only for a > 0: equal must respect the assumptions.
    assert not equal(sp.log(a**2), 2 * sp.log(a))
    positive = sp.Symbol("a", positive=True)
    assert equal(sp.log(positive**2), 2 * sp.log(positive))
    assert not equal(sp.cosh(a), sp.sinh(a))
    assert equal(sp.Matrix([a, 1]), sp.Matrix([a, sp.exp(0)]))
    with pytest.raises(ValueError, match="matrix"):
        equal(sp.Matrix([a]), a)
    with pytest.raises(ValueError, match="shape"):
        equal(sp.Matrix([a]), sp.Matrix([a, a]))


def _arguments(**changes):
    z, phi = sp.Symbol("z", real=True), sp.Symbol("phi", real=True)
    arguments = {
        "name": "test",
        "variable": z,
        "params": [phi],
        "density": sp.exp(-z * sp.exp(phi)) * sp.exp(phi),
        "support": sp.Interval(0, sp.oo),
    }
    arguments.update(changes)
    return arguments


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"variable": "z"}, TypeError, "variable"),
        ({"params": ["phi"]}, TypeError, "params"),
        ({"support": (0, 1)}, TypeError, "support"),
        ({"density": object()}, TypeError, "density"),
        ({"params": []}, ValueError, "params"),
        ({"params": [sp.Symbol("phi", real=True)] * 2}, ValueError, "repeat"),
        ({"params": [sp.Symbol("z", real=True)]}, ValueError, "variable"),
        ({"log_params": [sp.Symbol("psi", real=True)]}, ValueError, "log_params"),
        ({"support": sp.Range(-sp.oo, sp.oo)}, ValueError, "bounded"),
        ({"support": sp.FiniteSet(0, 1), "scale": 2}, ValueError, "continuous"),
        ({"scale": 0}, ValueError, "scale"),
        ({"scale": -sp.exp(sp.Symbol("phi", real=True))}, ValueError, "scale"),
    ],
)
def test_bad_arguments_raise(changes, error, message):
    with pytest.raises(error, match=message):
        SymbolicFamily(**_arguments(**changes))


@pytest.mark.parametrize(
    ("value", "error"), [(1, ValueError), (2.0, TypeError), (True, TypeError)]
)
def test_categorical_rejects_bad_sizes(value, error):
    with pytest.raises(error, match="num_categories"):
        categorical(value)


@pytest.mark.parametrize("order", range(11))
def test_moments_are_double_factorials(order):
    expected = 0 if order % 2 else math.prod(range(order - 1, 0, -2))
    assert standard_normal_moment(order) == expected


def test_expectation_of_a_polynomial_with_symbolic_coefficients():
    eps, m, k = sp.symbols("varepsilon m k", real=True)
    s = sp.Symbol("s", positive=True)
    cost = (m + s * eps - k) ** 2
    # E[(z - k)^2] = (m - k)^2 + s^2 and E[(z - k)^4] = (m - k)^4 + 6 (m - k)^2 s^2 + 3 s^4.
    assert (
        sp.expand(standard_normal_expectation(cost, eps) - ((m - k) ** 2 + s**2)) == 0
    )
    fourth = (m - k) ** 4 + 6 * (m - k) ** 2 * s**2 + 3 * s**4
    assert sp.expand(standard_normal_expectation(cost**2, eps) - fourth) == 0
    values = {m: sp.Rational(3, 10), k: -1, s: 2}
    integrand = (cost * eps).subs(values) * sp.exp(-(eps**2) / 2) / sp.sqrt(2 * sp.pi)
    direct = sp.integrate(integrand, (eps, -sp.oo, sp.oo))
    assert (
        sp.simplify(standard_normal_expectation(cost * eps, eps).subs(values) - direct)
        == 0
    )


def test_standard_normal_helpers_bad_input_raises():
    eps = sp.Symbol("varepsilon", real=True)
    with pytest.raises(ValueError, match="order"):
        standard_normal_moment(-1)
    with pytest.raises(sp.PolynomialError):
        standard_normal_expectation(sp.exp(eps), eps)


def test_latex_speaks_the_books_notation():
    q, log_joint = examples()[0]
    printed = latex(q.log_density)
    assert r"\ln{\left(2 \pi \right)}" in printed and r"\sigma^{2}" in printed
    assert r"\log" not in printed and "e^{" not in printed
    assert latex(log_joint).endswith(r"- \ln{\left(2 \pi \right)}")
    # the value is unchanged: put e^{ln σ} back for σ and compare
    sigma = sp.Symbol(r"\sigma", positive=True)
    assert equal(
        book_form(q.log_density).subs(sigma, sp.exp(q.params[1])), q.log_density
    )
    assert (
        latex(sp.Matrix([q.params[0]])) == r"\left[\begin{matrix}\mu\end{matrix}\right]"
    )


def test_a_side_sympy_cannot_do_is_not_agreement():
    """With ln p = -floor(z) SymPy leaves the ELBO's integral undone: no check can pass.

    The undone side evaluates to NaN, which must not count as close to anything: if it
    did, the book's form and a version without the entropy term would both pass.
    """
    q = exponential()
    log_joint = -sp.floor(q.variable)
    dropped_entropy = [gradient_of_integral(lambda p: p.q * p.log_p)]
    assert not check_link("L1", q, log_joint)
    assert not check_link("L1", q, log_joint, candidate=dropped_entropy)


@pytest.mark.parametrize("link", ["L1", "L2", "L3", "L4", "L5", "L6"])
def test_links_hold_on_an_infinite_discrete_support(link):
    """A Poisson's sums run over all of 0, 1, 2, ... (mpmath.nsum), entry by entry."""
    q = poisson()
    log_joint = -((q.variable - 2) ** 2) / 3
    assert check_link(link, q, log_joint)


def test_a_wrong_link_is_caught_on_an_infinite_discrete_support():
    q = poisson()
    log_joint = -((q.variable - 2) ** 2) / 3
    dropped_entropy = [integral(lambda p: p.log_p * p.grad_q)]
    assert not check_link("L5", q, log_joint, candidate=dropped_entropy)
    wrong_sign = [integral(lambda p: (p.log_q - p.log_p) * p.q * p.score)]
    assert not check_link("L6", q, log_joint, candidate=wrong_sign)

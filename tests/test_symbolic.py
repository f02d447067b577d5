"""The SymPy helper for Gaussian expectations of polynomials."""

import math

import pytest
import sympy as sp

from elbo_grad.symbolic import standard_normal_expectation, standard_normal_moment


@pytest.mark.parametrize("order", range(11))
def test_moments_are_double_factorials(order):
    expected = 0 if order % 2 else math.prod(range(order - 1, 0, -2))
    assert standard_normal_moment(order) == expected


def test_expectation_of_a_polynomial_with_symbolic_coefficients():
    eps, m, k = sp.symbols("varepsilon m k", real=True)
    s = sp.Symbol("s", positive=True)
    cost = (m + s * eps - k) ** 2
    # E[(z - k)^2] = (m - k)^2 + s^2 and E[(z - k)^4] = (m - k)^4 + 6 (m - k)^2 s^2 + 3 s^4.
    assert sp.expand(standard_normal_expectation(cost, eps) - ((m - k) ** 2 + s**2)) == 0
    fourth = (m - k) ** 4 + 6 * (m - k) ** 2 * s**2 + 3 * s**4
    assert sp.expand(standard_normal_expectation(cost**2, eps) - fourth) == 0
    values = {m: sp.Rational(3, 10), k: -1, s: 2}
    integrand = (cost * eps).subs(values) * sp.exp(-(eps**2) / 2) / sp.sqrt(2 * sp.pi)
    direct = sp.integrate(integrand, (eps, -sp.oo, sp.oo))
    assert sp.simplify(standard_normal_expectation(cost * eps, eps).subs(values) - direct) == 0


def test_bad_input_raises():
    eps = sp.Symbol("varepsilon", real=True)
    with pytest.raises(ValueError, match="order"):
        standard_normal_moment(-1)
    with pytest.raises(sp.PolynomialError):
        standard_normal_expectation(sp.exp(eps), eps)

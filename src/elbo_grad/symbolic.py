r"""Symbolic variational families, for checking each line of the derivation with SymPy.

A :class:`SymbolicFamily` is a density :math:`q_\phi(z)` as a SymPy expression;
:func:`check_link` checks one link of the chain with two sides computed independently.
Needs SymPy (``pip install elbo-grad[symbolic]``): ``from elbo_grad.symbolic import equal``.
"""

from __future__ import annotations

import itertools
from functools import cache, lru_cache

import mpmath  # type: ignore[import-untyped]
import numpy as np
import sympy as sp

__all__ = [
    "CHECK_POINTS", "LINKS", "Parts", "SymbolicFamily", "bernoulli", "book_form", "categorical",
    "check_link", "equal", "examples", "exponential", "gaussian", "gradient_of_integral",
    "integral", "latex", "normal_log_density", "standard_normal_expectation",
    "standard_normal_moment", "uniform",
]  # fmt: skip

# Module-level dummies, so that the cache of one-term integrals is shared.
_U_REAL, _U_POSITIVE = sp.Dummy("u", real=True), sp.Dummy("u", positive=True)
_K = sp.Dummy("k", integer=True)
_K_NONNEGATIVE = sp.Dummy("k", integer=True, nonnegative=True)


class SymbolicFamily:
    r"""A variational family :math:`q_\phi(z)` as a SymPy expression.

    Parameters
    ----------
    name : str
        A short name for printing, such as ``"Gaussian"``.
    variable : sympy.Symbol
        The latent variable :math:`z`.
    params : sequence of sympy.Symbol
        The parameters :math:`\phi`, in the order of :attr:`score`.
    density : sympy expression
        :math:`q_\phi(z)` on its support (a probability mass for a discrete one).
    support : sympy.Interval, sympy.FiniteSet or sympy.Range
        An ``Interval`` (its ends may move with :math:`\phi`) or a set of integers.
    log_params : sequence of sympy.Symbol, optional
        Logarithms of positive quantities, such as :math:`\ln\sigma` (eases integration).
    location, scale : sympy expression, default 0 and 1
        Integrate in :math:`u`, :math:`z = \text{location} + \text{scale}\cdot u`.

    Examples
    --------
    >>> z, eta = sp.Symbol("z", real=True), sp.Symbol("eta", real=True)
    >>> density, support = sp.exp(eta - sp.exp(eta) * z), sp.Interval(0, sp.oo)
    >>> q = SymbolicFamily("exponential", z, [eta], density, support, log_params=[eta])
    >>> q.expectation(z), q.score, q.expectation(q.score)
    (exp(-eta), Matrix([[-z*exp(eta) + 1]]), Matrix([[0]]))
    """

    def __init__(
        self,
        name,
        variable,
        params,
        density,
        support,
        *,
        log_params=(),
        location=0,
        scale=1,
    ):
        params, log_params = tuple(params), tuple(log_params)
        if not all(isinstance(symbol, sp.Symbol) for symbol in (variable, *params)):
            raise TypeError(f"variable and params must be Symbols: {variable, params}")
        if not params or len(set(params)) < len(params) or variable in params:
            raise ValueError(
                f"params must be one or more symbols, none repeated, not the variable: {params}"
            )
        try:
            density = sp.sympify(density, strict=True)
        except sp.SympifyError as error:
            raise TypeError(f"density must be a SymPy expression: {error}") from None
        if not isinstance(support, (sp.Interval, sp.FiniteSet, sp.Range)):
            raise TypeError(
                f"support must be a sympy Interval, FiniteSet or Range, got {type(support).__name__}"
            )
        if isinstance(support, sp.Range) and -support.inf == support.sup == sp.oo:
            raise ValueError("a discrete support must be bounded on at least one side")
        if not set(log_params) <= set(params):
            raise ValueError(f"log_params {log_params} must all be among the params")
        if not isinstance(support, sp.Interval) and (location != 0 or scale != 1):
            raise ValueError("location and scale apply to continuous families only")
        if sp.sympify(scale).is_positive is False:
            raise ValueError(f"scale must be positive, got {scale}")
        self.name, self.variable, self.params = str(name), variable, params
        self.density, self.support, self.log_params = density, support, log_params
        self.location, self.scale = sp.sympify(location), sp.sympify(scale)

    @property
    def is_discrete(self) -> bool:
        """``True`` if :math:`z` is discrete (the support is a set of integers)."""
        return not isinstance(self.support, sp.Interval)

    @property
    def support_depends_on_params(self) -> bool:
        r"""``True`` if the support :math:`Z_\phi` moves with :math:`\phi`."""
        return bool(self.support.free_symbols & set(self.params))

    @property
    def log_density(self) -> sp.Expr:
        r""":math:`\ln q_\phi(z)` on the support, logarithms of products expanded."""
        return sp.expand_log(sp.log(self.density), force=True)

    @property
    def score(self) -> sp.Matrix:
        r"""The score :math:`\nabla_\phi \ln q_\phi(z)`, a column, each entry in its shorter form."""
        shorter = lambda e: min(e, sp.simplify(e), key=sp.count_ops)  # noqa: E731
        return self.gradient(self.log_density).applyfunc(shorter)

    def gradient(self, expression) -> sp.Matrix:
        r""":math:`\nabla_\phi` of ``expression``: a column with one row per parameter."""
        return sp.Matrix([sp.diff(sp.sympify(expression), p) for p in self.params])

    def integrate(self, expression):
        r""":math:`\int_{Z_\phi} g\,dz` (or :math:`\sum_{z \in Z_\phi} g`), a matrix entry by entry."""
        if isinstance(expression, sp.MatrixBase):
            return expression.applyfunc(self.integrate)
        expression = sp.sympify(expression)
        return self._sum(expression) if self.is_discrete else self._integral(expression)

    def expectation(self, function):
        r""":math:`\mathbb E_{q_\phi}[f(z)]`, that is ``integrate(density * function)``."""
        if isinstance(function, sp.MatrixBase):
            return function.applyfunc(self.expectation)
        return self.integrate(self.density * sp.sympify(function))

    def _sum(self, expression):
        """The sum over the support, over one denominator, where cancellations show."""
        if isinstance(self.support, sp.FiniteSet):
            total = sp.Add(*(expression.subs(self.variable, v) for v in self.support))
        else:
            to_positive, back = self._positive_substitutions()
            lower, upper = self.support.inf, self.support.sup
            k = _K_NONNEGATIVE if lower.is_nonnegative else _K
            summand = sp.logcombine(expression.subs(to_positive).subs(self.variable, k))
            total = sp.summation(summand, (k, lower, upper)).subs(back)
        return sp.factor(sp.cancel(total))

    def _positive_substitutions(self):
        """phi_j -> ln(s_j) with s_j > 0 for the log-parameters, and the way back."""
        to_positive = {p: sp.log(_exponential_of(p)) for p in self.log_params}
        return to_positive, {_exponential_of(p): sp.exp(p) for p in self.log_params}

    def _integral(self, expression):
        """The integral over the support, in the standardised variable u, term by term."""
        to_positive, back = self._positive_substitutions()
        location, scale = self.location.subs(to_positive), self.scale.subs(to_positive)
        lower = sp.simplify((self.support.inf.subs(to_positive) - location) / scale)
        upper = sp.simplify((self.support.sup.subs(to_positive) - location) / scale)
        u = _U_POSITIVE if lower.is_nonnegative else _U_REAL
        z = location + scale * u
        integrand = expression.subs(to_positive).subs(self.variable, z)
        integrand = sp.expand(sp.expand_log(sp.powsimp(integrand * scale)))
        total = sp.S.Zero
        for term in sp.Add.make_args(integrand):
            constant, dependent = term.as_independent(u, as_Add=False)
            value = _integrate_term(dependent, u, lower, upper)
            if value.has(sp.Integral) or value.has(sp.nan) or value.is_infinite:
                total = sp.integrate(integrand, (u, lower, upper), conds="none")
                break
            total += constant * value
        return sp.expand(total.subs(back))


@cache
def _exponential_of(parameter):
    """A positive dummy standing for exp(parameter), the same one every time."""
    return sp.Dummy(f"exp_{parameter.name}", positive=True)


@lru_cache(maxsize=4096)
def _integrate_term(term, u, lower, upper):
    """One term's definite integral, cached."""
    return sp.integrate(term, (u, lower, upper), conds="none")


def equal(lhs, rhs) -> bool:
    r"""Whether two SymPy expressions (or matrices) are identical as functions of their symbols.

    Parameters
    ----------
    lhs, rhs : sympy expression or sympy.Matrix
        The two sides; matrices must have the same shape.

    Returns
    -------
    bool
        Whether ``lhs - rhs`` simplifies to zero (``True`` is never wrong).

    Examples
    --------
    >>> a = sp.Symbol("a", positive=True)
    >>> equal(sp.log(a**2), 2 * sp.log(a)), equal(sp.exp(a) * sp.exp(-a), 2)
    (True, False)
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        shapes = getattr(lhs, "shape", "a scalar"), getattr(rhs, "shape", "a scalar")
        if shapes[0] != shapes[1]:
            raise ValueError(f"equal needs a matrix of the other's shape, got {shapes}")
        return all(equal(a, b) for a, b in zip(lhs, rhs, strict=True))
    difference = sp.expand(sp.expand_log(lhs - rhs))
    if difference == 0:
        return True
    # Hyperbolic and trigonometric forms hide cancellations; exponentials expose them.
    difference = difference.rewrite(sp.exp)
    return sp.cancel(sp.expand(difference)) == 0 or bool(sp.simplify(difference) == 0)


def normal_log_density(value, mean, std) -> sp.Expr:
    r"""The Gaussian log-density :math:`\ln \mathcal N(\text{value}; \text{mean}, \text{std}^2)`.

    Parameters
    ----------
    value, mean, std : sympy expression or number
        The point, the mean and the standard deviation.

    Returns
    -------
    sympy.Expr
        :math:`-\tfrac12 \ln 2\pi - \ln s - (v - m)^2 / (2 s^2)`.

    Examples
    --------
    >>> z, x = sp.symbols("z x", real=True)
    >>> normal_log_density(x, z, 1)
    -(x - z)**2/2 - log(2*pi)/2
    """
    value, mean, std = sp.sympify(value), sp.sympify(mean), sp.sympify(std)
    return -sp.log(2 * sp.pi) / 2 - sp.log(std) - (value - mean) ** 2 / (2 * std**2)


def gaussian(*, mean: str = "mu", log_std: str = r"\ln\sigma") -> SymbolicFamily:
    r"""The Gaussian :math:`\mathcal N(\mu, \sigma^2)` with :math:`\phi = (\mu, \ln\sigma)`.

    Parameters
    ----------
    mean, log_std : str, keyword-only
        The names of the two (real) parameters.

    Returns
    -------
    SymbolicFamily
        Variable ``z`` (real), support the real line.

    Examples
    --------
    >>> gaussian().score.T
    Matrix([[(-mu + z)*exp(-2*\ln\sigma), (-mu + z)**2*exp(-2*\ln\sigma) - 1]])
    """
    z, mu, log_sigma = (sp.Symbol(name, real=True) for name in ("z", mean, log_std))
    sigma = sp.exp(log_sigma)
    kernel = sp.exp(-((z - mu) ** 2) / (2 * sp.exp(2 * log_sigma)))
    density = kernel / (sp.sqrt(2 * sp.pi) * sigma)
    return SymbolicFamily(
        "Gaussian", z, (mu, log_sigma), density, sp.Interval(-sp.oo, sp.oo),
        log_params=(log_sigma,), location=mu, scale=sigma,
    )  # fmt: skip


def exponential() -> SymbolicFamily:
    r"""The exponential distribution with rate :math:`\lambda = e^\eta`, :math:`\phi = \eta`.

    Returns
    -------
    SymbolicFamily
        Variable ``z``, parameter named ``\ln\lambda``, support :math:`[0, \infty)`.

    Examples
    --------
    >>> exponential().expectation(sp.Symbol("z", real=True))
    exp(-\ln\lambda)
    """
    z, eta = sp.Symbol("z", real=True), sp.Symbol(r"\ln\lambda", real=True)
    density, support = sp.exp(eta) * sp.exp(-sp.exp(eta) * z), sp.Interval(0, sp.oo)
    kwargs = dict(log_params=(eta,), scale=sp.exp(-eta))
    return SymbolicFamily("exponential", z, (eta,), density, support, **kwargs)


def bernoulli() -> SymbolicFamily:
    r"""The Bernoulli distribution with logit :math:`\phi`: :math:`q_\phi(z) = e^{\phi z}/(1 + e^\phi)`.

    Returns
    -------
    SymbolicFamily
        Variable ``z``, parameter ``phi``, support :math:`\{0, 1\}`.

    Examples
    --------
    >>> q = bernoulli()
    >>> q.integrate(q.density), q.expectation(q.score)
    (1, Matrix([[0]]))
    """
    z, phi = sp.Symbol("z", integer=True), sp.Symbol("phi", real=True)
    density = sp.exp(phi * z) / (1 + sp.exp(phi))
    return SymbolicFamily("Bernoulli", z, (phi,), density, sp.FiniteSet(0, 1))


def categorical(num_categories: int = 3) -> SymbolicFamily:
    r"""The categorical distribution on :math:`\{0, \dots, K-1\}` with logits :math:`\phi_0, \dots, \phi_{K-1}`.

    Parameters
    ----------
    num_categories : int, default 3
        :math:`K \ge 2`.

    Returns
    -------
    SymbolicFamily
        :math:`q_\phi(z) = \exp(\sum_k \delta_{zk}\phi_k) / \sum_k e^{\phi_k}`.

    Examples
    --------
    >>> q = categorical(3)
    >>> q.integrate(q.density), q.expectation(q.score).T
    (1, Matrix([[0, 0, 0]]))
    """
    if isinstance(num_categories, bool) or not isinstance(num_categories, int):
        raise TypeError(f"num_categories must be an int, got {num_categories!r}")
    if num_categories < 2:
        raise ValueError(f"num_categories must be at least 2, got {num_categories}")
    z = sp.Symbol("z", integer=True)
    logits = sp.symbols(f"phi_0:{num_categories}", real=True)
    exponent = sum(sp.KroneckerDelta(z, k) * logit for k, logit in enumerate(logits))
    density = sp.exp(exponent) / sum(sp.exp(logit) for logit in logits)
    support = sp.FiniteSet(*range(num_categories))
    return SymbolicFamily(f"categorical({num_categories})", z, logits, density, support)


def uniform() -> SymbolicFamily:
    r"""The uniform distribution on :math:`(0, \theta)`, a support that moves with :math:`\phi = \theta`.

    Returns
    -------
    SymbolicFamily
        Variable ``z``, parameter ``theta`` (positive), support :math:`[0, \theta]`.

    Examples
    --------
    >>> uniform().expectation(uniform().score)
    Matrix([[-1/theta]])
    """
    z, theta = sp.Symbol("z", real=True), sp.Symbol("theta", positive=True)
    return SymbolicFamily("uniform", z, (theta,), 1 / theta, sp.Interval(0, theta))


def examples() -> list[tuple[SymbolicFamily, sp.Expr]]:
    r"""Three families, each with a model :math:`\ln p_\theta(x, z)`, on which the book checks the links.

    Returns
    -------
    list of (SymbolicFamily, sympy expression)
        :func:`gaussian` and :func:`exponential` with :math:`z \sim \mathcal N(0, 1)`
        or :math:`\mathrm{Exp}(1)`, :math:`x \mid z \sim \mathcal N(z, 1)`;
        :func:`bernoulli` with :math:`\ln p(x, z) = (1 - z)\,a_0 + z\,a_1`.

    Examples
    --------
    >>> [(q.name, log_joint) for q, log_joint in examples()][2]
    ('Bernoulli', a_0*(1 - z) + a_1*z)
    """
    x, (a_0, a_1) = sp.Symbol("x", real=True), sp.symbols("a_0 a_1", real=True)
    q_gaussian, q_exponential, q_bernoulli = gaussian(), exponential(), bernoulli()
    z, b = q_gaussian.variable, q_bernoulli.variable
    return [
        (q_gaussian, normal_log_density(z, 0, 1) + normal_log_density(x, z, 1)),
        (q_exponential, -z + normal_log_density(x, z, 1)),
        (q_bernoulli, (1 - b) * a_0 + b * a_1),
    ]


@cache
def standard_normal_moment(order: int):
    r""":math:`\mathbb E[\varepsilon^k]` for :math:`\varepsilon \sim \mathcal N(0, 1)`, integrated by SymPy.

    Parameters
    ----------
    order : int
        :math:`k \ge 0`.

    Returns
    -------
    sympy.Integer
        :math:`(k-1)!!` for even :math:`k`, 0 for odd :math:`k`.

    Examples
    --------
    >>> [standard_normal_moment(k) for k in range(7)]
    [1, 0, 1, 0, 3, 0, 15]
    """
    if order < 0:
        raise ValueError(f"order must be a non-negative integer, got {order}")
    eps = sp.Symbol("varepsilon", real=True)
    integrand = eps**order * sp.exp(-(eps**2) / 2) / sp.sqrt(2 * sp.pi)
    return sp.integrate(integrand, (eps, -sp.oo, sp.oo))


def standard_normal_expectation(expression, eps):
    r""":math:`\mathbb E_{\varepsilon \sim \mathcal N(0,1)}[h(\varepsilon)]` for a polynomial :math:`h`, moment by moment.

    Parameters
    ----------
    expression : sympy.Expr
        A polynomial in ``eps`` (other symbols allowed in the coefficients).
    eps : sympy.Symbol
        The standard normal variable.

    Returns
    -------
    sympy.Expr
        The expectation: exact, and far faster than integrating with the density.

    Examples
    --------
    >>> eps, m, s = sp.symbols("varepsilon m s", real=True)
    >>> standard_normal_expectation((m + s * eps) ** 2, eps)
    m**2 + s**2
    """
    polynomial = sp.Poly(sp.expand(expression), eps)
    moments = (c * standard_normal_moment(k) for (k,), c in polynomial.terms())
    return sp.expand(sum(moments))


def _exp_in_scales(power):
    r"""Write :math:`e^{2\ln\sigma + a}` as :math:`\sigma^2 e^{a}` (for parameters named ``\ln...``)."""
    factors, rest = [], []
    for term in sp.Add.make_args(sp.expand(power.args[0])):
        coefficient, symbol = term.as_coeff_Mul()
        name = getattr(symbol, "name", "")
        scale_like = isinstance(symbol, sp.Symbol) and name.startswith(r"\ln")
        if scale_like and coefficient.is_Rational:
            scale = sp.Symbol(name[3:].strip() or "s", positive=True)
            factors.append(scale**coefficient)
        else:
            rest.append(term)
    return sp.Mul(*factors) * sp.exp(sp.Add(*rest)) if factors else power


def _combined_logarithms(logarithms):
    r"""``-log(2)/2 - log(pi)/2`` as the one term :math:`-\tfrac12\ln 2\pi`, if it can be."""
    for denominator, sign in itertools.product((1, 2), (1, -1)):
        combined = sp.logcombine(sp.expand(sign * denominator * logarithms), force=True)
        if isinstance(combined, sp.log):
            powers = combined.args[0].as_powers_dict().values()
            if all(exponent.is_Integer for exponent in powers):
                return sp.Rational(sign, denominator) * combined
    return logarithms


def book_form(expression):
    r"""An expression in the book's notation: :math:`\sigma^c` for :math:`e^{c\ln\sigma}`, one constant.

    Parameters
    ----------
    expression : sympy expression or sympy.Matrix
        A SymPy result; parameters named ``\ln\sigma``, ``\ln s``, ... are logarithms of scales.

    Returns
    -------
    sympy expression or sympy.Matrix
        The same value; only its form differs.

    Examples
    --------
    >>> book_form(gaussian().score[0])
    (-mu + z)/\sigma**2
    """
    if isinstance(expression, sp.MatrixBase):
        return expression.applyfunc(book_form)
    is_exp = lambda e: isinstance(e, sp.exp)  # noqa: E731
    expression = sp.sympify(expression).replace(is_exp, _exp_in_scales)
    if not isinstance(expression, sp.Add):
        return expression
    # Group the terms that differ only by a logarithm of a number, and combine them.
    groups: dict = {}
    others = []
    for term in expression.args:
        factors = sp.Mul.make_args(term)
        logs = [f for f in factors if isinstance(f, sp.log) and f.args[0].is_number]
        if len(logs) == 1:
            coefficient, rest = (term / logs[0]).as_coeff_Mul()
            groups.setdefault(rest, []).append(coefficient * logs[0])
        else:
            others.append(term)
    grouped = [
        _combined_logarithms(sp.Add(*logs)) * rest for rest, logs in groups.items()
    ]
    return sp.Add(*others, *grouped)


def latex(expression) -> str:
    r"""LaTeX for a SymPy result in the book's notation: :func:`book_form`, printed with :math:`\ln`.

    Parameters
    ----------
    expression : sympy expression or sympy.Matrix
        What to print.

    Returns
    -------
    str
        ``sympy.latex(book_form(expression), ln_notation=True)``.

    Examples
    --------
    >>> latex(normal_log_density(sp.Symbol("x"), 0, 1))
    '- \\frac{x^{2}}{2} - \\frac{\\ln{\\left(2 \\pi \\right)}}{2}'
    """
    return sp.latex(book_form(expression), ln_notation=True)


# --- Checking the links: the side before a link by SymPy, the side after it by mpmath at
# fixed values, without SymPy integrating or simplifying: neither inherits the other's
# cancellations.

#: The two parameter settings every check uses; entry j goes to the j-th parameter.
CHECK_POINTS = tuple(
    tuple(map(sp.Rational, point.split()))
    for point in ("3/10 -1/5 7/10 -1/2", "-7/10 2/5 -3/10 1/4")
)
_OTHER_VALUES = tuple(map(sp.Rational, "7/10 -11/10 19/10 2/5 -3/5 13/10".split()))
_TOLERANCE, _NUM_NODES, _NUM_MONTE_CARLO_NODES, _STEP = 1e-9, 24, 10, mpmath.mpf("1e-4")


class Parts:
    r"""The pieces of the chain at :math:`(z, \phi)`, read by a candidate, computed when first read.

    Their names: ``z``, ``q``, ``log_q``, ``log_p``, per parameter ``grad_q`` and
    ``score`` (and ``f``, ``grad_f`` for the general identity).

    Parameters
    ----------
    **values
        Pieces given outright, by name; the rest are computed on first read.

    Examples
    --------
    >>> Parts(z=0.5, q=2.0).q
    2.0
    """

    def __init__(self, **values):
        self.__dict__.update(values)

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._functions:
            raise AttributeError(name)
        value = self._functions[name](*self._arguments)
        value = np.array(value, dtype=object) if isinstance(value, list) else value
        self.__dict__[name] = value
        return value


def integral(integrand):
    r"""A term :math:`\int g\,dz` of a candidate side.

    Parameters
    ----------
    integrand : callable
        :math:`g`, a function of :class:`Parts`.

    Returns
    -------
    tuple
        ``("integral", integrand)``.

    Examples
    --------
    >>> integral(abs)[0]
    'integral'
    """
    return ("integral", integrand)


def gradient_of_integral(integrand):
    r"""A term :math:`\nabla_\phi \int g\,dz` of a candidate side: the gradient outside.

    Parameters
    ----------
    integrand : callable
        :math:`g`, a function of :class:`Parts`.

    Returns
    -------
    tuple
        ``("gradient of integral", integrand)``.

    Examples
    --------
    >>> gradient_of_integral(abs)[0]
    'gradient of integral'
    """
    return ("gradient of integral", integrand)


def _l8_monte_carlo(parts_at, samples):
    """The book's Monte Carlo line: (1/n) sum_i signal(z_i) score(z_i)."""
    terms = [(p.log_p - p.log_q) * p.score for p in map(parts_at, samples)]
    return sum(terms) / len(samples)


#: The right-hand side of each link as the book writes it (the default ``candidate``).
LINKS: dict = {
    "L1": [gradient_of_integral(lambda p: p.q * p.log_p), gradient_of_integral(lambda p: -p.q * p.log_q)],
    "L2": [
        integral(lambda p: p.log_p * p.grad_q),
        integral(lambda p: -p.log_q * p.grad_q),
        integral(lambda p: -p.q * p.score),
    ],
    "L3": [integral(lambda p: (p.grad_q / p.q) * p.q)],
    "L4": [gradient_of_integral(lambda p: p.q)],
    "L5": [integral(lambda p: (p.log_p - p.log_q) * p.grad_q)],
    "L6": [integral(lambda p: (p.log_p - p.log_q) * p.q * p.score)],
    "L7": lambda p: (p.log_p - p.log_q) * p.score,
    "L8": _l8_monte_carlo,
    "general": [("expectation", lambda p: p.f * p.score), ("expectation", lambda p: p.grad_f)],
}  # fmt: skip

# The side before each link, which SymPy integrates (L8: the mean is the L1 gradient).
_BEFORE = {
    "L1": [gradient_of_integral(lambda p: p.q * (p.log_p - p.log_q))],
    "L2": LINKS["L1"],
    "L3": [integral(lambda p: p.q * p.score)],
    "L4": [integral(lambda p: p.grad_q)],
    "L5": LINKS["L2"][:2],
    "L6": LINKS["L5"],
    "L7": LINKS["L6"],
    "general": [gradient_of_integral(lambda p: p.q * p.f)],
}
_BEFORE["L8"] = _BEFORE["L1"]
# Links between integrands also compare the integrands at points z (L2: against SymPy's
# derivative of the product).
_POINTWISE = {link: _BEFORE[link] for link in ("L3", "L5", "L6")}
_POINTWISE["L2"] = [integral(lambda p: p.grad_product)]
_SYMBOLIC_CACHE: dict = {}


def _symbolic_side(link, q, pieces):
    """The side before a link, by SymPy (cached: the same for every candidate)."""
    family = (q.name, q.variable, q.params, q.density, q.support)
    key = (tuple(_BEFORE[link]), pieces["log_p"], pieces.get("f"), family)
    if key not in _SYMBOLIC_CACHE:
        side = sp.zeros(len(q.params), 1)
        for kind, g in _BEFORE[link]:
            value = q.integrate(g(Parts(**pieces)))
            side += q.gradient(value) if kind == "gradient of integral" else value
        _SYMBOLIC_CACHE[key] = side
    return _SYMBOLIC_CACHE[key]


def _evaluate(symbolic, values):
    """The SymPy side at a check point as mpmath numbers, NaN where SymPy left it undone."""

    def number(value):
        done = value.is_number and value.is_finite and not value.has(sp.Integral)
        return mpmath.mpf(sp.Float(sp.re(value), 40)) if done else mpmath.nan

    return np.array([number(sp.N(entry.subs(values), 40)) for entry in symbolic])


def _close(numeric, symbolic) -> bool:
    """Whether two arrays agree to the tolerance, both finite (a side SymPy left undone fails)."""
    pairs = [np.atleast_1d(np.array(x, dtype=object)) for x in (numeric, symbolic)]
    if pairs[0].shape != pairs[1].shape:
        return False
    for a, b in zip(*pairs, strict=True):
        a, b = mpmath.mpmathify(a), mpmath.mpmathify(b)
        finite = not isinstance(a, mpmath.mpc) and all(map(mpmath.isfinite, (a, b)))
        if not finite or abs(a - b) > _TOLERANCE * (1 + abs(b)):
            return False
    return True


class _Numeric:
    """A family and a model as mpmath functions of (z, phi), the other symbols fixed."""

    def __init__(self, q, pieces):
        symbols = set().union(*(piece.free_symbols for piece in pieces.values()))
        others = sorted(symbols - {q.variable, *q.params}, key=str)
        pairs = zip(others, _OTHER_VALUES * 4, strict=False)
        self.q, self.functions = q, {}
        self.fixed = {s: abs(v) + sp.S.Half if s.is_positive else v for s, v in pairs}
        for name, piece in pieces.items():
            piece = piece.subs(self.fixed)
            piece = list(piece) if isinstance(piece, sp.MatrixBase) else piece
            self.functions[name] = sp.lambdify([q.variable, *q.params], piece, "mpmath")

    def parts(self, z, phi=None):
        """The :class:`Parts` at (z, phi)."""
        phi = self.phi if phi is None else phi
        return Parts(_functions=self.functions, _arguments=(z, *phi), z=z)

    def at(self, phi, *expressions):
        """Expressions in phi (ends of the support, location, scale) as mpmath numbers."""
        substitution = dict(zip(self.q.params, phi, strict=True))
        values = [expression.subs(substitution) for expression in expressions]
        return [
            mpmath.mpf(sp.Float(v, 40) if v.is_finite else float(v)) for v in values
        ]

    def integrate(self, integrand, phi):
        """int g(parts(z, phi)) dz by quadrature (a sum for a discrete z), entry by entry."""
        g = lambda z: integrand(self.parts(z, phi))  # noqa: E731
        support = self.q.support
        if isinstance(support, sp.FiniteSet):
            return sum(g(int(value)) for value in support)
        if isinstance(support, sp.Range):  # a sum to infinity
            sample = int(support.inf)
            rule = lambda f: mpmath.nsum(lambda k: f(int(k)), [sample, mpmath.inf])  # noqa: E731
        else:
            location = self.q.location
            lower, location, upper = self.at(phi, support.inf, location, support.sup)
            inside = lower < location < upper
            breaks = [lower, location, upper] if inside else [lower, upper]
            start = lower + 1 if upper == mpmath.inf else (lower + upper) / 2
            sample = location if inside else start
            rule = lambda f: mpmath.quad(f, breaks, maxdegree=7)  # noqa: E731
        if not isinstance(g(sample), np.ndarray):
            return rule(g)
        return np.array([rule(lambda z, j=j: g(z)[j]) for j in range(len(g(sample)))])

    def gradient(self, value_at):
        """grad_phi value_at(phi) by five-point central differences (error of order step**4)."""
        gradient, phi = [], np.array(self.phi, dtype=object)
        for unit in np.eye(len(phi), dtype=int):
            steps = [k * _STEP * unit for k in (1, -1, 2, -2)]
            plus, minus, plus_2, minus_2 = (value_at(phi + step) for step in steps)
            gradient.append((8 * (plus - minus) - (plus_2 - minus_2)) / (12 * _STEP))
        return np.array(gradient)

    def side(self, terms, z=None):
        """A side's value; at a point z, the sum of its integrands (a gradient taken numerically)."""
        value_at = lambda phi, g: (  # noqa: E731
            self.integrate(g, phi) if z is None else g(self.parts(z, phi))
        )
        total = 0
        for kind, g in terms:
            if kind == "expectation":  # by the nodes: q is never evaluated
                points, weights = self.nodes()
                pairs = zip(points, weights, strict=True)
                total = total + sum(w * g(self.parts(x)) for x, w in pairs)
            elif kind == "integral":
                total = total + value_at(self.phi, g)
            elif kind == "gradient of integral":
                total = total + self.gradient(lambda phi, g=g: value_at(phi, g))
            else:
                raise ValueError(f"unknown kind of term {kind!r}")
        return total

    def points(self):
        """A few points z of the support, where integrands are compared."""
        support = self.q.support
        if self.q.is_discrete:
            finite = isinstance(support, sp.FiniteSet)
            return [int(v) for v in (support if finite else range(4))]
        lower, upper = self.at(self.phi, support.inf, support.sup)
        if lower == -mpmath.inf:
            return [mpmath.mpf(v) for v in ("-1.3", "0.4", "1.7")]
        if upper == mpmath.inf:
            return [lower + mpmath.mpf(v) for v in ("0.3", "1.2", "2.5")]
        return [lower + (upper - lower) * mpmath.mpf(v) for v in ("0.2", "0.5", "0.9")]

    def nodes(self, count=_NUM_NODES):
        """Points and weights with sum_i w_i g(z_i) = E_q[g(z)] (exact for polynomials)."""
        q = self.q
        if isinstance(q.support, sp.FiniteSet):
            values = [int(v) for v in q.support]
            return values, [self.parts(v).q for v in values]
        if q.name == "uniform":
            lower, upper = self.at(self.phi, q.support.inf, q.support.sup)
            t, w = np.polynomial.legendre.leggauss(count)
            points = [lower + (upper - lower) * (mpmath.mpf(x) + 1) / 2 for x in t]
            return points, [mpmath.mpf(x) / 2 for x in w]
        if q.name == "Gaussian":
            u, w = np.polynomial.hermite_e.hermegauss(count)
            w = w / np.sqrt(2 * np.pi)
        elif q.name == "exponential":
            u, w = np.polynomial.laguerre.laggauss(count)
        else:
            raise ValueError(f"no quadrature nodes for the family {q.name!r}")
        location, scale = self.at(self.phi, q.location, q.scale)
        return [location + scale * mpmath.mpf(x) for x in u], [mpmath.mpf(x) for x in w]

    def monte_carlo(self, candidate, expected, num_samples):
        """Exact mean and variance of n-sample estimators, over all n-tuples of nodes."""
        points, weights = self.nodes(_NUM_MONTE_CARLO_NODES)
        cache: dict = {}
        parts_at = lambda z: cache.setdefault(repr(z), self.parts(z))  # noqa: E731

        def moments(estimator, n):
            mean, second = 0, 0
            for indices in itertools.product(range(len(points)), repeat=n):
                weight = mpmath.fprod(weights[i] for i in indices)
                sample = [points[i] for i in indices]
                estimate = np.atleast_1d(estimator(parts_at, sample))
                mean = mean + weight * estimate
                second = second + weight * estimate * estimate
            return mean, second - mean * mean

        _, variance = moments(_l8_monte_carlo, 1)  # Var[T(z)] of the book's term
        for n in num_samples:
            mean_n, variance_n = moments(candidate, n)
            if not (_close(mean_n, expected) and _close(variance_n, variance / n)):
                return False
        return True

    def agrees(self, index, link, candidate, symbolic, num_samples):
        """Whether the mpmath side of a link agrees with the SymPy side at a check point."""
        point = zip(self.q.params, CHECK_POINTS[index], strict=False)
        values = {p: abs(v) + 1 if p.is_positive else v for p, v in point} | self.fixed
        self.phi = [mpmath.mpf(sp.Float(values[p], 40)) for p in self.q.params]
        expected = _evaluate(symbolic, values)
        if link == "L8":
            return self.monte_carlo(candidate, expected, num_samples)
        value = self.side([("expectation", candidate)] if link == "L7" else candidate)
        zero = expected * 0 if link == "L4" else expected  # L4 also against 0
        if not (_close(value, expected) and _close(value, zero)):
            return False
        before = _POINTWISE.get(link, [])  # integrands compared at points z, too
        return not before or all(
            _close(self.side(candidate, z), self.side(before, z)) for z in self.points()
        )


def check_link(
    link, q, log_joint=0, candidate=None, *, function=None, num_samples=(2, 3)
):
    r"""Check one link of the chain on a family: two sides, computed independently.

    The side before the link by SymPy, the side after it (by default :data:`LINKS`)
    by mpmath, at both :data:`CHECK_POINTS`: :ref:`chap-derivation-integrals`.

    Parameters
    ----------
    link : {"L1", ..., "L8", "general"}
        Which link.
    q : SymbolicFamily
        The family.
    log_joint : sympy expression, default 0
        :math:`\ln p_\theta(x, z)`.
    candidate : list or callable, optional
        The right-hand side to check: for L1–L6 and "general" a list of :func:`integral`
        and :func:`gradient_of_integral` terms; for L7 a function of :class:`Parts`
        (inside :math:`\mathbb E_q`); for L8 a function ``(parts_at, samples)``.
    function : sympy expression, optional
        :math:`f_\phi(z)` for the "general" identity.
    num_samples : tuple of int, default (2, 3)
        The sample sizes at which L8 is checked.

    Returns
    -------
    bool
        Whether the sides agree to :math:`10^{-9}` wherever compared (never, if SymPy
        leaves its side undone).

    Examples
    --------
    >>> q, log_joint = examples()[0]
    >>> check_link("L3", q, log_joint)
    True
    >>> check_link("L3", q, log_joint, candidate=[integral(lambda p: p.grad_q / p.q)])
    False
    """
    if link not in LINKS:
        raise ValueError(f"link must be one of {sorted(LINKS)}, got {link!r}")
    if link == "general" and function is None:
        raise ValueError("the general identity needs a function f")
    log_joint = sp.sympify(log_joint)
    pieces = {
        "q": q.density, "log_q": q.log_density, "log_p": log_joint,
        "grad_q": q.gradient(q.density), "score": q.score,
        "grad_product": q.gradient(q.density * (log_joint - q.log_density)),
    }  # fmt: skip
    if function is not None:
        function = sp.sympify(function)
        pieces.update(f=function, grad_f=q.gradient(function))
    symbolic, numeric = _symbolic_side(link, q, pieces), _Numeric(q, pieces)
    candidate = LINKS[link] if candidate is None else candidate
    try:
        with mpmath.workdps(25):
            return all(
                numeric.agrees(index, link, candidate, symbolic, num_samples)
                for index in range(len(CHECK_POINTS))
            )
    except (ZeroDivisionError, OverflowError):
        return False

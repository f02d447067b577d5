r"""Symbolic variational families, for checking each line of the derivation with SymPy.

A :class:`SymbolicFamily` is a density :math:`q_\phi(z)` written as a SymPy
expression, with its parameters :math:`\phi`, its support and one operation
that does the work of every line of the derivation: :meth:`~SymbolicFamily.integrate`
takes :math:`\int \cdot \, dz` over the support for a continuous :math:`z`, or
:math:`\sum_z` for a discrete one. Expectations, scores and gradients are
built on it:

* ``q.expectation(f)`` is :math:`\mathbb E_{q_\phi}[f(z)]`;
* ``q.score`` is :math:`\nabla_\phi \ln q_\phi(z)`, a column matrix;
* ``q.gradient(expression)`` is :math:`\nabla_\phi` of an expression.

The families the book uses are built by :func:`gaussian`, :func:`exponential`,
:func:`bernoulli`, :func:`categorical` and :func:`uniform` (whose support
moves with its parameter); :func:`examples` pairs the first three with a
model :math:`\ln p_\theta(x, z)`; :func:`equal` decides whether two
expressions are identical. For Gaussian expectations of polynomials,
:func:`standard_normal_expectation` replaces each power of the standard
normal variable by its moment, which is exact and much faster than
integrating against the density.

This module needs SymPy (``pip install elbo-grad[symbolic]``); the rest of
the package needs only NumPy, so it is imported on its own::

    from elbo_grad.symbolic import gaussian, equal
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

__all__ = [
    "CHECK_POINTS",
    "LINKS",
    "Parts",
    "SymbolicFamily",
    "bernoulli",
    "book_form",
    "categorical",
    "check_link",
    "equal",
    "examples",
    "exponential",
    "gaussian",
    "gradient_of_integral",
    "integral",
    "latex",
    "normal_log_density",
    "standard_normal_expectation",
    "standard_normal_moment",
    "uniform",
]

# The standardised variable of integration.  Module-level dummies, so that the
# cache of one-term integrals below is shared by every family and every call.
_U_REAL = sp.Dummy("u", real=True)
_U_POSITIVE = sp.Dummy("u", positive=True)
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
        The parameters :math:`\phi = (\phi_1, \dots, \phi_d)`, in the order of
        :attr:`score` and :meth:`gradient`. They must not include ``variable``.
    density : sympy expression
        :math:`q_\phi(z)` on its support: a density for a continuous
        ``support``, a probability mass function for a discrete one.
    support : sympy.Interval, sympy.FiniteSet or sympy.Range
        Where :math:`q_\phi(z) > 0`. An ``Interval`` (its ends may depend on
        :math:`\phi`) makes :math:`z` continuous and :meth:`integrate` an
        integral; a ``FiniteSet`` or ``Range`` of integers makes :math:`z`
        discrete and :meth:`integrate` a sum.
    log_params : sequence of sympy.Symbol, optional
        Parameters that are logarithms of positive quantities, such as
        :math:`\ln\sigma`. While integrating, each such :math:`\phi_j` is
        written as :math:`\ln s_j` with a fresh positive symbol :math:`s_j`
        (SymPy integrates far more readily when it knows a scale is
        positive), and the result is written back in terms of
        :math:`\phi_j`.
    location, scale : sympy expression, default 0 and 1
        A change of variables :math:`z = \text{location} + \text{scale}\cdot u`
        that :meth:`integrate` makes before integrating in :math:`u` (for a
        location–scale family this turns every integral into a standard one;
        it changes how the integral is computed, not its value). Continuous
        families only; ``scale`` must be positive.

    Raises
    ------
    TypeError
        If ``variable`` or a parameter is not a SymPy symbol, ``support`` is
        not an ``Interval``, ``FiniteSet`` or ``Range``, or ``density`` cannot
        be read as a SymPy expression.
    ValueError
        If ``params`` is empty or repeats a symbol, ``variable`` is among the
        parameters, an entry of ``log_params`` is not a parameter, a discrete
        support is infinite in both directions, or ``location``/``scale`` are
        given for a discrete family, or ``scale`` is not positive.

    Notes
    -----
    For a continuous family on :math:`Z_\phi = [a(\phi), b(\phi)]`,

    .. math::

        \texttt{integrate}(g) = \int_{a(\phi)}^{b(\phi)} g(z)\,dz, \qquad
        \texttt{expectation}(f) = \int_{a(\phi)}^{b(\phi)} q_\phi(z) f(z)\,dz,

    and for a discrete one the integrals are sums over the support. The
    integral of a sum is taken term by term (linearity), each term's integral
    being cached, because the same few standard integrals recur through the
    whole derivation; if a term cannot be done on its own, the whole
    expression is integrated at once.

    Examples
    --------
    The exponential distribution with rate :math:`\lambda = e^\eta`:

    >>> import sympy as sp
    >>> z, eta = sp.Symbol("z", real=True), sp.Symbol("eta", real=True)
    >>> q = SymbolicFamily("exponential", z, [eta], sp.exp(eta - sp.exp(eta) * z),
    ...                    sp.Interval(0, sp.oo), log_params=[eta])
    >>> q.integrate(q.density)
    1
    >>> q.expectation(z)
    exp(-eta)
    >>> q.score
    Matrix([[-z*exp(eta) + 1]])
    >>> q.expectation(q.score)
    Matrix([[0]])
    """

    def __init__(
        self,
        name: str,
        variable: sp.Symbol,
        params,
        density,
        support,
        *,
        log_params=(),
        location=0,
        scale=1,
    ):
        if not isinstance(variable, sp.Symbol):
            raise TypeError(f"variable must be a sympy.Symbol, got {type(variable).__name__}")
        params = tuple(params)
        if not params:
            raise ValueError("params must hold at least one parameter")
        for parameter in params:
            if not isinstance(parameter, sp.Symbol):
                raise TypeError(
                    f"params must be sympy.Symbols, got {type(parameter).__name__}"
                )
        if len(set(params)) != len(params):
            raise ValueError(f"params must not repeat a symbol, got {params}")
        if variable in params:
            raise ValueError(f"the variable {variable} must not be one of the params")
        try:
            density = sp.sympify(density, strict=True)
        except sp.SympifyError as error:
            raise TypeError(f"density must be a SymPy expression: {error}") from None
        if not isinstance(support, (sp.Interval, sp.FiniteSet, sp.Range)):
            raise TypeError(
                "support must be a sympy Interval (continuous z), FiniteSet or Range "
                f"(discrete z), got {type(support).__name__}"
            )
        if isinstance(support, sp.Range) and support.inf == -sp.oo and support.sup == sp.oo:
            raise ValueError("a discrete support must be bounded on at least one side")
        log_params = tuple(log_params)
        for parameter in log_params:
            if parameter not in params:
                raise ValueError(f"log_params names {parameter}, which is not one of the params")
        discrete = not isinstance(support, sp.Interval)
        if discrete and (location != 0 or scale != 1):
            raise ValueError("location and scale apply to continuous families only")
        if sp.sympify(scale).is_positive is False:
            raise ValueError(f"scale must be positive, got {scale}")
        self.name = str(name)
        self.variable = variable
        self.params = params
        self.density = density
        self.support = support
        self.log_params = log_params
        self.location = sp.sympify(location)
        self.scale = sp.sympify(scale)

    def __repr__(self) -> str:
        return (
            f"SymbolicFamily({self.name!r}, variable={self.variable}, "
            f"params={self.params}, support={self.support})"
        )

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
        r""":math:`\ln q_\phi(z)` on the support, with logarithms of products expanded."""
        return sp.expand_log(sp.log(self.density), force=True)

    @property
    def score(self) -> sp.Matrix:
        r"""The score :math:`\nabla_\phi \ln q_\phi(z)`, a column matrix with one row per parameter.

        Each entry is the derivative of :attr:`log_density`, replaced by
        SymPy's simplification of it when that is shorter.
        """
        return self.gradient(self.log_density).applyfunc(_shorter_form)

    def gradient(self, expression) -> sp.Matrix:
        r""":math:`\nabla_\phi` of ``expression``: the column of its partial derivatives in ``params``.

        Parameters
        ----------
        expression : sympy expression
            Any expression; only its dependence on :attr:`params` matters.

        Returns
        -------
        sympy.Matrix, shape (len(params), 1)
        """
        expression = sp.sympify(expression)
        return sp.Matrix([sp.diff(expression, parameter) for parameter in self.params])

    def integrate(self, expression):
        r""":math:`\int_{Z_\phi} g(z)\,dz` for continuous :math:`z`, :math:`\sum_{z \in Z_\phi} g(z)` for discrete.

        Parameters
        ----------
        expression : sympy expression or sympy.Matrix
            The integrand :math:`g(z)` (not multiplied by :math:`q`; see
            :meth:`expectation` for that). A matrix is integrated entry by
            entry.

        Returns
        -------
        sympy expression or sympy.Matrix
            The integral or sum, as SymPy evaluates it (``oo`` if it
            diverges).
        """
        if isinstance(expression, sp.MatrixBase):
            return expression.applyfunc(self.integrate)
        expression = sp.sympify(expression)
        if self.is_discrete:
            return self._sum(expression)
        return self._integral(expression)

    def expectation(self, function):
        r""":math:`\mathbb E_{q_\phi}[f(z)]`, that is ``integrate(density * function)``.

        Parameters
        ----------
        function : sympy expression or sympy.Matrix
            :math:`f(z)`; a matrix gives the matrix of expectations.
        """
        if isinstance(function, sp.MatrixBase):
            return function.applyfunc(self.expectation)
        return self.integrate(self.density * sp.sympify(function))

    def _sum(self, expression):
        if isinstance(self.support, sp.FiniteSet):
            total = sp.Add(*[expression.subs(self.variable, value) for value in self.support])
        else:
            to_positive, back = self._positive_substitutions()
            lower, upper = self.support.inf, self.support.sup
            k = _K_NONNEGATIVE if lower.is_nonnegative else _K
            summand = sp.logcombine(expression.subs(to_positive).subs(self.variable, k))
            total = sp.summation(summand, (k, lower, upper)).subs(back)
        # Put the sum over one denominator, where cancellations show.
        return sp.factor(sp.cancel(total))

    def _positive_substitutions(self):
        """phi_j -> ln(s_j) with s_j > 0 for the log-parameters, and the way back."""
        to_positive = {p: sp.log(_exponential_of(p)) for p in self.log_params}
        back = {_exponential_of(p): sp.exp(p) for p in self.log_params}
        return to_positive, back

    def _integral(self, expression):
        to_positive, back = self._positive_substitutions()
        location = self.location.subs(to_positive)
        scale = self.scale.subs(to_positive)
        lower = sp.simplify((self.support.inf.subs(to_positive) - location) / scale)
        upper = sp.simplify((self.support.sup.subs(to_positive) - location) / scale)
        u = _U_POSITIVE if lower.is_nonnegative else _U_REAL
        integrand = expression.subs(to_positive).subs(self.variable, location + scale * u) * scale
        integrand = sp.expand(sp.expand_log(sp.powsimp(integrand)))
        result = _integrate_by_terms(integrand, u, lower, upper)
        return sp.expand(result.subs(back))


def _integrate_by_terms(integrand, u, lower, upper):
    """Integrate a sum term by term, factoring constants out; fall back to the whole."""
    total = sp.S.Zero
    for term in sp.Add.make_args(integrand):
        constant, dependent = term.as_independent(u, as_Add=False)
        value = _integrate_term(dependent, u, lower, upper)
        if value.has(sp.Integral) or value.has(sp.nan) or value.is_infinite:
            return sp.integrate(integrand, (u, lower, upper), conds="none")
        total += constant * value
    return total


def _shorter_form(expression):
    """``expression`` or its simplification, whichever has fewer operations."""
    simplified = sp.simplify(expression)
    return simplified if sp.count_ops(simplified) < sp.count_ops(expression) else expression


@lru_cache(maxsize=None)
def _exponential_of(parameter):
    """A positive dummy standing for exp(parameter), the same one every time."""
    return sp.Dummy(f"exp_{parameter.name}", positive=True)


@lru_cache(maxsize=4096)
def _integrate_term(term, u, lower, upper):
    return sp.integrate(term, (u, lower, upper), conds="none")


def equal(lhs, rhs) -> bool:
    r"""``True`` if two SymPy expressions (or matrices) are identical as functions of their symbols.

    Parameters
    ----------
    lhs, rhs : sympy expression or sympy.Matrix
        The two sides of an identity; matrices must have the same shape.

    Returns
    -------
    bool
        Whether :math:`\text{lhs} - \text{rhs}` simplifies to zero. A
        ``False`` can in principle mean that SymPy failed to simplify a true
        identity; it never means a false one holds.

    Raises
    ------
    ValueError
        If one side is a matrix and the other is not, or the shapes differ.

    Examples
    --------
    >>> import sympy as sp
    >>> a = sp.Symbol("a", positive=True)
    >>> equal(sp.log(a**2), 2 * sp.log(a))
    True
    >>> equal(sp.exp(a) * sp.exp(-a), 2)
    False
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        if not (isinstance(lhs, sp.MatrixBase) and isinstance(rhs, sp.MatrixBase)):
            raise ValueError("equal compares a matrix only with a matrix")
        if lhs.shape != rhs.shape:
            raise ValueError(f"equal needs matrices of the same shape, got {lhs.shape} and {rhs.shape}")
        return all(equal(a, b) for a, b in zip(lhs, rhs))
    difference = sp.expand(sp.expand_log(lhs - rhs))
    if difference == 0:
        return True
    # Hyperbolic and trigonometric forms hide cancellations; exponentials expose them.
    difference = difference.rewrite(sp.exp)
    if sp.cancel(sp.expand(difference)) == 0:
        return True
    return bool(sp.simplify(difference) == 0)


def normal_log_density(value, mean, std) -> sp.Expr:
    r"""The Gaussian log-density :math:`\ln \mathcal N(\text{value}; \text{mean}, \text{std}^2)` as a SymPy expression.

    Parameters
    ----------
    value, mean : sympy expression or number
        The point and the mean.
    std : sympy expression or number
        The standard deviation (for example a positive symbol, or
        ``sp.exp(log_std)``).

    Returns
    -------
    sympy expression

    Notes
    -----
    .. math::

        \ln \mathcal N(v; m, s^2) = -\tfrac12 \ln 2\pi - \ln s - \frac{(v - m)^2}{2 s^2} .

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
        The names of the two parameters' symbols (both real), for example
        ``mean="m", log_std=r"\ln s"`` to match a model that already uses
        :math:`\mu` or :math:`\sigma`.

    Returns
    -------
    SymbolicFamily
        Variable ``z`` (real); parameters :math:`\mu` and :math:`\ln\sigma`
        (by default named ``mu`` and ``\ln\sigma``); support the real line.

    Notes
    -----
    .. math::

        q_\phi(z) = \frac{1}{\sqrt{2\pi}\,e^{\ln\sigma}}
            \exp\Bigl(-\frac{(z-\mu)^2}{2 e^{2\ln\sigma}}\Bigr),
        \qquad
        \nabla_\phi \ln q_\phi(z) = \Bigl(\frac{z-\mu}{\sigma^2},\;
            \frac{(z-\mu)^2}{\sigma^2} - 1\Bigr).

    Examples
    --------
    >>> import sympy as sp
    >>> q = gaussian()
    >>> q.score[0]
    (-mu + z)*exp(-2*\ln\sigma)
    >>> q.score[1]
    (-mu + z)**2*exp(-2*\ln\sigma) - 1
    >>> q.expectation(q.variable**2)
    mu**2 + exp(2*\ln\sigma)
    """
    z = sp.Symbol("z", real=True)
    mu = sp.Symbol(mean, real=True)
    log_sigma = sp.Symbol(log_std, real=True)
    density = sp.exp(-((z - mu) ** 2) / (2 * sp.exp(2 * log_sigma))) / (
        sp.sqrt(2 * sp.pi) * sp.exp(log_sigma)
    )
    return SymbolicFamily(
        "Gaussian",
        z,
        (mu, log_sigma),
        density,
        sp.Interval(-sp.oo, sp.oo),
        log_params=(log_sigma,),
        location=mu,
        scale=sp.exp(log_sigma),
    )


def exponential() -> SymbolicFamily:
    r"""The exponential distribution with rate :math:`\lambda = e^\eta`, :math:`\phi = \eta`.

    Returns
    -------
    SymbolicFamily
        Variable ``z`` (real); parameter ``eta`` (printed :math:`\ln\lambda`);
        support :math:`[0, \infty)`.

    Notes
    -----
    .. math::

        q_\phi(z) = e^{\eta} e^{-e^{\eta} z}, \qquad
        \nabla_\phi \ln q_\phi(z) = 1 - e^{\eta} z .

    Examples
    --------
    >>> q = exponential()
    >>> q.expectation(q.variable)
    exp(-\ln\lambda)
    """
    z = sp.Symbol("z", real=True)
    eta = sp.Symbol(r"\ln\lambda", real=True)
    return SymbolicFamily(
        "exponential",
        z,
        (eta,),
        sp.exp(eta) * sp.exp(-sp.exp(eta) * z),
        sp.Interval(0, sp.oo),
        log_params=(eta,),
        scale=sp.exp(-eta),
    )


def bernoulli() -> SymbolicFamily:
    r"""The Bernoulli distribution with logit :math:`\phi = \ln\frac{\pi}{1-\pi}`.

    Returns
    -------
    SymbolicFamily
        Variable ``z``; parameter ``phi``; support :math:`\{0, 1\}`.

    Notes
    -----
    .. math::

        q_\phi(z) = \frac{e^{\phi z}}{1 + e^{\phi}}, \qquad
        \nabla_\phi \ln q_\phi(z) = z - \frac{e^\phi}{1 + e^\phi} = z - \pi .

    Examples
    --------
    >>> q = bernoulli()
    >>> q.integrate(q.density)
    1
    >>> q.expectation(q.score)
    Matrix([[0]])
    """
    z = sp.Symbol("z", integer=True)
    phi = sp.Symbol("phi", real=True)
    return SymbolicFamily(
        "Bernoulli", z, (phi,), sp.exp(phi * z) / (1 + sp.exp(phi)), sp.FiniteSet(0, 1)
    )


def categorical(num_categories: int = 3) -> SymbolicFamily:
    r"""The categorical distribution on :math:`\{0, \dots, K-1\}` with logits :math:`\phi_0, \dots, \phi_{K-1}`.

    Parameters
    ----------
    num_categories : int, default 3
        :math:`K \ge 2`.

    Returns
    -------
    SymbolicFamily
        Variable ``z``; parameters ``phi_0, ..., phi_{K-1}``; support
        :math:`\{0, \dots, K-1\}`.

    Raises
    ------
    TypeError
        If ``num_categories`` is not an integer.
    ValueError
        If ``num_categories < 2``.

    Notes
    -----
    With :math:`\delta_{zk}` the Kronecker delta (1 if :math:`z = k`, else 0),

    .. math::

        q_\phi(z) = \frac{\exp\bigl(\sum_k \delta_{zk}\phi_k\bigr)}{\sum_k e^{\phi_k}},
        \qquad
        \frac{\partial \ln q_\phi(z)}{\partial \phi_k} = \delta_{zk} - \pi_k,
        \quad \pi_k = \frac{e^{\phi_k}}{\sum_j e^{\phi_j}} .

    Examples
    --------
    >>> q = categorical(3)
    >>> q.integrate(q.density)
    1
    >>> q.expectation(q.score).T
    Matrix([[0, 0, 0]])
    """
    if isinstance(num_categories, bool) or not isinstance(num_categories, int):
        raise TypeError(
            f"num_categories must be an integer, got {type(num_categories).__name__}"
        )
    if num_categories < 2:
        raise ValueError(f"num_categories must be at least 2, got {num_categories}")
    z = sp.Symbol("z", integer=True)
    logits = sp.symbols(f"phi_0:{num_categories}", real=True)
    density = sp.exp(sum(sp.KroneckerDelta(z, k) * logits[k] for k in range(num_categories))) / sum(
        sp.exp(logit) for logit in logits
    )
    return SymbolicFamily(
        f"categorical({num_categories})",
        z,
        logits,
        density,
        sp.FiniteSet(*range(num_categories)),
    )


def uniform() -> SymbolicFamily:
    r"""The uniform distribution on :math:`(0, \theta)`, :math:`\phi = \theta`: a support that moves with :math:`\phi`.

    This family breaks the rule that lets the gradient pass under the
    integral sign: :math:`q_\theta(z) = 1/\theta` only on :math:`(0, \theta)`.

    Returns
    -------
    SymbolicFamily
        Variable ``z``; parameter ``theta`` (positive); support
        :math:`[0, \theta]`.

    Examples
    --------
    >>> q = uniform()
    >>> q.support_depends_on_params
    True
    >>> q.expectation(q.score)    # not zero: the expected score is -1/theta
    Matrix([[-1/theta]])
    """
    z = sp.Symbol("z", real=True)
    theta = sp.Symbol("theta", positive=True)
    return SymbolicFamily("uniform", z, (theta,), 1 / theta, sp.Interval(0, theta))


def examples() -> list[tuple[SymbolicFamily, sp.Expr]]:
    r"""Three families, each with a model :math:`\ln p_\theta(x, z)`, on which the book checks every link.

    Returns
    -------
    list of (SymbolicFamily, sympy expression)
        * :func:`gaussian` with :math:`z \sim \mathcal N(0, 1)`,
          :math:`x \mid z \sim \mathcal N(z, 1)`:
          :math:`\ln p(x, z) = -\ln 2\pi - \tfrac12 z^2 - \tfrac12 (x - z)^2`;
        * :func:`exponential` with :math:`z \sim \mathrm{Exp}(1)`,
          :math:`x \mid z \sim \mathcal N(z, 1)`:
          :math:`\ln p(x, z) = -z - \tfrac12\ln 2\pi - \tfrac12 (x - z)^2`;
        * :func:`bernoulli` with any model on :math:`z \in \{0, 1\}`:
          :math:`\ln p(x, z) = (1 - z)\,a_0 + z\,a_1`, where
          :math:`a_z = \ln p(x, z)` are free symbols.

        The data :math:`x` and the :math:`a_z` are symbols, so every identity
        checked on these holds for all their values.

    Examples
    --------
    >>> [(q.name, log_joint) for q, log_joint in examples()][2]
    ('Bernoulli', a_0*(1 - z) + a_1*z)
    """
    x = sp.Symbol("x", real=True)
    pairs = []
    q = gaussian()
    z = q.variable
    pairs.append((q, normal_log_density(z, 0, 1) + normal_log_density(x, z, 1)))
    q = exponential()
    z = q.variable
    pairs.append((q, -z + normal_log_density(x, z, 1)))
    q = bernoulli()
    z = q.variable
    a_0, a_1 = sp.symbols("a_0 a_1", real=True)
    pairs.append((q, (1 - z) * a_0 + z * a_1))
    return pairs


@lru_cache(maxsize=None)
def standard_normal_moment(order: int):
    r""":math:`\mathbb E[\varepsilon^k]` for :math:`\varepsilon \sim \mathcal N(0, 1)`, integrated by SymPy.

    It is :math:`(k-1)!! = 1 \cdot 3 \cdots (k-1)` for even :math:`k` and 0 for odd
    :math:`k`.

    Raises
    ------
    ValueError
        If ``order`` is negative.

    Examples
    --------
    >>> [standard_normal_moment(k) for k in range(7)]
    [1, 0, 1, 0, 3, 0, 15]
    """
    if order < 0:
        raise ValueError(f"order must be a non-negative integer, got {order}")
    eps = sp.Symbol("varepsilon", real=True)
    density = sp.exp(-(eps**2) / 2) / sp.sqrt(2 * sp.pi)
    return sp.integrate(eps**order * density, (eps, -sp.oo, sp.oo))


def standard_normal_expectation(expression, eps):
    r""":math:`\mathbb E_{\varepsilon \sim \mathcal N(0,1)}[h(\varepsilon)]` for a polynomial :math:`h` in the symbol ``eps``.

    The polynomial is expanded and each power :math:`\varepsilon^k` replaced
    by its moment (:func:`standard_normal_moment`); the coefficients may hold
    any other symbols (parameters, data, logarithms). This is exact, and far
    faster than asking SymPy to integrate the whole product with the density.

    Parameters
    ----------
    expression : sympy.Expr
        A polynomial in ``eps``.
    eps : sympy.Symbol
        The standard normal variable.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    sympy.PolynomialError
        If ``expression`` is not a polynomial in ``eps``.

    Examples
    --------
    >>> eps, m, s = sp.symbols("varepsilon m s", real=True)
    >>> standard_normal_expectation((m + s * eps) ** 2, eps)
    m**2 + s**2
    """
    polynomial = sp.Poly(sp.expand(expression), eps)
    return sp.expand(sum(coefficient * standard_normal_moment(power) for (power,), coefficient in polynomial.terms()))


# ---------------------------------------------------------------------------
# The book's notation
# ---------------------------------------------------------------------------


def _scale_symbol(parameter):
    r"""``\sigma`` for a parameter named ``\ln\sigma``; ``None`` for any other symbol."""
    name = getattr(parameter, "name", "")
    if isinstance(parameter, sp.Symbol) and name.startswith(r"\ln"):
        return sp.Symbol(name[3:].strip() or "s", positive=True)
    return None


def _exp_in_scales(power):
    r"""Write :math:`e^{2\ln\sigma + a}` as :math:`\sigma^2 e^{a}`."""
    factors, rest = [], []
    for term in sp.Add.make_args(sp.expand(power.args[0])):
        coefficient, symbol = term.as_coeff_Mul()
        scale = _scale_symbol(symbol)
        if scale is not None and coefficient.is_Rational:
            factors.append(scale**coefficient)
        else:
            rest.append(term)
    if not factors:
        return power
    return sp.Mul(*factors) * sp.exp(sp.Add(*rest))


def _combined_logarithms(logarithms):
    r"""``-log(2)/2 - log(pi)/2`` as the one term :math:`-\tfrac12\ln 2\pi`, if it can be."""
    for denominator in (1, 2):
        for sign in (1, -1):
            combined = sp.logcombine(sp.expand(sign * denominator * logarithms), force=True)
            whole = isinstance(combined, sp.log) and all(
                exponent.is_Integer for exponent in combined.args[0].as_powers_dict().values()
            )
            if whole:
                return sp.Rational(sign, denominator) * combined
    return logarithms


def _collected_logarithms(expression):
    """Group the terms of a sum that differ only by a logarithm of a number, and combine them."""
    groups, others = {}, []
    for term in sp.Add.make_args(expression):
        logarithms = [
            factor for factor in sp.Mul.make_args(term)
            if isinstance(factor, sp.log) and factor.args[0].is_number
        ]
        if len(logarithms) == 1:
            coefficient, rest = (term / logarithms[0]).as_coeff_Mul()
            groups.setdefault(rest, []).append(coefficient * logarithms[0])
        else:
            others.append(term)
    terms = others + [_combined_logarithms(sp.Add(*logs)) * rest for rest, logs in groups.items()]
    return sp.Add(*terms)


def book_form(expression):
    r"""An expression rewritten in the book's notation, ready to print.

    Every :math:`e^{c \ln\sigma}` (for a parameter named ``\ln\sigma``, ``\ln s``,
    ``\ln\lambda``, ...) becomes :math:`\sigma^c`, and the constant terms of a
    sum are collected into one, such as :math:`-\tfrac12 \ln 2\pi`. The value
    is unchanged; only its form is.

    Parameters
    ----------
    expression : sympy expression or sympy.Matrix

    Returns
    -------
    sympy expression or sympy.Matrix

    Examples
    --------
    >>> q = gaussian()
    >>> book_form(q.score[0])
    (-mu + z)/\sigma**2
    """
    if isinstance(expression, sp.MatrixBase):
        return expression.applyfunc(book_form)
    expression = sp.sympify(expression)
    expression = expression.replace(lambda e: isinstance(e, sp.exp), _exp_in_scales)
    if isinstance(expression, sp.Add):
        expression = _collected_logarithms(expression)
    return expression


def latex(expression) -> str:
    r"""LaTeX for a SymPy result in the book's notation: :math:`\ln`, :math:`\sigma`, one constant.

    This is :func:`book_form` printed by ``sympy.latex`` with
    ``ln_notation=True``. Every SymPy result the book displays goes through it.

    Parameters
    ----------
    expression : sympy expression or sympy.Matrix

    Returns
    -------
    str

    Examples
    --------
    >>> z, x = sp.symbols("z x", real=True)
    >>> latex(normal_log_density(x, z, 1))
    '- \\frac{\\left(x - z\\right)^{2}}{2} - \\frac{\\ln{\\left(2 \\pi \\right)}}{2}'
    """
    return sp.latex(book_form(expression), ln_notation=True)


# ---------------------------------------------------------------------------
# Checking the links: two sides computed independently
# ---------------------------------------------------------------------------
#
# Each link "A = B" of the chain is checked by computing one side with SymPy
# (symbolic integrals and derivatives) and the other side numerically with
# mpmath (quadrature, finite sums, numerical differentiation, quadrature nodes
# of the family), at fixed parameter values.  The numerical side never asks
# SymPy to integrate or simplify, so neither side can inherit the other's
# cancellations.  Where a link is an identity between integrands, it is also
# compared pointwise, at several z.

#: The two parameter settings every check uses; entry j goes to the j-th parameter.
CHECK_POINTS = (
    (sp.Rational(3, 10), sp.Rational(-1, 5), sp.Rational(7, 10), sp.Rational(-1, 2)),
    (sp.Rational(-7, 10), sp.Rational(2, 5), sp.Rational(-3, 10), sp.Rational(1, 4)),
)
_OTHER_VALUES = (
    sp.Rational(7, 10), sp.Rational(-11, 10), sp.Rational(19, 10),
    sp.Rational(2, 5), sp.Rational(-3, 5), sp.Rational(13, 10),
)
_TOLERANCE = 1e-9
_NUM_NODES = 24
_NUM_MONTE_CARLO_NODES = 10


class Parts:
    r"""The pieces of the chain at one point :math:`(z, \phi)`, as numbers.

    A candidate form of a link is a function of a ``Parts``. Vectors (one
    entry per parameter) are NumPy arrays of mpmath numbers.

    Attributes
    ----------
    z : mpmath number
    q, log_q, log_p, signal : mpmath number
        :math:`q_\phi(z)`, :math:`\ln q_\phi(z)`, :math:`\ln p_\theta(x, z)`,
        and the learning signal :math:`\ln p_\theta - \ln q_\phi`.
    grad_q, score : numpy.ndarray of mpmath numbers
        :math:`\nabla_\phi q_\phi(z)` and :math:`\nabla_\phi \ln q_\phi(z)`.
    f, grad_f : mpmath number, numpy.ndarray
        A function :math:`f_\phi(z)` and its gradient, when one is checked.
    """

    def __init__(self, **values):
        self.__dict__.update(values)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name == "signal":
            value = self.log_p - self.log_q
        else:
            try:
                function = self._functions[name]
            except KeyError:
                raise AttributeError(name) from None
            value = function(*self._arguments)
            if isinstance(value, list):
                value = np.array(value, dtype=object)
        self.__dict__[name] = value
        return value


def integral(integrand):
    r"""A term :math:`\int g\,dz` of a candidate side, with :math:`g` a function of :class:`Parts`."""
    return ("integral", integrand)


def gradient_of_integral(integrand):
    r"""A term :math:`\nabla_\phi \int g\,dz`: the gradient taken outside the integral."""
    return ("gradient of integral", integrand)


def _l8_monte_carlo(parts_at, samples):
    """The book's Monte Carlo line: (1/n) sum_i signal(z_i) score(z_i)."""
    num_samples = len(samples)
    return sum((parts_at(z).log_p - parts_at(z).log_q) * parts_at(z).score for z in samples) / num_samples


#: The right-hand side of each link as the book writes it (the default ``candidate``).
LINKS = {
    "L1": [
        gradient_of_integral(lambda p: p.q * p.log_p),
        gradient_of_integral(lambda p: -p.q * p.log_q),
    ],
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
    "general": [
        ("expectation", lambda p: p.f * p.score),
        ("expectation", lambda p: p.grad_f),
    ],
}


def _point(q, expressions, index):
    """Values for the parameters and every other free symbol, at check point ``index``."""
    values = {}
    for parameter, value in zip(q.params, CHECK_POINTS[index]):
        values[parameter] = abs(value) + 1 if parameter.is_positive else value
    others = set()
    for expression in expressions:
        others |= sp.sympify(expression).free_symbols
    others -= {q.variable, *q.params}
    for symbol, value in zip(sorted(others, key=str), _OTHER_VALUES * 4):
        values[symbol] = abs(value) + sp.Rational(1, 2) if symbol.is_positive else value
    return values


def _numeric(expression, symbols):
    function = sp.lambdify(symbols, expression, "mpmath")
    return function


class _Numeric:
    """The pieces of a family and a model as mpmath functions of (z, phi)."""

    def __init__(self, q, log_joint, function=None):
        self.q = q
        expressions = [q.density, log_joint] + ([function] if function is not None else [])
        self.log_joint = sp.sympify(log_joint)
        self.function = None if function is None else sp.sympify(function)
        self.expressions = expressions
        symbols = [q.variable, *q.params]
        self._symbols = symbols
        self._fixed = None
        pieces = {
            "q": q.density,
            "log_q": q.log_density,
            "log_p": self.log_joint,
            "grad_q": list(q.gradient(q.density)),
            "score": list(q.score),
            "grad_product": list(q.gradient(q.density * (self.log_joint - q.log_density))),
        }
        if self.function is not None:
            pieces["f"] = self.function
            pieces["grad_f"] = list(q.gradient(self.function))
        self._pieces = pieces
        self._functions = {}

    def at_point(self, index):
        values = _point(self.q, self.expressions, index)
        self.values = values
        fixed = {s: v for s, v in values.items() if s not in self.q.params}
        self._functions = {
            name: _numeric(sp.sympify(piece).subs(fixed) if not isinstance(piece, list)
                           else [sp.sympify(p).subs(fixed) for p in piece], self._symbols)
            for name, piece in self._pieces.items()
        }
        self.phi = [mpmath.mpf(sp.Float(values[p], 40)) for p in self.q.params]
        return self

    def parts(self, z, phi=None):
        """The :class:`Parts` at (z, phi); each piece is computed when first read."""
        phi = self.phi if phi is None else phi
        return Parts(_functions=self._functions, _arguments=(z, *phi), z=z)

    # --- integrals over the support, at parameter values phi ---
    def support(self, phi):
        substitution = {p: v for p, v in zip(self.q.params, phi)}
        lower, upper = self.q.support.inf, self.q.support.sup
        return (_as_mpf(lower, substitution), _as_mpf(upper, substitution))

    def integrate(self, integrand, phi=None):
        """int g(parts(z, phi)) dz numerically (a sum for a discrete z)."""
        phi = self.phi if phi is None else phi
        if self.q.is_discrete:
            values = list(self.q.support) if isinstance(self.q.support, sp.FiniteSet) else None
            if values is None:
                start = int(self.q.support.inf)
                return mpmath.nsum(
                    lambda k: integrand(self.parts(int(k), phi)), [start, mpmath.inf]
                )
            return sum(integrand(self.parts(int(value), phi)) for value in values)
        lower, upper = self.support(phi)
        location = _as_mpf(self.q.location, dict(zip(self.q.params, phi)))
        inside = lower < location < upper
        breaks = [lower, location, upper] if inside else [lower, upper]
        if inside:
            start = location
        elif upper == mpmath.inf:
            start = lower + 1
        else:
            start = (lower + upper) / 2
        sample = integrand(self.parts(start, phi))
        if isinstance(sample, np.ndarray):
            return np.array(
                [
                    mpmath.quad(
                        lambda z, j=j: integrand(self.parts(z, phi))[j], breaks, maxdegree=7
                    )
                    for j in range(len(sample))
                ],
                dtype=object,
            )
        return mpmath.quad(
            lambda z: integrand(self.parts(z, phi)), breaks, maxdegree=7
        )

    def gradient_of_integral(self, integrand):
        """grad_phi int g dz by numerical differentiation of the quadrature."""
        gradient = []
        for j in range(len(self.phi)):
            def shifted(h, j=j):
                phi = list(self.phi)
                phi[j] = phi[j] + h
                return self.integrate(integrand, phi)
            gradient.append(_derivative(shifted))
        return np.array(gradient, dtype=object)

    def side(self, terms):
        total = 0
        for kind, integrand in terms:
            if kind == "integral":
                total = total + self.integrate(integrand)
            elif kind == "gradient of integral":
                total = total + self.gradient_of_integral(integrand)
            elif kind == "expectation":
                total = total + self.expectation(integrand)
            else:
                raise ValueError(f"unknown kind of term {kind!r}")
        return total

    # --- expectations by the family's quadrature nodes (never evaluates q) ---
    def nodes(self, count=_NUM_NODES):
        """Points and weights with sum_i w_i g(z_i) = E_q[g(z)] (exact for polynomials)."""
        q, substitution = self.q, dict(zip(self.q.params, self.phi))
        if q.is_discrete:
            if not isinstance(q.support, sp.FiniteSet):
                raise ValueError(f"expectations by nodes need a finite support, got {q.support}")
            points = [int(v) for v in q.support]
            return points, [self.parts(v).q for v in points]
        location, scale = _as_mpf(q.location, substitution), _as_mpf(q.scale, substitution)
        if q.name == "Gaussian":
            u, w = np.polynomial.hermite_e.hermegauss(count)
            w = w / np.sqrt(2 * np.pi)
        elif q.name == "exponential":
            u, w = np.polynomial.laguerre.laggauss(count)
        elif q.name == "uniform":
            lower, upper = self.support(self.phi)
            t, w = np.polynomial.legendre.leggauss(count)
            points = [lower + (upper - lower) * (mpmath.mpf(x) + 1) / 2 for x in t]
            return points, [mpmath.mpf(x) / 2 for x in w]
        else:
            raise ValueError(f"no quadrature nodes for the family {q.name!r}")
        points = [location + scale * mpmath.mpf(x) for x in u]
        return points, [mpmath.mpf(x) for x in w]

    def expectation(self, function):
        points, weights = self.nodes()
        return sum(w * function(self.parts(z)) for z, w in zip(points, weights))


def _derivative(function, step=mpmath.mpf("1e-4")):
    """f'(0) by the five-point central difference (error of order step**4)."""
    return (
        8 * (function(step) - function(-step)) - (function(2 * step) - function(-2 * step))
    ) / (12 * step)


def _as_mpf(expression, substitution):
    value = sp.sympify(expression).subs(substitution)
    if value == sp.oo:
        return mpmath.inf
    if value == -sp.oo:
        return -mpmath.inf
    return mpmath.mpf(sp.Float(value, 40))


def _close(numeric, symbolic) -> bool:
    numeric = np.atleast_1d(np.array(numeric, dtype=object))
    symbolic = np.atleast_1d(np.array(symbolic, dtype=object))
    if numeric.shape != symbolic.shape:
        return False
    for a, b in zip(numeric, symbolic):
        a, b = mpmath.mpmathify(a), mpmath.mpmathify(b)
        if isinstance(a, mpmath.mpc) or not mpmath.isfinite(a):
            return False
        if abs(a - b) > _TOLERANCE * (1 + abs(b)):
            return False
    return True


def _evaluate(expression, values):
    """A symbolic side at the check point, as mpmath numbers."""
    expression = sp.sympify(expression)
    entries = list(expression) if isinstance(expression, sp.MatrixBase) else [expression]
    numbers = []
    for entry in entries:
        value = sp.N(entry.subs(values), 40)
        if not value.is_number or value.has(sp.Integral) or not value.is_finite:
            return np.array([mpmath.nan] * len(entries), dtype=object)
        numbers.append(mpmath.mpf(sp.Float(sp.re(value), 40)))
    return np.array(numbers, dtype=object)


_SYMBOLIC_CACHE = {}


def _symbolic_side(link, q, log_joint, function=None):
    """The SymPy side of a link (cached: it is the same for every candidate)."""
    key = (link, q.name, q.variable, q.params, q.density, q.support, log_joint, function)
    if key in _SYMBOLIC_CACHE:
        return _SYMBOLIC_CACHE[key]
    log_q, grad_q, score = q.log_density, q.gradient(q.density), q.score
    signal = log_joint - log_q
    if link == "L1":
        value = q.gradient(q.integrate(q.density * signal))
    elif link == "L2":
        value = q.gradient(q.integrate(q.density * log_joint)) - q.gradient(
            q.integrate(q.density * log_q)
        )
    elif link == "L3":
        value = q.integrate(q.density * score)
    elif link == "L4":
        value = q.integrate(grad_q)
    elif link == "L5":
        value = q.integrate(log_joint * grad_q) - q.integrate(log_q * grad_q)
    elif link == "L6":
        value = q.integrate(signal * grad_q)
    elif link == "L7":
        value = q.integrate(signal * q.density * score)
    elif link == "L8":
        value = q.gradient(q.integrate(q.density * signal))
    elif link == "general":
        value = q.gradient(q.integrate(q.density * function))
    else:
        raise ValueError(f"link must be one of {sorted(LINKS)}, got {link!r}")
    _SYMBOLIC_CACHE[key] = value
    return value


def _pointwise_points(numeric):
    q = numeric.q
    if q.is_discrete:
        values = q.support if isinstance(q.support, sp.FiniteSet) else range(4)
        return [int(v) for v in values]
    lower, upper = numeric.support(numeric.phi)
    if upper == mpmath.inf and lower == -mpmath.inf:
        return [mpmath.mpf(v) for v in ("-1.3", "0.4", "1.7")]
    if upper == mpmath.inf:
        return [lower + mpmath.mpf(v) for v in ("0.3", "1.2", "2.5")]
    return [lower + (upper - lower) * mpmath.mpf(v) for v in ("0.2", "0.5", "0.9")]


def _pointwise_integrand(numeric, terms, parts):
    """The sum of a side's integrands at one z; a gradient outside is taken numerically."""
    total = 0
    for kind, integrand in terms:
        if kind == "integral":
            total = total + integrand(parts)
        else:
            gradient = []
            for j in range(len(numeric.phi)):
                def shifted(h, j=j):
                    phi = list(numeric.phi)
                    phi[j] = phi[j] + h
                    return integrand(numeric.parts(parts.z, phi))
                gradient.append(_derivative(shifted))
            total = total + np.array(gradient, dtype=object)
    return total


def check_link(link, q, log_joint=0, candidate=None, *, function=None, num_samples=(2, 3)):
    r"""Check one link of the chain on a family: two sides, computed independently.

    The side before the link is computed by SymPy (symbolic integrals or sums
    of symbolic derivatives); the side after it, by default the form the book
    writes, is computed numerically by mpmath, without SymPy integrating or
    simplifying anything. They are compared at the two settings
    :data:`CHECK_POINTS` of the parameters (and of every other symbol, such
    as the data :math:`x`). Links between integrands (L2, L3, L5, L6) are
    compared pointwise in :math:`z` too.

    ======== ======================================= =========================================
    link     SymPy side                              numerical side (``candidate``)
    ======== ======================================= =========================================
    L1       :math:`\nabla_\phi\int q(\ln p-\ln q)`  each :math:`\nabla_\phi\int`: quadrature,
                                                     then numerical differentiation
    L2       the L1 line                             quadrature of the three integrands
    L3       :math:`\int q\,\nabla\ln q`             quadrature of :math:`(\nabla q/q)\,q`
    L4       :math:`\int \nabla q`                   :math:`\nabla_\phi` of the quadrature of
                                                     :math:`q`, and 0
    L5       the two integrals                       quadrature of the one integrand
    L6       :math:`\int(\ln p-\ln q)\nabla q`       quadrature of :math:`(\ln p-\ln q)q\nabla\ln q`
    L7       the L6 integral                         the family's quadrature nodes (Gauss–Hermite,
                                                     –Laguerre, –Legendre, or enumeration): an
                                                     expectation that never evaluates :math:`q`
    L8       :math:`\nabla_\phi` of the ELBO         exact mean and variance of the estimator over
                                                     all n-tuples of nodes; variance against
                                                     :math:`\mathrm{Var}[T]/n`
    general  :math:`\nabla_\phi\,\mathbb E_q[f]`     nodes: :math:`\mathbb E[f\,\nabla\ln q]
                                                     + \mathbb E[\nabla f]`
    ======== ======================================= =========================================

    Parameters
    ----------
    link : {"L1", ..., "L8", "general"}
        Which link.
    q : SymbolicFamily
        The family.
    log_joint : sympy expression, default 0
        :math:`\ln p_\theta(x, z)`.
    candidate : list or callable, optional
        The link's right-hand side, to test a version of it (see :data:`LINKS`
        for the book's, the default). For L1–L6 and "general", a list of
        :func:`integral` and :func:`gradient_of_integral` terms, each holding
        a function of :class:`Parts`; for L7, a function of
        :class:`Parts` returning the quantity inside :math:`\mathbb E_q`; for
        L8, a function ``(parts_at, samples)`` returning the estimate, where
        ``parts_at(z)`` gives the :class:`Parts` at a sample.
    function : sympy expression, optional
        :math:`f_\phi(z)` for the "general" identity.
    num_samples : tuple of int, default (2, 3)
        The sample sizes at which L8 is checked.

    Returns
    -------
    bool
        Whether the two sides agree (to :math:`10^{-9}` relative) everywhere
        they are compared.

    Raises
    ------
    ValueError
        If ``link`` is not one of the links.

    Examples
    --------
    >>> q, log_joint = examples()[0]
    >>> check_link("L3", q, log_joint)
    True
    >>> missing_q = [integral(lambda p: p.grad_q / p.q)]
    >>> check_link("L3", q, log_joint, candidate=missing_q)
    False
    """
    if link not in LINKS:
        raise ValueError(f"link must be one of {sorted(LINKS)}, got {link!r}")
    if link == "general" and function is None:
        raise ValueError("the general identity needs a function f")
    log_joint = sp.sympify(log_joint)
    candidate = LINKS[link] if candidate is None else candidate
    symbolic = _symbolic_side(link, q, log_joint, function)
    numeric = _Numeric(q, log_joint, function)
    with mpmath.workdps(25):
        for index in range(len(CHECK_POINTS)):
            numeric.at_point(index)
            expected = _evaluate(symbolic, numeric.values)
            try:
                if not _check_at_point(link, numeric, candidate, expected, num_samples):
                    return False
            except (ZeroDivisionError, OverflowError):
                return False
    return True


def _check_at_point(link, numeric, candidate, expected, num_samples):
    if link == "L7":
        return _close(numeric.expectation(candidate), expected)
    if link == "L8":
        return _check_monte_carlo(numeric, candidate, expected, num_samples)
    terms = candidate
    if not _close(numeric.side(terms), expected):
        return False
    if link == "L4" and not _close(numeric.side(terms), expected * 0):
        return False
    if link in ("L2", "L3", "L5", "L6"):
        reference = LINKS_BEFORE[link]
        for z in _pointwise_points(numeric):
            parts = numeric.parts(z)
            if not _close(_pointwise_integrand(numeric, terms, parts),
                          _pointwise_integrand(numeric, reference, parts)):
                return False
    return True


#: The left-hand side of each pointwise link, as SymPy derived it: compared with
#: the candidate at each z.  (L2: SymPy's derivative of the product; L3, L5, L6:
#: the integrand of the line before.)
LINKS_BEFORE = {
    "L2": [integral(lambda p: p.grad_product)],
    "L3": [integral(lambda p: p.q * p.score)],
    "L5": [integral(lambda p: p.log_p * p.grad_q), integral(lambda p: -p.log_q * p.grad_q)],
    "L6": [integral(lambda p: (p.log_p - p.log_q) * p.grad_q)],
}


def _check_monte_carlo(numeric, candidate, expected, num_samples):
    """Exact mean and variance of an n-sample estimator, over all n-tuples of nodes."""
    points, weights = numeric.nodes(_NUM_MONTE_CARLO_NODES)
    cache = {}

    def parts_at(z):
        key = repr(z)
        if key not in cache:
            cache[key] = numeric.parts(z)
        return cache[key]

    terms = [(parts_at(z).log_p - parts_at(z).log_q) * parts_at(z).score for z in points]
    mean_term = sum(w * t for w, t in zip(weights, terms))
    variance_term = sum(w * t * t for w, t in zip(weights, terms)) - mean_term * mean_term
    for n in num_samples:
        mean, second = 0, 0
        for indices in itertools.product(range(len(points)), repeat=n):
            weight = mpmath.fprod(weights[i] for i in indices)
            estimate = np.atleast_1d(candidate(parts_at, [points[i] for i in indices]))
            mean = mean + weight * estimate
            second = second + weight * estimate * estimate
        if not _close(mean, expected):
            return False
        if not _close(second - mean * mean, variance_term / n):
            return False
    return True

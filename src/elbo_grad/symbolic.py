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

from functools import lru_cache
import sympy as sp

__all__ = [
    "SymbolicFamily",
    "bernoulli",
    "categorical",
    "equal",
    "examples",
    "exponential",
    "gaussian",
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

r"""Exact Gaussian expectations of polynomials, in SymPy, for the book's symbolic checks.

This module needs SymPy (part of the book's pinned requirements, not of the
package's own dependencies); it is imported on its own,
``from elbo_grad.symbolic import standard_normal_expectation``, never by
``import elbo_grad``.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["standard_normal_moment", "standard_normal_expectation"]


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
    import sympy as sp

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
    >>> import sympy as sp
    >>> eps, m, s = sp.symbols("varepsilon m s", real=True)
    >>> standard_normal_expectation((m + s * eps) ** 2, eps)
    m**2 + s**2
    """
    import sympy as sp

    polynomial = sp.Poly(sp.expand(expression), eps)
    return sp.expand(sum(coefficient * standard_normal_moment(power) for (power,), coefficient in polynomial.terms()))

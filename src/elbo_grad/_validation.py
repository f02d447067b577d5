"""Input checks shared by the whole package.

Every public function funnels its arguments through these helpers so that bad
input fails at once with an error that names the argument, instead of turning
into a silent NaN three calls later.
"""

from __future__ import annotations

import numbers
from typing import Union

import numpy as np

__all__ = [
    "RNGLike",
    "as_generator",
    "check_num_samples",
    "finite_array",
    "positive_scalar",
]

#: What a keyword-only ``rng`` argument accepts (SPEC 7): a non-negative
#: integer seed, a :class:`numpy.random.Generator`, or ``None``.
RNGLike = Union[int, np.random.Generator, None]


def as_generator(rng: RNGLike, name: str = "rng") -> np.random.Generator:
    """Normalise ``rng`` to a :class:`numpy.random.Generator` (SPEC 7).

    Parameters
    ----------
    rng : None, int or numpy.random.Generator
        A seed (a non-negative integer), an existing generator (used as is,
        so its state advances), or ``None`` for fresh OS entropy.
    name : str
        The argument's name, used in error messages.

    Raises
    ------
    TypeError
        If ``rng`` is not ``None``, an integer or a ``Generator`` (for example
        a float, a bool or the legacy ``numpy.random.RandomState``).
    ValueError
        If ``rng`` is a negative integer.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"{name} must be a non-negative integer seed, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{name} must be an integer seed, a numpy.random.Generator or None, "
        f"got {type(rng).__name__}"
    )


def check_num_samples(num_samples, name: str = "num_samples", minimum: int = 1) -> int:
    """Return ``num_samples`` as an ``int`` after checking it is an integer >= ``minimum``.

    Raises
    ------
    TypeError
        If it is not an integer (floats such as ``10.0`` are refused too).
    ValueError
        If it is smaller than ``minimum``.
    """
    if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {type(num_samples).__name__}")
    if num_samples < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {num_samples}")
    return int(num_samples)


def finite_array(value, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a float array after checking it is finite.

    Parameters
    ----------
    value : array_like
        The input.
    name : str
        The argument's name, used in error messages.
    ndim : int, optional
        If given, the number of dimensions the array must have.

    Raises
    ------
    TypeError
        If ``value`` cannot be read as an array of real numbers.
    ValueError
        If it has the wrong number of dimensions, is empty, or holds NaN or an
        infinity.
    """
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of real numbers: {error}") from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimension(s), got shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got NaN or infinity in {name}")
    return array


def positive_scalar(value, name: str) -> float:
    """Return ``value`` as a ``float`` after checking it is finite and > 0."""
    array = finite_array(value, name, ndim=0)
    if array <= 0:
        raise ValueError(f"{name} must be positive, got {float(array)}")
    return float(array)

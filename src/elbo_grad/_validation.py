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
    name : str, default "rng"
        The argument's name, used in error messages.

    Returns
    -------
    numpy.random.Generator
        ``rng`` itself if it is a generator, otherwise a new generator seeded
        with ``rng``.

    Raises
    ------
    TypeError
        If ``rng`` is not ``None``, an integer or a ``Generator`` (for example
        a float, a bool or the legacy ``numpy.random.RandomState``).
    ValueError
        If ``rng`` is a negative integer.

    Notes
    -----
    The same seed gives the same stream: ``as_generator(3)`` and
    ``as_generator(3)`` draw identical numbers, while one generator passed
    twice keeps advancing. Pass a generator, not a seed, to a function called
    in a loop, or every call sees the same random numbers.

    Examples
    --------
    >>> as_generator(0).random() == as_generator(0).random()
    True
    >>> generator = np.random.default_rng(0)
    >>> as_generator(generator) is generator
    True
    >>> as_generator(1.5)
    Traceback (most recent call last):
    ...
    TypeError: rng must be an integer seed, a numpy.random.Generator or None, got float
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


def check_num_samples(num_samples: int, name: str = "num_samples", minimum: int = 1) -> int:
    """Return ``num_samples`` as an ``int`` after checking it is an integer >= ``minimum``.

    Parameters
    ----------
    num_samples : int
        The count to check (any integer type, NumPy's included).
    name : str, default "num_samples"
        The argument's name, used in error messages.
    minimum : int, default 1
        The smallest allowed value.

    Returns
    -------
    int
        ``num_samples`` as a Python ``int``.

    Raises
    ------
    TypeError
        If it is not an integer (floats such as ``10.0`` and bools are
        refused too).
    ValueError
        If it is smaller than ``minimum``.

    Examples
    --------
    >>> check_num_samples(np.int64(10))
    10
    >>> check_num_samples(1, name="num_points", minimum=2)
    Traceback (most recent call last):
    ...
    ValueError: num_points must be at least 2, got 1
    """
    if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {type(num_samples).__name__}")
    if num_samples < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {num_samples}")
    return int(num_samples)


def finite_array(value: object, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a float array after checking it is finite.

    Parameters
    ----------
    value : array_like
        The input.
    name : str
        The argument's name, used in error messages.
    ndim : int, optional
        If given, the number of dimensions the array must have.

    Returns
    -------
    ndarray
        ``value`` converted to ``float`` (a view where NumPy allows one).

    Raises
    ------
    TypeError
        If ``value`` cannot be read as an array of real numbers.
    ValueError
        If it has the wrong number of dimensions, is empty, or holds NaN or an
        infinity.

    Examples
    --------
    >>> finite_array([1, 2], "x")
    array([1., 2.])
    >>> finite_array([1.0, np.nan], "x")
    Traceback (most recent call last):
    ...
    ValueError: x must be finite, got NaN or infinity in x
    """
    if _is_text(value):
        # np.asarray("1.5", dtype=float) would quietly parse the string.
        raise TypeError(f"{name} must be an array of real numbers, got text")
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


def positive_scalar(value: object, name: str) -> float:
    """Return ``value`` as a ``float`` after checking it is finite and > 0.

    Parameters
    ----------
    value : float or 0-d array_like
        The input.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    float
        ``value`` as a Python ``float``.

    Raises
    ------
    TypeError
        If ``value`` is not numeric.
    ValueError
        If it is not a scalar, is NaN or infinite, or is not positive.

    Examples
    --------
    >>> positive_scalar(2, "noise_std")
    2.0
    >>> positive_scalar(0.0, "noise_std")
    Traceback (most recent call last):
    ...
    ValueError: noise_std must be positive, got 0.0
    """
    array = finite_array(value, name, ndim=0)
    if array <= 0:
        raise ValueError(f"{name} must be positive, got {float(array)}")
    return float(array)


def _is_text(value: object) -> bool:
    """Whether ``value`` is a string, or an array or (nested) list holding strings."""
    if isinstance(value, (str, bytes)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "US" or (
            value.dtype.kind == "O" and any(_is_text(item) for item in value.ravel())
        )
    if isinstance(value, (list, tuple)):
        return any(_is_text(item) for item in value)
    return False

"""Checks at the public boundary: each returns its argument as the package computes
with it, or raises a ValueError/TypeError whose message starts with its name."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .families import Family

#: What a keyword-only ``rng`` accepts (SPEC 7): a seed, a Generator or None.
RNGLike = int | np.random.Generator | np.random.SeedSequence | None

#: The most floats one call may allocate for its samples and terms.
MAX_ELEMENTS = 2**28
_RNG = "rng must be an integer seed, a numpy.random.Generator or None"


def generator(rng: RNGLike) -> np.random.Generator:
    """``np.random.default_rng(rng)``, refusing what SPEC 7 does not allow."""
    if isinstance(rng, (bool, np.bool_, float, complex, str)):
        raise TypeError(f"{_RNG}, got {type(rng).__name__}")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{_RNG}: {error}") from None


def count(
    value: object, name: str, minimum: int = 1, maximum: int = MAX_ELEMENTS
) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    number = int(value)
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if number > maximum:
        raise ValueError(f"{name} must be at most {maximum} here (memory), got {value}")
    return number


def flag(value: object, name: str) -> bool:
    """``value`` if it is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def _real(value: object, name: str) -> np.ndarray:
    """``np.asarray(value)`` of a real dtype, or a named error."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be real numbers, got a bool")
    try:
        array = np.asarray(value)
    except RecursionError:
        raise ValueError(f"{name} is nested too deeply to be an array") from None
    except ValueError as error:
        raise ValueError(f"{name} must be a regular array: {error}") from None
    except TypeError as error:
        raise TypeError(f"{name} must be an array of real numbers: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers, got dtype {array.dtype}")
    return array


def real_array(
    value: object, name: str, ndim: int | None = None, copy: bool = True
) -> np.ndarray:
    """A finite, non-empty float array from ``value``: a read-only copy if ``copy``."""
    array = _real(value, name)
    array = np.array(array, dtype=float) if copy else array.astype(float, copy=False)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got {array.shape}")
    if array.size == 0 or not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite and not empty")
    array.flags.writeable = array.flags.writeable and not copy
    return array


def samples(z: object, dim: int, name: str = "z") -> np.ndarray:
    """``z`` as a finite real array of shape ``(n, dim)``, ``n >= 1`` (no copy)."""
    z = _real(z, name)
    if z.ndim != 2 or z.shape[1] != dim or z.shape[0] == 0:
        raise ValueError(f"{name} must have shape (num_samples, {dim}), got {z.shape}")
    if z.dtype.kind == "f" and not np.isfinite(z).all():
        raise ValueError(f"{name} must be finite, got NaN or infinity")
    return z.astype(float) if z.dtype.kind == "b" else z


#: The largest float below 1: ``scalar(x, name, 0.0, BELOW_ONE)`` asks for [0, 1).
BELOW_ONE = float(np.nextafter(1.0, 0.0))


def scalar(
    value: object, name: str, low: float = -np.inf, high: float = np.inf
) -> float:
    """``value`` as a finite float in ``[low, high]``."""
    value = float(real_array(value, name, ndim=0))
    if not low <= value <= high:
        upper = "1)" if high == BELOW_ONE else f"{high}]"
        raise ValueError(f"{name} must lie in [{low}, {upper}, got {value}")
    return value


def function(value: object, name: str) -> Callable:
    """``value`` if it is callable (and not a class or a family in the wrong place)."""
    if not callable(value) or isinstance(value, type):
        kind = f"the class {value.__name__}" if isinstance(value, type) else type(value)
        raise TypeError(f"{name} must be a function of the samples z, got {kind}")
    return value


def family(q: object, name: str = "q") -> Family:
    """``q`` if it is a family instance."""
    from .families import Family

    if not isinstance(q, Family):
        got = f"the class {q.__name__}" if isinstance(q, type) else type(q).__name__
        raise TypeError(f"{name} must be a family instance, got {got}")
    return q


def evaluate(f: Callable, z: np.ndarray, name: str, *shapes: tuple) -> np.ndarray:
    """``f(z)`` with ``z`` read-only, checked: finite reals of one of ``shapes``."""
    z = z.view()
    z.flags.writeable = False
    values = f(z)
    try:
        values = np.asarray(values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} must return a regular array: {error}") from None
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{name} must return real numbers, got dtype {values.dtype}")
    if values.shape not in shapes:
        expected = " or ".join(str(shape) for shape in shapes)
        raise ValueError(f"{name} must return shape {expected}, got {values.shape}")
    values = values.astype(float, copy=False)
    if not np.isfinite(values).all():
        raise ValueError(f"{name} returned NaN or infinity for some samples")
    return values


def checked(f: object, name: str, *shapes: Callable[[int], tuple]) -> Callable:
    """``f`` wrapped so that it gets read-only samples and its values are checked."""
    f = function(f, name)
    return lambda z: evaluate(f, z, name, *(shape(len(z)) for shape in shapes))

"""The fuzz suite's machinery: value pools, the case runner and the tally.

A *case* is one call of a public function or method with generated arguments,
valid (legal, possibly extreme) or invalid. :func:`run_case` calls it and
checks the four properties the suite asserts:

* ``unclear``: an exception other than ValueError/TypeError, or one whose
  message names none of the function's arguments (or documented names);
  an invalid input that is accepted counts as ``wrong``;
* ``nonfinite``: NaN or infinity in the result of a valid call;
* ``wrong``: a result that disagrees with an independent reference;
* ``mutation``: an argument (array, family, baseline state) changed by the call;
* ``hang``: a call that runs longer than ``TIME_LIMIT`` seconds.

With the environment variable ``FUZZ_TALLY`` set to a file name, failures are
counted per target instead of raised, and the counts are written there as
JSON at the end (the per-function table of the fuzz report).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import functools
import inspect
import json
import os
import re
import signal
import time

import numpy as np
from hypothesis import strategies as st

from elbo_grad import Bernoulli, Categorical, DiagonalGaussian

#: Seconds a single call may take before it counts as a hang.
TIME_LIMIT = 20.0
TALLY_FILE = os.environ.get("FUZZ_TALLY")
CATEGORIES = ("unclear", "nonfinite", "wrong", "mutation", "hang")
TALLY: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
EXAMPLES: dict[str, dict[str, str]] = collections.defaultdict(dict)


class UserError(Exception):
    """Raised by a user callable on purpose: must reach the caller unchanged."""


class Hang(BaseException):
    """A call ran longer than TIME_LIMIT."""


class Failure(AssertionError):
    def __init__(self, category: str, detail: str) -> None:
        super().__init__(f"{category}: {detail}")
        self.category = category


def _write_tally() -> None:
    if TALLY_FILE:
        with open(TALLY_FILE, "w", encoding="utf8") as file:
            data = {k: dict(v) for k, v in sorted(TALLY.items())}
            json.dump(
                {"tally": data, "examples": EXAMPLES}, file, indent=1, default=str
            )


atexit.register(_write_tally)


# ---------------------------------------------------------------- snapshots


def snapshot(value, depth: int = 0):
    """A comparable copy of everything a call could change in ``value``."""
    if depth > 6:
        return None
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(snapshot(v, depth + 1) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, snapshot(v, depth + 1)) for k, v in value.items()))
    if isinstance(
        value, (int, float, complex, str, bytes, bool, type(None), np.generic)
    ):
        return repr(value)
    if isinstance(value, type) or callable(value) and not hasattr(value, "__dict__"):
        return ("callable", id(value))
    if (
        hasattr(value, "__dict__")
        and not inspect.isfunction(value)
        and not inspect.ismethod(value)
    ):
        return (type(value).__name__, snapshot(dict(vars(value)), depth + 1))
    return ("object", id(value))


# ---------------------------------------------------------------- the runner


@contextlib.contextmanager
def time_limit(seconds: float):
    def handler(signum, frame):
        raise Hang(f"longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def parameter_names(fn) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters) - {"self", "cls"}
    except (TypeError, ValueError):
        return set()


def names_in(message: str, names) -> bool:
    return any(
        re.search(r"(?<![A-Za-z_])" + re.escape(n) + r"(?![A-Za-z_])", message)
        for n in names
    )


def all_finite(value) -> bool:
    """True if every number in ``value`` (arrays, floats, tuples, dataclasses) is finite."""
    if value is None or isinstance(value, (bool, str, np.bool_)):
        return True
    if isinstance(value, (int, float, np.number, np.ndarray)):
        array = np.asarray(value)
        return array.dtype.kind not in "fc" or bool(np.isfinite(array).all())
    if isinstance(value, (list, tuple)):
        return all(all_finite(v) for v in value)
    return True


def run_case(
    target: str,
    fn,
    args=(),
    kwargs=None,
    *,
    valid: bool,
    names=(),
    check=None,
    watch=(),
    finite=None,
    allowed=(),
    watch_on_error=(),
    mutable=(),
) -> object:
    """Call ``fn(*args, **kwargs)`` and check the fuzz properties (see the module)."""
    kwargs = kwargs or {}
    finite = valid if finite is None else finite
    names = set(names) | parameter_names(fn)
    fixed = {
        k: v for k, v in kwargs.items() if k not in mutable
    }  # ``mutable``: documented to change
    before = snapshot((args, fixed, tuple(watch)))
    kept = snapshot(tuple(watch_on_error))
    TALLY[target]["cases"] += 1
    if TALLY_FILE and sum(c["cases"] for c in TALLY.values()) % 500 == 0:
        _write_tally()  # also a run stopped early leaves its counts
    result, error = None, None
    try:
        try:
            with time_limit(TIME_LIMIT):
                result = fn(*args, **kwargs)
        except (ValueError, TypeError) as caught:
            error = caught
            if not names_in(str(caught), names):
                raise Failure(
                    "unclear",
                    f"{type(caught).__name__}({caught}) names none of {sorted(names)}",
                ) from caught
        except allowed:
            error = "allowed"
        except Hang as caught:
            raise Failure("hang", str(caught)) from None
        except Failure:
            raise
        except Exception as caught:  # noqa: BLE001 - the point of the check
            raise Failure("unclear", f"{type(caught).__name__}: {caught}") from None
        if snapshot((args, fixed, tuple(watch))) != before:
            raise Failure("mutation", "an argument changed")
        if error is not None and snapshot(tuple(watch_on_error)) != kept:
            raise Failure("mutation", "a stateful argument changed by a failing call")
        if error is None:
            if not valid:
                raise Failure(
                    "wrong", f"invalid input accepted, returned {result!r:.200}"
                )
            if finite and not all_finite(_numbers(result)):
                raise Failure("nonfinite", f"returned {result!r:.300}")
            if check is not None:
                try:
                    check(result)
                except AssertionError as caught:
                    raise Failure("wrong", str(caught)[:500]) from None
        TALLY[target]["passed"] += 1
    except Failure as failure:
        TALLY[target][failure.category] += 1
        EXAMPLES[target].setdefault(
            failure.category, f"{failure} | args={_short(args)} kwargs={_short(kwargs)}"
        )
        if not TALLY_FILE:
            raise
    return result


def _short(value) -> str:
    return repr(value)[:400]


def _numbers(result):
    """The numeric fields of a result (dataclasses included)."""
    if hasattr(result, "__dataclass_fields__"):
        return [
            getattr(result, f)
            for f in result.__dataclass_fields__
            if not (f == "standard_error" and getattr(result, "num_samples", 2) == 1)
            and not (
                f == "elbo_standard_error" and getattr(result, "num_samples", 2) == 1
            )
            and isinstance(getattr(result, f), (float, int, np.ndarray, type(None)))
        ]
    if isinstance(result, tuple):
        return [_numbers(r) for r in result]
    return result


# ---------------------------------------------------------------- value pools


def deep_list(depth: int = 3000):
    value = [1.0]
    for _ in range(depth):
        value = [value]
    return value


DEEP = deep_list()
finite = st.floats(allow_nan=False, allow_infinity=False)


@functools.cache
def reals(low: float, high: float):
    """Floats and integers in [low, high], with the edges, zero and tiny values."""
    specials = [
        v
        for v in (low, high, 0.0, -0.0, 1e-300, -1e-300, 5e-324, 1.0, -1.0)
        if low <= v <= high
    ]
    return st.one_of(
        st.sampled_from(specials),
        st.floats(low, high, allow_nan=False, allow_infinity=False),
        st.integers(int(max(low, -(2**62))), int(min(high, 2**62))),
    )


#: Values that are wrong wherever a real number or array belongs.
BAD_NUMBERS = [
    np.nan,
    np.inf,
    -np.inf,
    1 + 5j,
    np.array([1 + 5j]),
    "1.0",
    b"1",
    None,
    True,
    np.bool_(False),
    DiagonalGaussian,
    object(),
    {"a": 1},
    [[1.0], [1.0, 2.0]],
    DEEP,
    np.array([np.nan]),
    np.array(["a"]),
    np.array([], dtype=float),
    np.zeros((0, 2)),
]
#: Values that are wrong wherever a count belongs.
BAD_COUNTS = [
    0,
    -1,
    2.5,
    3.0,
    True,
    np.bool_(True),
    "3",
    None,
    np.nan,
    10**30,
    -(10**30),
    2**62,
    1 + 0j,
    [3],
    DiagonalGaussian,
]
#: Values that are wrong wherever a flag belongs.
BAD_FLAGS = ["no", "True", 1, 0, 1.0, None, np.nan, [True]]
#: Values that are wrong wherever an rng belongs.
BAD_RNGS = ["seed", 1.5, True, 1 + 1j, -1, [1.5], object(), np.random.Generator]


_BAD_CACHE: dict = {}


def bad(pool):
    """``st.sampled_from(pool)``, built once per pool (building strategies is Hypothesis's main cost)."""
    key = tuple(id(value) for value in pool)
    if key not in _BAD_CACHE:
        if len(_BAD_CACHE) > 2000:
            _BAD_CACHE.clear()
        _BAD_CACHE[key] = (
            st.sampled_from(pool),
            pool,
        )  # the pool is kept alive with its key
    return _BAD_CACHE[key][0]


@st.composite
def gaussian_params(
    draw, max_dim: int = 5, scale: float = 1e6, log_range: float = 30.0
):
    """(mean, log_std) at legal extremes: sigma down to the refusal line 1e-6 |mu|."""
    dim = draw(st.integers(1, max_dim))
    mean = np.array([draw(reals(-scale, scale)) for _ in range(dim)], dtype=float)
    log_std = np.array(
        [draw(reals(-log_range, log_range)) for _ in range(dim)], dtype=float
    )
    floor = np.log(np.maximum(1e-6 * np.abs(mean), 1e-300))
    floor = floor + 1e-9 * (1.0 + np.abs(floor))
    log_std = np.maximum(log_std, floor)
    log_std = np.minimum(log_std, 300.0)
    return mean, log_std


@st.composite
def families(
    draw,
    kinds=("gaussian", "bernoulli", "categorical"),
    max_dim: int = 4,
    logit: float = 700.0,
    max_categories: int = 4,
    scale: float = 1e6,
    log_range: float = 30.0,
):
    kind = draw(st.sampled_from(kinds))
    if kind == "gaussian":
        return DiagonalGaussian(*draw(gaussian_params(max_dim, scale, log_range)))
    if kind == "bernoulli":
        dim = draw(st.integers(1, max_dim))
        return Bernoulli([draw(reals(-logit, logit)) for _ in range(dim)])
    dim, k = (
        draw(st.integers(1, max(1, max_dim - 1))),
        draw(st.integers(2, max_categories)),
    )
    return Categorical(
        [[draw(reals(-logit, logit)) for _ in range(k)] for _ in range(dim)]
    )


gaussian_params = functools.lru_cache(maxsize=None)(gaussian_params)
families = functools.lru_cache(maxsize=None)(families)


def support_of(q):
    """Every value of a discrete ``q`` and its probability, independent of the package (long double)."""
    if isinstance(q, Bernoulli):
        values = (
            np.array(np.meshgrid(*[[0.0, 1.0]] * q.dim, indexing="ij"))
            .reshape(q.dim, -1)
            .T
        )
        logits = np.asarray(q.params, dtype=np.longdouble)
        log_p1, log_p0 = -np.logaddexp(0, -logits), -np.logaddexp(0, logits)
        return values, np.exp(np.where(values == 1.0, log_p1, log_p0).sum(axis=1))
    k = q.num_categories
    values = (
        np.array(np.meshgrid(*[np.arange(k)] * q.dim, indexing="ij"))
        .reshape(q.dim, -1)
        .T
    )
    logits = np.asarray(q.params, dtype=np.longdouble).reshape(q.dim, k)
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return values, np.exp(log_probs[np.arange(q.dim), values].sum(axis=1))


def score_reference(q, z):
    """The score in long double from the definitions (Notes of each family)."""
    z = np.asarray(z)
    if isinstance(q, DiagonalGaussian):
        mean = np.asarray(q.mean, dtype=np.longdouble)
        std = np.exp(np.asarray(q.log_std, dtype=np.longdouble))
        eps = (z.astype(np.longdouble) - mean) / std
        return np.concatenate([eps / std, eps**2 - 1], axis=1)
    if isinstance(
        q, Bernoulli
    ):  # z - pi = 1 - pi = sigma(-phi) for z = 1, -pi for z = 0
        logits = np.asarray(q.params, dtype=np.longdouble)
        return np.where(
            z == 1, np.exp(-np.logaddexp(0, logits)), -np.exp(-np.logaddexp(0, -logits))
        )
    k = q.num_categories
    logits = np.asarray(q.params, dtype=np.longdouble).reshape(q.dim, k)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    others = (
        probs.sum(axis=1, keepdims=True) - probs
    )  # 1 - pi_k, summed over j != k below where it matters
    for d in range(q.dim):
        for j in range(k):
            others[d, j] = np.sum(np.delete(probs[d], j))
    one_hot = z[:, :, None] == np.arange(k)
    return np.where(one_hot, others, -probs).reshape(len(z), -1)


def close(
    actual, expected, rtol: float = 1e-6, atol: float = 0.0, what: str = "result"
) -> None:
    actual, expected = (
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=np.longdouble),
    )
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape}, expected {expected.shape}"
    )
    error = np.abs(actual - expected)
    bound = atol + rtol * np.abs(expected)
    assert np.all(error <= bound), (
        f"{what}: {actual.tolist()!r:.200} vs {expected.astype(float).tolist()!r:.200}"
    )


def elapsed():
    return time.perf_counter()

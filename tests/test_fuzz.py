"""Fuzz suite: every public function and class of ``elbo_grad`` (but ``symbolic``) under generated input.

Each ``test_fuzz_<name>`` draws valid inputs at legal extremes (tiny and huge
scales, logits near +-700, one sample, many dimensions, integers, floats and
lists, tied values) and invalid ones (NaN/inf, complex, strings, bools where
numbers belong, wrong shapes, classes instead of instances, swapped arguments,
non-callables, callables returning wrong shapes/NaN/complex, huge sizes), and
:func:`fuzz_strategies.run_case` asserts: only ValueError/TypeError, naming an
argument; finite results where a finite answer exists; no argument changed;
results equal to an independent reference where one is cheap (long-double
formulas, enumeration, closed forms). The ``test_unbiased_*`` tests compare the
estimators' means with exact gradients within a stated number of standard
errors, seeded. ``test_regression_*`` are the concrete inputs the fuzzing found.

Profiles (``tests/conftest.py``): ``fast`` (default) and ``fuzz``
(``HYPOTHESIS_PROFILE=fuzz``, at least 10**4 cases per public function).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
from fuzz_strategies import (  # noqa: E402  (tests/ is on sys.path under pytest's rootdir conftest)
    BAD_COUNTS,
    BAD_FLAGS,
    BAD_NUMBERS,
    BAD_RNGS,
    UserError,
    bad,
    close,
    families,
    gaussian_params,
    reals,
    run_case,
    score_reference,
    support_of,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import elbo_grad
from elbo_grad import (
    SGD,
    Adam,
    Baseline,
    Bernoulli,
    BoltzmannChain,
    Categorical,
    ConjugateGaussian,
    ConstantBaseline,
    DiagonalGaussian,
    Estimate,
    Family,
    FitResult,
    LeaveOneOutBaseline,
    LeaveOneOutOptimalBaseline,
    MovingAverageBaseline,
    NVILBaseline,
    NVILHistory,
    RecognitionNetwork,
    SameBatchOptimalBaseline,
    SigmoidBeliefNetwork,
    bars_and_stripes,
    elbo_gradient,
    elbo_terms,
    enumerate_support,
    exact_elbo,
    exact_elbo_gradient,
    exact_expectation,
    exact_optimal_baseline,
    exact_single_sample_variance,
    expectation_gradient,
    fit,
    grid_posterior,
    integration_rule,
    learning_signal,
    local_elbo_gradient,
    local_learning_signal,
    pathwise_elbo_gradient,
    pathwise_elbo_terms,
    pathwise_terms,
    score_function_terms,
    train_nvil,
)

TARGETS = sorted(set(elbo_grad.__all__) - {"__version__"})


def test_every_public_name_is_fuzzed():
    """Each public name has its ``test_fuzz_<name>`` here (the suite cannot silently miss one)."""
    missing = [name for name in TARGETS if f"test_fuzz_{name}" not in globals()]
    assert not missing


# ------------------------------------------------------------------ helpers


_SLOTS: dict = {}


def choose(data, valid: dict, invalid: dict):
    """Draw every slot valid, then maybe one slot from its invalid pool: (values, valid?, bad slot).

    A valid entry that is not a strategy is taken as it is.
    """
    values = {
        name: data.draw(value, label=name)
        if isinstance(value, st.SearchStrategy)
        else value
        for name, value in valid.items()
    }
    key = tuple(invalid)
    if key not in _SLOTS:
        _SLOTS[key] = st.sampled_from([None, *invalid])
    slot = data.draw(_SLOTS[key], label="invalid slot")
    if slot is not None:
        values[slot] = data.draw(invalid[slot], label=f"bad {slot}")
    return values, slot is None, slot


def _trailing(f):
    f.trailing_axes = (
        True  # legal for exact_expectation (any shape whose first axis is the nodes)
    )
    return f


def _writer(z):
    z[...] = 0.0
    return z[:, 0]


def _raiser(z):
    raise UserError("raised by the user's function")


_BAD_CALLABLES: dict = {}


def bad_callables(output_shape):
    """Non-callables, swapped arguments and callables with wrong outputs; ``output_shape(n)`` is the legal one.

    Built once per kind of legal output, (n,) or (n, D), read from the samples.
    """
    local = len(output_shape(2)) == 2
    if local not in _BAD_CALLABLES:
        _BAD_CALLABLES[local] = _bad_callables(
            lambda n, z: (n, z.shape[1]) if local else (n,)
        )
    return _BAD_CALLABLES[local]


def _bad_callables(legal):
    def output_shape(n, z=None):
        return legal(n, np.zeros((1, 1)) if z is None else z)

    def shape(z, extra=1):
        return (len(z) + extra,) + legal(len(z), z)[1:]

    return st.sampled_from(
        [
            3,
            "f",
            None,
            np.zeros(3),
            DiagonalGaussian,
            Bernoulli([0.0]),
            ConjugateGaussian,
            lambda z: np.zeros(shape(z)),
            lambda z: np.zeros(()),
            lambda z: np.full(output_shape(len(z), z), np.nan),
            lambda z: np.full(output_shape(len(z), z), np.inf),
            lambda z: np.zeros(output_shape(len(z), z)) + 1j,
            lambda z: np.full(output_shape(len(z), z), "a"),
            lambda z: None,
            lambda z: [[1.0], [1.0, 2.0]],
            _trailing(lambda z: np.zeros(output_shape(len(z), z) + (1, 2))),
            _raiser,
        ]
    )


@st.composite
def user_functions(draw, q, per_parameter=False, local=False, gradient=False):
    """A legal f of the samples: linear plus quadratic in z, with integer/float/list outputs."""
    num = q.dim
    a = np.array([draw(reals(-1e3, 1e3)) for _ in range(num)])
    c = draw(reals(-1e3, 1e3))
    b = draw(reals(-10.0, 10.0))
    kind = draw(st.sampled_from(["float", "int", "list"]))
    width = q.num_params if per_parameter else None

    def f(z):
        z = np.asarray(z, dtype=float)
        scale = 1.0 / (
            1.0 + np.abs(z)
        )  # keeps huge Gaussian z from overflowing the squares
        if gradient or local:
            value = a * z * scale + c + b * z * scale
        else:
            value = (z * scale) @ a + c + b * ((z * scale) ** 2).sum(axis=1)
        if width is not None:
            value = np.repeat(value[:, None], width, axis=1) * np.linspace(
                0.5, 1.5, width
            )
        if kind == "int":
            return np.round(value).astype(int)
        return value.tolist() if kind == "list" else value

    return f


@functools.cache
def rngs():
    return st.one_of(
        st.integers(0, 2**32 - 1),
        st.none().map(lambda _: 0),
        st.integers(0, 2**16).map(np.random.default_rng),
    )


@functools.cache
def bad_families():
    return st.sampled_from(
        [
            3,
            "q",
            None,
            DiagonalGaussian,
            Bernoulli,
            np.zeros(2),
            lambda z: z,
            ConjugateGaussian(1.0),
            MovingAverageBaseline(),
        ]
    )


def samples_for(q, n):
    """n samples of q as arrays, lists or integers; legal values only."""
    return st.integers(0, 2**16).map(lambda seed: q.sample(n, rng=seed)) | st.integers(
        0, 2**16
    ).map(lambda seed: q.sample(n, rng=seed).tolist())


def bad_samples(q):
    return _bad_samples(q.dim, isinstance(q, DiagonalGaussian))


@functools.cache
def _bad_samples(dim, gaussian):
    discrete = [] if gaussian else [np.full((2, dim), 0.5), np.full((2, dim), -1.0)]
    return st.sampled_from(
        discrete
        + [
            np.zeros((2, dim + 1)),
            np.zeros(dim),
            np.full((2, dim), np.nan),
            np.zeros((2, dim)) + 1j,
            "z",
            None,
            DiagonalGaussian,
            np.zeros((0, dim)),
            np.full((2, dim), np.inf),
        ]
    )


def baselines_for(q, n):
    kinds = [
        None,
        0.0,
        1.5,
        -7,
        np.linspace(-1.0, 1.0, q.num_params),
        MovingAverageBaseline(0.5, 2.0),
        ConstantBaseline(3.0),
        NVILBaseline(),
        NVILBaseline(normalize=False),
    ]
    if n >= 2:
        kinds += [LeaveOneOutBaseline(), SameBatchOptimalBaseline()]
    if n >= 3:
        kinds += [LeaveOneOutOptimalBaseline()]
    return st.sampled_from(kinds)


BAD_BASELINES = st.sampled_from(
    [
        True,
        "mean",
        MovingAverageBaseline,
        LeaveOneOutBaseline,
        np.nan,
        np.array([np.inf]),
        1 + 1j,
        np.zeros((2, 2, 2)),
        [[1.0], [1.0, 2.0]],
        lambda s, g: np.full(np.shape(s), np.nan),
    ]
)


def _signatures_names(*extra):
    return {
        "q",
        "z",
        "baseline",
        "baseline's value",
        "num_samples",
        "rng",
        "return_terms",
        "params",
        *extra,
    }


# ------------------------------------------------------------------ estimators


ESTIMATORS = {
    "elbo_gradient": (elbo_gradient, "log_joint", {}),
    "expectation_gradient": (expectation_gradient, "f", {"per_parameter": True}),
    "local_elbo_gradient": (local_elbo_gradient, "local_log_joint", {"local": True}),
}


def _estimator_case(data, name):
    estimator, fname, options = ESTIMATORS[name]
    q = data.draw(families(max_dim=5), label="q")
    n = data.draw(st.sampled_from([1, 2, 3]) | st.integers(1, 60), label="n")
    per_parameter = options.get("per_parameter") and data.draw(st.booleans())
    f = data.draw(
        user_functions(
            q, per_parameter=per_parameter, local=options.get("local", False)
        )
    )
    if options.get("local"):

        def out(m):
            return (m, q.dim)
    else:

        def out(m):
            return (m,)

    values, valid, slot = choose(
        data,
        {
            "f": f,
            "q": q,
            "num_samples": n,
            "rng": rngs(),
            "baseline": baselines_for(q, n),
            "return_terms": st.booleans(),
        },
        {
            "f": bad_callables(out) | st.just(_writer),
            "q": bad_families(),
            "num_samples": bad(BAD_COUNTS),
            "rng": bad(BAD_RNGS),
            "baseline": BAD_BASELINES,
            "return_terms": bad(BAD_FLAGS),
            "swapped": st.just("swap"),
        },
    )
    args = [values["f"], values["q"], values["num_samples"]]
    if slot == "swapped":
        args = [q, f, n]
    kwargs = {k: values[k] for k in ("rng", "baseline", "return_terms")}
    stateful = [values["baseline"]] if hasattr(values["baseline"], "__dict__") else []

    def check(estimate):
        assert isinstance(estimate, Estimate) and estimate.num_samples == n
        assert estimate.gradient.shape == (q.num_params,)
        if kwargs["return_terms"]:
            close(
                estimate.gradient,
                np.asarray(estimate.terms, dtype=np.longdouble).mean(axis=0),
                1e-9,
                1e-9 * (1 + np.abs(estimate.terms).max()),
                "gradient vs the mean of the terms",
            )

    names = _signatures_names(fname, "baseline's value", "read-only")
    run_case(
        name,
        estimator,
        args,
        kwargs,
        valid=valid and values["f"] is not _writer,
        names=names,
        check=check,
        watch=[q, *stateful],
        allowed=(UserError,),
    )


@given(st.data())
def test_fuzz_elbo_gradient(data):
    _estimator_case(data, "elbo_gradient")


@given(st.data())
def test_fuzz_expectation_gradient(data):
    _estimator_case(data, "expectation_gradient")


@given(st.data())
def test_fuzz_local_elbo_gradient(data):
    _estimator_case(data, "local_elbo_gradient")


@given(st.data())
def test_fuzz_pathwise_elbo_gradient(data):
    q = DiagonalGaussian(*data.draw(gaussian_params(max_dim=5)))
    n = data.draw(st.integers(1, 40))
    g = data.draw(user_functions(q, gradient=True))
    values, valid, slot = choose(
        data,
        {
            "g": g,
            "q": q,
            "n": n,
            "rng": rngs(),
            "entropy": st.sampled_from(["analytic", "sticking-the-landing"]),
            "return_terms": st.booleans(),
        },
        {
            "g": bad_callables(lambda m: (m, q.dim)),
            "q": bad_families() | st.just(Bernoulli([0.0])),
            "n": bad(BAD_COUNTS),
            "rng": bad(BAD_RNGS),
            "entropy": st.sampled_from(["score", None, 1, "ANALYTIC"]),
            "return_terms": bad(BAD_FLAGS),
        },
    )
    kwargs = {k: values[k] for k in ("rng", "entropy", "return_terms")}
    run_case(
        "pathwise_elbo_gradient",
        pathwise_elbo_gradient,
        [values["g"], values["q"], values["n"]],
        kwargs,
        valid=valid,
        names=_signatures_names("grad_log_joint"),
        watch=[q],
        allowed=(UserError,),
    )


TERMS = {
    "learning_signal": (learning_signal, "log_joint", lambda q, m: (m,)),
    "local_learning_signal": (
        local_learning_signal,
        "local_log_joint",
        lambda q, m: (m, q.dim),
    ),
    "score_function_terms": (score_function_terms, "f", lambda q, m: (m,)),
    "elbo_terms": (elbo_terms, "log_joint", lambda q, m: (m,)),
}


def _terms_case(data, name):
    function, fname, shape = TERMS[name]
    q = data.draw(families(max_dim=5), label="q")
    n = data.draw(st.integers(1, 30), label="n")
    f = data.draw(user_functions(q, local=name == "local_learning_signal"))
    with_baseline = name in ("score_function_terms", "elbo_terms")
    valid_slots = {"f": f, "q": q, "z": samples_for(q, n)}
    bad_slots = {
        "f": bad_callables(lambda m: shape(q, m)),
        "q": bad_families(),
        "z": bad_samples(q),
        "swapped": st.just("swap"),
    }
    if with_baseline:
        valid_slots["baseline"], bad_slots["baseline"] = (
            baselines_for(q, n),
            BAD_BASELINES,
        )
    values, valid, slot = choose(data, valid_slots, bad_slots)
    args = (
        [values["f"], values["q"], values["z"]]
        if slot != "swapped"
        else [q, f, values["z"]]
    )
    kwargs = {"baseline": values["baseline"]} if with_baseline else {}
    z = np.asarray(values["z"]) if valid else None

    def check(result):
        result = np.asarray(result)
        if name == "score_function_terms" and values["baseline"] is None:
            fz = np.asarray(f(z), dtype=float)
            close(
                result,
                fz[:, None] * score_reference(q, z),
                1e-9,
                1e-9 * (1 + np.abs(fz).max()),
                "terms",
            )
        if name == "learning_signal":
            assert result.shape == (n,)

    run_case(
        name,
        function,
        args,
        kwargs,
        valid=valid,
        names=_signatures_names(fname),
        check=check,
        watch=[q, *([values["baseline"]] if with_baseline else [])],
        allowed=(UserError,),
    )


@given(st.data())
def test_fuzz_learning_signal(data):
    _terms_case(data, "learning_signal")


@given(st.data())
def test_fuzz_local_learning_signal(data):
    _terms_case(data, "local_learning_signal")


@given(st.data())
def test_fuzz_score_function_terms(data):
    _terms_case(data, "score_function_terms")


@given(st.data())
def test_fuzz_elbo_terms(data):
    _terms_case(data, "elbo_terms")


def _pathwise_terms_case(data, name):
    q = DiagonalGaussian(*data.draw(gaussian_params(max_dim=4)))
    n = data.draw(st.integers(1, 20))
    g = data.draw(user_functions(q, gradient=True))
    values, valid, slot = choose(
        data,
        {"g": g, "q": q, "z": samples_for(q, n)},
        {
            "g": bad_callables(lambda m: (m, q.dim)),
            "q": bad_families() | st.just(Bernoulli([0.0])),
            "z": bad_samples(q),
            "swapped": st.just("swap"),
        },
    )
    args = (
        [values["g"], values["q"], values["z"]]
        if slot != "swapped"
        else [q, g, values["z"]]
    )
    kwargs = {}
    if name == "pathwise_elbo_terms" and data.draw(st.booleans()):
        kwargs["entropy"] = data.draw(
            st.sampled_from(["analytic", "sticking-the-landing"])
        )

    def check(result):
        if name == "pathwise_terms":
            z = np.asarray(values["z"], dtype=np.longdouble)
            grad = np.asarray(g(np.asarray(values["z"])), dtype=np.longdouble)
            expected = np.concatenate(
                [grad, grad * (z - np.asarray(q.mean, dtype=np.longdouble))], axis=1
            )
            close(
                result,
                expected,
                1e-9,
                1e-12 * (1 + float(np.abs(expected).max())),
                "pathwise terms",
            )

    function = pathwise_terms if name == "pathwise_terms" else pathwise_elbo_terms
    run_case(
        name,
        function,
        args,
        kwargs,
        valid=valid,
        names=_signatures_names("grad_f", "grad_log_joint", "entropy"),
        check=check,
        watch=[q],
        allowed=(UserError,),
    )


@given(st.data())
def test_fuzz_pathwise_terms(data):
    _pathwise_terms_case(data, "pathwise_terms")


@given(st.data())
def test_fuzz_pathwise_elbo_terms(data):
    _pathwise_terms_case(data, "pathwise_elbo_terms")


@given(st.data())
def test_fuzz_Estimate(data):
    """A frozen record: fields are kept, assignment is refused."""
    gradient = np.array(
        data.draw(st.lists(reals(-1e300, 1e300), min_size=1, max_size=4))
    )
    estimate = Estimate(gradient, np.abs(gradient), None, None, 3)

    def check(result):
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.gradient = None
        assert result.gradient is gradient

    run_case("Estimate", lambda: estimate, valid=True, check=check)


# ------------------------------------------------------------------ families


@st.composite
def family_calls(draw, kind):
    """A constructor call and then one method call with valid or invalid arguments."""
    return draw(
        st.sampled_from(
            [
                "constructor",
                "sample",
                "log_prob",
                "log_prob_per_dimension",
                "score",
                "score_mean",
                "with_params",
                "extra",
            ]
        )
    )


def _family_case(data, kind):
    if kind == "DiagonalGaussian":
        mean, log_std = data.draw(
            gaussian_params(max_dim=6, scale=1e12, log_range=299.0)
        )
        ctor_valid = {
            "mean": st.sampled_from(
                [mean, mean.tolist(), float(mean[0]) if len(mean) == 1 else mean]
            ),
            "log_std": log_std,
        }
        ctor_bad = {
            "mean": bad(BAD_NUMBERS + [np.zeros((2, 2)), np.zeros(len(mean) + 1)]),
            "log_std": bad(
                BAD_NUMBERS + [np.full(len(mean), 301.0), np.full(len(mean), -1e3)]
            ),
        }
    elif kind == "Bernoulli":
        dim = data.draw(st.integers(1, 40))
        logits = [data.draw(reals(-700.0, 700.0)) for _ in range(dim)]
        ctor_valid = {"logits": st.sampled_from([logits, np.array(logits)])}
        ctor_bad = {"logits": bad(BAD_NUMBERS + [np.zeros((2, 2))])}
    else:
        dim, k = data.draw(st.integers(1, 6)), data.draw(st.integers(2, 8))
        logits = [
            [data.draw(reals(-700.0, 700.0)) for _ in range(k)] for _ in range(dim)
        ]
        ctor_valid = {"logits": st.sampled_from([logits, np.array(logits)])}
        ctor_bad = {
            "logits": bad(
                BAD_NUMBERS + [np.zeros(3), np.zeros((2, 1)), np.zeros((2, 2, 2))]
            )
        }
    cls = getattr(elbo_grad, kind)
    values, valid, _ = choose(data, ctor_valid, ctor_bad)
    method = data.draw(
        st.sampled_from(
            [
                "constructor",
                "sample",
                "log_prob",
                "log_prob_per_dimension",
                "score",
                "score_mean",
                "with_params",
                "extra",
            ]
        )
    )
    if method == "constructor" or not valid:

        def check(q):
            assert isinstance(q, Family)
            with pytest.raises(ValueError):
                q.params[0] = 1.0  # read-only

        run_case(kind, cls, kwargs=values, valid=valid, check=check, names={"params"})
        return
    q = cls(**values)
    n = data.draw(st.integers(1, 30))
    names = {"z", "weights", "num_samples", "rng", "params", "noise", "squared"}
    if method == "sample":
        m, valid = data.draw(st.sampled_from([n, 1])), True
        rng = data.draw(rngs())
        if data.draw(st.booleans()):
            m, rng, valid = data.draw(bad(BAD_COUNTS)), rng, False
        elif data.draw(st.booleans()):
            rng, valid = data.draw(bad(BAD_RNGS)), False

        def check(z):
            assert z.shape == (m, q.dim)

        run_case(
            kind,
            q.sample,
            [m],
            {"rng": rng},
            valid=valid,
            check=check,
            watch=[q],
            names=names,
        )
        return
    if method == "with_params":
        params = np.asarray(q.params) + data.draw(reals(-1.0, 1.0))
        arg, valid = data.draw(
            st.sampled_from(
                [
                    (params, True),
                    (params.tolist(), True),
                    (params[:-1], False),
                    (np.append(params, 0.0), False),
                    (np.full(params.shape, np.nan), False),
                    ("p", False),
                    (params + 1j, False),
                    (None, False),
                    (q, False),
                ]
            )
        )

        def check(new):
            assert type(new) is type(q)
            close(new.params, params, 0.0, 0.0, "params")

        run_case(
            kind,
            q.with_params,
            [arg],
            valid=valid,
            check=check,
            watch=[q, arg],
            names=names,
        )
        return
    z = np.asarray(q.sample(n, rng=data.draw(st.integers(0, 2**16))))
    z_arg, valid = data.draw(
        st.sampled_from(
            [(z, True), (z.tolist(), True), (z.astype(np.int64), True)]
            if kind != "DiagonalGaussian"
            else [(z, True), (z.tolist(), True)]
        )
    )
    if data.draw(st.booleans()):
        z_arg, valid = data.draw(bad_samples(q)), False
    if method in ("log_prob", "log_prob_per_dimension"):
        run_case(
            kind,
            getattr(q, method),
            [z_arg],
            valid=valid,
            watch=[q],
            names=names,
            finite=valid and kind != "DiagonalGaussian" or None,
        )
        return
    if method == "score":

        def check(score):
            close(score, score_reference(q, z), 1e-9, 1e-300, "score")

        run_case(
            kind, q.score, [z_arg], valid=valid, check=check, watch=[q], names=names
        )
        return
    if method == "score_mean":
        weights = np.array([data.draw(reals(-1e3, 1e3)) for _ in range(n)])
        if data.draw(st.booleans()):
            weights = np.repeat(weights[:, None], q.num_params, axis=1)
        squared = data.draw(st.booleans())
        w_arg = weights
        if valid and data.draw(st.booleans()):
            w_arg, valid = (
                data.draw(
                    st.sampled_from(
                        [
                            np.zeros(n + 1),
                            np.full(n, np.nan),
                            "w",
                            None,
                            np.zeros((n, q.num_params + 1)),
                            np.zeros(n) + 1j,
                        ]
                    )
                ),
                False,
            )

        def check(result):
            score = score_reference(q, z)
            if squared:
                score = score**2
            w = weights if weights.ndim == 2 else weights[:, None]
            expected = (w * score).mean(axis=0)
            scale = (np.abs(w) * (np.abs(score) + 1)).mean(
                axis=0
            )  # sum w s - sum w p cancels
            close(result, expected, 0.0, 1e-9 * scale + 1e-300, "score_mean")

        run_case(
            kind,
            q.score_mean,
            [z_arg, w_arg],
            {"squared": squared},
            valid=valid,
            check=check,
            watch=[q, w_arg],
            names=names,
        )
        return
    # extra: probs, entropy, reparameterize, repr
    if kind == "DiagonalGaussian":
        noise = np.random.default_rng(n).standard_normal((n, q.dim))
        arg, valid = data.draw(
            st.sampled_from(
                [
                    (noise, True),
                    (noise.tolist(), True),
                    (np.zeros((2, q.dim + 1)), False),
                    (np.full((2, q.dim), np.inf), False),
                    ("e", False),
                ]
            )
        )

        def check(result):
            assert np.isfinite(q.entropy()) and q.entropy_gradient().shape == (
                q.num_params,
            )
            if result is not None:
                close(
                    result,
                    np.asarray(q.mean, np.longdouble)
                    + np.exp(np.asarray(q.log_std, np.longdouble))
                    * np.asarray(noise, np.longdouble),
                    1e-12,
                    1e-300,
                    "reparameterize",
                )

        run_case(
            kind,
            q.reparameterize,
            [arg],
            valid=valid,
            check=check,
            watch=[q],
            names=names,
        )
    else:

        def check(result):
            probs = np.asarray(q.probs)
            assert np.all((probs >= 0) & (probs <= 1)) and isinstance(repr(q), str)
            if kind == "Categorical":
                close(probs.sum(axis=1), np.ones(q.dim), 1e-12, 0, "probabilities")

        run_case(kind, lambda: q.probs, valid=True, check=check, watch=[q])


@given(st.data())
def test_fuzz_DiagonalGaussian(data):
    _family_case(data, "DiagonalGaussian")


@given(st.data())
def test_fuzz_Bernoulli(data):
    _family_case(data, "Bernoulli")


@given(st.data())
def test_fuzz_Categorical(data):
    _family_case(data, "Categorical")


@given(st.data())
def test_fuzz_Family(data):
    """isinstance against the protocol answers for anything, and is True exactly for the families."""
    candidate = data.draw(
        families(max_dim=3)
        | st.sampled_from(
            BAD_NUMBERS + [len, DiagonalGaussian, Bernoulli, MovingAverageBaseline()]
        )
    )
    expected = isinstance(candidate, (DiagonalGaussian, Bernoulli, Categorical))

    def check(result):
        assert result is expected

    run_case("Family", lambda: isinstance(candidate, Family), valid=True, check=check)


@given(st.data())
def test_fuzz_Baseline(data):
    candidate = data.draw(
        st.sampled_from(
            BAD_NUMBERS
            + [
                len,
                MovingAverageBaseline(),
                LeaveOneOutBaseline(),
                NVILBaseline(),
                MovingAverageBaseline,
            ]
        )
    )
    expected = (
        hasattr(candidate, "uses_score")
        and callable(candidate)
        and not isinstance(candidate, type)
    )

    def check(result):
        assert bool(result) is expected or isinstance(candidate, type)

    run_case(
        "Baseline", lambda: isinstance(candidate, Baseline), valid=True, check=check
    )


# ------------------------------------------------------------------ baselines


@st.composite
def signals_and_scores(draw, minimum=1):
    n = draw(st.integers(minimum, 12))
    p = draw(st.integers(1, 4))
    scale = draw(st.sampled_from([1e-300, 1e-8, 1.0, 1e8, 1e150, 1e300, 1.7e308]))
    pool = [
        draw(reals(-1.0, 1.0)) * scale for _ in range(3)
    ]  # few distinct values: ties
    signal = np.array(
        [
            draw(st.sampled_from(pool))
            if draw(st.booleans())
            else draw(reals(-1.0, 1.0)) * scale
            for _ in range(n)
        ]
    )
    rows = [np.array([draw(reals(-5.0, 5.0)) for _ in range(p)]) for _ in range(3)]
    score = np.array(
        [
            rows[draw(st.integers(0, 2))]
            if draw(st.booleans())
            else np.array([draw(reals(-5.0, 5.0)) for _ in range(p)])
            for _ in range(n)
        ]
    )
    if draw(st.booleans()):
        signal = np.repeat(signal[:, None], p, axis=1) * np.linspace(0.5, 1.0, p)
    return signal, score


signals_and_scores = functools.lru_cache(maxsize=None)(signals_and_scores)
BAD_SIGNALS = st.sampled_from(
    [
        np.array([np.nan, 1.0, 2.0]),
        np.array([np.inf, 1.0, 2.0]),
        np.array([1j, 1, 2]),
        "s",
        None,
        np.zeros((3, 2, 2)),
        np.zeros(0),
        [[1.0], [1.0, 2.0]],
        True,
        DiagonalGaussian,
    ]
)


def _loo_reference(signal):
    """b_i = mean of the others, in exact rational arithmetic over the scaled values."""
    from fractions import Fraction

    s = np.asarray(signal, dtype=float)
    flat = s.reshape(len(s), -1)
    n = len(s)
    out = np.empty_like(flat)
    for k in range(flat.shape[1]):
        values = [Fraction(v) for v in flat[:, k]]
        total = sum(values)
        for i in range(n):
            out[i, k] = float((total - values[i]) / (n - 1))
    return out.reshape(s.shape)


def _loo_optimal_reference(signal, score):
    """Row i: Cov(l s_k, s_k)/Var(s_k) over the other rows, in exact rationals; 0 where those tie.

    Returns the coefficients and the mask of entries whose other scores tie.
    """
    from fractions import Fraction

    score = np.asarray(score, dtype=float)
    signal = np.asarray(signal, dtype=float).reshape(len(score), -1)
    n, p = score.shape
    out = np.zeros((n, p))
    tied = np.zeros((n, p), dtype=bool)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for k in range(p):
            ys = [Fraction(score[j, k]) for j in others]
            xs = [
                Fraction(signal[j, min(k, signal.shape[1] - 1)]) * y
                for j, y in zip(others, ys, strict=True)
            ]
            my, mx = sum(ys) / len(ys), sum(xs) / len(xs)
            variance = sum((y - my) ** 2 for y in ys) / len(ys)
            # tied: 0, also where they differ by rounding only (the documented tolerance,
            # variance at most eps times the mean square)
            if variance <= Fraction(np.finfo(float).eps) * sum(y * y for y in ys) / len(
                ys
            ):
                tied[i, k] = True
                continue
            value = (
                sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True))
                / len(ys)
                / variance
            )
            try:
                out[i, k] = float(value)
            except OverflowError:  # beyond 1.8e308: no finite coefficient exists
                out[i, k] = np.inf if value > 0 else -np.inf
    return out, tied


def _baseline_case(data, name):
    cls = getattr(elbo_grad, name)
    minimum = {
        "LeaveOneOutBaseline": 2,
        "SameBatchOptimalBaseline": 2,
        "LeaveOneOutOptimalBaseline": 3,
    }.get(name, 1)
    signal, score = data.draw(signals_and_scores(minimum))
    if name == "ConstantBaseline":
        value = data.draw(
            reals(-1e308, 1e308)
            | st.lists(reals(-1e300, 1e300), min_size=1, max_size=4)
        )
        values, valid, _ = choose(
            data, {"value": value}, {"value": bad(BAD_NUMBERS + [np.zeros((2, 2))])}
        )
        b = run_case(name, cls, [values["value"]], valid=valid, names={"baseline"})
        if b is not None:
            run_case(name, b, [signal, score], valid=True, watch=[b, signal, score])
        return
    if name == "MovingAverageBaseline":
        values, valid, _ = choose(
            data,
            {"decay": reals(0.0, 0.999999), "initial": reals(-1.7e308, 1.7e308)},
            {"decay": bad(BAD_NUMBERS + [1.0, -0.1, 2.0]), "initial": bad(BAD_NUMBERS)},
        )
        b = run_case(name, cls, kwargs=values, valid=valid)
        if b is None:
            return
        if data.draw(st.booleans()):
            run_case(
                name,
                b.update,
                [data.draw(BAD_SIGNALS)],
                valid=False,
                watch=[b],
                names={"signal"},
            )
        else:
            before = (b.value, b.decay)
            after = run_case(name, lambda: (b.update(signal), b.value)[1], valid=True)

            def check(value):
                mean = float(np.mean(np.asarray(signal, dtype=np.longdouble)))
                size = float(
                    np.mean(np.abs(np.asarray(signal, dtype=np.longdouble)))
                )  # the sum's rounding
                expected = before[1] * before[0] + (1 - before[1]) * mean
                assert (
                    abs(value - expected) <= 1e-9 * (abs(before[0]) + size) + 1e-300
                ), (value, expected)

            if after is not None:
                run_case(name, lambda: after, valid=True, check=check)
        return
    if name == "NVILBaseline":
        values, valid, _ = choose(
            data,
            {
                "num_features": st.integers(0, 4),
                "decay": reals(0.0, 0.99),
                "learning_rate": reals(1e-300, 10.0),
                "normalize": st.booleans(),
            },
            {
                "num_features": bad(BAD_COUNTS[1:]),
                "decay": bad(BAD_NUMBERS + [1.0, 1.5]),
                "learning_rate": bad(BAD_NUMBERS + [0.0, -1.0]),
                "normalize": bad(BAD_FLAGS),
            },
        )
        nvil = run_case(
            name,
            lambda **kw: NVILBaseline(kw.pop("num_features"), **kw),
            kwargs=values,
            valid=valid,
            names={"num_features", "decay", "learning_rate", "normalize"},
        )
        if nvil is None:
            return
        flat = np.asarray(signal).reshape(len(signal), -1)[:, 0]
        flat = np.clip(flat, -1e150, 1e150)
        features = np.ones((len(flat), nvil.num_features))
        features_arg, fvalid = data.draw(
            st.sampled_from(
                [
                    (features, True),
                    (features[:1].ravel(), True),
                    (np.zeros((len(flat), nvil.num_features + 1)), False),
                    (np.full(features.shape, np.nan), False),
                    (None, nvil.num_features == 0),
                    ("x", False),
                ]
            )
        )
        if data.draw(st.booleans()):
            run_case(
                name,
                nvil.update,
                [flat, features_arg],
                valid=fvalid,
                watch=[features_arg],
                names={"signal", "features"},
            )
        else:
            run_case(
                name,
                lambda: (
                    nvil.given(features_arg)(flat, None)
                    if features_arg is not None
                    else nvil(flat, None)
                ),
                valid=fvalid,
                watch=[nvil, features_arg],
                names={"signal", "features"},
            )
        if data.draw(st.booleans()):
            run_case(
                name,
                nvil.update,
                [data.draw(BAD_SIGNALS)],
                valid=False,
                watch=[nvil],
                names={"signal"},
            )
        run_case(name, lambda: (nvil.scale, repr(nvil)), valid=True)
        return
    b = cls()
    args, valid = [signal, score], True
    if data.draw(st.booleans()):
        which = data.draw(st.sampled_from(["signal", "score", "short"]))
        if which == "signal":
            args[0] = data.draw(BAD_SIGNALS)
        elif which == "score":
            args[1] = data.draw(
                st.sampled_from(
                    [
                        np.zeros((len(signal) + 1, 2)),
                        np.full(score.shape, np.nan),
                        "g",
                        np.zeros(len(signal)),
                        score + 1j,
                    ]
                )
            )
        else:
            args = [signal[: minimum - 1], score[: minimum - 1]]
        valid = (
            name == "LeaveOneOutBaseline" and which == "score"
        )  # it does not read the score

    def check(result):
        if name == "LeaveOneOutBaseline":
            flat = np.abs(
                np.asarray(signal, dtype=np.longdouble)
            )  # rounding: a few eps of the others' sum
            rounding = (
                4
                * len(flat)
                * np.finfo(float).eps
                * (flat.sum(axis=0) / (len(flat) - 1))
            )
            close(
                result,
                _loo_reference(signal),
                1e-12,
                rounding + 1e-300,
                "leave-one-out mean",
            )
        if name == "LeaveOneOutOptimalBaseline":
            expected, tied = _loo_optimal_reference(signal, score)
            assert np.all(np.isfinite(result[np.isfinite(expected)])), (
                "finite coefficients exist"
            )
            expected = np.where(np.isfinite(expected), expected, result)
            # tied: 0, up to a residue below the smallest normal double
            residue = np.finfo(float).tiny * (np.abs(np.asarray(signal)).max() + 1.0)
            assert np.all(np.abs(result[tied]) <= residue), (
                "tied scores must give coefficient 0"
            )
            atol = 1e-6 * np.abs(np.asarray(signal)).max() + 1e-300
            both = np.isfinite(expected) & np.isfinite(result)
            ok = ~both  # beyond 1.8e308 both are infinite, and inf - inf is NaN
            ok[both] = np.abs(result[both] - expected[both]) <= (
                1e-6 * np.abs(expected[both]) + atol
            )
            assert ok.all(), (result, expected)

    run_case(
        name,
        b,
        args,
        valid=valid,
        check=check,
        watch=[b],
        names={"signal", "score"},
        finite=valid and "Optimal" not in name,
    )  # an optimal coefficient can exceed 1.8e308


@given(st.data())
def test_fuzz_ConstantBaseline(data):
    _baseline_case(data, "ConstantBaseline")


@given(st.data())
def test_fuzz_MovingAverageBaseline(data):
    _baseline_case(data, "MovingAverageBaseline")


@given(st.data())
def test_fuzz_LeaveOneOutBaseline(data):
    _baseline_case(data, "LeaveOneOutBaseline")


@given(st.data())
def test_fuzz_SameBatchOptimalBaseline(data):
    _baseline_case(data, "SameBatchOptimalBaseline")


@given(st.data())
def test_fuzz_LeaveOneOutOptimalBaseline(data):
    _baseline_case(data, "LeaveOneOutOptimalBaseline")


@given(st.data())
def test_fuzz_NVILBaseline(data):
    _baseline_case(data, "NVILBaseline")


# ------------------------------------------------------------------ exact references


def _discrete_expectation(values_fn, q):
    values, probs = support_of(q)
    return np.tensordot(
        probs, np.asarray(values_fn(values), dtype=np.longdouble), axes=(0, 0)
    )


EXACT = [
    "exact_expectation",
    "exact_gradient",
    "exact_elbo",
    "exact_elbo_gradient",
    "exact_optimal_baseline",
    "exact_single_sample_variance",
]


def _exact_case(data, name):
    function = getattr(elbo_grad, name)
    q = data.draw(
        families(max_dim=3, logit=700.0, max_categories=4, scale=1e8, log_range=40.0),
        label="q",
    )
    num_points = data.draw(st.integers(1, 12))
    a = np.array([data.draw(reals(-10.0, 10.0)) for _ in range(q.dim)])
    c = data.draw(reals(-100.0, 100.0))

    def f(z):  # linear: its Gaussian references are closed forms
        return np.asarray(z, dtype=float) @ a + c

    def f_terms(z):
        return f(z)[:, None] * q.score(z)

    fn = f_terms if name == "exact_single_sample_variance" else f
    if name == "exact_expectation":
        fn = f

    def out(m):
        return (m,)

    gaussian = isinstance(q, DiagonalGaussian)
    values, valid, slot = choose(
        data,
        {"f": fn, "q": q, "num_points": num_points},
        {
            "f": bad_callables(out),
            "q": bad_families(),
            "num_points": bad(BAD_COUNTS + [371, 10**6]),
            "swapped": st.just("swap"),
        },
    )
    args = [values["f"], values["q"]] if slot != "swapped" else [q, fn]
    kwargs = {"num_points": values["num_points"]}
    if (
        slot == "f"
        and name == "exact_expectation"
        and getattr(values["f"], "trailing_axes", False)
    ):
        valid = True
    if slot == "num_points" and not gaussian and values["num_points"] in (371, 10**6):
        valid = (
            True  # a discrete rule is the support: num_points only has to be a count
        )

    def check(result):
        if values["f"] is not fn:
            return  # an f with trailing axes, legal for exact_expectation: no closed form here
        if name == "exact_expectation":
            expected = (
                np.asarray(q.mean, np.longdouble) @ a + c
                if gaussian
                else _discrete_expectation(f, q)
            )
            close(
                result,
                expected,
                1e-9,
                1e-9 * (abs(c) + np.abs(a).sum() * (1 + np.abs(q.params).max()))
                # the accuracy exact_expectation promises (its GRADIENT_RTOL)
                + 1e-6 * max(float(abs(expected)), 1.0),
            )
        if (
            name == "exact_gradient" and gaussian and num_points >= 2
        ):  # f s has degree 3 in the noise
            close(
                result,
                np.concatenate([a, np.zeros(q.dim)]),
                1e-6,
                1e-6 * (1 + np.abs(a).max()),
                "gradient",
            )
        if name == "exact_gradient" and not gaussian:
            values_, probs = support_of(q)
            fz = f(values_).astype(np.longdouble)
            expected = probs @ (
                (fz - probs @ fz)[:, None] * score_reference(q, values_)
            )
            close(result, expected, 1e-6, 1e-9 * (1 + np.abs(a).sum()), "gradient")

    run_case(
        name,
        function,
        args,
        kwargs,
        valid=valid,
        check=check,
        watch=[q],
        names={"f", "log_joint", "q", "num_points"},
        allowed=(UserError,),
    )


@given(st.data())
def test_fuzz_exact_expectation(data):
    _exact_case(data, "exact_expectation")


@given(st.data())
def test_fuzz_exact_gradient(data):
    _exact_case(data, "exact_gradient")


@given(st.data())
def test_fuzz_exact_elbo(data):
    _exact_case(data, "exact_elbo")


@given(st.data())
def test_fuzz_exact_elbo_gradient(data):
    _exact_case(data, "exact_elbo_gradient")


@given(st.data())
def test_fuzz_exact_optimal_baseline(data):
    _exact_case(data, "exact_optimal_baseline")


@given(st.data())
def test_fuzz_exact_single_sample_variance(data):
    _exact_case(data, "exact_single_sample_variance")


@given(st.data())
def test_fuzz_integration_rule(data):
    q = data.draw(
        families(max_dim=3, scale=1e8, log_range=40.0) | bad_families(), label="q"
    )
    num_points = data.draw(st.integers(1, 370) | bad(BAD_COUNTS + [371, 2**40]))
    valid = isinstance(q, Family) and (
        not isinstance(q, DiagonalGaussian)
        or (
            isinstance(num_points, int)
            and not isinstance(num_points, bool)
            and 1 <= num_points <= 370
        )
    )

    def check(result):
        z, weights = result
        assert np.all(weights >= 0) and abs(weights.sum() - 1) < 1e-12, weights.sum()
        if isinstance(q, DiagonalGaussian):  # exact for degree < 2 num_points: the mean
            close(
                weights @ z, q.mean, 1e-9, 1e-9 * np.exp(q.log_std), "mean of the rule"
            )

    run_case(
        "integration_rule",
        integration_rule,
        [q],
        {"num_points": num_points},
        valid=valid,
        check=check,
        watch=[q],
        names={"q", "num_points"},
    )


@given(st.data())
def test_fuzz_enumerate_support(data):
    q = data.draw(
        families(("bernoulli", "categorical"), max_dim=6)
        | bad_families()
        | st.just(Bernoulli(np.zeros(40)))
        | st.just(Categorical(np.zeros((2, 5000))))
        | st.just(DiagonalGaussian(0.0, 0.0))
    )
    valid = (
        isinstance(q, (Bernoulli, Categorical))
        and q.num_params < 40
        and q.num_params < 1000
    )

    def check(z):
        values, _ = support_of(q)
        close(z, values, 0, 0, "support")

    run_case(
        "enumerate_support",
        enumerate_support,
        [q],
        valid=valid,
        check=check,
        watch=[q],
        names={"q"},
    )


# ------------------------------------------------------------------ models


def _conjugate_log_evidence(x, prior_std, noise_std):
    """ln N(x; 0, s^2 I + s0^2 11^T) with mpmath at 60 digits."""
    import mpmath

    mpmath.mp.dps = 60
    x = [mpmath.mpf(v) for v in x]
    s0, s = mpmath.mpf(prior_std), mpmath.mpf(noise_std)
    n = len(x)
    mean = sum(x) / n
    marginal = s**2 + n * s0**2
    quadratic = sum((v - mean) ** 2 for v in x) / s**2 + n * mean**2 / marginal
    log_det = 2 * (n - 1) * mpmath.log(s) + mpmath.log(marginal)
    return float(-(n * mpmath.log(2 * mpmath.pi) + log_det + quadratic) / 2)


@given(st.data())
def test_fuzz_ConjugateGaussian(data):
    n = data.draw(st.integers(1, 6))
    base = data.draw(reals(-1e9, 1e9))
    x = [
        base + data.draw(reals(-1e3, 1e3)) * data.draw(st.sampled_from([1e-6, 1.0]))
        for _ in range(n)
    ]
    values, valid, _ = choose(
        data,
        {
            "x": st.sampled_from([x, np.array(x), x[0]]),
            "prior_std": reals(1e-100, 1e100),
            "noise_std": reals(1e-100, 1e100),
        },
        {
            "x": bad(BAD_NUMBERS + [np.zeros((2, 2))]),
            "prior_std": bad(BAD_NUMBERS + [0.0, -1.0, 1e-200, 1e200]),
            "noise_std": bad(BAD_NUMBERS + [0.0, -1.0, 1e-200, 1e200]),
        },
    )
    x_arg = values["x"]
    model = run_case(
        "ConjugateGaussian",
        ConjugateGaussian,
        kwargs=values,
        valid=valid,
        watch=[x_arg],
    )
    if model is None:
        return
    method = data.draw(
        st.sampled_from(
            [
                "log_evidence",
                "posterior",
                "log_joint",
                "grad_log_joint",
                "exact_elbo",
                "exact_elbo_gradient",
                "bad_q",
                "bad_z",
            ]
        )
    )
    if method == "log_evidence":

        def check(value):
            expected = _conjugate_log_evidence(
                np.atleast_1d(np.asarray(x_arg, float)),
                model.prior_std,
                model.noise_std,
            )
            assert abs(value - expected) <= 1e-9 * max(1.0, abs(expected)), (
                value,
                expected,
            )

        run_case(
            "ConjugateGaussian",
            model.log_evidence,
            valid=True,
            check=check,
            watch=[model],
        )
    elif method == "posterior":
        run_case(
            "ConjugateGaussian",
            model.posterior,
            valid=True,
            watch=[model],
            names={"q", "log_std", "mean"},
        )
    elif method in ("log_joint", "grad_log_joint"):
        z = np.array(
            [[data.draw(reals(-1e3, 1e3))] for _ in range(data.draw(st.integers(1, 5)))]
        )
        run_case(
            "ConjugateGaussian",
            getattr(model, method),
            [z],
            valid=True,
            watch=[model, z],
            finite=False,
        )
    elif method in ("exact_elbo", "exact_elbo_gradient"):
        q = DiagonalGaussian(
            *data.draw(gaussian_params(max_dim=1, scale=1e3, log_range=5.0))
        )
        run_case(
            "ConjugateGaussian",
            getattr(model, method),
            [q],
            valid=True,
            watch=[model, q],
            finite=False,
        )
    elif method == "bad_q":
        run_case(
            "ConjugateGaussian",
            model.exact_elbo,
            [
                data.draw(
                    bad_families() | st.just(DiagonalGaussian([0.0, 0.0], [0.0, 0.0]))
                )
            ],
            valid=False,
            watch=[model],
        )
    else:
        run_case(
            "ConjugateGaussian",
            model.log_joint,
            [
                data.draw(
                    bad_samples(DiagonalGaussian(0.0, 0.0)) | st.just(np.zeros((2, 2)))
                )
            ],
            valid=False,
            watch=[model],
        )


@given(st.data())
def test_fuzz_BoltzmannChain(data):
    dim = data.draw(st.integers(1, 10))
    field = [data.draw(reals(-700.0, 700.0)) for _ in range(dim)]
    coupling = [data.draw(reals(-700.0, 700.0)) for _ in range(dim - 1)]
    values, valid, _ = choose(
        data,
        {"field": st.sampled_from([field, np.array(field)]), "coupling": coupling},
        {
            "field": bad(BAD_NUMBERS + [np.zeros(21), np.zeros((2, 2))]),
            "coupling": bad(
                BAD_NUMBERS[:8] + [np.zeros(dim + 1), np.zeros((1, dim - 1))]
            ),
        },
    )
    chain = run_case(
        "BoltzmannChain",
        BoltzmannChain,
        kwargs=values,
        valid=valid,
        watch=[values["field"]],
    )
    if chain is None:
        return
    support = enumerate_support(Bernoulli(np.zeros(dim)))
    if data.draw(st.booleans()):

        def check(log_joint):  # normalised: log-sum-exp over the support is 0
            top = log_joint.max()
            assert abs(top + np.log(np.exp(log_joint - top).sum())) < 1e-9
            local = chain.local_log_joint(support)
            assert local.shape == (len(support), dim)

        run_case(
            "BoltzmannChain",
            chain.log_joint,
            [support],
            valid=True,
            check=check,
            watch=[chain],
        )
    else:
        z = data.draw(bad_samples(Bernoulli(np.zeros(dim))))
        run_case(
            "BoltzmannChain",
            data.draw(st.sampled_from([chain.log_joint, chain.local_log_joint])),
            [z],
            valid=False,
            watch=[chain],
        )


@given(st.data())
def test_fuzz_grid_posterior(data):
    model = ConjugateGaussian(
        x=[data.draw(reals(-5.0, 5.0))], prior_std=1.0, noise_std=1.0
    )
    axis = np.linspace(-12, 12, data.draw(st.integers(200, 400)))

    def log_joint(z):
        return model.log_joint(z[:, :1])

    values, valid, _ = choose(
        data,
        {"log_joint": log_joint, "axes": st.sampled_from([[axis], (axis,)])},
        {
            "log_joint": bad_callables(lambda m: (m,))
            | st.just(lambda z: np.full(len(z), -np.inf)),
            "axes": st.sampled_from(
                [
                    axis,
                    [],
                    [axis[::-1]],
                    [axis[:2]],
                    [axis] * 4,
                    "a",
                    None,
                    [np.full(5, np.nan)],
                    [axis + 1j],
                    [np.linspace(-1, 1, 50)],
                ]
            ),
        },
    )

    def check(result):
        mean, covariance, log_evidence = result
        assert abs(mean[0] - model.posterior().mean[0]) < 1e-3
        assert abs(log_evidence - model.log_evidence()) < 1e-3

    run_case(
        "grid_posterior",
        grid_posterior,
        [values["log_joint"], values["axes"]],
        valid=valid,
        check=check,
        names={"log_joint", "axes", "axes[0]"},
        allowed=(UserError,),
    )


# ------------------------------------------------------------------ belief network


@given(st.data())
def test_fuzz_bars_and_stripes(data):
    size = data.draw(st.integers(1, 12) | bad(BAD_COUNTS + [13]))
    valid = isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= 12

    def check(images):
        assert (
            images.shape == (2 * 2**size - 2, size * size)
            if size > 1
            else images.shape[1] == 1
        )
        assert len(np.unique(images, axis=0)) == len(images)

    run_case(
        "bars_and_stripes",
        bars_and_stripes,
        [size],
        valid=valid,
        check=check,
        names={"size"},
    )


@st.composite
def networks(draw):
    d, h = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    scale = draw(st.sampled_from([0.0, 0.1, 10.0, 700.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    model = SigmoidBeliefNetwork(
        rng.normal(0, 1, h) * scale,
        rng.normal(0, 1, (d, h)) * scale,
        rng.normal(0, 1, d) * scale,
    )
    recognition = RecognitionNetwork(
        rng.normal(0, 1, (h, d)) * scale, rng.normal(0, 1, h) * scale
    )
    x = (rng.random((draw(st.integers(1, 5)), d)) < 0.5).astype(float)
    return model, recognition, x


networks = functools.lru_cache(maxsize=None)(networks)


@given(st.data())
def test_fuzz_SigmoidBeliefNetwork(data):
    model, recognition, x = data.draw(networks())
    d, h = model.num_visible, model.num_hidden
    z = (np.random.default_rng(0).random((len(x) * 2, h)) < 0.5).astype(float)
    method = data.draw(
        st.sampled_from(
            [
                "constructor",
                "initialize",
                "log_joint",
                "grad_log_joint",
                "log_marginal",
                "sample",
                "exact_elbo",
                "exact_elbo_gradient",
                "with_params",
            ]
        )
    )
    name = "SigmoidBeliefNetwork"
    bad_x = st.sampled_from(
        [
            np.zeros((2, d + 1)),
            np.full((2, d), 0.5),
            np.full((2, d), np.nan),
            "x",
            None,
            np.zeros(d),
            np.zeros((2, d)) + 1j,
            [[0.0] * d, [1.0] * (d + 1)],
        ]
    )
    if method == "constructor":
        values, valid, _ = choose(
            data,
            {
                "prior_logits": model.prior_logits,
                "weights": model.weights,
                "visible_bias": model.visible_bias,
            },
            {
                "prior_logits": bad(BAD_NUMBERS + [np.zeros(h + 1)]),
                "weights": bad(BAD_NUMBERS + [np.zeros((d, h + 1))]),
                "visible_bias": bad(BAD_NUMBERS + [np.zeros(d + 1)]),
            },
        )
        run_case(name, SigmoidBeliefNetwork, kwargs=values, valid=valid)
    elif method == "initialize":
        values, valid, _ = choose(
            data,
            {
                "num_visible": st.integers(1, 50),
                "num_hidden": st.integers(1, 50),
                "scale": reals(0.0, 1e3),
                "rng": rngs(),
            },
            {
                "num_visible": bad(BAD_COUNTS),
                "num_hidden": bad(BAD_COUNTS),
                "scale": bad(BAD_NUMBERS + [-1.0]),
                "rng": bad(BAD_RNGS),
            },
        )
        run_case(
            name,
            SigmoidBeliefNetwork.initialize,
            [values.pop("num_visible"), values.pop("num_hidden")],
            values,
            valid=valid,
            names={"num_visible", "num_hidden", "scale", "rng"},
        )
    elif method in ("log_joint", "grad_log_joint"):
        args, valid = data.draw(
            st.sampled_from(
                [
                    ([x, z], True),
                    ([x.tolist(), z], True),
                    ([z, x], d == h and False),
                    ([x, z[:1]], len(x) == 1),
                    ([x, None], False),
                ]
            )
        )
        if args[0] is z and args[1] is x:
            valid = False
        if data.draw(st.booleans()):
            args, valid = [data.draw(bad_x), z], False
        if args[0] is z and d == h and len(z) % len(x) == 0:
            return  # swapped arguments of the same shapes are indistinguishable
        run_case(
            name,
            getattr(model, method),
            args,
            valid=valid,
            watch=[model, *args],
            names={"x", "z"},
        )
    elif method == "log_marginal":
        arg, valid = data.draw(st.sampled_from([(x, True), (x.tolist(), True)])), True
        arg, valid = arg
        if data.draw(st.booleans()):
            arg, valid = data.draw(bad_x), False

        def check(log_marginal):
            assert np.all(log_marginal <= 1e-12)

        run_case(
            name,
            model.log_marginal,
            [arg],
            valid=valid,
            check=check,
            watch=[model, arg],
            names={"x"},
        )
    elif method == "sample":
        m = data.draw(st.integers(1, 30) | bad(BAD_COUNTS))
        valid = isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 30
        run_case(
            name,
            model.sample,
            [m],
            {"rng": 0},
            valid=valid,
            watch=[model],
            names={"num_samples"},
        )
    elif method in ("exact_elbo", "exact_elbo_gradient"):
        rec, valid = data.draw(
            st.sampled_from(
                [
                    (recognition, True),
                    (RecognitionNetwork(np.zeros((h + 1, d)), np.zeros(h + 1)), False),
                    (None, False),
                    ("r", False),
                    (RecognitionNetwork, False),
                ]
            )
        )

        def check(result):
            if method == "exact_elbo":
                assert np.all(
                    result <= model.log_marginal(x) + 1e-9 * (1 + np.abs(result))
                )

        run_case(
            name,
            getattr(model, method),
            [x, rec],
            valid=valid,
            check=check,
            watch=[model, rec, x],
            names={"x", "recognition"},
        )
    else:
        params = model.params
        arg, valid = data.draw(
            st.sampled_from(
                [
                    (params, True),
                    (params[:-1], False),
                    ("p", False),
                    (np.full(params.shape, np.nan), False),
                ]
            )
        )
        run_case(
            name,
            model.with_params,
            [arg],
            valid=valid,
            watch=[model, arg],
            names={"params"},
        )


@given(st.data())
def test_fuzz_RecognitionNetwork(data):
    model, recognition, x = data.draw(networks())
    name, d, h = "RecognitionNetwork", model.num_visible, model.num_hidden
    method = data.draw(
        st.sampled_from(
            [
                "constructor",
                "initialize",
                "unbound",
                "sample",
                "score",
                "score_mean",
                "log_prob",
                "entropy",
                "with_params",
                "given",
            ]
        )
    )
    q = recognition.given(x)
    z = q.sample(len(x) * data.draw(st.integers(1, 3)), rng=0)
    if method == "constructor":
        values, valid, _ = choose(
            data,
            {"weights": recognition.weights, "bias": recognition.bias},
            {"weights": bad(BAD_NUMBERS), "bias": bad(BAD_NUMBERS + [np.zeros(h + 1)])},
        )
        run_case(name, RecognitionNetwork, kwargs=values, valid=valid)
    elif method == "initialize":
        values, valid, _ = choose(
            data,
            {
                "num_visible": st.integers(1, 50),
                "num_hidden": st.integers(1, 50),
                "scale": reals(0.0, 1e3),
                "rng": rngs(),
            },
            {
                "num_visible": bad(BAD_COUNTS),
                "num_hidden": bad(BAD_COUNTS),
                "scale": bad(BAD_NUMBERS + [-1.0]),
                "rng": bad(BAD_RNGS),
            },
        )
        run_case(
            name,
            RecognitionNetwork.initialize,
            [values.pop("num_visible"), values.pop("num_hidden")],
            values,
            valid=valid,
            names={"num_visible", "num_hidden", "scale", "rng"},
        )
    elif method == "unbound":
        run_case(name, lambda: recognition.probs, valid=False, names={"x", "given"})
    elif method == "given":
        arg, valid = data.draw(
            st.sampled_from(
                [
                    (x, True),
                    (np.zeros((2, d + 1)), False),
                    (np.full((1, d), 0.5), False),
                    ("x", False),
                ]
            )
        )
        run_case(
            name,
            recognition.given,
            [arg],
            valid=valid,
            watch=[recognition, arg],
            names={"x"},
        )
    elif method == "sample":
        m = data.draw(
            st.sampled_from([len(x), 2 * len(x)])
            | bad(BAD_COUNTS + [len(x) + 1] * (len(x) > 1))
        )
        valid = (
            isinstance(m, int)
            and not isinstance(m, bool)
            and m >= 1
            and m % len(x) == 0
            and m < 100
        )
        run_case(
            name,
            q.sample,
            [m],
            {"rng": 0},
            valid=valid,
            watch=[q],
            names={"num_samples"},
        )
    elif method in ("score", "log_prob"):
        arg, valid = (
            (z, True)
            if data.draw(st.booleans())
            else (
                data.draw(
                    st.sampled_from(
                        [
                            np.full(z.shape, 0.5),
                            np.zeros((len(z), h + 1)),
                            "z",
                            None,
                            np.zeros((len(x) + 1, h)) if len(x) > 1 else "z",
                        ]
                    )
                ),
                False,
            )
        )
        fn = q.score if method == "score" else q.log_prob
        run_case(name, fn, [arg], valid=valid, watch=[q, arg], names={"z", "len(z)"})
    elif method == "score_mean":
        weights = np.linspace(-1, 1, len(z))

        def check(result):
            close(
                result,
                (weights[:, None] * q.score(z)).mean(axis=0),
                1e-9,
                1e-12,
                "score_mean",
            )

        run_case(
            name,
            q.score_mean,
            [z, weights],
            valid=True,
            check=check,
            watch=[q, z, weights],
        )
        run_case(
            name,
            q.score_mean,
            [z, np.zeros(len(z) + 1)],
            valid=False,
            watch=[q],
            names={"weights"},
        )
    elif method == "entropy":

        def check(entropy):
            assert np.all(entropy >= -1e-12) and np.all(
                entropy <= h * np.log(2) + 1e-12
            )

        run_case(name, q.entropy, valid=True, check=check, watch=[q])
    else:
        params = recognition.params
        arg, valid = data.draw(
            st.sampled_from(
                [
                    (params, True),
                    (params.tolist(), True),
                    (params[:-1], False),
                    ("p", False),
                ]
            )
        )
        run_case(
            name, q.with_params, [arg], valid=valid, watch=[q, arg], names={"params"}
        )


@given(st.data())
def test_fuzz_train_nvil(data):
    base = {
        "data": bars_and_stripes(2),
        "num_hidden": 2,
        "num_steps": 2,
        "batch_size": 3,
        "step_size": 0.1,
        "eval_every": 2,
        "variance_repeats": 2,
        "rng": 0,
    }
    remedy = data.draw(
        st.sampled_from(
            [
                {},
                {"centering": True},
                {"input_baseline": True},
                {"variance_normalization": True},
                {"leave_one_out": True, "num_samples": 2},
            ]
        )
    )
    values, valid, slot = choose(
        data,
        dict(base | remedy),
        {
            "data": bad(BAD_NUMBERS + [np.full((3, 4), 0.5)]),
            "num_hidden": bad(BAD_COUNTS + [40]),
            "num_steps": bad(BAD_COUNTS),
            "batch_size": bad(BAD_COUNTS + [7]),
            "step_size": bad(BAD_NUMBERS + [0.0]),
            "eval_every": bad(BAD_COUNTS),
            "variance_repeats": bad(BAD_COUNTS + [1]),
            "rng": bad(BAD_RNGS),
            "decay": bad(BAD_NUMBERS + [1.0]),
            "centering": bad(BAD_FLAGS),
            "baseline_step_size": bad(BAD_NUMBERS),
            "leave_one_out": st.just(True),
        },
    )
    if slot == "leave_one_out":  # valid only with num_samples >= 2 and no other remedy
        valid = bool(remedy.get("leave_one_out"))

    def check(history):
        assert isinstance(history, NVILHistory) and history.steps[-1] == 2
        assert np.all(history.elbo <= history.log_likelihood + 1e-9)

    run_case(
        "train_nvil",
        train_nvil,
        kwargs=values,
        valid=valid,
        check=check,
        watch=[values["data"]],
    )


@given(st.data())
def test_fuzz_NVILHistory(data):
    size = data.draw(st.integers(0, 3))
    history = NVILHistory(None, None, *[np.zeros(size)] * 7, size)

    def check(result):
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.steps = None
        assert result.interrupted is False

    run_case("NVILHistory", lambda: history, valid=True, check=check)


# ------------------------------------------------------------------ optimisation


@given(st.data())
def test_fuzz_SGD(data):
    values, valid, _ = choose(
        data,
        {"step_size": reals(1e-300, 1e300)},
        {"step_size": bad(BAD_NUMBERS + [0.0, -1.0])},
    )
    sgd = run_case("SGD", SGD, kwargs=values, valid=valid)
    if sgd is not None:
        params = np.array(data.draw(st.lists(reals(-1e3, 1e3), min_size=1, max_size=5)))
        gradient = np.ones_like(params)

        def check(new):
            close(new, params + sgd.step_size * gradient, 1e-15, 1e-300)

        run_case(
            "SGD",
            sgd.step,
            [params, gradient],
            valid=True,
            check=check,
            watch=[params, gradient],
            finite=False,
        )


@given(st.data())
def test_fuzz_Adam(data):
    values, valid, _ = choose(
        data,
        {
            "step_size": reals(1e-300, 1e3),
            "beta1": reals(0.0, 0.999),
            "beta2": reals(0.0, 0.9999),
            "epsilon": reals(1e-300, 1.0),
        },
        {
            "step_size": bad(BAD_NUMBERS + [0.0]),
            "beta1": bad(BAD_NUMBERS + [1.0, -0.5]),
            "beta2": bad(BAD_NUMBERS + [1.0]),
            "epsilon": bad(BAD_NUMBERS + [0.0]),
        },
    )
    adam = run_case("Adam", Adam, kwargs=values, valid=valid)
    if adam is not None:
        params = np.array(data.draw(st.lists(reals(-1e3, 1e3), min_size=1, max_size=5)))
        gradient = np.array([data.draw(reals(-1e150, 1e150)) for _ in params])

        def check(new):  # the first step moves each coordinate by at most step_size
            assert np.all(
                np.abs(new - params)
                <= adam.step_size * (1 + 1e-9) + 1e-9 * np.abs(params)
            )

        run_case(
            "Adam",
            adam.step,
            [params, gradient],
            valid=True,
            check=check,
            watch=[params, gradient],
        )


@given(st.data())
def test_fuzz_fit(data):
    q = data.draw(families(max_dim=2, logit=30.0, scale=10.0, log_range=3.0))

    def log_joint(z):
        return -0.5 * (np.asarray(z, dtype=float) ** 2).sum(axis=1)

    values, valid, slot = choose(
        data,
        {
            "log_joint": log_joint,
            "q": q,
            "num_steps": st.integers(1, 3),
            "step_size": reals(1e-6, 0.1),
            "num_samples": st.integers(1, 10),
            "optimizer": st.sampled_from(["adam", "sgd"]),
            "baseline": st.sampled_from([None, 1.0, MovingAverageBaseline()]),
            "rng": rngs(),
            "progress": st.just(False),
        },
        {
            "log_joint": bad_callables(lambda m: (m,)),
            "q": bad_families(),
            "num_steps": bad(BAD_COUNTS),
            "step_size": bad(BAD_NUMBERS + [0.0, -1.0]),
            "num_samples": bad(BAD_COUNTS),
            "optimizer": st.sampled_from(["Adam", None, 1, SGD]),
            "baseline": BAD_BASELINES,
            "rng": bad(BAD_RNGS),
            "progress": bad(BAD_FLAGS),
            "callback": st.sampled_from([3, "cb", SGD]),
        },
    )
    log_joint_arg, q_arg = values.pop("log_joint"), values.pop("q")

    def check(result):
        assert isinstance(result, FitResult) and result.params.shape == (
            values["num_steps"] + 1,
            q.num_params,
        )

    kept = (
        [values["baseline"]] if hasattr(values["baseline"], "__dict__") else []
    )  # fit updates it, only on success
    run_case(
        "fit",
        fit,
        [log_joint_arg, q_arg],
        values,
        valid=valid,
        check=check,
        watch=[q],
        watch_on_error=kept,
        mutable=("baseline",),
        names={
            "log_joint",
            "q",
            "num_steps",
            "step_size",
            "num_samples",
            "optimizer",
            "baseline",
            "rng",
            "callback",
            "progress",
            "baseline's value",
        },
        allowed=(UserError,),
    )


@given(st.data())
def test_fuzz_FitResult(data):
    path = np.zeros((data.draw(st.integers(1, 4)), 2))
    result = FitResult(path, np.zeros(len(path) - 1), DiagonalGaussian(0.0, 0.0))

    def check(value):
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.params = None
        assert value.interrupted is False

    run_case("FitResult", lambda: result, valid=True, check=check)


# ------------------------------------------------------------------ unbiasedness


def _exact_discrete_gradient(f, q):
    """sum_z q(z) f(z) s(z) by enumeration, long double, independent of the package."""
    values, probs = support_of(q)
    fz = np.asarray(f(values), dtype=np.longdouble)
    return probs @ ((fz - probs @ fz)[:, None] * score_reference(q, values))


UNBIASED_BASELINES = {
    "none": lambda: None,
    "constant": lambda: 1.3,
    "leave-one-out": LeaveOneOutBaseline,
    "leave-one-out-optimal": LeaveOneOutOptimalBaseline,
    "moving-average": lambda: MovingAverageBaseline(0.5, -0.7),
    "nvil": lambda: NVILBaseline(decay=0.5),
}
#: The tolerance of every unbiasedness check, in standard errors of the mean of the repeats.
SE_TOLERANCE = 5.0


#: Examples of the unbiasedness checks: few in the fast profile, ten times more under ``fuzz``.
UNBIASED_EXAMPLES = 60 if settings.default.max_examples >= 1000 else 6


@settings(max_examples=UNBIASED_EXAMPLES)
@given(st.data())
def test_unbiased_discrete_against_enumeration(data):
    """Mean of R seeded estimates (n = 3, tied scores common) vs the exact gradient, within 5 SE.

    Left side: the mean of R independent estimates of ``expectation_gradient``
    (n = 3 samples each: the leave-one-out coefficients see ties often).
    Right side: the sum over the support of q(z) f(z) s(z) in long double.
    The SE is the standard deviation of the R estimates over sqrt(R).
    """
    kind = data.draw(st.sampled_from(["bernoulli", "categorical"]))
    q = data.draw(families((kind,), max_dim=3, logit=2.0, max_categories=3))
    table = np.array(
        [data.draw(reals(-3.0, 3.0)) for _ in range(len(support_of(q)[0]))]
    )
    values = support_of(q)[0]
    k = q.num_categories if kind == "categorical" else 2

    def f(z):
        index = np.asarray(z, dtype=int) @ (k ** np.arange(q.dim)[::-1])
        return table[index]

    assert np.array_equal(f(values), table)  # the table is indexed like the enumeration
    baseline = data.draw(st.sampled_from(sorted(UNBIASED_BASELINES)))
    repeats, seed = 3000, data.draw(st.integers(0, 2**16))
    estimates = np.array(
        [
            expectation_gradient(
                f, q, 3, rng=[seed, r], baseline=UNBIASED_BASELINES[baseline]()
            ).gradient
            for r in range(repeats)
        ]
    )
    exact = _exact_discrete_gradient(f, q).astype(float)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(repeats)
    error = np.abs(estimates.mean(axis=0) - exact)
    assert np.all(error <= SE_TOLERANCE * standard_error + 1e-12), (
        baseline,
        error / standard_error,
    )


@settings(max_examples=max(4, UNBIASED_EXAMPLES // 2))
@given(st.data())
def test_unbiased_gaussian_against_closed_form(data):
    """ELBO gradient of the conjugate model: mean of R estimates vs model.exact_elbo_gradient, within 5 SE."""
    model = ConjugateGaussian(
        x=[data.draw(reals(-3.0, 3.0)) for _ in range(2)], prior_std=1.5, noise_std=0.8
    )
    q = DiagonalGaussian(data.draw(reals(-2.0, 2.0)), data.draw(reals(-1.0, 0.5)))
    baseline = data.draw(st.sampled_from(sorted(UNBIASED_BASELINES)))
    repeats, seed = 2000, data.draw(st.integers(0, 2**16))
    estimates = np.array(
        [
            elbo_gradient(
                model.log_joint,
                q,
                4,
                rng=[seed, r],
                baseline=UNBIASED_BASELINES[baseline](),
            ).gradient
            for r in range(repeats)
        ]
    )
    exact = model.exact_elbo_gradient(q)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(repeats)
    assert np.all(
        np.abs(estimates.mean(axis=0) - exact) <= SE_TOLERANCE * standard_error
    ), baseline


def test_unbiasedness_check_can_fail():
    """The same check rejects the same-batch optimal baseline, which is biased at n = 3 (its docstring says so)."""
    q = Bernoulli([0.3, -0.4])

    def f(z):
        return (z[:, 0] + 2 * z[:, 1] - 0.5) ** 2

    repeats = 8000  # the bias is about 10 standard errors of the mean here
    estimates = np.array(
        [
            expectation_gradient(
                f, q, 3, rng=[7, r], baseline=SameBatchOptimalBaseline()
            ).gradient
            for r in range(repeats)
        ]
    )
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(repeats)
    error = np.abs(
        estimates.mean(axis=0) - _exact_discrete_gradient(f, q).astype(float)
    )
    assert np.any(error > SE_TOLERANCE * standard_error)


# ------------------------------------------------------------------ regressions found by the fuzzing
# Each test holds the concrete input the fuzzing found; each failed before its fix.


def test_regression_ragged_output_of_log_joint_is_named():
    """A log_joint returning a ragged list raised NumPy's 'inhomogeneous shape' ValueError, naming nothing."""
    q = DiagonalGaussian([0.0, 1.0], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"^log_joint must return a regular array"):
        learning_signal(lambda z: [[1.0], [1.0, 2.0]], q, q.sample(2, rng=0))


@pytest.mark.parametrize("weights", [np.full(2, np.nan), np.array([np.inf, 1.0])])
@pytest.mark.parametrize(
    "q",
    [DiagonalGaussian(0.0, 0.0), Bernoulli([0.0]), Categorical([[0.0, 1.0]])],
    ids=repr,
)
def test_regression_score_mean_refuses_nonfinite_weights(q, weights):
    """score_mean returned NaN for NaN or infinite weights instead of refusing them."""
    with pytest.raises(ValueError, match=r"^weights must be finite"):
        q.score_mean(q.sample(2, rng=0), weights)


def test_regression_score_mean_refuses_complex_weights():
    """Complex weights were cast to real with a ComplexWarning (an error under -W error)."""
    with pytest.raises(TypeError, match=r"^weights must be real"):
        DiagonalGaussian(0.0, 0.0).score_mean([[1.0], [2.0]], np.array([1.0, 2.0]) + 1j)


def test_regression_moving_average_refuses_a_3d_signal_and_keeps_its_value():
    """update accepted a signal of shape (3, 2, 2) (not (n,) or (n, P)) and changed its value."""
    baseline = MovingAverageBaseline(decay=0.5, initial=2.0)
    with pytest.raises(ValueError, match=r"^signal must have shape"):
        baseline.update(np.ones((3, 2, 2)))
    assert baseline.value == 2.0


def test_regression_optimal_baselines_at_huge_signals():
    """Signals near 1.7e308 overflowed in l * s (RuntimeWarning, then inf/NaN) though the coefficients are finite.

    Reference: the coefficients of the signal divided by 2**1000, times 2**1000 (the
    coefficient is linear in the signal; the division and product are exact).
    """
    signal = np.array([1.7e308, 1.7e308, 6.22189932e307, -1.7e308, 3.0e307])
    score = np.array([[1.0], [-1e-300], [-1.0], [1.0], [0.5]])
    for baseline in (SameBatchOptimalBaseline(), LeaveOneOutOptimalBaseline()):
        result = baseline(signal, score)
        reference = baseline(signal / 2.0**1000, score) * 2.0**1000
        assert np.all(np.isfinite(result))
        np.testing.assert_allclose(result, reference, rtol=1e-12)


@pytest.mark.parametrize("num_points", [True, 3.0, np.nan, "3"])
@pytest.mark.parametrize(
    "function",
    [exact_expectation, exact_elbo, exact_elbo_gradient, exact_single_sample_variance],
)
def test_regression_num_points_checked_for_discrete_families(function, num_points):
    """num_points=True, 3.0, NaN or '3' were accepted (and ignored) for a Bernoulli or Categorical q."""
    with pytest.raises(TypeError, match=r"^num_points must be an integer"):
        function(
            lambda z: np.asarray(z, dtype=float)[:, 0],
            Bernoulli([699.0, -1.0]),
            num_points=num_points,
        )


def test_regression_exact_optimal_baseline_where_the_score_vanishes():
    """b* = E[f s^2]/E[s^2] was 0/0 (RuntimeWarning, NaN) where s_k = 0 on q's support; any b is optimal there: 0."""
    q = Bernoulli(
        [0.0, 800.0]
    )  # the second bit is 1 with probability 1 - 1e-348: its score is exactly 0
    b = exact_optimal_baseline(lambda z: 1.0 + 2.0 * z[:, 0] + z[:, 1], q)
    # first bit: E[f s^2]/E[s^2] with s = z - 1/2, s^2 = 1/4 everywhere, so b* = E[f] = 1 + 1 + 1
    np.testing.assert_allclose(b, [3.0, 0.0], rtol=1e-12)
    gaussian = exact_optimal_baseline(
        lambda z: z[:, 0], DiagonalGaussian(-1e8, np.log(100.0)), num_points=1
    )
    assert np.all(np.isfinite(gaussian))


def test_regression_fit_refuses_a_progress_that_is_not_a_bool():
    """fit(progress=[True]) was accepted."""
    with pytest.raises(TypeError, match=r"^progress must be True or False"):
        fit(
            lambda z: -(z**2).sum(axis=1),
            DiagonalGaussian(2.0, 0.0),
            num_steps=1,
            step_size=1e-6,
            num_samples=3,
            progress=[True],
        )


@pytest.mark.parametrize(
    "make",
    [
        lambda: ConjugateGaussian(x=True),
        lambda: DiagonalGaussian(True, 0.0),
        lambda: Bernoulli(np.bool_(False)),
        lambda: ConstantBaseline(True),
    ],
)
def test_regression_a_bool_where_numbers_belong(make):
    """ConjugateGaussian(x=True) was accepted as the observation 1.0."""
    with pytest.raises(TypeError, match=r"got a bool"):
        make()


def test_regression_fit_refuses_a_baseline_class_by_name():
    """fit(baseline=MovingAverageBaseline) (the class) failed inside as 'decay must have 0 dimension(s)'."""
    with pytest.raises(TypeError, match=r"^baseline must be an instance"):
        fit(
            lambda z: -z[:, 0],
            Bernoulli([22.0]),
            num_steps=1,
            step_size=1e-6,
            num_samples=2,
            baseline=MovingAverageBaseline,
        )


def test_regression_ragged_output_of_f_in_exact_expectation():
    """exact_expectation's own conversion of f's values raised NumPy's 'inhomogeneous shape' error."""
    with pytest.raises(ValueError, match=r"^f must return a regular array"):
        exact_expectation(lambda z: [[1.0], [1.0, 2.0]], Bernoulli([0.0]))


def test_regression_moving_average_refuses_a_bool_signal():
    """update(True) moved the value towards 1.0."""
    baseline = MovingAverageBaseline(decay=0.5, initial=2.0)
    with pytest.raises(TypeError, match=r"^signal must be real numbers"):
        baseline.update(True)
    assert baseline.value == 2.0


def test_regression_ragged_output_of_log_joint_in_grid_posterior():
    """grid_posterior's own conversion of log_joint's values raised NumPy's 'inhomogeneous shape' error."""
    with pytest.raises(ValueError, match=r"^log_joint must return a regular array"):
        grid_posterior(lambda z: [[1.0], [1.0, 2.0]], [np.linspace(-1.0, 1.0, 5)])


def test_regression_train_nvil_names_num_hidden_when_the_exact_sum_is_too_large():
    """num_hidden=40 was refused with a message naming no argument ('an exact sum over 2**40 ...')."""
    with pytest.raises(
        ValueError, match=r"^an exact sum over 2\*\*40 latent states \(num_hidden\)"
    ):
        train_nvil(bars_and_stripes(2), 40, num_steps=2, batch_size=3, step_size=0.1)


@pytest.mark.skipif(
    np.finfo(np.longdouble).tiny >= np.finfo(float).tiny,
    reason="long double is double here",
)
def test_regression_adam_first_step_with_a_tiny_gradient():
    """g = 2.96e-232 squared underflowed to 0, so the first step was g / epsilon = 2.96e68 instead of about step_size."""
    step = Adam(1.0, beta2=0.9999, epsilon=1e-300).step(
        np.zeros(2), np.array([2.96e-232, 1.0])
    )
    np.testing.assert_allclose(step, [1.0, 1.0], rtol=1e-12)


@pytest.mark.parametrize(
    "q, z, expected",
    [
        (
            Bernoulli([34.0]),
            [[1.0]],
            1.7139084315420100e-15,
        ),  # 1 - sigmoid(34) = sigmoid(-34)
        (Categorical([[34.0, 0.0]]), [[0]], 1.7139084315420100e-15),
    ],
)
def test_regression_discrete_score_where_the_probability_rounds_near_one(
    q, z, expected
):
    """z - pi with pi = 1 - 1.7e-15 lost the digits of 1 - pi (relative error 1e-2 at logit 34, all of it beyond 37)."""
    np.testing.assert_allclose(q.score(z)[0, 0], expected, rtol=1e-12)


def test_regression_fit_names_q_when_a_step_leaves_the_family():
    """A step to parameters the family refuses raised the family's 'log_std is too small for mean', naming no argument."""
    with pytest.raises(ValueError, match=r"^q's parameters after step 1 are refused"):
        fit(
            lambda z: -1e12 * (z[:, 0] - 1e6) ** 2,
            DiagonalGaussian(10.0, 0.0),
            num_steps=3,
            step_size=50.0,
            num_samples=2,
            optimizer="sgd",
            rng=0,
        )


def test_regression_loo_optimal_coefficient_where_the_score_variance_underflows():
    """Row 0's others have scores 1e-300 and 0 (not tied): the coefficient is 9.85e307, the package gave 0.

    Scaled by the whole batch's largest score (sample 0's), the others' variance underflowed.
    """
    signal = np.array([-1.07799270e308, 9.84863490e307, 1.02311792e308])
    score = np.array([[1.0], [1e-300], [0.0]])
    expected, _ = _loo_optimal_reference(signal, score)
    assert expected[0, 0] == pytest.approx(9.84863490e307, rel=1e-9)
    np.testing.assert_allclose(
        LeaveOneOutOptimalBaseline()(signal, score), expected, rtol=1e-9
    )


def test_regression_loo_optimal_coefficient_of_tiny_scores_in_another_row():
    """Sample 2 holds the largest score: rows 0 and 1 read only scores near 1e-160, whose squares underflowed."""
    signal = np.array([3.0, -2.0, 5.0, 1.0])
    score = np.array([[2e-160], [-1e-160], [1.0], [4e-160]])
    expected, _ = _loo_optimal_reference(signal, score)
    assert np.all(expected[[0, 1, 3]] != 0)
    np.testing.assert_allclose(
        LeaveOneOutOptimalBaseline()(signal, score), expected, rtol=1e-9
    )


def test_regression_exact_expectation_refuses_what_rounding_decides():
    """sigma = 1e15, f = 7.3 z - 48: the values' rounding (about 4.8) gave -47.58 instead of -48."""
    q = DiagonalGaussian(0.0, np.log(1e15))
    with pytest.raises(ValueError, match=r"^f is not resolved on q's scale"):
        exact_expectation(lambda z: 7.3 * z[:, 0] - 48.0, q, num_points=11)
    resolved = DiagonalGaussian(0.0, np.log(1e5))
    assert exact_expectation(
        lambda z: 7.3 * z[:, 0] - 48.0, resolved, num_points=11
    ) == pytest.approx(-48.0, rel=1e-9)


def test_regression_failing_fit_leaves_the_baseline_unchanged():
    """A step refused after two completed steps left the baseline with their two updates."""
    baseline = MovingAverageBaseline(decay=0.5, initial=3.0)
    calls = []

    def log_joint(z):
        calls.append(None)
        if len(calls) > 2:
            raise ValueError("log_joint failed on its third call")
        return -0.5 * z[:, 0] ** 2

    with pytest.raises(ValueError, match="third call"):
        fit(
            log_joint,
            DiagonalGaussian(1.0, 0.0),
            num_steps=5,
            step_size=0.1,
            num_samples=4,
            baseline=baseline,
            rng=0,
        )
    assert baseline.value == 3.0
    # a run that stands keeps its updates
    fit(
        lambda z: -0.5 * z[:, 0] ** 2,
        DiagonalGaussian(1.0, 0.0),
        num_steps=2,
        step_size=0.1,
        num_samples=4,
        baseline=baseline,
        rng=0,
    )
    assert baseline.value != 3.0


def test_regression_log_evidence_of_close_large_observations():
    """x = [482989048.395289, 482989048.3953612]: the mean's rounding cost 7e-7 of the log evidence (-7.7e149 here).

    Reference: the same formula in 60-digit mpmath (``_conjugate_log_evidence``).
    """
    x, prior_std, noise_std = (
        [482989048.395289, 482989048.3953612],
        3.4025098508482343e-41,
        8.026823129621614e-76,
    )
    expected = _conjugate_log_evidence(x, prior_std, noise_std)
    assert ConjugateGaussian(x, prior_std, noise_std).log_evidence() == pytest.approx(
        expected, rel=1e-12
    )


# ------------------------------------------------------------------ discrete


BAD_TEMPERATURES = [0.0, -1.0, *BAD_NUMBERS]


def _discrete_case(data, name):
    """ARM, DisARM and the straight-through terms: a Bernoulli q, legal or not."""
    q = data.draw(families(kinds=("bernoulli",), max_dim=4, logit=30.0), label="q")
    n = data.draw(st.integers(1, 20), label="n")
    gradient = name in ("gumbel_softmax_terms", "exact_straight_through_gradient")
    f = data.draw(user_functions(q, gradient=gradient))
    valid_slots = {"f": f, "q": q}
    invalid_slots = {
        "f": bad_callables((lambda m: (m, q.dim)) if gradient else (lambda m: (m,))),
        "q": bad_families() | st.just(DiagonalGaussian(0.0, 0.0)),
        "swapped": st.just("swap"),
    }
    if name != "exact_straight_through_gradient":
        valid_slots |= {"num_samples": n, "rng": rngs()}
        invalid_slots |= {"num_samples": bad(BAD_COUNTS), "rng": bad(BAD_RNGS)}
    if gradient:
        valid_slots["temperature"] = reals(1e-2, 1e2)
        invalid_slots["temperature"] = bad(BAD_TEMPERATURES)
    if name == "gumbel_softmax_terms":
        valid_slots["straight_through"] = st.booleans()
        invalid_slots["straight_through"] = bad(BAD_FLAGS)
    values, valid, slot = choose(data, valid_slots, invalid_slots)
    args = [values["f"], values["q"]]
    if slot == "swapped":
        args = [q, f]
    if "num_samples" in values:
        args.append(values["num_samples"])
    kwargs = {
        k: values[k] for k in ("rng", "temperature", "straight_through") if k in values
    }

    def check(result):
        shape = (q.num_params,) if name.startswith("exact") else (n, q.num_params)
        assert np.shape(result) == shape

    run_case(
        name,
        getattr(elbo_grad, name),
        args,
        kwargs,
        valid=valid,
        names=_signatures_names("f", "grad_f", "temperature", "straight_through"),
        check=check,
        watch=[q],
        allowed=(UserError,),
    )


@given(st.data())
def test_fuzz_arm_terms(data):
    _discrete_case(data, "arm_terms")


@given(st.data())
def test_fuzz_disarm_terms(data):
    _discrete_case(data, "disarm_terms")


@given(st.data())
def test_fuzz_gumbel_softmax_terms(data):
    _discrete_case(data, "gumbel_softmax_terms")


@given(st.data())
def test_fuzz_exact_straight_through_gradient(data):
    _discrete_case(data, "exact_straight_through_gradient")

"""Shared fixtures: the families and models the tests check."""

import numpy as np
import pytest

from elbo_grad import Bernoulli, Categorical, ConjugateGaussian, DiagonalGaussian


@pytest.fixture(
    params=[
        ("gaussian-1d", lambda: DiagonalGaussian(mean=0.3, log_std=-0.2)),
        (
            "gaussian-3d",
            lambda: DiagonalGaussian(mean=[0.5, -1.0, 2.0], log_std=[0.1, -0.7, 0.4]),
        ),
        ("bernoulli-4d", lambda: Bernoulli(logits=[-1.5, 0.0, 0.7, 2.5])),
        (
            "categorical-2x3",
            lambda: Categorical(logits=[[0.2, -1.0, 0.5], [1.0, 0.0, -0.3]]),
        ),
    ],
    ids=lambda param: param[0],
)
def family(request):
    """A variational family with non-trivial parameters."""
    return request.param[1]()


@pytest.fixture
def conjugate_model():
    return ConjugateGaussian(x=[0.8, 1.9, 1.4], prior_std=1.3, noise_std=0.7)


def standard_error(samples, axis=0):
    """The standard error of the mean of ``samples`` along ``axis``: sd (ddof 1) / sqrt(n).

    The one helper every statistical test states its tolerance with, as a
    multiple of this number.
    """
    samples = np.asarray(samples)
    return samples.std(axis=axis, ddof=1) / np.sqrt(samples.shape[axis])


def rebuild(q, params):
    """The same family as ``q`` with the flat parameter vector ``params``."""
    return q.with_params(np.asarray(params, dtype=float))


def support(q):
    """Every value of a discrete ``q``, one per row, and its probability (independent of the package)."""
    if isinstance(q, Bernoulli):
        values = (
            np.array(np.meshgrid(*[[0.0, 1.0]] * q.dim, indexing="ij"))
            .reshape(q.dim, -1)
            .T
        )
        probs = 1.0 / (1.0 + np.exp(-np.asarray(q.params)))
        return values, np.prod(np.where(values == 1.0, probs, 1.0 - probs), axis=1)
    if isinstance(q, Categorical):
        k = q.num_categories
        values = (
            np.array(np.meshgrid(*[np.arange(k)] * q.dim, indexing="ij"))
            .reshape(q.dim, -1)
            .T
        )
        logits = np.asarray(q.params).reshape(q.dim, k)
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return values, np.prod(probs[np.arange(q.dim), values], axis=1)
    raise TypeError(type(q).__name__)


# Hypothesis profiles of the fuzz suite (tests/test_fuzz.py): ``fast`` is the
# default (``make test``); ``fuzz`` runs at least 10**4 cases per public
# function (``HYPOTHESIS_PROFILE=fuzz``). Both derandomised: the same cases
# every run.
import os  # noqa: E402

from hypothesis import HealthCheck, settings  # noqa: E402

_FUZZ_COMMON = dict(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
settings.register_profile("fast", max_examples=25, **_FUZZ_COMMON)
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", 10_000)), **_FUZZ_COMMON
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

"""Shared fixtures: the families and models every test module checks."""

import numpy as np
import pytest

from elbo_grad import Bernoulli, ConjugateGaussian, DiagonalGaussian


@pytest.fixture(
    params=[
        ("gaussian-1d", lambda: DiagonalGaussian(mean=0.3, log_std=-0.2)),
        ("gaussian-3d", lambda: DiagonalGaussian(mean=[0.5, -1.0, 2.0], log_std=[0.1, -0.7, 0.4])),
        ("bernoulli-4d", lambda: Bernoulli(logits=[-1.5, 0.0, 0.7, 2.5])),
    ],
    ids=lambda param: param[0],
)
def family(request):
    """A variational family with non-trivial parameters."""
    return request.param[1]()


@pytest.fixture
def conjugate_model():
    return ConjugateGaussian(x=[0.8, 1.9, 1.4], prior_std=1.3, noise_std=0.7)


def rebuild(q, params):
    """The same family as ``q`` with the flat parameter vector ``params``."""
    return type(q).from_params(np.asarray(params, dtype=float))

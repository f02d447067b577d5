"""Temporary: the 0.1 name of :mod:`elbo_grad.families`, until every module is ported."""

from .families import Bernoulli, Categorical, DiagonalGaussian, _sigmoid  # noqa: F401

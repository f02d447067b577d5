r"""elbo_grad: the score-function gradient of the ELBO, in small readable NumPy.

The companion package of the book *∇φ*. Import what you need::

    from elbo_grad import DiagonalGaussian, ConjugateGaussian, elbo_gradient
"""

from .baselines import (
    LinearBaseline,
    MovingAverageBaseline,
    VarianceNormalizer,
    leave_one_out_baseline,
)
from .distributions import Bernoulli, DiagonalGaussian
from .estimators import elbo_gradient, learning_signal, score_function_gradient
from .models import ConjugateGaussian

# Numerical references for a model of your own (chapter "Use it on your own model").
from .models import grid_posterior, quadrature_elbo, quadrature_elbo_gradient

__version__ = "0.1.0"

__all__ = [
    "Bernoulli",
    "ConjugateGaussian",
    "DiagonalGaussian",
    "LinearBaseline",
    "MovingAverageBaseline",
    "VarianceNormalizer",
    "elbo_gradient",
    "learning_signal",
    "leave_one_out_baseline",
    "score_function_gradient",
    "__version__",
]

__all__ += [
    "grid_posterior",
    "quadrature_elbo",
    "quadrature_elbo_gradient",
]

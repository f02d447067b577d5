r"""elbo_grad: the score-function gradient of the ELBO, in small readable NumPy.

The companion package of the book *∇φ*. Import what you need::

    from elbo_grad import DiagonalGaussian, ConjugateGaussian, elbo_gradient

The SymPy helpers the derivation chapters use live in ``elbo_grad.symbolic``
(imported on its own, so that the package itself needs only NumPy).
"""

# Variational families.
from .distributions import Bernoulli, DiagonalGaussian

# Estimators of the gradient.
from .estimators import elbo_gradient, learning_signal, score_function_gradient

# Baselines and NVIL's variance-reduction remedies.
from .baselines import (
    LinearBaseline,
    MovingAverageBaseline,
    VarianceNormalizer,
    leave_one_out_baseline,
)

# Models with exact answers, and numerical references for a model of your own.
from .models import ConjugateGaussian, grid_posterior, quadrature_elbo, quadrature_elbo_gradient

# Discrete latents in practice: a sigmoid belief network trained with NVIL.
from .belief_network import (
    NVILHistory,
    RecognitionNetwork,
    SigmoidBeliefNetwork,
    bars_and_stripes,
    train_nvil,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # families
    "Bernoulli",
    "DiagonalGaussian",
    # estimators
    "elbo_gradient",
    "learning_signal",
    "score_function_gradient",
    # baselines
    "LinearBaseline",
    "MovingAverageBaseline",
    "VarianceNormalizer",
    "leave_one_out_baseline",
    # models and references
    "ConjugateGaussian",
    "grid_posterior",
    "quadrature_elbo",
    "quadrature_elbo_gradient",
    # belief network
    "NVILHistory",
    "RecognitionNetwork",
    "SigmoidBeliefNetwork",
    "bars_and_stripes",
    "train_nvil",
]

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
    # Discrete latents in practice: a sigmoid belief network trained with NVIL.
    "NVILHistory",
    "RecognitionNetwork",
    "SigmoidBeliefNetwork",
    "bars_and_stripes",
    "train_nvil",
]

r"""elbo_grad: the score-function gradient of the ELBO, in small readable NumPy.

The companion package of the book *∇φ*. Import what you need::

    from elbo_grad import DiagonalGaussian, ConjugateGaussian, elbo_gradient

The SymPy helpers the derivation chapters use live in ``elbo_grad.symbolic``
(imported on its own, so that the package itself needs only NumPy).
"""

# Variational families.
from .distributions import Bernoulli, Categorical, DiagonalGaussian

# Estimators of the gradient: score function (REINFORCE), pathwise, local.
from .estimators import (
    elbo_gradient,
    learning_signal,
    local_elbo_gradient,
    local_learning_signal,
    local_score_function_gradient,
    local_score_function_terms,
    pathwise_elbo_gradient,
    pathwise_elbo_terms,
    pathwise_gradient,
    pathwise_terms,
    score_function_gradient,
    score_function_terms,
)

# Baselines, control variates and NVIL's variance-reduction remedies.
from .baselines import (
    LinearBaseline,
    MovingAverageBaseline,
    VarianceNormalizer,
    leave_one_out_baseline,
    leave_one_out_optimal_baseline,
    optimal_baseline,
)

# Exact references: enumeration for discrete q, quadrature for Gaussian q.
from .exact import (
    enumerate_support,
    exact_elbo,
    exact_elbo_gradient,
    exact_expectation,
    exact_gradient,
    exact_optimal_baseline,
    exact_single_sample_variance,
    integration_rule,
)

# Models with exact answers, and the posterior of a model of your own on a grid.
from .models import (
    BoltzmannChain,
    ConjugateGaussian,
    grid_posterior,
)

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
    "Categorical",
    "DiagonalGaussian",
    # estimators
    "elbo_gradient",
    "learning_signal",
    "local_elbo_gradient",
    "local_learning_signal",
    "local_score_function_gradient",
    "local_score_function_terms",
    "pathwise_elbo_gradient",
    "pathwise_elbo_terms",
    "pathwise_gradient",
    "pathwise_terms",
    "score_function_gradient",
    "score_function_terms",
    # baselines
    "LinearBaseline",
    "MovingAverageBaseline",
    "VarianceNormalizer",
    "leave_one_out_baseline",
    "leave_one_out_optimal_baseline",
    "optimal_baseline",
    # exact references
    "enumerate_support",
    "exact_elbo",
    "exact_elbo_gradient",
    "exact_expectation",
    "exact_gradient",
    "exact_optimal_baseline",
    "exact_single_sample_variance",
    "integration_rule",
    # models and references
    "BoltzmannChain",
    "ConjugateGaussian",
    "grid_posterior",
    # belief network
    "NVILHistory",
    "RecognitionNetwork",
    "SigmoidBeliefNetwork",
    "bars_and_stripes",
    "train_nvil",
]

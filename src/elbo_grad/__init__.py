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

# The estimator in full: more families, the pathwise and local estimators,
# per-parameter control variates and exact references.
from . import exact
from .baselines import leave_one_out_optimal_baseline, optimal_baseline
from .distributions import Categorical
from .models import BoltzmannChain
from .estimators import (
    local_elbo_gradient,
    local_learning_signal,
    local_score_function_gradient,
    local_score_function_terms,
    pathwise_elbo_gradient,
    pathwise_elbo_terms,
    pathwise_gradient,
    pathwise_terms,
    score_function_terms,
)
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
    # The estimator in full.
    "BoltzmannChain",
    "Categorical",
    "enumerate_support",
    "exact",
    "exact_elbo",
    "exact_elbo_gradient",
    "exact_expectation",
    "exact_gradient",
    "exact_optimal_baseline",
    "exact_single_sample_variance",
    "integration_rule",
    "leave_one_out_optimal_baseline",
    "local_elbo_gradient",
    "local_learning_signal",
    "local_score_function_gradient",
    "local_score_function_terms",
    "optimal_baseline",
    "pathwise_elbo_gradient",
    "pathwise_elbo_terms",
    "pathwise_gradient",
    "pathwise_terms",
    "score_function_terms",
]

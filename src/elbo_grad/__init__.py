r"""The score-function gradient of the ELBO, in small readable NumPy: the package of the book *∇φ*.

For the gradient of an ELBO call :func:`elbo_gradient`; :func:`expectation_gradient`
is for an :math:`\mathbb E_q[f]` whose :math:`f` does not depend on :math:`\phi`.
The SymPy helpers live in ``elbo_grad.symbolic`` (imported on its own).
"""

from . import (
    baselines,
    belief_network,
    discrete,
    estimators,
    exact,
    families,
    models,
    optim,
)
from .baselines import *  # noqa: F403
from .belief_network import *  # noqa: F403
from .discrete import *  # noqa: F403
from .estimators import *  # noqa: F403
from .exact import *  # noqa: F403
from .families import *  # noqa: F403
from .models import *  # noqa: F403
from .optim import *  # noqa: F403

__version__ = "0.2.0"

__all__ = ["__version__"] + sorted(
    families.__all__
    + estimators.__all__
    + baselines.__all__
    + exact.__all__
    + models.__all__
    + belief_network.__all__
    + discrete.__all__
    + optim.__all__
)

r"""Example models with exact ELBOs and exact gradients, to check estimators against."""

from __future__ import annotations

import numpy as np

from ._validation import finite_array, positive_scalar
from .distributions import DiagonalGaussian

__all__ = ["BoltzmannChain", "ConjugateGaussian"]

_LOG_2PI = float(np.log(2.0 * np.pi))


class ConjugateGaussian:
    r"""The conjugate Gaussian model: one latent :math:`z`, :math:`N` observations.

    .. math::

        z \sim \mathcal N(0, \sigma_0^2), \qquad
        x_j \mid z \sim \mathcal N(z, \sigma^2), \quad j = 1, \dots, N .

    With a Gaussian :math:`q_\phi(z) = \mathcal N(m, s^2)`,
    :math:`\phi = (m, \ln s)`, the ELBO and its gradient have closed forms,
    so every estimator can be compared with the exact answer.

    Parameters
    ----------
    x : array_like, shape (N,) or scalar
        The observations (at least one).
    prior_std : float, default 1.0
        :math:`\sigma_0 > 0`.
    noise_std : float, default 1.0
        :math:`\sigma > 0`.

    Raises
    ------
    ValueError
        If ``x`` is empty, not 1-D or not finite, or a standard deviation is
        not positive and finite.

    Notes
    -----
    For :math:`q = \mathcal N(m, s^2)`,

    .. math::

        \mathcal L(m, s) = -\tfrac12\ln(2\pi\sigma_0^2) - \frac{m^2 + s^2}{2\sigma_0^2}
            + \sum_{j=1}^N \Bigl(-\tfrac12\ln(2\pi\sigma^2)
            - \frac{(x_j - m)^2 + s^2}{2\sigma^2}\Bigr)
            + \tfrac12\ln(2\pi e) + \ln s,

    .. math::

        \frac{\partial\mathcal L}{\partial m} = -\frac{m}{\sigma_0^2}
            + \sum_j \frac{x_j - m}{\sigma^2},\qquad
        \frac{\partial\mathcal L}{\partial \ln s} = 1 - s^2\Bigl(\frac1{\sigma_0^2}
            + \frac{N}{\sigma^2}\Bigr).

    Examples
    --------
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> q = model.posterior()
    >>> bool(np.isclose(model.exact_elbo(q), model.log_evidence()))
    True
    >>> np.allclose(model.exact_elbo_gradient(q), 0.0)
    True
    """

    dim = 1

    def __init__(self, x, prior_std: float = 1.0, noise_std: float = 1.0):
        x = np.atleast_1d(finite_array(x, "x"))
        if x.ndim != 1:
            raise ValueError(f"x must be a scalar or a 1-D array, got shape {x.shape}")
        self.x = x
        self.prior_std = positive_scalar(prior_std, "prior_std")
        self.noise_std = positive_scalar(noise_std, "noise_std")

    def __repr__(self) -> str:
        return (
            f"ConjugateGaussian(x={np.array2string(self.x, precision=4, separator=', ')}, "
            f"prior_std={self.prior_std}, noise_std={self.noise_std})"
        )

    @property
    def num_observations(self) -> int:
        """:math:`N`, the number of observations."""
        return int(self.x.size)

    def log_joint(self, z) -> np.ndarray:
        r""":math:`\ln p(x, z_i) = \ln p(z_i) + \sum_j \ln p(x_j \mid z_i)` for every row of ``z``.

        Parameters
        ----------
        z : array_like, shape (num_samples, 1)

        Returns
        -------
        ndarray, shape (num_samples,)
        """
        z = finite_array(z, "z", ndim=2)
        if z.shape[1] != 1:
            raise ValueError(f"z must have shape (num_samples, 1), got {z.shape}")
        z = z[:, 0]
        log_prior = -0.5 * _LOG_2PI - np.log(self.prior_std) - 0.5 * (z / self.prior_std) ** 2
        residuals = (self.x[None, :] - z[:, None]) / self.noise_std
        log_likelihood = np.sum(
            -0.5 * _LOG_2PI - np.log(self.noise_std) - 0.5 * residuals**2, axis=1
        )
        return log_prior + log_likelihood

    def grad_log_joint(self, z) -> np.ndarray:
        r""":math:`\nabla_z \ln p(x, z_i) = -z_i/\sigma_0^2 + \sum_j (x_j - z_i)/\sigma^2` for every row of ``z``.

        What the pathwise estimator needs
        (:func:`~elbo_grad.pathwise_elbo_gradient`).

        Parameters
        ----------
        z : array_like, shape (num_samples, 1)

        Returns
        -------
        ndarray, shape (num_samples, 1)

        Examples
        --------
        >>> ConjugateGaussian(x=[1.0, 2.0]).grad_log_joint(np.array([[0.0], [1.0]]))
        array([[3.],
               [0.]])
        """
        z = finite_array(z, "z", ndim=2)
        if z.shape[1] != 1:
            raise ValueError(f"z must have shape (num_samples, 1), got {z.shape}")
        return -z / self.prior_std**2 + (np.sum(self.x) - self.num_observations * z) / self.noise_std**2

    def _check_q(self, q) -> DiagonalGaussian:
        if not isinstance(q, DiagonalGaussian) or q.dim != 1:
            raise TypeError(
                "q must be a one-dimensional DiagonalGaussian for this model, "
                f"got {q!r}"
            )
        return q

    def exact_elbo(self, q: DiagonalGaussian) -> float:
        r"""The ELBO :math:`\mathcal L(\phi) = \mathbb E_q[\ln p(x,z) - \ln q(z)]` in closed form."""
        q = self._check_q(q)
        m, s = float(q.mean[0]), float(q.std[0])
        prior_term = -0.5 * _LOG_2PI - np.log(self.prior_std) - (m**2 + s**2) / (
            2 * self.prior_std**2
        )
        likelihood_term = np.sum(
            -0.5 * _LOG_2PI
            - np.log(self.noise_std)
            - ((self.x - m) ** 2 + s**2) / (2 * self.noise_std**2)
        )
        entropy = 0.5 * (_LOG_2PI + 1.0) + np.log(s)
        return float(prior_term + likelihood_term + entropy)

    def exact_elbo_gradient(self, q: DiagonalGaussian) -> np.ndarray:
        r"""The exact :math:`\nabla_\phi \mathcal L`, shape ``(2,)``: with respect to :math:`m`, then :math:`\ln s`."""
        q = self._check_q(q)
        m, s = float(q.mean[0]), float(q.std[0])
        d_mean = -m / self.prior_std**2 + np.sum(self.x - m) / self.noise_std**2
        d_log_std = 1.0 - s**2 * self.posterior_precision
        return np.array([d_mean, d_log_std])

    @property
    def posterior_precision(self) -> float:
        r""":math:`1/\sigma_0^2 + N/\sigma^2`, the precision of :math:`p(z \mid x)`."""
        return 1.0 / self.prior_std**2 + self.num_observations / self.noise_std**2

    def posterior(self) -> DiagonalGaussian:
        r"""The exact posterior :math:`p(z \mid x)`, which is Gaussian; the ELBO's maximiser."""
        variance = 1.0 / self.posterior_precision
        mean = variance * np.sum(self.x) / self.noise_std**2
        return DiagonalGaussian(mean=mean, log_std=0.5 * np.log(variance))

    def log_evidence(self) -> float:
        r""":math:`\ln p(x) = \ln p(x, z) - \ln p(z \mid x)`, evaluated at the posterior mean."""
        posterior = self.posterior()
        z = posterior.mean[None, :]
        return float(self.log_joint(z)[0] - posterior.log_prob(z)[0])


class BoltzmannChain:
    r"""A chain of binary latents whose log joint is a sum of local terms: the test bed for local learning signals.

    .. math::

        \ln p(x, z) = \sum_{d=1}^{D} h_d z_d + \sum_{d=1}^{D-1} J_d\, z_d z_{d+1} - \ln Z,
        \qquad z \in \{0, 1\}^D,

    where the fields :math:`h` carry the data :math:`x`, and
    :math:`\ln Z = \ln \sum_z e^{\sum_d h_d z_d + \sum_d J_d z_d z_{d+1}}` is
    the log normaliser, so that :math:`\ln p(x) = 0`: the ELBO is at most 0.
    Each latent :math:`z_d` shares a term only with its neighbours: its
    Markov blanket is :math:`\{z_{d-1}, z_{d+1}\}`.

    Parameters
    ----------
    field : array_like, shape (D,)
        :math:`h`, with :math:`1 \le D \le 20` (the normaliser is computed by
        enumerating the :math:`2^D` states).
    coupling : array_like, shape (D - 1,)
        :math:`J`.

    Raises
    ------
    ValueError
        If an input is not finite or has the wrong shape, or :math:`D > 20`.

    Examples
    --------
    >>> from elbo_grad import Bernoulli
    >>> from elbo_grad.exact import enumerate_support
    >>> chain = BoltzmannChain(field=[1.0, -1.0, 0.5], coupling=[2.0, -1.0])
    >>> chain.local_log_joint(np.array([[1.0, 1.0, 1.0]]))  # h_d plus the couplings to z_d's neighbours
    array([[ 3. ,  0. , -0.5]])
    >>> states = enumerate_support(Bernoulli(np.zeros(3)))
    >>> round(float(np.exp(chain.log_joint(states)).sum()), 12)
    1.0
    """

    def __init__(self, field, coupling):
        field = np.atleast_1d(finite_array(field, "field"))
        if field.ndim != 1 or field.size > 20:
            raise ValueError(f"field must be a 1-D array of at most 20 entries, got shape {field.shape}")
        coupling = np.asarray(coupling, dtype=float)
        if field.size > 1 or coupling.size:
            coupling = finite_array(coupling, "coupling", ndim=1)
        if coupling.shape != (field.size - 1,):
            raise ValueError(
                f"coupling must have shape ({field.size - 1},) for {field.size} latents, got {coupling.shape}"
            )
        self.field = field
        self.coupling = coupling
        self.dim = int(field.size)
        grids = np.meshgrid(*[np.array([0.0, 1.0])] * self.dim, indexing="ij")
        states = np.stack([grid.ravel() for grid in grids], axis=1)
        values = self._unnormalized(states)
        top = values.max()
        #: :math:`\ln Z`, by enumeration.
        self.log_normalizer = float(top + np.log(np.sum(np.exp(values - top))))

    def __repr__(self) -> str:
        return (
            f"BoltzmannChain(field={np.array2string(self.field, precision=4, separator=', ')}, "
            f"coupling={np.array2string(self.coupling, precision=4, separator=', ')})"
        )

    def _check_z(self, z) -> np.ndarray:
        z = finite_array(z, "z", ndim=2)
        if z.shape[1] != self.dim:
            raise ValueError(f"z must have shape (num_samples, {self.dim}), got {z.shape}")
        return z

    def _pairs(self, z: np.ndarray) -> np.ndarray:
        """:math:`J_d z_d z_{d+1}`, shape ``(num_samples, D - 1)``."""
        return self.coupling * z[:, :-1] * z[:, 1:]

    def _unnormalized(self, z: np.ndarray) -> np.ndarray:
        return z @ self.field + self._pairs(z).sum(axis=1)

    def log_joint(self, z) -> np.ndarray:
        r""":math:`\ln p(x, z_i)` for every row of ``z``; shape ``(num_samples,)``."""
        return self._unnormalized(self._check_z(z)) - self.log_normalizer

    def local_log_joint(self, z) -> np.ndarray:
        r"""The terms of :math:`\ln p(x, z)` that contain :math:`z_d`, for every row and :math:`d`; shape ``(num_samples, D)``.

        .. math::

            [\ln p(x, z)]_d = h_d z_d + J_{d-1} z_{d-1} z_d + J_d z_d z_{d+1}

        (a missing neighbour contributes nothing). The constant
        :math:`-\ln Z` touches no latent and is left out: a term that does not
        depend on :math:`z_d` does not change the gradient for the parameters
        of :math:`z_d`. Pass this to :func:`~elbo_grad.local_elbo_gradient`.
        """
        z = self._check_z(z)
        pairs = self._pairs(z)
        local = self.field * z
        local[:, :-1] += pairs
        local[:, 1:] += pairs
        return local

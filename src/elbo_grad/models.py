"""The book's models with their exact answers, to check estimators against.

:class:`ConjugateGaussian` has a closed-form ELBO, gradient, posterior and
evidence; :class:`BoltzmannChain` has local log joints; :func:`grid_posterior`
is a numerical reference for a model of your own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._checks import function, real_array, samples, scalar
from .families import DiagonalGaussian, _binary

__all__ = ["BoltzmannChain", "ConjugateGaussian", "grid_posterior"]

_LOG_2PI = float(np.log(2.0 * np.pi))
#: The most grid points :func:`grid_posterior` evaluates.
MAX_GRID_POINTS = 10**7


def _log_normal(square: np.ndarray | float, std: float) -> np.ndarray:
    r""":math:`\ln\mathcal N` at ``square`` :math:`= ((x - \mu)/\sigma)^2` (or its mean)."""
    return -0.5 * _LOG_2PI - np.log(std) - 0.5 * square


class ConjugateGaussian:
    r"""One latent :math:`z \sim \mathcal N(0, \sigma_0^2)` and observations :math:`x_j \mid z \sim \mathcal N(z, \sigma^2)`.

    For :math:`q = \mathcal N(m, s^2)`, :math:`\phi = (m, \ln s)`; closed forms
    derived in :ref:`chap-objective`.

    Parameters
    ----------
    x : array_like, shape (N,) or scalar
        The observations; copied, read-only.
    prior_std, noise_std : float, default 1.0
        :math:`\sigma_0` and :math:`\sigma`, in :math:`[10^{-100}, 10^{100}]`.

    Examples
    --------
    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> q = DiagonalGaussian(0.0, 0.0)
    >>> round(model.exact_elbo(q), 4), model.exact_elbo_gradient(q), model.posterior()
    (-5.3379, array([ 3., -2.]), DiagonalGaussian(mean=[1.], log_std=[-0.5493]))
    >>> bool(np.isclose(model.exact_elbo(model.posterior()), model.log_evidence()))
    True
    """

    dim = 1

    def __init__(
        self, x: object, prior_std: float = 1.0, noise_std: float = 1.0
    ) -> None:
        x = real_array(x, "x")
        if x.ndim > 1:
            raise ValueError(f"x must be a scalar or a 1-D array, got shape {x.shape}")
        self._x = x.reshape(-1)  # a read-only view of a copy
        # in [1e-100, 1e100]: squares, inverse squares and the posterior stay finite
        self.prior_std = scalar(prior_std, "prior_std", 1e-100, 1e100)
        self.noise_std = scalar(noise_std, "noise_std", 1e-100, 1e100)

    @property
    def x(self) -> np.ndarray:
        """The observations (read-only)."""
        return self._x

    @property
    def num_observations(self) -> int:
        """The number :math:`N` of observations."""
        return int(self._x.size)

    def __repr__(self) -> str:
        return f"ConjugateGaussian(x={self._x.tolist()}, prior_std={self.prior_std}, noise_std={self.noise_std})"

    def log_joint(self, z: object) -> np.ndarray:
        r""":math:`\ln p(x, z_i) = \ln\mathcal N(z_i; 0, \sigma_0^2) + \sum_j \ln\mathcal N(x_j; z_i, \sigma^2)`.

        Parameters
        ----------
        z : array_like, shape (num_samples, 1)
            Latent values, one per row.

        Returns
        -------
        ndarray, shape (num_samples,)
            One value per row.
        """
        z = samples(z, 1)[:, 0]
        residuals = (self._x - z[:, None]) / self.noise_std
        prior = _log_normal((z / self.prior_std) ** 2, self.prior_std)
        return prior + np.sum(_log_normal(residuals**2, self.noise_std), axis=1)

    def grad_log_joint(self, z: object) -> np.ndarray:
        r""":math:`\nabla_z \ln p(x, z_i) = -z_i/\sigma_0^2 + \sum_j (x_j - z_i)/\sigma^2`, for the pathwise estimator.

        Parameters
        ----------
        z : array_like, shape (num_samples, 1)
            Latent values, one per row.

        Returns
        -------
        ndarray, shape (num_samples, 1)
            One gradient per row.
        """
        z = samples(z, 1)
        residuals = np.sum((self._x - z) / self.noise_std, axis=1, keepdims=True)
        return -(z / self.prior_std) / self.prior_std + residuals / self.noise_std

    def _mean_and_std(self, q: object) -> tuple[float, float]:
        if not isinstance(q, DiagonalGaussian) or q.dim != 1:
            raise TypeError(
                f"q must be a one-dimensional DiagonalGaussian, got {type(q).__name__}"
            )
        return float(q.mean[0]), float(q.std[0])

    def exact_elbo(self, q: DiagonalGaussian) -> float:
        r"""The ELBO of :math:`q = \mathcal N(m, s^2)` in closed form.

        Parameters
        ----------
        q : DiagonalGaussian
            One-dimensional.

        Returns
        -------
        float
            :math:`\mathbb E_q[\ln p(x, z)] + \tfrac12\ln(2\pi e) + \ln s`.
        """
        m, s = self._mean_and_std(q)
        prior_square = (m / self.prior_std) ** 2 + (s / self.prior_std) ** 2
        prior = _log_normal(prior_square, self.prior_std)
        squares = ((self._x - m) / self.noise_std) ** 2 + (s / self.noise_std) ** 2
        likelihood = np.sum(_log_normal(squares, self.noise_std))
        return float(prior + likelihood + 0.5 * (_LOG_2PI + 1.0) + np.log(s))

    def exact_elbo_gradient(self, q: DiagonalGaussian) -> np.ndarray:
        r"""The gradient of :meth:`exact_elbo` in :math:`\phi = (m, \ln s)`.

        Parameters
        ----------
        q : DiagonalGaussian
            One-dimensional.

        Returns
        -------
        ndarray, shape (2,)
            :math:`-m/\sigma_0^2 + \sum_j (x_j - m)/\sigma^2` and :math:`1 - s^2 (1/\sigma_0^2 + N/\sigma^2)`.
        """
        m, s = self._mean_and_std(q)
        d_mean = self.grad_log_joint([[m]])[0, 0]  # the log joint is quadratic in z
        d_log_std = 1.0 - (s / self.prior_std) ** 2
        d_log_std -= self.num_observations * (s / self.noise_std) ** 2
        return np.array([d_mean, d_log_std])

    def _marginal_scale(self) -> float:
        r""":math:`\sqrt{\sigma^2 + N\sigma_0^2}`, without overflow."""
        return float(
            np.hypot(self.noise_std, np.sqrt(self.num_observations) * self.prior_std)
        )

    def posterior(self) -> DiagonalGaussian:
        r"""The exact posterior :math:`\mathcal N(\mu_N, \sigma_N^2)`, the ELBO's maximiser.

        Returns
        -------
        DiagonalGaussian
            :math:`\sigma_N = \sigma_0\sigma / \sqrt{\sigma^2 + N\sigma_0^2}`,
            :math:`\mu_N = N\bar x\, \sigma_0^2 / (\sigma^2 + N\sigma_0^2)`.
        """
        scale = self._marginal_scale()
        mean = self.num_observations * np.mean(self._x) * (self.prior_std / scale) ** 2
        log_std = np.log(self.prior_std) + np.log(self.noise_std) - np.log(scale)
        return DiagonalGaussian(mean, log_std)

    def log_evidence(self) -> float:
        r"""The log evidence :math:`\ln p(x)`, the ELBO's maximum, as sums of positive terms.

        Returns
        -------
        float
            :math:`\ln p(x)`, :math:`x \sim \mathcal N(0, \sigma^2 I + \sigma_0^2 \mathbf 1\mathbf 1^\top)`.
        """
        n, scale = self.num_observations, self._marginal_scale()
        # Shifted by the first observation, so close large values keep their spread.
        shifted = self._x - self._x[0]
        spread, mean = shifted - np.mean(shifted), self._x[0] + np.mean(shifted)
        quadratic = np.sum((spread / self.noise_std) ** 2) + n * (mean / scale) ** 2
        log_det = 2 * (n - 1) * np.log(self.noise_std) + 2 * np.log(scale)
        return float(-0.5 * (n * _LOG_2PI + log_det + quadratic))


class BoltzmannChain:
    r"""Binary latents with :math:`\ln p(x, z) = \sum_d h_d z_d + \sum_d J_d z_d z_{d+1} - \ln Z`.

    :meth:`local_log_joint` gives Rao-Blackwellised signals (:ref:`chap-variance-reduction`).

    Parameters
    ----------
    field : array_like, shape (D,)
        :math:`h`, with :math:`1 \le D \le 20`.
    coupling : array_like, shape (D - 1,)
        :math:`J` (empty when :math:`D = 1`).

    Examples
    --------
    >>> from elbo_grad import Bernoulli, enumerate_support
    >>> chain = BoltzmannChain(field=[1.0, -1.0, 0.5], coupling=[2.0, -1.0])
    >>> z = enumerate_support(Bernoulli(np.zeros(3)))
    >>> round(float(np.exp(chain.log_joint(z)).sum()), 12)
    1.0
    >>> chain.local_log_joint([[1.0, 1.0, 1.0]])  # h_d + J_{d-1} + J_d
    array([[ 3. ,  0. , -0.5]])
    """

    def __init__(self, field: ArrayLike, coupling: ArrayLike) -> None:
        field = np.atleast_1d(real_array(field, "field"))
        if field.ndim != 1 or field.size > 20:
            raise ValueError(
                f"field must be 1-D with at most 20 entries, got shape {field.shape}"
            )
        empty = np.size(coupling) == 0  # D = 1: real_array refuses an empty array
        coupling = (
            np.array(coupling, float) if empty else real_array(coupling, "coupling")
        )
        if coupling.shape != (field.size - 1,):
            raise ValueError(
                f"coupling must have shape ({field.size - 1},) for {field.size} latents, got {coupling.shape}"
            )
        self._field, self._coupling = field, coupling  # read-only copies
        coupling.flags.writeable = False
        states = np.array(np.meshgrid(*[[0.0, 1.0]] * field.size, indexing="ij"))
        values = self._unnormalized(states.reshape(field.size, -1).T)
        top = values.max()
        self._log_normalizer = float(top + np.log(np.sum(np.exp(values - top))))

    @property
    def field(self) -> np.ndarray:
        """:math:`h` (read-only)."""
        return self._field

    @property
    def coupling(self) -> np.ndarray:
        """:math:`J` (read-only)."""
        return self._coupling

    @property
    def log_normalizer(self) -> float:
        r""":math:`\ln Z`, by enumeration."""
        return self._log_normalizer

    @property
    def dim(self) -> int:
        """The number :math:`D` of latents."""
        return self._field.size

    def __repr__(self) -> str:
        return f"BoltzmannChain(field={self._field.tolist()}, coupling={self._coupling.tolist()})"

    def _unnormalized(self, z: np.ndarray) -> np.ndarray:
        return z @ self._field + (self._coupling * z[:, :-1] * z[:, 1:]).sum(axis=1)

    def log_joint(self, z: object) -> np.ndarray:
        r""":math:`\ln p(x, z_i)` for every row of ``z``.

        Parameters
        ----------
        z : array_like, shape (num_samples, D)
            Binary states.

        Returns
        -------
        ndarray, shape (num_samples,)
            One value per row.
        """
        return self._unnormalized(_binary(z, self.dim)) - self._log_normalizer

    def local_log_joint(self, z: object) -> np.ndarray:
        r"""The terms of :math:`\ln p(x, z)` containing :math:`z_d`: :math:`h_d z_d + J_{d-1} z_{d-1} z_d + J_d z_d z_{d+1}`.

        Parameters
        ----------
        z : array_like, shape (num_samples, D)
            Binary states.

        Returns
        -------
        ndarray, shape (num_samples, D)
            Column :math:`d` for latent :math:`z_d`.
        """
        z = _binary(z, self.dim)
        pairs = self._coupling * z[:, :-1] * z[:, 1:]
        local = self._field * z
        local[:, :-1] += pairs
        local[:, 1:] += pairs
        return local


def grid_posterior(
    log_joint: Callable, axes: Sequence[object]
) -> tuple[np.ndarray, np.ndarray, float]:
    r"""The posterior's mean and covariance and the log evidence, by the trapezoidal rule on a grid.

    Parameters
    ----------
    log_joint : callable
        ``z`` of shape ``(num_points, dim)`` to :math:`\ln p(x, z_k)`, shape
        ``(num_points,)`` (:math:`-\infty` allowed).
    axes : sequence of array_like
        One strictly increasing axis (at least 3 points) per latent dimension,
        covering the posterior (density at the edge below :math:`10^{-8}` of the peak).

    Returns
    -------
    mean, covariance : ndarray, shapes (dim,) and (dim, dim)
        The posterior's mean and covariance.
    log_evidence : float
        :math:`\ln p(x)`.

    Examples
    --------
    >>> model, axes = ConjugateGaussian(x=[1.0, 2.0]), [np.linspace(-6, 8, 1401)]
    >>> mean, covariance, log_evidence = grid_posterior(model.log_joint, axes)
    >>> bool(np.isclose(mean[0], 1.0)), bool(np.isclose(covariance[0, 0], 1 / 3))
    (True, True)
    >>> bool(np.isclose(log_evidence, model.log_evidence()))
    True
    """
    function(log_joint, "log_joint")
    if not isinstance(axes, (list, tuple)) or not axes:
        raise TypeError(
            f"axes must be a non-empty list of 1-D arrays, one per latent dimension, got {type(axes).__name__}"
        )
    grid_axes = [real_array(axis, f"axes[{d}]", ndim=1) for d, axis in enumerate(axes)]
    for d, axis in enumerate(grid_axes):
        if axis.size < 3 or not np.all(np.diff(axis) > 0):
            raise ValueError(
                f"axes[{d}] must be strictly increasing with at least 3 points"
            )
    shape = tuple(axis.size for axis in grid_axes)
    if np.prod(shape, dtype=float) > MAX_GRID_POINTS:
        raise ValueError(
            f"axes span {np.prod(shape, dtype=float):.3g} grid points, more than {MAX_GRID_POINTS}"
        )
    points = np.array(np.meshgrid(*grid_axes, indexing="ij")).reshape(len(shape), -1).T
    points.flags.writeable = False
    log_density = log_joint(points)
    try:
        log_density = np.asarray(log_density)
    except (ValueError, TypeError) as error:
        raise ValueError(f"log_joint must return a regular array: {error}") from None
    if log_density.dtype.kind not in "biuf":
        raise TypeError(
            f"log_joint must return real numbers, got dtype {log_density.dtype}"
        )
    log_density = log_density.astype(float)
    invalid = np.isnan(log_density) | (log_density == np.inf)
    if log_density.shape != (len(points),) or np.any(invalid):
        raise ValueError(
            f"log_joint must return shape ({len(points)},) without NaN or +infinity"
        )
    peak, grid = np.max(log_density), log_density.reshape(shape)
    if not np.isfinite(peak):
        raise ValueError("log_joint is -infinity at every grid point")
    # the largest density on the grid's boundary: the first and last slice of each axis
    edge = max(np.max(np.moveaxis(grid, d, 0)[[0, -1]]) for d in range(len(shape)))
    if edge - peak > np.log(1e-8):
        raise ValueError(
            f"axes do not cover the posterior: at the grid's edge the density is {np.exp(edge - peak):.1e} of its peak"
        )
    widths = [
        np.convolve(np.diff(axis), [0.5, 0.5]) for axis in grid_axes
    ]  # trapezoidal
    log_volume = np.sum(
        np.meshgrid(*[np.log(w) for w in widths], indexing="ij"), axis=0
    ).ravel()
    log_mass = log_density + log_volume
    top = np.max(log_mass)
    mass = np.exp(log_mass - top)
    probabilities = mass / mass.sum()
    mean = probabilities @ points
    centred = points - mean
    covariance = (probabilities[:, None] * centred).T @ centred
    return mean, covariance, float(top + np.log(mass.sum()))

r"""Example models with exact ELBOs and exact gradients, to check estimators against.

Two kinds of reference live here:

* models whose ELBO and gradient have closed forms (:class:`ConjugateGaussian`);
* a numerical reference for a model of your own with a few continuous latent
  variables: the posterior's moments and the evidence on a grid
  (:func:`grid_posterior`).

The ELBO and its gradient of any model, by enumeration or Gauss–Hermite
quadrature, are in :mod:`elbo_grad.exact`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ._validation import finite_array, positive_scalar
from .distributions import DiagonalGaussian

__all__ = [
    "BoltzmannChain",
    "ConjugateGaussian",
    "grid_posterior",
]

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

    Attributes
    ----------
    x : ndarray, shape (N,)
        The observations.
    prior_std : float
        :math:`\sigma_0`.
    noise_std : float
        :math:`\sigma`.
    dim : int
        The number of latent dimensions, 1.

    Raises
    ------
    ValueError
        If ``x`` is empty, not 1-D or not finite, or a standard deviation is
        not positive and finite.
    TypeError
        If ``x`` or a standard deviation is not numeric.

    Notes
    -----
    For :math:`q = \mathcal N(m, s^2)`,

    .. math::

        \mathcal L(m, s) ={}& -\tfrac12\ln(2\pi\sigma_0^2) - \frac{m^2 + s^2}{2\sigma_0^2} \\
            &+ \sum_{j=1}^N \Bigl(-\tfrac12\ln(2\pi\sigma^2)
            - \frac{(x_j - m)^2 + s^2}{2\sigma^2}\Bigr) \\
            &+ \tfrac12\ln(2\pi e) + \ln s,

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

    def __init__(self, x: object, prior_std: float = 1.0, noise_std: float = 1.0) -> None:
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
        """The number :math:`N` of observations."""
        return int(self.x.size)

    def log_joint(self, z: object) -> np.ndarray:
        r"""Evaluate the log joint density :math:`\ln p(x, z_i)` for every row of ``z``.

        This is the ``log_joint`` argument of :func:`elbo_gradient`.

        Parameters
        ----------
        z : array_like, shape (num_samples, 1)
            Values of the latent variable, one per row.

        Returns
        -------
        ndarray, shape (num_samples,)
            :math:`\ln p(x, z_i)` for the stored observations :math:`x`.

        Raises
        ------
        ValueError
            If ``z`` is not of shape ``(num_samples, 1)`` or holds NaN or
            infinity.
        TypeError
            If ``z`` is not numeric.

        Notes
        -----
        .. math::

            \ln p(x, z) = \ln \mathcal N(z; 0, \sigma_0^2)
                + \sum_{j=1}^N \ln \mathcal N(x_j; z, \sigma^2).

        Examples
        --------
        >>> model = ConjugateGaussian(x=[1.0, 2.0])
        >>> model.log_joint([[0.0], [1.5]]).round(4)
        array([-5.2568, -4.1318])
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
            Values of the latent variable, one per row.

        Returns
        -------
        ndarray, shape (num_samples, 1)
            :math:`\partial \ln p(x, z_i) / \partial z` for the stored
            observations :math:`x`.

        Raises
        ------
        ValueError
            If ``z`` is not of shape ``(num_samples, 1)`` or holds NaN or
            infinity.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        The slope is zero at the posterior mean, here 1; a central difference
        of :meth:`log_joint` agrees elsewhere:

        >>> model = ConjugateGaussian(x=[1.0, 2.0])
        >>> model.grad_log_joint(np.array([[0.0], [1.0]]))
        array([[3.],
               [0.]])
        >>> step = 1e-5
        >>> slope = (model.log_joint([[0.5 + step]]) - model.log_joint([[0.5 - step]])) / (2 * step)
        >>> bool(np.isclose(slope[0], model.grad_log_joint([[0.5]])[0, 0]))
        True
        """
        z = finite_array(z, "z", ndim=2)
        if z.shape[1] != 1:
            raise ValueError(f"z must have shape (num_samples, 1), got {z.shape}")
        return -z / self.prior_std**2 + (np.sum(self.x) - self.num_observations * z) / self.noise_std**2

    def _check_q(self, q: object) -> DiagonalGaussian:
        if not isinstance(q, DiagonalGaussian) or q.dim != 1:
            raise TypeError(
                "q must be a one-dimensional DiagonalGaussian for this model, "
                f"got {q!r}"
            )
        return q

    def exact_elbo(self, q: DiagonalGaussian) -> float:
        r"""Compute the ELBO :math:`\mathcal L(\phi) = \mathbb E_q[\ln p(x,z) - \ln q(z)]` in closed form.

        Parameters
        ----------
        q : DiagonalGaussian
            A one-dimensional Gaussian :math:`\mathcal N(m, s^2)`.

        Returns
        -------
        float
            :math:`\mathcal L(m, s)`, the formula in the class's Notes.

        Raises
        ------
        TypeError
            If ``q`` is not a one-dimensional :class:`DiagonalGaussian`.

        Examples
        --------
        The ELBO is below the log evidence, and equal to it at the posterior:

        >>> model = ConjugateGaussian(x=[1.0, 2.0])
        >>> q = DiagonalGaussian(mean=0.0, log_std=0.0)
        >>> round(model.exact_elbo(q), 4), round(model.log_evidence(), 4)
        (-5.3379, -3.3872)
        """
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
        r"""Compute the exact gradient :math:`\nabla_\phi \mathcal L` with respect to :math:`\phi = (m, \ln s)`.

        Parameters
        ----------
        q : DiagonalGaussian
            A one-dimensional Gaussian :math:`\mathcal N(m, s^2)`.

        Returns
        -------
        ndarray, shape (2,)
            :math:`(\partial\mathcal L/\partial m, \partial\mathcal L/\partial \ln s)`,
            in the order of ``q.params``; the formulas are in the class's
            Notes.

        Raises
        ------
        TypeError
            If ``q`` is not a one-dimensional :class:`DiagonalGaussian`.

        Examples
        --------
        >>> model = ConjugateGaussian(x=[1.0, 2.0])
        >>> model.exact_elbo_gradient(DiagonalGaussian(mean=0.0, log_std=0.0))
        array([ 3., -2.])
        """
        q = self._check_q(q)
        m, s = float(q.mean[0]), float(q.std[0])
        d_mean = -m / self.prior_std**2 + np.sum(self.x - m) / self.noise_std**2
        d_log_std = 1.0 - s**2 * self.posterior_precision
        return np.array([d_mean, d_log_std])

    @property
    def posterior_precision(self) -> float:
        r"""The precision :math:`1/\sigma_0^2 + N/\sigma^2` of the posterior :math:`p(z \mid x)`."""
        return 1.0 / self.prior_std**2 + self.num_observations / self.noise_std**2

    def posterior(self) -> DiagonalGaussian:
        r"""Return the exact posterior :math:`p(z \mid x)`, which is Gaussian; the ELBO's maximiser.

        Returns
        -------
        DiagonalGaussian
            :math:`\mathcal N(\mu_N, \sigma_N^2)` with the moments in the
            Notes.

        Notes
        -----
        .. math::

            \sigma_N^2 = \Bigl(\frac1{\sigma_0^2} + \frac{N}{\sigma^2}\Bigr)^{-1},
            \qquad
            \mu_N = \frac{\sigma_N^2}{\sigma^2} \sum_{j=1}^N x_j .

        Examples
        --------
        >>> ConjugateGaussian(x=[1.0, 2.0]).posterior()
        DiagonalGaussian(mean=[1.], log_std=[-0.5493])
        """
        variance = 1.0 / self.posterior_precision
        mean = variance * np.sum(self.x) / self.noise_std**2
        return DiagonalGaussian(mean=mean, log_std=0.5 * np.log(variance))

    def log_evidence(self) -> float:
        r"""Compute the log evidence :math:`\ln p(x)`, the ELBO's maximum.

        Returns
        -------
        float
            :math:`\ln p(x)`.

        Notes
        -----
        Bayes' rule holds at every :math:`z`; it is evaluated at the
        posterior mean:

        .. math::

            \ln p(x) = \ln p(x, z) - \ln p(z \mid x).

        Examples
        --------
        >>> model = ConjugateGaussian(x=[1.0, 2.0])
        >>> bool(np.isclose(model.log_evidence(), model.exact_elbo(model.posterior())))
        True
        """
        posterior = self.posterior()
        z = posterior.mean[None, :]
        return float(self.log_joint(z)[0] - posterior.log_prob(z)[0])


# A numerical reference for a model of your own: the posterior on a grid -----------------

_MAX_GRID_POINTS = 10**7
_GRID_CHUNK = 2**16


def _trapezoid_log_weights(axis: np.ndarray) -> np.ndarray:
    widths = np.diff(axis)
    weights = np.zeros(axis.size)
    weights[:-1] += widths / 2
    weights[1:] += widths / 2
    return np.log(weights)


def grid_posterior(
    log_joint: Callable[[np.ndarray], np.ndarray], axes: Sequence[object]
) -> tuple[np.ndarray, np.ndarray, float]:
    r"""Compute the posterior's mean and covariance and the log evidence on a grid.

    The exact answer variational inference approximates, for a model of your
    own with one to three continuous latent variables: the posterior
    :math:`p(z \mid x) \propto p(x, z)` is integrated numerically with the
    trapezoidal rule on the tensor grid spanned by ``axes``.

    Parameters
    ----------
    log_joint : callable
        Maps ``z`` of shape ``(num_points, dim)`` to :math:`\ln p(x, z_k)`,
        shape ``(num_points,)``.
    axes : sequence of array_like, one per latent dimension
        Increasing grid coordinates, at least 3 per axis. The grid must cover
        the posterior: where it ends, the density must have fallen below
        :math:`10^{-8}` of its peak. At most ten million points in all.

    Returns
    -------
    mean : ndarray, shape (dim,)
        :math:`\mathbb E[z \mid x]`.
    covariance : ndarray, shape (dim, dim)
        :math:`\operatorname{Cov}[z \mid x]`; the posterior standard deviations
        are the square roots of its diagonal.
    log_evidence : float
        :math:`\ln p(x) = \ln \int p(x, z)\,dz`, the largest possible ELBO.

    Raises
    ------
    ValueError
        If an axis is not 1-D, has fewer than 3 points, is not strictly
        increasing or holds NaN or infinity; if the grid has too many points;
        if ``log_joint`` returns the wrong shape or NaN (:math:`-\infty` is
        allowed: zero density); or if the density at the edge of the grid is
        not negligible.
    TypeError
        If an axis is not numeric.

    See Also
    --------
    exact_elbo : The ELBO of a Gaussian :math:`q`, by Gauss–Hermite quadrature.

    Notes
    -----
    With trapezoidal weights :math:`v_k` at the grid points :math:`z_k`,

    .. math::

        \ln p(x) \approx \ln \sum_k v_k\, p(x, z_k),\qquad
        \mathbb E[z \mid x] \approx \sum_k \pi_k z_k, \\
        \pi_k = \frac{v_k\, p(x, z_k)}{\sum_l v_l\, p(x, z_l)},

    computed in log space so that a log joint of :math:`-1000` does not
    underflow.

    Examples
    --------
    The conjugate model's posterior is known exactly:

    >>> model = ConjugateGaussian(x=[1.0, 2.0])
    >>> mean, covariance, log_evidence = grid_posterior(model.log_joint, [np.linspace(-6, 8, 1401)])
    >>> exact = model.posterior()
    >>> bool(np.isclose(mean[0], exact.mean[0]) and np.isclose(covariance[0, 0], exact.std[0] ** 2))
    True
    >>> bool(np.isclose(log_evidence, model.log_evidence()))
    True
    """
    if isinstance(axes, np.ndarray) and axes.ndim == 1:
        raise ValueError("axes must be a sequence of 1-D arrays, one per latent dimension")
    axes = [finite_array(axis, f"axes[{d}]", ndim=1) for d, axis in enumerate(axes)]
    if not axes:
        raise ValueError("axes must hold at least one axis")
    for d, axis in enumerate(axes):
        if axis.size < 3:
            raise ValueError(f"axes[{d}] must have at least 3 points, got {axis.size}")
        if not np.all(np.diff(axis) > 0):
            raise ValueError(f"axes[{d}] must be strictly increasing")
    shape = tuple(axis.size for axis in axes)
    num_points = int(np.prod(shape))
    if num_points > _MAX_GRID_POINTS:
        raise ValueError(f"the grid has {num_points} points, more than {_MAX_GRID_POINTS}")

    grids = np.meshgrid(*axes, indexing="ij")
    points = np.stack([grid.ravel() for grid in grids], axis=1)
    log_density = np.concatenate(
        [_log_joint_on(log_joint, points[start : start + _GRID_CHUNK])
         for start in range(0, num_points, _GRID_CHUNK)]
    )
    peak = np.max(log_density)
    if not np.isfinite(peak):
        raise ValueError("log_joint is -infinity at every grid point")

    edge = np.zeros(shape, dtype=bool)
    for d in range(len(axes)):
        index = [slice(None)] * len(axes)
        for end in (0, -1):
            index[d] = end
            edge[tuple(index)] = True
    edge_excess = np.max(log_density[edge.ravel()]) - peak
    if edge_excess > np.log(1e-8):
        raise ValueError(
            "the grid does not cover the posterior: at its edge the density is "
            f"{np.exp(edge_excess):.1e} of its peak; widen the axes"
        )

    log_volume = np.sum(
        np.meshgrid(*[_trapezoid_log_weights(axis) for axis in axes], indexing="ij"), axis=0
    ).ravel()
    log_mass = log_density + log_volume
    top = np.max(log_mass)
    mass = np.exp(log_mass - top)
    total = mass.sum()
    probabilities = mass / total
    mean = probabilities @ points
    centred = points - mean
    covariance = (probabilities[:, None] * centred).T @ centred
    return mean, covariance, float(top + np.log(total))


def _log_joint_on(log_joint: Callable[[np.ndarray], np.ndarray], z: np.ndarray) -> np.ndarray:
    """``log_joint(z)``, checked for shape and NaN; :math:`-\\infty` (zero density) is allowed."""
    values = np.asarray(log_joint(z), dtype=float)
    if values.shape != (z.shape[0],):
        raise ValueError(
            f"log_joint must return one value per point, shape ({z.shape[0]},), got shape {values.shape}"
        )
    if np.any(np.isnan(values)) or np.any(values == np.inf):
        raise ValueError("log_joint returned NaN or +infinity at some grid points")
    return values


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
        :math:`J` (empty when :math:`D = 1`).

    Attributes
    ----------
    field : ndarray, shape (D,)
        :math:`h`.
    coupling : ndarray, shape (D - 1,)
        :math:`J`.
    dim : int
        :math:`D`, the number of binary latent variables.
    log_normalizer : float
        :math:`\ln Z`, by enumeration.

    Raises
    ------
    ValueError
        If an input is not finite or has the wrong shape, or :math:`D > 20`.
    TypeError
        If an input is not numeric.

    Notes
    -----
    The local log joint :math:`[\ln p(x, z)]_d` (:meth:`local_log_joint`)
    collects the terms that contain :math:`z_d`. Every coupling contains two
    latents and appears in two of them, and the constant touches none, so

    .. math::

        \sum_{d=1}^D [\ln p(x, z)]_d
            = \ln p(x, z) + \sum_{d=1}^{D-1} J_d\, z_d z_{d+1} + \ln Z .

    With a factorised :math:`q`, the terms left out of
    :math:`[\ln p(x, z)]_d` do not depend on :math:`z_d`, so they
    multiply a score of mean zero: the local learning signals
    (:func:`~elbo_grad.local_learning_signal`) give the same expected
    gradient as the full one.

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
    >>> couplings = (chain.coupling * states[:, :-1] * states[:, 1:]).sum(axis=1)
    >>> bool(np.allclose(chain.local_log_joint(states).sum(axis=1),
    ...                  chain.log_joint(states) + couplings + chain.log_normalizer))
    True
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
        if not np.all((z == 0.0) | (z == 1.0)):
            raise ValueError("z must hold only 0s and 1s for a BoltzmannChain")
        return z

    def _pairs(self, z: np.ndarray) -> np.ndarray:
        """:math:`J_d z_d z_{d+1}`, shape ``(num_samples, D - 1)``."""
        return self.coupling * z[:, :-1] * z[:, 1:]

    def _unnormalized(self, z: np.ndarray) -> np.ndarray:
        return z @ self.field + self._pairs(z).sum(axis=1)

    def log_joint(self, z) -> np.ndarray:
        r"""Evaluate the log joint :math:`\ln p(x, z_i)` for every row of ``z``.

        Parameters
        ----------
        z : array_like, shape (num_samples, D)
            Binary states, one per row.

        Returns
        -------
        ndarray, shape (num_samples,)
            :math:`\sum_d h_d z_{id} + \sum_d J_d z_{id} z_{i,d+1} - \ln Z`.

        Raises
        ------
        ValueError
            If ``z`` is not of shape ``(num_samples, D)`` or holds NaN or
            infinity.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        >>> chain = BoltzmannChain(field=[1.0, -1.0], coupling=[2.0])
        >>> bool(np.isclose(chain.log_normalizer, np.log(1 + np.e + np.exp(-1) + np.exp(2))))
        True
        >>> (chain.log_joint([[1.0, 1.0]]) + chain.log_normalizer).round(12)  # h_1 + h_2 + J_1
        array([2.])
        """
        return self._unnormalized(self._check_z(z)) - self.log_normalizer

    def local_log_joint(self, z) -> np.ndarray:
        r"""The terms of :math:`\ln p(x, z)` that contain :math:`z_d`, for every row and :math:`d`; shape ``(num_samples, D)``.

        .. math::

            [\ln p(x, z)]_d = h_d z_d + J_{d-1} z_{d-1} z_d + J_d z_d z_{d+1}

        (a missing neighbour contributes nothing). The constant
        :math:`-\ln Z` touches no latent and is left out: a term that does not
        depend on :math:`z_d` does not change the gradient for the parameters
        of :math:`z_d`. Pass this to :func:`~elbo_grad.local_elbo_gradient`.

        Parameters
        ----------
        z : array_like, shape (num_samples, D)
            Binary states, one per row.

        Returns
        -------
        ndarray, shape (num_samples, D)
            Entry ``(i, d)`` is :math:`[\ln p(x, z_i)]_d`.

        Raises
        ------
        ValueError
            If ``z`` is not of shape ``(num_samples, D)`` or holds NaN or
            infinity.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        The local and the full learning signals give the same exact gradient:

        >>> from elbo_grad import Bernoulli, exact_elbo_gradient, exact_expectation, local_learning_signal
        >>> chain = BoltzmannChain(field=[1.0, -1.0, 0.5], coupling=[2.0, -1.0])
        >>> q = Bernoulli(logits=[0.3, -0.2, 0.8])
        >>> local = exact_expectation(
        ...     lambda z: local_learning_signal(chain.local_log_joint, q, z)[:, q.param_dims] * q.score(z), q)
        >>> bool(np.allclose(local, exact_elbo_gradient(chain.log_joint, q)))
        True
        """
        z = self._check_z(z)
        pairs = self._pairs(z)
        local = self.field * z
        local[:, :-1] += pairs
        local[:, 1:] += pairs
        return local

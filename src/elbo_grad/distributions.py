r"""Variational families :math:`q_\phi(z)` with samples, log-densities and scores.

Every family stores its parameters :math:`\phi` as one flat vector
(:attr:`params`) and implements three operations on a batch of samples:

* ``sample(num_samples, rng=...)`` draws :math:`z_1, \dots, z_n \sim q_\phi`,
  shape ``(num_samples, dim)``;
* ``log_prob(z)`` returns :math:`\ln q_\phi(z_i)` for every row, shape
  ``(num_samples,)``;
* ``score(z)`` returns :math:`\nabla_\phi \ln q_\phi(z_i)` for every row, shape
  ``(num_samples, num_params)``, in the order of :attr:`params`.

The score is the ingredient of the score-function estimator: it is all the
estimator needs to know about :math:`q`.

Every family also knows which latent dimension each parameter belongs to
(:attr:`param_dims`), which the local (Rao-Blackwellised) estimators use, and
returns the per-dimension terms of its log-density
(``log_prob_per_dimension``). The Gaussian can in addition be sampled by
reparameterisation, :math:`z = \mu + \sigma \odot \varepsilon`
(``sample_with_noise``, ``reparameterize``, ``reparameterization_jacobian``),
which the pathwise estimator needs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validation import RNGLike, as_generator, check_num_samples, finite_array

__all__ = ["Bernoulli", "Categorical", "DiagonalGaussian"]

_LOG_2PI = float(np.log(2.0 * np.pi))
_MAX_ABS_LOG_STD = 300.0


class _Family:
    """Shared checks of the families; not part of the public API."""

    dim: int

    @property
    def params(self) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def num_params(self) -> int:
        """Length of the flat parameter vector :math:`\\phi`."""
        return int(self.params.size)

    @property
    def param_dims(self) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def _check_z(self, z: ArrayLike, name: str = "z") -> np.ndarray:
        z = finite_array(z, name, ndim=2)
        if z.shape[1] != self.dim:
            raise ValueError(
                f"{name} must have shape (num_samples, {self.dim}), got {z.shape}"
            )
        return z

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={np.array2string(value, precision=4, separator=', ')}"
            for name, value in self._fields().items()
        )
        return f"{type(self).__name__}({fields})"

    def _fields(self) -> dict[str, np.ndarray]:  # pragma: no cover - overridden
        raise NotImplementedError


class DiagonalGaussian(_Family):
    r"""Gaussian with diagonal covariance, :math:`q_\phi(z) = \prod_d \mathcal N(z_d; \mu_d, \sigma_d^2)`.

    Parameters
    ----------
    mean : array_like, shape (dim,) or scalar
        The means :math:`\mu`.
    log_std : array_like, shape (dim,) or scalar
        The log standard deviations :math:`\ln \sigma` (any real number: the
        log keeps :math:`\sigma` positive without a constraint).

    Attributes
    ----------
    mean : ndarray, shape (dim,)
        The means :math:`\mu`.
    log_std : ndarray, shape (dim,)
        The log standard deviations :math:`\ln\sigma`.
    dim : int
        :math:`D`, the number of latent dimensions.
    params : ndarray, shape (2 * dim,)
        :math:`\phi = (\mu_1, \dots, \mu_D, \ln\sigma_1, \dots, \ln\sigma_D)`:
        means first, then log standard deviations.

    Raises
    ------
    ValueError
        If ``mean`` or ``log_std`` holds NaN or infinity, is empty, has more
        than one dimension, or the two shapes differ; or if
        :math:`|\ln\sigma_d| > 300`, where :math:`\sigma_d^2` would under- or
        overflow.
    TypeError
        If ``mean`` or ``log_std`` is not numeric.

    Notes
    -----
    With :math:`\varepsilon = (z - \mu)/\sigma`,

    .. math::

        \ln q_\phi(z) = \sum_d \Bigl(-\tfrac12 \ln 2\pi - \ln\sigma_d
            - \tfrac12 \varepsilon_d^2\Bigr), \\
        \frac{\partial \ln q_\phi(z)}{\partial \mu_d} = \frac{\varepsilon_d}{\sigma_d},\qquad
        \frac{\partial \ln q_\phi(z)}{\partial \ln\sigma_d} = \varepsilon_d^2 - 1.

    Examples
    --------
    >>> q = DiagonalGaussian(mean=[0.0, 1.0], log_std=[0.0, 0.0])
    >>> q.dim, q.num_params
    (2, 4)
    >>> z = q.sample(4, rng=0)
    >>> z.shape, q.log_prob(z).shape, q.score(z).shape
    ((4, 2), (4,), (4, 4))
    """

    def __init__(self, mean: ArrayLike, log_std: ArrayLike) -> None:
        mean = np.atleast_1d(finite_array(mean, "mean"))
        log_std = np.atleast_1d(finite_array(log_std, "log_std"))
        if mean.ndim != 1 or log_std.ndim != 1:
            raise ValueError(
                "mean and log_std must be scalars or 1-D arrays, got shapes "
                f"{mean.shape} and {log_std.shape}"
            )
        if mean.shape != log_std.shape:
            raise ValueError(
                f"mean and log_std must have the same shape, got {mean.shape} "
                f"and {log_std.shape}"
            )
        if np.any(np.abs(log_std) > _MAX_ABS_LOG_STD):
            # Beyond this, sigma**2 under- or overflows and log_prob turns into NaN.
            raise ValueError(
                f"log_std must lie in [-{_MAX_ABS_LOG_STD}, {_MAX_ABS_LOG_STD}] so that the "
                f"variance is a finite positive number, got {log_std}"
            )
        self.mean = mean
        self.log_std = log_std
        self.dim = int(mean.size)

    @classmethod
    def from_params(cls, params: ArrayLike) -> DiagonalGaussian:
        r"""Build the family from a flat parameter vector :math:`\phi`.

        The inverse of :attr:`params`: ``DiagonalGaussian.from_params(q.params)``
        is a copy of ``q``. Gradient ascent uses it to rebuild :math:`q` after
        each step on :math:`\phi`.

        Parameters
        ----------
        params : array_like, shape (2 * dim,)
            :math:`\phi = (\mu_1, \dots, \mu_D, \ln\sigma_1, \dots, \ln\sigma_D)`:
            means first, then log standard deviations.

        Returns
        -------
        DiagonalGaussian
            The family with these parameters.

        Raises
        ------
        ValueError
            If ``params`` is not 1-D, is empty, has an odd length or holds NaN
            or infinity.
        TypeError
            If ``params`` is not numeric.

        Examples
        --------
        >>> q = DiagonalGaussian.from_params([0.5, -1.0, 0.0, 0.3])
        >>> q
        DiagonalGaussian(mean=[ 0.5, -1. ], log_std=[0. , 0.3])
        >>> DiagonalGaussian.from_params(q.params).params.tolist()
        [0.5, -1.0, 0.0, 0.3]
        """
        params = finite_array(params, "params", ndim=1)
        if params.size % 2:
            raise ValueError(
                f"params must have an even length (means then log_stds), got {params.size}"
            )
        half = params.size // 2
        return cls(params[:half], params[half:])

    @property
    def std(self) -> np.ndarray:
        r"""The standard deviations :math:`\sigma = e^{\ln\sigma}`, shape ``(dim,)``."""
        return np.exp(self.log_std)

    @property
    def params(self) -> np.ndarray:
        r"""The flat parameter vector :math:`\phi = (\mu_1, \dots, \mu_D, \ln\sigma_1, \dots, \ln\sigma_D)`, shape ``(2 * dim,)`` (a new array)."""
        return np.concatenate([self.mean, self.log_std])

    @property
    def param_dims(self) -> np.ndarray:
        r"""The latent dimension each parameter belongs to: ``[0, ..., dim-1, 0, ..., dim-1]``.

        :math:`\mu_d` and :math:`\ln\sigma_d` both act on :math:`z_d` alone.
        """
        return np.tile(np.arange(self.dim), 2)

    def _fields(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "log_std": self.log_std}

    def sample(self, num_samples: int, *, rng: RNGLike = None) -> np.ndarray:
        r"""Draw ``num_samples`` independent samples :math:`z_i \sim q_\phi`.

        Parameters
        ----------
        num_samples : int
            The number :math:`n \ge 1` of samples.
        rng : None, int or numpy.random.Generator, keyword-only
            Source of randomness: a seed, a generator (whose state advances)
            or ``None`` for fresh entropy.

        Returns
        -------
        ndarray, shape (num_samples, dim)
            One sample per row.

        Raises
        ------
        ValueError
            If ``num_samples < 1`` or ``rng`` is a negative seed.
        TypeError
            If ``num_samples`` is not an integer or ``rng`` is not a seed, a
            generator or ``None``.

        Notes
        -----
        .. math::

            z_i = \mu + \sigma \odot \varepsilon_i, \qquad
            \varepsilon_i \sim \mathcal N(0, I_D).

        Examples
        --------
        >>> q = DiagonalGaussian(mean=[0.0, 10.0], log_std=[0.0, -3.0])
        >>> z = q.sample(100_000, rng=0)
        >>> z.shape
        (100000, 2)
        >>> standard_error = q.std / np.sqrt(100_000)
        >>> bool(np.all(np.abs(z.mean(axis=0) - q.mean) < 4 * standard_error))
        True
        """
        return self.sample_with_noise(num_samples, rng=rng)[0]

    def sample_with_noise(
        self, num_samples: int, *, rng: RNGLike = None
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""Draw samples together with the standard normal noise that made them.

        The same seed gives the same samples as :meth:`sample`.

        Parameters
        ----------
        num_samples : int
            The number :math:`n \ge 1` of samples.
        rng : None, int or numpy.random.Generator, keyword-only
            Source of randomness.

        Returns
        -------
        z : ndarray, shape (num_samples, dim)
            :math:`z_i = \mu + \sigma \odot \varepsilon_i`.
        noise : ndarray, shape (num_samples, dim)
            :math:`\varepsilon_i \sim \mathcal N(0, I)`.

        Raises
        ------
        ValueError, TypeError
            If ``num_samples`` is not an integer >= 1 or ``rng`` is not a seed
            or a generator.

        Examples
        --------
        >>> q = DiagonalGaussian(mean=[1.0, -1.0], log_std=[0.0, 1.0])
        >>> z, noise = q.sample_with_noise(3, rng=0)
        >>> np.allclose(z, q.reparameterize(noise)), np.allclose(q.sample(3, rng=0), z)
        (True, True)
        """
        num_samples = check_num_samples(num_samples)
        rng = as_generator(rng)
        noise = rng.standard_normal((num_samples, self.dim))
        return self.mean + self.std * noise, noise

    def reparameterize(self, noise: ArrayLike) -> np.ndarray:
        r"""Map standard normal noise to samples: :math:`z = \mu + \sigma \odot \varepsilon`.

        Parameters
        ----------
        noise : array_like, shape (num_samples, dim)
            Standard normal draws :math:`\varepsilon_i`, one per row.

        Returns
        -------
        ndarray, shape (num_samples, dim)
            :math:`z_i = \mu + \sigma \odot \varepsilon_i`, one per row;
            distributed as :math:`q_\phi` when the rows of ``noise`` are
            :math:`\mathcal N(0, I)`.

        Raises
        ------
        ValueError
            If ``noise`` is not of shape ``(num_samples, dim)``, is empty or
            holds NaN or infinity.
        TypeError
            If ``noise`` is not numeric.

        Examples
        --------
        >>> q = DiagonalGaussian(mean=[1.0, -1.0], log_std=[0.0, np.log(2.0)])
        >>> q.reparameterize([[0.5, 1.0], [0.0, -1.0]])
        array([[ 1.5,  1. ],
               [ 1. , -3. ]])
        """
        noise = self._check_z(noise, "noise")
        return self.mean + self.std * noise

    def standardize(self, z: ArrayLike) -> np.ndarray:
        r"""The inverse of :meth:`reparameterize`: :math:`\varepsilon = (z - \mu) / \sigma`.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Points, one per row.

        Returns
        -------
        ndarray, shape (num_samples, dim)
            The noise :math:`\varepsilon_i = (z_i - \mu)/\sigma` that
            :meth:`reparameterize` maps to ``z[i]``.

        Raises
        ------
        ValueError
            If ``z`` is not of shape ``(num_samples, dim)``, is empty or holds
            NaN or infinity.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        >>> q = DiagonalGaussian(mean=[1.0, -1.0], log_std=[0.0, np.log(2.0)])
        >>> q.standardize([[1.5, 1.0]])
        array([[0.5, 1. ]])
        >>> noise = np.random.default_rng(0).standard_normal((5, 2))
        >>> bool(np.allclose(q.standardize(q.reparameterize(noise)), noise))
        True
        """
        eps = self._check_z(z) - self.mean
        eps /= self.std  # in place: one array allocated, not two
        return eps

    def reparameterization_jacobian(self, noise: ArrayLike) -> np.ndarray:
        r"""The non-zero entries of :math:`\partial z / \partial \phi` at each noise draw.

        Because :math:`z_d = \mu_d + e^{\ln\sigma_d}\varepsilon_d` depends only
        on the two parameters of dimension :math:`d`, the Jacobian is sparse;
        column ``k`` of the result holds :math:`\partial z_{d(k)} / \partial\phi_k`
        with :math:`d(k)` = ``param_dims[k]``:

        .. math::

            \frac{\partial z_d}{\partial \mu_d} = 1, \qquad
            \frac{\partial z_d}{\partial \ln\sigma_d} = \sigma_d\,\varepsilon_d .

        Parameters
        ----------
        noise : array_like, shape (num_samples, dim)
            :math:`\varepsilon`.

        Returns
        -------
        ndarray, shape (num_samples, 2 * dim)
            Row ``i``, column ``k``:
            :math:`\partial z_{i, d(k)} / \partial\phi_k`, in the order of
            :attr:`params` (ones for the means, :math:`\sigma_d\varepsilon_{id}`
            for the log standard deviations).

        Raises
        ------
        ValueError
            If ``noise`` is not of shape ``(num_samples, dim)``, is empty or
            holds NaN or infinity.
        TypeError
            If ``noise`` is not numeric.

        Examples
        --------
        >>> q = DiagonalGaussian(mean=0.0, log_std=np.log(2.0))
        >>> q.reparameterization_jacobian([[0.5], [-1.0]])
        array([[ 1.,  1.],
               [ 1., -2.]])
        """
        noise = self._check_z(noise, "noise")
        return np.concatenate([np.ones_like(noise), self.std * noise], axis=1)

    def grad_z_log_prob(self, z: ArrayLike) -> np.ndarray:
        r""":math:`\nabla_z \ln q_\phi(z_i) = -(z_i - \mu)/\sigma^2` for every row, with :math:`\phi` held fixed.

        This is the gradient in the *sample*, not in the parameters (that is
        :meth:`score`); the "sticking the landing" form of the pathwise ELBO
        gradient uses it.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Points, one per row.

        Returns
        -------
        ndarray, shape (num_samples, dim)
            Row ``i`` is :math:`\nabla_z \ln q_\phi(z_i)`.

        Raises
        ------
        ValueError
            If ``z`` is not of shape ``(num_samples, dim)``, is empty or holds
            NaN or infinity.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        At :math:`z = 3` under :math:`\mathcal N(1, 2^2)` the slope is
        :math:`-(3 - 1)/4`, as a central difference of :meth:`log_prob` confirms:

        >>> q = DiagonalGaussian(mean=1.0, log_std=np.log(2.0))
        >>> q.grad_z_log_prob([[3.0]])
        array([[-0.5]])
        >>> step = 1e-5
        >>> round(float(q.log_prob([[3.0 + step]])[0] - q.log_prob([[3.0 - step]])[0]) / (2 * step), 8)
        -0.5
        """
        z = self._check_z(z)
        return -(z - self.mean) / self.std**2

    def entropy(self) -> float:
        r"""The entropy :math:`H[q_\phi] = \sum_d \bigl(\tfrac12 \ln(2\pi e) + \ln\sigma_d\bigr)`.

        Returns
        -------
        float
            :math:`H[q_\phi] = -\mathbb E_{q_\phi}[\ln q_\phi(z)]`, in nats.

        Examples
        --------
        >>> round(DiagonalGaussian(mean=0.0, log_std=0.0).entropy(), 6)  # ln(2 pi e) / 2
        1.418939
        >>> from elbo_grad import exact_expectation
        >>> q = DiagonalGaussian(mean=[0.0, 3.0], log_std=[0.5, -1.0])
        >>> bool(np.isclose(q.entropy(), -exact_expectation(q.log_prob, q)))
        True
        """
        return float(self.dim * 0.5 * (_LOG_2PI + 1.0) + np.sum(self.log_std))

    def entropy_gradient(self) -> np.ndarray:
        r""":math:`\nabla_\phi H[q_\phi]`: 0 for every mean, 1 for every log standard deviation.

        The entropy depends on :math:`\phi` only through
        :math:`\sum_d \ln\sigma_d`.

        Returns
        -------
        ndarray, shape (2 * dim,)
            :math:`\nabla_\phi H[q_\phi]`, in the order of :attr:`params`.

        Examples
        --------
        >>> q = DiagonalGaussian(mean=[0.0, 3.0], log_std=[0.5, -1.0])
        >>> q.entropy_gradient()
        array([0., 0., 1., 1.])
        >>> step = 1e-6
        >>> shifted = DiagonalGaussian.from_params(q.params + step * np.eye(4)[2])
        >>> round((shifted.entropy() - q.entropy()) / step, 6)
        1.0
        """
        return np.concatenate([np.zeros(self.dim), np.ones(self.dim)])

    def log_prob_per_dimension(self, z: ArrayLike) -> np.ndarray:
        r"""The log-density of each coordinate, :math:`\ln \mathcal N(z_{id}; \mu_d, \sigma_d^2)`, for every sample and dimension.

        Row sums are :meth:`log_prob`; the local estimators use the columns.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Points, one per row.

        Returns
        -------
        ndarray, shape (num_samples, dim)
            Entry ``(i, d)`` is :math:`\ln \mathcal N(z_{id}; \mu_d, \sigma_d^2)`.

        Raises
        ------
        ValueError
            If ``z`` is not of shape ``(num_samples, dim)``, is empty or holds
            NaN or infinity.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        >>> q = DiagonalGaussian(mean=[0.0, 1.0], log_std=[0.0, np.log(2.0)])
        >>> z = np.array([[0.0, 1.0], [1.0, 3.0]])
        >>> q.log_prob_per_dimension(z).round(4)
        array([[-0.9189, -1.6121],
               [-1.4189, -2.1121]])
        >>> bool(np.allclose(q.log_prob_per_dimension(z).sum(axis=1), q.log_prob(z)))
        True
        """
        z = self._check_z(z)
        eps = (z - self.mean) / self.std
        return -0.5 * _LOG_2PI - self.log_std - 0.5 * eps**2

    def log_prob(self, z: ArrayLike) -> np.ndarray:
        r"""Evaluate the log-density :math:`\ln q_\phi(z_i)` for every row ``z[i]``.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Points, one per row.

        Returns
        -------
        ndarray, shape (num_samples,)
            :math:`\ln q_\phi(z_i)`.

        Raises
        ------
        ValueError
            If ``z`` is not 2-D with ``dim`` columns, is empty or holds NaN or
            infinity.
        TypeError
            If ``z`` is not numeric.

        Notes
        -----
        .. math::

            \ln q_\phi(z) = \sum_{d=1}^D \Bigl(-\tfrac12 \ln 2\pi - \ln\sigma_d
                - \frac{(z_d - \mu_d)^2}{2\sigma_d^2}\Bigr).

        Examples
        --------
        >>> q = DiagonalGaussian(mean=0.0, log_std=0.0)
        >>> q.log_prob([[0.0], [1.0]]).round(4)
        array([-0.9189, -1.4189])
        """
        eps = self.standardize(z)
        # The sum over d of log_prob_per_dimension, with sum_d eps_d^2 as one row-wise dot product.
        squared_norm = np.einsum("ij,ij->i", eps, eps)
        return -0.5 * self.dim * _LOG_2PI - np.sum(self.log_std) - 0.5 * squared_norm

    def score(self, z: ArrayLike) -> np.ndarray:
        r"""Evaluate the score :math:`\nabla_\phi \ln q_\phi(z_i)` for every row ``z[i]``.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Points, one per row.

        Returns
        -------
        ndarray, shape (num_samples, 2 * dim)
            Row ``i`` is :math:`\nabla_\phi \ln q_\phi(z_i)` in the order of
            :attr:`params`: columns ``0..dim-1`` are derivatives with respect
            to the means, columns ``dim..2*dim-1`` with respect to the log
            standard deviations.

        Raises
        ------
        ValueError
            If ``z`` is not 2-D with ``dim`` columns, is empty or holds NaN or
            infinity.
        TypeError
            If ``z`` is not numeric.

        Notes
        -----
        With :math:`\varepsilon_d = (z_d - \mu_d)/\sigma_d`,

        .. math::

            \frac{\partial \ln q_\phi(z)}{\partial \mu_d} = \frac{\varepsilon_d}{\sigma_d},
            \qquad
            \frac{\partial \ln q_\phi(z)}{\partial \ln\sigma_d} = \varepsilon_d^2 - 1,

        and :math:`\mathbb E_{q_\phi}[\nabla_\phi \ln q_\phi(z)] = 0`.

        Examples
        --------
        >>> q = DiagonalGaussian(mean=1.0, log_std=np.log(2.0))
        >>> q.score([[1.0], [3.0]])
        array([[ 0. , -1. ],
               [ 0.5,  0. ]])
        """
        eps = self.standardize(z)
        d_mean = eps / self.std
        d_log_std = np.square(eps, out=eps)  # eps is not needed again: reuse its memory
        d_log_std -= 1.0
        return np.concatenate([d_mean, d_log_std], axis=1)


class Bernoulli(_Family):
    r"""Independent Bernoulli variables, :math:`q_\phi(z) = \prod_d \mathrm{Bern}(z_d; \sigma(\phi_d))`.

    Parameters
    ----------
    logits : array_like, shape (dim,) or scalar
        The logits :math:`\phi_d = \ln\frac{\pi_d}{1-\pi_d}`, where
        :math:`\pi_d = q(z_d = 1)`.

    Attributes
    ----------
    logits : ndarray, shape (dim,)
        The logits :math:`\phi`.
    dim : int
        :math:`D`, the number of binary latent variables.
    params : ndarray, shape (dim,)
        :math:`\phi`, the logits.

    Raises
    ------
    ValueError
        If ``logits`` holds NaN or infinity, is empty or is not 1-D.
    TypeError
        If ``logits`` is not numeric.

    Notes
    -----
    With :math:`\pi_d = \sigma(\phi_d) = 1/(1 + e^{-\phi_d})`,

    .. math::

        \ln q_\phi(z) = \sum_d \bigl(z_d \phi_d - \ln(1 + e^{\phi_d})\bigr),\qquad
        \frac{\partial \ln q_\phi(z)}{\partial \phi_d} = z_d - \pi_d .

    Examples
    --------
    >>> q = Bernoulli(logits=[0.0, 2.0, -1.0])
    >>> z = q.sample(5, rng=0)
    >>> z.shape, q.score(z).shape
    ((5, 3), (5, 3))
    """

    def __init__(self, logits: ArrayLike) -> None:
        logits = np.atleast_1d(finite_array(logits, "logits"))
        if logits.ndim != 1:
            raise ValueError(f"logits must be a scalar or a 1-D array, got shape {logits.shape}")
        self.logits = logits
        self.dim = int(logits.size)

    @classmethod
    def from_params(cls, params: ArrayLike) -> Bernoulli:
        r"""Build the family from its flat parameter vector :math:`\phi` (the logits).

        The inverse of :attr:`params`: ``Bernoulli.from_params(q.params)`` is
        a copy of ``q``.

        Parameters
        ----------
        params : array_like, shape (dim,)
            The logits :math:`\phi`.

        Returns
        -------
        Bernoulli
            The family with these parameters.

        Raises
        ------
        ValueError
            If ``params`` is not 1-D, is empty or holds NaN or infinity.
        TypeError
            If ``params`` is not numeric.

        Examples
        --------
        >>> Bernoulli.from_params([0.0, 1.5])
        Bernoulli(logits=[0. , 1.5])
        """
        return cls(finite_array(params, "params", ndim=1))

    @property
    def probs(self) -> np.ndarray:
        r"""The probabilities :math:`\pi_d = q(z_d = 1) = \sigma(\phi_d)`, shape ``(dim,)``."""
        return _sigmoid(self.logits)

    @property
    def params(self) -> np.ndarray:
        r"""The flat parameter vector :math:`\phi`, the logits, shape ``(dim,)`` (a copy)."""
        return self.logits.copy()

    @property
    def param_dims(self) -> np.ndarray:
        """The latent dimension each parameter belongs to: ``[0, 1, ..., dim-1]``."""
        return np.arange(self.dim)

    def _fields(self) -> dict[str, np.ndarray]:
        return {"logits": self.logits}

    def sample(self, num_samples: int, *, rng: RNGLike = None) -> np.ndarray:
        r"""Draw ``num_samples`` independent binary vectors :math:`z_i \sim q_\phi`.

        Parameters
        ----------
        num_samples : int
            The number :math:`n \ge 1` of samples.
        rng : None, int or numpy.random.Generator, keyword-only
            Source of randomness: a seed, a generator (whose state advances)
            or ``None`` for fresh entropy.

        Returns
        -------
        ndarray, shape (num_samples, dim)
            One sample per row, as floats ``0.0`` and ``1.0``.

        Raises
        ------
        ValueError
            If ``num_samples < 1`` or ``rng`` is a negative seed.
        TypeError
            If ``num_samples`` is not an integer or ``rng`` is not a seed, a
            generator or ``None``.

        Notes
        -----
        :math:`z_{id} = [u_{id} < \pi_d]` with :math:`u_{id} \sim \mathrm{Uniform}(0, 1)`.

        Examples
        --------
        >>> q = Bernoulli(logits=[0.0, 3.0])
        >>> z = q.sample(100_000, rng=0)
        >>> z.mean(axis=0).round(2), q.probs.round(2)
        (array([0.5 , 0.95]), array([0.5 , 0.95]))
        """
        num_samples = check_num_samples(num_samples)
        rng = as_generator(rng)
        return (rng.random((num_samples, self.dim)) < self.probs).astype(float)

    def _check_binary(self, z: ArrayLike) -> np.ndarray:
        z = self._check_z(z)
        if not np.all((z == 0.0) | (z == 1.0)):
            raise ValueError("z must hold only 0s and 1s for a Bernoulli family")
        return z

    def log_prob_per_dimension(self, z: ArrayLike) -> np.ndarray:
        r"""The log-probability of each coordinate, :math:`z_{id}\phi_d - \ln(1 + e^{\phi_d})`, for every sample and dimension.

        Row sums are :meth:`log_prob`; the local estimators use the columns.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Binary vectors (0s and 1s), one per row.

        Returns
        -------
        ndarray, shape (num_samples, dim)
            Entry ``(i, d)`` is :math:`\ln q_{\phi_d}(z_{id})`, computed
            without overflow for large logits.

        Raises
        ------
        ValueError
            If ``z`` is not 2-D with ``dim`` columns, is empty, or holds
            anything but 0s and 1s.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        With :math:`\pi = (1/2, 3/4)`:

        >>> q = Bernoulli(logits=[0.0, np.log(3.0)])
        >>> np.exp(q.log_prob_per_dimension([[1.0, 1.0], [0.0, 0.0]])).round(12)
        array([[0.5 , 0.75],
               [0.5 , 0.25]])
        """
        z = self._check_binary(z)
        # z * logits - log(1 + exp(logits)), computed without overflow.
        return z * self.logits - np.logaddexp(0.0, self.logits)

    def log_prob(self, z: ArrayLike) -> np.ndarray:
        r"""Evaluate the log-probability :math:`\ln q_\phi(z_i)` for every row ``z[i]``.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Binary vectors (0s and 1s), one per row.

        Returns
        -------
        ndarray, shape (num_samples,)
            :math:`\ln q_\phi(z_i)`, computed without overflow for large logits.

        Raises
        ------
        ValueError
            If ``z`` is not 2-D with ``dim`` columns, is empty, or holds
            anything but 0s and 1s.
        TypeError
            If ``z`` is not numeric.

        Notes
        -----
        .. math::

            \ln q_\phi(z) = \sum_{d=1}^D \bigl(z_d \phi_d - \ln(1 + e^{\phi_d})\bigr).

        Examples
        --------
        >>> q = Bernoulli(logits=[0.0, 0.0])
        >>> np.exp(q.log_prob([[0.0, 1.0], [1.0, 1.0]]))
        array([0.25, 0.25])
        """
        return self.log_prob_per_dimension(z).sum(axis=1)

    def score(self, z: ArrayLike) -> np.ndarray:
        r"""Evaluate the score :math:`\nabla_\phi \ln q_\phi(z_i)` for every row ``z[i]``.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Binary vectors (0s and 1s), one per row.

        Returns
        -------
        ndarray, shape (num_samples, dim)
            Row ``i`` is :math:`z_i - \pi`, the gradient with respect to the
            logits.

        Raises
        ------
        ValueError
            If ``z`` is not 2-D with ``dim`` columns, is empty, or holds
            anything but 0s and 1s.
        TypeError
            If ``z`` is not numeric.

        Notes
        -----
        .. math::

            \frac{\partial \ln q_\phi(z)}{\partial \phi_d} = z_d - \sigma(\phi_d),
            \qquad \sum_{z} q_\phi(z)\,(z - \pi) = 0 .

        Examples
        --------
        >>> q = Bernoulli(logits=[0.0])
        >>> q.score([[0.0], [1.0]])
        array([[-0.5],
               [ 0.5]])
        """
        z = self._check_binary(z)
        return z - self.probs


class Categorical(_Family):
    r"""Independent categorical variables, :math:`q_\phi(z) = \prod_d \mathrm{Cat}\bigl(z_d; \operatorname{softmax}(\phi_{d,\cdot})\bigr)`.

    Parameters
    ----------
    logits : array_like, shape (num_categories,) or (dim, num_categories)
        Unnormalised log-probabilities :math:`\phi_{d,k}`. A 1-D array is one
        categorical variable (``dim == 1``) with ``len(logits)`` categories; a
        2-D array holds one row per variable, every variable with the same
        number :math:`K \ge 2` of categories.

    Attributes
    ----------
    logits : ndarray, shape (dim, num_categories)
        :math:`\phi`, one row per variable.
    dim : int
        The number :math:`D` of variables.
    num_categories : int
        The number :math:`K` of categories of each variable.
    params : ndarray, shape (dim * num_categories,)
        ``logits.ravel()``: row by row, so parameter ``d * K + k`` is
        :math:`\phi_{d,k}`.

    Raises
    ------
    ValueError
        If ``logits`` holds NaN or infinity, is a scalar, has more than two
        dimensions, or has fewer than two categories.

    Notes
    -----
    A sample is a vector of category indices, :math:`z_d \in \{0, \dots, K-1\}`,
    stored as floats (``0.0, 1.0, ...``) in an array of shape
    ``(num_samples, dim)``, as the Bernoulli family stores its 0s and 1s. With
    :math:`\pi_{d,k} = e^{\phi_{d,k}} / \sum_j e^{\phi_{d,j}}`,

    .. math::

        \ln q_\phi(z) = \sum_d \Bigl(\phi_{d, z_d} - \ln \sum_{k} e^{\phi_{d,k}}\Bigr),
        \qquad
        \frac{\partial \ln q_\phi(z)}{\partial \phi_{d,k}} = [z_d = k] - \pi_{d,k} .

    The score is the one-hot code of :math:`z` minus the probabilities. Adding
    a constant to a row of logits leaves :math:`q` unchanged (the
    parameterisation is redundant), which is why each variable's score sums
    to zero over :math:`k`. ``Bernoulli(phi)`` is ``Categorical([0, phi])``.

    Examples
    --------
    >>> q = Categorical(logits=[[0.0, 1.0, -1.0], [2.0, 0.0, 0.0]])
    >>> q.dim, q.num_categories, q.num_params
    (2, 3, 6)
    >>> z = q.sample(4, rng=0)
    >>> z.shape, q.log_prob(z).shape, q.score(z).shape
    ((4, 2), (4,), (4, 6))
    >>> q.score(np.array([[1.0, 0.0]])).reshape(2, 3).sum(axis=1).round(12) + 0.0
    array([0., 0.])
    """

    def __init__(self, logits: ArrayLike) -> None:
        logits = finite_array(logits, "logits")
        if logits.ndim == 1:
            logits = logits[None, :]
        if logits.ndim != 2:
            raise ValueError(
                "logits must have shape (num_categories,) or (dim, num_categories), "
                f"got shape {logits.shape}"
            )
        if logits.shape[1] < 2:
            raise ValueError(
                f"logits must have at least 2 categories per variable, got shape {logits.shape}"
            )
        self.logits = logits
        self.dim = int(logits.shape[0])
        self.num_categories = int(logits.shape[1])

    @classmethod
    def from_params(cls, params: ArrayLike, num_categories: int | None = None) -> Categorical:
        r"""Build the family from its flat parameter vector (the logits, row by row).

        The inverse of :attr:`params`:
        ``Categorical.from_params(q.params, q.num_categories)`` is a copy of
        ``q``.

        Parameters
        ----------
        params : array_like, shape (dim * num_categories,)
            The logits :math:`\phi_{d,k}`, variable by variable: entry
            ``d * num_categories + k`` is :math:`\phi_{d,k}`.
        num_categories : int, optional
            :math:`K \ge 2`. By default ``len(params)``: a single variable.

        Returns
        -------
        Categorical
            The family with these parameters, ``dim = len(params) // num_categories``.

        Raises
        ------
        ValueError
            If ``params`` is not 1-D, is empty or holds NaN or infinity, if
            ``num_categories < 2``, or if ``len(params)`` is not a multiple of
            ``num_categories``.
        TypeError
            If ``params`` is not numeric or ``num_categories`` is not an
            integer.

        Examples
        --------
        >>> q = Categorical.from_params([0.0, 1.0, 2.0, 0.5, 0.0, -0.5], num_categories=3)
        >>> q.dim, q.num_categories
        (2, 3)
        >>> q.logits
        array([[ 0. ,  1. ,  2. ],
               [ 0.5,  0. , -0.5]])
        >>> Categorical.from_params(q.params, q.num_categories).params.tolist() == q.params.tolist()
        True
        """
        params = finite_array(params, "params", ndim=1)
        if num_categories is None:
            num_categories = params.size
        num_categories = check_num_samples(num_categories, "num_categories", minimum=2)
        if params.size % num_categories:
            raise ValueError(
                f"params must have a length divisible by num_categories={num_categories}, "
                f"got {params.size}"
            )
        return cls(params.reshape(-1, num_categories))

    @property
    def log_probs(self) -> np.ndarray:
        r""":math:`\ln \pi_{d,k}`, shape ``(dim, num_categories)``, computed without overflow."""
        shifted = self.logits - self.logits.max(axis=1, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))

    @property
    def probs(self) -> np.ndarray:
        r""":math:`\pi_{d,k} = q(z_d = k)`, shape ``(dim, num_categories)``; rows sum to one."""
        return np.exp(self.log_probs)

    @property
    def params(self) -> np.ndarray:
        r"""The flat parameter vector ``logits.ravel()``, shape ``(dim * num_categories,)`` (a copy)."""
        return self.logits.ravel().copy()

    @property
    def param_dims(self) -> np.ndarray:
        """The latent dimension each parameter belongs to: each of ``0..dim-1`` repeated ``num_categories`` times."""
        return np.repeat(np.arange(self.dim), self.num_categories)

    def _fields(self) -> dict[str, np.ndarray]:
        return {"logits": self.logits}

    def sample(self, num_samples: int, *, rng: RNGLike = None) -> np.ndarray:
        r"""Draw ``num_samples`` independent vectors of category indices :math:`z_i \sim q_\phi`.

        Parameters
        ----------
        num_samples : int
            The number :math:`n \ge 1` of samples.
        rng : None, int or numpy.random.Generator, keyword-only
            Source of randomness: a seed, a generator (whose state advances)
            or ``None`` for fresh entropy.

        Returns
        -------
        ndarray, shape (num_samples, dim)
            One sample per row: category indices stored as floats
            ``0.0, 1.0, ..., num_categories - 1``.

        Raises
        ------
        ValueError
            If ``num_samples < 1`` or ``rng`` is a negative seed.
        TypeError
            If ``num_samples`` is not an integer or ``rng`` is not a seed, a
            generator or ``None``.

        Notes
        -----
        Each :math:`z_d` inverts the cumulative distribution at a uniform draw
        :math:`u \sim \mathrm{Uniform}(0, 1)`:
        :math:`z_d = \#\{k < K - 1 : u \ge \sum_{j \le k} \pi_{d,j}\}`.

        Examples
        --------
        The frequencies of the categories are within four standard errors of
        :math:`\pi`:

        >>> q = Categorical(logits=np.log([0.2, 0.3, 0.5]))
        >>> z = q.sample(100_000, rng=0)
        >>> frequencies = q.one_hot(z).mean(axis=0)[0]
        >>> standard_error = np.sqrt(q.probs[0] * (1 - q.probs[0]) / 100_000)
        >>> bool(np.all(np.abs(frequencies - q.probs[0]) < 4 * standard_error))
        True
        """
        num_samples = check_num_samples(num_samples)
        rng = as_generator(rng)
        uniform = rng.random((num_samples, self.dim, 1))
        cumulative = np.cumsum(self.probs, axis=1)[:, :-1]
        return np.sum(uniform >= cumulative, axis=2).astype(float)

    def _check_categories(self, z: ArrayLike) -> np.ndarray:
        z = self._check_z(z)
        if not np.all((z == np.floor(z)) & (z >= 0) & (z < self.num_categories)):
            raise ValueError(
                f"z must hold category indices 0, 1, ..., {self.num_categories - 1} "
                "for this Categorical family"
            )
        return z

    def one_hot(self, z: ArrayLike) -> np.ndarray:
        r"""The one-hot code of a batch of category indices.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Category indices (``0.0, 1.0, ..., num_categories - 1``), one
            sample per row.

        Returns
        -------
        ndarray, shape (num_samples, dim, num_categories)
            Entry ``(i, d, k)`` is :math:`[z_{id} = k]`: 1.0 or 0.0.

        Raises
        ------
        ValueError
            If ``z`` is not 2-D with ``dim`` columns, is empty, or holds
            anything but category indices.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        >>> q = Categorical(logits=np.zeros((2, 3)))
        >>> q.one_hot([[2.0, 0.0]])
        array([[[0., 0., 1.],
                [1., 0., 0.]]])
        """
        z = self._check_categories(z)
        return (z[:, :, None] == np.arange(self.num_categories)).astype(float)

    def log_prob_per_dimension(self, z: ArrayLike) -> np.ndarray:
        r"""The log-probability of each coordinate, :math:`\ln \pi_{d, z_{id}}`, for every sample and variable.

        Row sums are :meth:`log_prob`; the local estimators use the columns.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Category indices, one sample per row.

        Returns
        -------
        ndarray, shape (num_samples, dim)
            Entry ``(i, d)`` is :math:`\ln \pi_{d, z_{id}}`.

        Raises
        ------
        ValueError
            If ``z`` is not 2-D with ``dim`` columns, is empty, or holds
            anything but category indices.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        >>> q = Categorical(logits=np.log([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
        >>> np.exp(q.log_prob_per_dimension([[2.0, 0.0], [0.0, 1.0]])).round(12)
        array([[0.5, 0.6],
               [0.2, 0.3]])
        """
        z = self._check_categories(z)
        return self.log_probs[np.arange(self.dim), z.astype(int)]

    def log_prob(self, z: ArrayLike) -> np.ndarray:
        r"""Evaluate the log-probability :math:`\ln q_\phi(z_i)` for every row ``z[i]``.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Category indices, one sample per row.

        Returns
        -------
        ndarray, shape (num_samples,)
            :math:`\ln q_\phi(z_i) = \sum_d \ln \pi_{d, z_{id}}`, computed
            without overflow for large logits.

        Raises
        ------
        ValueError
            If ``z`` is not 2-D with ``dim`` columns, is empty, or holds
            anything but category indices.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        The probabilities of all :math:`3^2` values sum to one:

        >>> from elbo_grad import enumerate_support
        >>> q = Categorical(logits=np.log([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
        >>> np.exp(q.log_prob([[2.0, 0.0]])).round(12)
        array([0.3])
        >>> round(float(np.exp(q.log_prob(enumerate_support(q))).sum()), 12)
        1.0
        """
        return self.log_prob_per_dimension(z).sum(axis=1)

    def score(self, z: ArrayLike) -> np.ndarray:
        r"""Evaluate the score :math:`\nabla_\phi \ln q_\phi(z_i) = \operatorname{onehot}(z_i) - \pi` for every row ``z[i]``.

        Parameters
        ----------
        z : array_like, shape (num_samples, dim)
            Category indices, one sample per row.

        Returns
        -------
        ndarray, shape (num_samples, dim * num_categories)
            Column ``d * num_categories + k`` is
            :math:`\partial \ln q_\phi(z_i) / \partial \phi_{d,k} = [z_{id} = k] - \pi_{d,k}`,
            in the order of :attr:`params`.

        Raises
        ------
        ValueError
            If ``z`` is not 2-D with ``dim`` columns, is empty, or holds
            anything but category indices.
        TypeError
            If ``z`` is not numeric.

        Examples
        --------
        The expected score is zero (here summed exactly over the support):

        >>> from elbo_grad import exact_expectation
        >>> q = Categorical(logits=np.log([0.2, 0.3, 0.5]))
        >>> q.score([[2.0]]).round(12)
        array([[-0.2, -0.3,  0.5]])
        >>> exact_expectation(q.score, q).round(12) + 0.0
        array([0., 0., 0.])
        """
        one_hot = self.one_hot(z)
        return (one_hot - self.probs).reshape(one_hot.shape[0], -1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, stable for large ``|x|``."""
    out = np.empty_like(x, dtype=float)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    exp_x = np.exp(x[~positive])
    out[~positive] = exp_x / (1.0 + exp_x)
    return out

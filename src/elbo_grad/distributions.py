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
"""

from __future__ import annotations

import numpy as np

from ._validation import as_generator, check_num_samples, finite_array

__all__ = ["Bernoulli", "DiagonalGaussian"]

_LOG_2PI = float(np.log(2.0 * np.pi))


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

    def _check_z(self, z) -> np.ndarray:
        z = finite_array(z, "z", ndim=2)
        if z.shape[1] != self.dim:
            raise ValueError(
                f"z must have shape (num_samples, {self.dim}), got {z.shape}"
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
        than one dimension, or the two shapes differ.
    TypeError
        If ``mean`` or ``log_std`` is not numeric.

    Notes
    -----
    With :math:`\varepsilon = (z - \mu)/\sigma`,

    .. math::

        \ln q_\phi(z) = \sum_d \Bigl(-\tfrac12 \ln 2\pi - \ln\sigma_d
            - \tfrac12 \varepsilon_d^2\Bigr),\qquad
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

    def __init__(self, mean, log_std):
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
        self.mean = mean
        self.log_std = log_std
        self.dim = int(mean.size)

    @classmethod
    def from_params(cls, params) -> "DiagonalGaussian":
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
        r"""The flat parameter vector :math:`\phi = (\mu, \ln\sigma)`, shape ``(2 * dim,)`` (a copy)."""
        return np.concatenate([self.mean, self.log_std])

    def _fields(self):
        return {"mean": self.mean, "log_std": self.log_std}

    def sample(self, num_samples: int, *, rng=None) -> np.ndarray:
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
        num_samples = check_num_samples(num_samples)
        rng = as_generator(rng)
        noise = rng.standard_normal((num_samples, self.dim))
        return self.mean + self.std * noise

    def log_prob(self, z) -> np.ndarray:
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
        z = self._check_z(z)
        eps = (z - self.mean) / self.std
        return np.sum(-0.5 * _LOG_2PI - self.log_std - 0.5 * eps**2, axis=1)

    def score(self, z) -> np.ndarray:
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
        z = self._check_z(z)
        eps = (z - self.mean) / self.std
        return np.concatenate([eps / self.std, eps**2 - 1.0], axis=1)


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

    def __init__(self, logits):
        logits = np.atleast_1d(finite_array(logits, "logits"))
        if logits.ndim != 1:
            raise ValueError(f"logits must be a scalar or a 1-D array, got shape {logits.shape}")
        self.logits = logits
        self.dim = int(logits.size)

    @classmethod
    def from_params(cls, params) -> "Bernoulli":
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

    def _fields(self):
        return {"logits": self.logits}

    def sample(self, num_samples: int, *, rng=None) -> np.ndarray:
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

    def _check_binary(self, z) -> np.ndarray:
        z = self._check_z(z)
        if not np.all((z == 0.0) | (z == 1.0)):
            raise ValueError("z must hold only 0s and 1s for a Bernoulli family")
        return z

    def log_prob(self, z) -> np.ndarray:
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
        z = self._check_binary(z)
        # z * logits - log(1 + exp(logits)), computed without overflow.
        return np.sum(z * self.logits - np.logaddexp(0.0, self.logits), axis=1)

    def score(self, z) -> np.ndarray:
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


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, stable for large ``|x|``."""
    out = np.empty_like(x, dtype=float)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    exp_x = np.exp(x[~positive])
    out[~positive] = exp_x / (1.0 + exp_x)
    return out

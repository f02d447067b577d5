r"""Variational families :math:`q_\phi(z)`: sample, log-density and score.

Each follows :class:`Family`; :math:`\phi` is one flat read-only vector
``params``. Derivation: :ref:`chap-derivation-score`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from ._checks import RNGLike

__all__ = ["Bernoulli", "Categorical", "DiagonalGaussian", "Family"]

_LOG_2PI = float(np.log(2.0 * np.pi))


@runtime_checkable
class Family(Protocol):
    r"""What every estimator needs of :math:`q_\phi`; a subclass inherits the docstrings.

    Attributes
    ----------
    dim : int
        :math:`D`, the number of latent variables (columns of ``z``).

    Examples
    --------
    >>> q = Categorical(np.zeros((2, 3))).with_params(np.arange(6.0))
    >>> isinstance(q, Family), q.sample(4, rng=0).shape, q.score([[0, 2]]).shape
    (True, (4, 2), (1, 6))
    """

    dim: int

    @property
    def params(self) -> np.ndarray:
        r""":math:`\phi` as one flat read-only vector, shape ``(P,)``."""

    @property
    def param_dims(self) -> np.ndarray:
        """The latent dimension each parameter acts on, shape ``(P,)``."""

    @property
    def num_params(self) -> int:
        """:math:`P`, the number of parameters."""
        return int(self.params.size)

    def with_params(self, params: ArrayLike) -> Family:
        r"""The same family, with the same shapes, at new parameters.

        Parameters
        ----------
        params : array_like, shape (P,)
            The new :math:`\phi`, in the order of ``params``.

        Returns
        -------
        Family
            A new family of the same type, ``dim`` and ``num_params``.
        """

    def sample(self, num_samples: int, *, rng: RNGLike = None) -> np.ndarray:
        r"""Draw ``num_samples`` independent samples :math:`z_i \sim q_\phi`.

        Parameters
        ----------
        num_samples : int
            :math:`n \ge 1`.
        rng : None, int or numpy.random.Generator, keyword-only
            Source of randomness, through ``np.random.default_rng`` (SPEC 7).

        Returns
        -------
        ndarray, shape (num_samples, D)
            One sample per row: floats, or category indices (int) for Categorical.
        """

    def log_prob_per_dimension(self, z: ArrayLike) -> np.ndarray:
        r""":math:`\ln q_\phi(z_{id})` for every sample and dimension.

        Parameters
        ----------
        z : array_like, shape (n, D)
            Samples, one per row.

        Returns
        -------
        ndarray, shape (n, D)
            The row sums are :meth:`Family.log_prob`.
        """

    def log_prob(self, z: ArrayLike) -> np.ndarray:
        r""":math:`\ln q_\phi(z_i)` for every row of ``z``.

        Parameters
        ----------
        z : array_like, shape (n, D)
            Samples, one per row.

        Returns
        -------
        ndarray, shape (n,)
            One log-density (or log-probability) per sample.
        """
        return self.log_prob_per_dimension(z).sum(axis=1)

    def score(self, z: ArrayLike) -> np.ndarray:
        r"""The score :math:`\nabla_\phi \ln q_\phi(z_i)` for every row of ``z``.

        Parameters
        ----------
        z : array_like, shape (n, D)
            Samples, one per row.

        Returns
        -------
        ndarray, shape (n, P)
            One score per row, in the order of ``params``.
        """

    def score_mean(self, z: ArrayLike, weights: ArrayLike, *, squared: bool = False):
        r""":math:`\frac1n \sum_i w_i \nabla_\phi \ln q_\phi(z_i)`, where possible without the score matrix.

        Parameters
        ----------
        z : array_like, shape (n, D)
            Samples, one per row.
        weights : array_like, shape (n,) or (n, P)
            :math:`w_i` (one per sample, or one per sample and parameter).
        squared : bool, default False
            Average :math:`w_i\, s_i \odot s_i` instead (for standard errors).

        Returns
        -------
        ndarray, shape (P,)
            The weighted mean of the score.
        """
        score = self.score(z)
        if squared:
            score = score * score
        weights = _weights(weights, score.shape)
        subscripts = "i,ij->j" if weights.ndim == 1 else "ij,ij->j"
        return np.einsum(subscripts, weights, score) / score.shape[0]


def _weights(weights: ArrayLike, shape: tuple[int, int]) -> np.ndarray:
    weights = _checks.real_array(weights, "weights", copy=False)
    if weights.shape not in ((shape[0],), shape):
        raise ValueError(
            f"weights must have shape ({shape[0]},) or {shape}, got {weights.shape}"
        )
    return weights


def _same_shape(params: ArrayLike, like: np.ndarray) -> np.ndarray:
    params = _checks.real_array(params, "params", ndim=1)
    if params.shape != like.shape:
        raise ValueError(f"params must have shape {like.shape}, got {params.shape}")
    return params


def _num_samples(num_samples: int, per_sample: int) -> int:
    maximum = _checks.MAX_ELEMENTS // per_sample
    return _checks.count(num_samples, "num_samples", maximum=maximum)


def _binary(z: object, dim: int) -> np.ndarray:
    z = _checks.samples(z, dim)
    if not np.all((z == 0) | (z == 1)):
        raise ValueError("z must hold only 0s and 1s")
    return z


def _repr(family: Family, **fields: np.ndarray) -> str:
    text = ", ".join(
        f"{k}={np.array2string(v, precision=4, separator=', ')}"
        for k, v in fields.items()
    )
    return f"{type(family).__name__}({text})"


class DiagonalGaussian(Family):
    r"""Normal :math:`\mathcal N(\mu_d, \sigma_d^2)`; :math:`\phi = (\mu_1, \dots, \mu_D, \ln\sigma_1, \dots, \ln\sigma_D)`.

    Parameters
    ----------
    mean, log_std : array_like, shape (D,) or scalar
        :math:`\mu` and :math:`\ln\sigma`, with :math:`|\ln\sigma_d| \le 300` and
        :math:`\sigma_d \ge 10^{-6}|\mu_d|` (so that :math:`z - \mu` keeps the noise).

    Examples
    --------
    >>> q = DiagonalGaussian(mean=[0.0, 1.0], log_std=[0.0, 0.0])
    >>> z = q.sample(4, rng=0)
    >>> q.dim, q.num_params, q.log_prob(z).shape, q.score(z).shape
    (2, 4, (4,), (4, 4))
    """

    def __init__(self, mean: ArrayLike, log_std: ArrayLike) -> None:
        mean = np.atleast_1d(_checks.real_array(mean, "mean"))
        log_std = np.atleast_1d(_checks.real_array(log_std, "log_std"))
        if mean.ndim != 1 or mean.shape != log_std.shape:
            raise ValueError(
                f"mean and log_std must be 1-D of one shape, got {mean.shape}, {log_std.shape}"
            )
        if np.any(np.abs(log_std) > 300.0):
            raise ValueError(f"log_std must lie in [-300, 300], got {log_std}")
        if np.any(np.exp(log_std) < 1e-6 * np.abs(mean)):
            raise ValueError(
                "log_std is too small for mean: need exp(log_std) >= 1e-6 * |mean|"
            )
        self.dim = int(mean.size)
        self._params = _checks.real_array(np.concatenate([mean, log_std]), "params")

    @property
    def params(self) -> np.ndarray:
        return self._params

    @property
    def mean(self) -> np.ndarray:
        r""":math:`\mu`, shape ``(D,)``."""
        return self._params[: self.dim]

    @property
    def log_std(self) -> np.ndarray:
        r""":math:`\ln\sigma`, shape ``(D,)``."""
        return self._params[self.dim :]

    @property
    def std(self) -> np.ndarray:
        r""":math:`\sigma`, shape ``(D,)``."""
        return np.exp(self.log_std)

    @property
    def param_dims(self) -> np.ndarray:
        return np.tile(np.arange(self.dim), 2)

    def __repr__(self) -> str:
        return _repr(self, mean=self.mean, log_std=self.log_std)

    def with_params(self, params: ArrayLike) -> DiagonalGaussian:
        return DiagonalGaussian(*np.split(_same_shape(params, self._params), 2))

    def sample(self, num_samples: int, *, rng: RNGLike = None) -> np.ndarray:
        num_samples = _num_samples(num_samples, self.dim)
        z = _checks.generator(rng).standard_normal((num_samples, self.dim))
        z *= self.std  # z = mu + sigma * eps, in place
        z += self.mean
        return z

    def reparameterize(self, noise: ArrayLike) -> np.ndarray:
        r""":math:`z = \mu + \sigma \odot \varepsilon` for every row of ``noise``.

        Parameters
        ----------
        noise : array_like, shape (n, D)
            :math:`\varepsilon`.

        Returns
        -------
        ndarray, shape (n, D)
            The samples.
        """
        z = _checks.samples(noise, self.dim, "noise") * self.std
        z += self.mean
        return z

    def _standardize(self, z: ArrayLike) -> np.ndarray:
        eps = _checks.samples(z, self.dim) - self.mean  # a new array: (z - mu) / sigma
        eps *= 1.0 / self.std
        return eps

    def log_prob_per_dimension(self, z: ArrayLike) -> np.ndarray:
        eps = self._standardize(z)
        return -0.5 * _LOG_2PI - self.log_std - 0.5 * eps**2

    def log_prob(self, z: ArrayLike) -> np.ndarray:
        eps = self._standardize(z)
        squares = np.einsum("ij,ij->i", eps, eps)
        return -0.5 * self.dim * _LOG_2PI - self.log_std.sum() - 0.5 * squares

    def score(self, z: ArrayLike) -> np.ndarray:
        eps = self._standardize(z)
        return np.concatenate([eps / self.std, eps**2 - 1.0], axis=1)

    def score_mean(self, z: ArrayLike, weights: ArrayLike, *, squared: bool = False):
        if np.ndim(weights) != 1:
            return Family.score_mean(self, z, weights, squared=squared)
        eps = self._standardize(z)  # a new array, updated in place below
        w = _weights(weights, (len(eps), self.num_params))
        if not squared:  # sum_i w_i eps_i / sigma and sum_i w_i (eps_i^2 - 1)
            d_mean = np.einsum("i,ij->j", w, eps) / self.std
            d_log_std = np.einsum("i,ij->j", w, np.square(eps, out=eps)) - w.sum()
        else:  # sum_i w_i eps_i^2 / sigma^2 and sum_i w_i (eps_i^2 - 1)^2
            eps *= eps
            d_mean = np.einsum("i,ij->j", w, eps) / self.std**2
            eps -= 1.0
            d_log_std = np.einsum("i,ij->j", w, np.square(eps, out=eps))
        return np.concatenate([d_mean, d_log_std]) / len(eps)

    def entropy(self) -> float:
        r""":math:`H[q_\phi] = \sum_d \bigl(\tfrac12 \ln(2\pi e) + \ln\sigma_d\bigr)`.

        Returns
        -------
        float
            The entropy in nats.
        """
        return float(self.dim * 0.5 * (_LOG_2PI + 1.0) + self.log_std.sum())

    def entropy_gradient(self) -> np.ndarray:
        r"""The entropy's gradient: 0 for each mean, 1 for each :math:`\ln\sigma_d`.

        Returns
        -------
        ndarray, shape (2 * D,)
            The gradient, in the order of ``params``.
        """
        return np.concatenate([np.zeros(self.dim), np.ones(self.dim)])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow."""
    return np.exp(-np.logaddexp(0.0, -x))


class Bernoulli(Family):
    r"""Independent bits, :math:`q(z_d = 1) = \pi_d = \sigma(\phi_d)`; samples are floats 0.0 and 1.0.

    Parameters
    ----------
    logits : array_like, shape (D,) or scalar
        :math:`\phi`.

    Examples
    --------
    >>> q = Bernoulli(logits=[0.0, 2.0])
    >>> z = q.sample(3, rng=0)
    >>> z.dtype, q.score(z).shape
    (dtype('float64'), (3, 2))
    """

    def __init__(self, logits: ArrayLike) -> None:
        logits = np.atleast_1d(_checks.real_array(logits, "logits"))
        if logits.ndim != 1:
            raise ValueError(f"logits must be a scalar or 1-D, not {logits.shape}")
        self.dim = int(logits.size)
        self._params = logits

    @property
    def params(self) -> np.ndarray:
        return self._params

    @property
    def logits(self) -> np.ndarray:
        r""":math:`\phi`, shape ``(D,)``."""
        return self._params

    @property
    def probs(self) -> np.ndarray:
        r""":math:`\pi_d = q(z_d = 1)`, shape ``(D,)``."""
        return _sigmoid(self._params)

    @property
    def param_dims(self) -> np.ndarray:
        return np.arange(self.dim)

    def __repr__(self) -> str:
        return _repr(self, logits=self.logits)

    def with_params(self, params: ArrayLike) -> Bernoulli:
        return Bernoulli(_same_shape(params, self._params))

    def sample(self, num_samples: int, *, rng: RNGLike = None) -> np.ndarray:
        num_samples = _num_samples(num_samples, self.dim)
        uniform = _checks.generator(rng).random((num_samples, self.dim))
        return (uniform < self.probs).astype(float)

    def log_prob_per_dimension(self, z: ArrayLike) -> np.ndarray:
        return _binary(z, self.dim) * self.logits - np.logaddexp(0.0, self.logits)

    def score(self, z: ArrayLike) -> np.ndarray:
        z = _binary(z, self.dim)  # 1 - pi as sigma(-phi): exact where pi rounds to 1
        return np.where(z == 1.0, _sigmoid(-self.logits), -self.probs)

    def score_mean(self, z: ArrayLike, weights: ArrayLike, *, squared: bool = False):
        if np.ndim(weights) != 1:
            return Family.score_mean(self, z, weights, squared=squared)
        z = _binary(z, self.dim)
        w, p = _weights(weights, z.shape), self.probs
        wz = np.einsum("i,ij->j", w, z)  # sum_i w_i z_i
        if squared:  # (z - p)^2 = z (1 - 2p) + p^2 for z in {0, 1}
            return (wz * (1.0 - 2.0 * p) + p**2 * w.sum()) / len(z)
        return (wz - p * w.sum()) / len(z)


class Categorical(Family):
    r"""Independent categories, :math:`q(z_d = k) = \mathrm{softmax}(\phi_d)_k`; samples are integers.

    Parameters
    ----------
    logits : array_like, shape (D, K)
        One row of :math:`K \ge 2` logits per variable; ``params`` is ``logits.ravel()``.

    Examples
    --------
    >>> q = Categorical(logits=[[0.0, 1.0, -1.0], [2.0, 0.0, 0.0]])
    >>> z = q.sample(4, rng=0)
    >>> z.dtype.kind, q.num_categories, q.score(z).shape
    ('i', 3, (4, 6))
    """

    def __init__(self, logits: ArrayLike) -> None:
        logits = _checks.real_array(logits, "logits")
        if logits.ndim != 2 or logits.shape[1] < 2:
            raise ValueError(f"logits must have shape (D, K), K >= 2: {logits.shape}")
        self.dim, self.num_categories = (int(k) for k in logits.shape)
        self._params = logits.ravel()

    @property
    def params(self) -> np.ndarray:
        return self._params

    @property
    def logits(self) -> np.ndarray:
        r""":math:`\phi`, shape ``(D, K)``."""
        return self._params.reshape(self.dim, self.num_categories)

    @property
    def log_probs(self) -> np.ndarray:
        r""":math:`\ln \pi_{d,k}`, shape ``(D, K)``."""
        shifted = self.logits - self.logits.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    @property
    def probs(self) -> np.ndarray:
        r""":math:`\pi_{d,k}`, shape ``(D, K)``; rows sum to one."""
        return np.exp(self.log_probs)

    @property
    def param_dims(self) -> np.ndarray:
        return np.repeat(np.arange(self.dim), self.num_categories)

    def __repr__(self) -> str:
        return _repr(self, logits=self.logits)

    def with_params(self, params: ArrayLike) -> Categorical:
        return Categorical(_same_shape(params, self._params).reshape(self.dim, -1))

    def sample(self, num_samples: int, *, rng: RNGLike = None) -> np.ndarray:
        num_samples = _num_samples(num_samples, self.num_params)
        uniform = _checks.generator(rng).random((num_samples, self.dim, 1))
        cumulative = np.cumsum(self.probs, axis=1)[:, :-1]
        return (uniform >= cumulative).sum(axis=2)

    def _indices(self, z: ArrayLike) -> np.ndarray:
        z = _checks.samples(z, self.dim)
        if not np.all((z == np.floor(z)) & (z >= 0) & (z < self.num_categories)):
            raise ValueError(
                f"z must hold category indices 0..{self.num_categories - 1}"
            )
        return z.astype(int)

    def log_prob_per_dimension(self, z: ArrayLike) -> np.ndarray:
        return self.log_probs[np.arange(self.dim), self._indices(z)]

    def score(self, z: ArrayLike) -> np.ndarray:
        one_hot = self._indices(z)[:, :, None] == np.arange(self.num_categories)
        # 1 - pi_k as the others' sum where pi_k is largest: exact also where it rounds to 1
        probs = self.probs
        top = np.arange(self.num_categories) == np.argmax(probs, axis=1)[:, None]
        complement = np.where(top, (probs * ~top).sum(axis=1, keepdims=True), 1 - probs)
        return np.where(one_hot, complement, -probs).reshape(len(one_hot), -1)

    def score_mean(self, z: ArrayLike, weights: ArrayLike, *, squared: bool = False):
        if np.ndim(weights) != 1:
            return Family.score_mean(self, z, weights, squared=squared)
        z = self._indices(z)
        w, p = _weights(weights, (len(z), self.num_params)), self.probs.ravel()
        index = (z + self.num_categories * np.arange(self.dim)).ravel()
        counts = np.bincount(index, np.repeat(w, self.dim), self.num_params)
        if squared:  # ([z = k] - p)^2 = [z = k] (1 - 2p) + p^2
            return (counts * (1.0 - 2.0 * p) + p**2 * w.sum()) / len(z)
        return (counts - p * w.sum()) / len(z)

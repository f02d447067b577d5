"""How fast is `elbo_gradient`? A benchmark, not a test.

Times the score-function ELBO gradient for a 10-dimensional diagonal Gaussian q
with 100 000 samples on a cheap model (a standard normal prior and a Gaussian
likelihood of one observation per dimension), beside

* the floor: the time merely to draw the same samples with ``q.sample``;
* the model's ``log_joint`` on those samples, which every estimator must call,
  so that floor + model bounds what any NumPy estimator could reach;
* the same estimator in PyTorch, float64, with autograd (a surrogate loss whose
  gradient is the estimate), if ``torch`` is importable; otherwise that line is
  skipped.

Run it from the repository root with the project's environment::

    .venv/bin/python benchmarks/bench_elbo_gradient.py

Targets: at most 3x the floor, and at least 2x faster than PyTorch. Each time is
the best of several interleaved repetitions, so that load on the machine hits all
alike; the ratios printed are what matters, as machines differ.
"""

from __future__ import annotations

import math
import time

import numpy as np

from elbo_grad import DiagonalGaussian, elbo_gradient

DIM = 10
NUM_SAMPLES = 100_000
REPEATS = 25
LOG_2PI = math.log(2.0 * math.pi)

x = np.linspace(-1.0, 1.0, DIM)
q = DiagonalGaussian(mean=np.linspace(-0.5, 0.5, DIM), log_std=np.full(DIM, -0.3))


def log_joint(z: np.ndarray) -> np.ndarray:
    """ln N(z; 0, I) + ln N(x; z, I), one value per row of z."""
    return (
        -DIM * LOG_2PI
        - 0.5 * np.sum(z * z, axis=1)
        - 0.5 * np.sum((x - z) ** 2, axis=1)
    )


def exact_gradient() -> np.ndarray:
    """Per dimension a conjugate model: d/dmu = x - 2 mu, d/dln(sigma) = 1 - 2 sigma^2."""
    return np.concatenate([x - 2 * q.mean, 1 - 2 * q.std**2])


def torch_estimator():
    """The same estimator with PyTorch autograd in float64, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    generator = torch.Generator().manual_seed(2014)
    x_t = torch.tensor(x, dtype=torch.float64)
    mean = torch.tensor(q.mean, dtype=torch.float64, requires_grad=True)
    log_std = torch.tensor(q.log_std, dtype=torch.float64, requires_grad=True)

    def estimate() -> np.ndarray:
        mean.grad = log_std.grad = None
        noise = torch.randn(NUM_SAMPLES, DIM, dtype=torch.float64, generator=generator)
        z = (mean + torch.exp(log_std) * noise).detach()
        log_q = (
            -0.5 * LOG_2PI - log_std - 0.5 * ((z - mean) / torch.exp(log_std)) ** 2
        ).sum(1)
        log_p = -DIM * LOG_2PI - 0.5 * (z * z).sum(1) - 0.5 * ((x_t - z) ** 2).sum(1)
        surrogate = (
            (log_p - log_q).detach() * log_q
        ).mean()  # its gradient is the estimate
        surrogate.backward()
        return torch.cat([mean.grad, log_std.grad]).numpy()

    return estimate


def best_times(functions: dict, repeats: int = REPEATS) -> tuple[dict, dict]:
    """The best of ``repeats`` timings of each function, interleaved."""
    best = {name: math.inf for name in functions}
    results = {}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            results[name] = function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


def main() -> None:
    rng = np.random.default_rng(2014)
    samples = q.sample(NUM_SAMPLES, rng=rng)
    functions = {
        "draw the samples (floor)": lambda: q.sample(NUM_SAMPLES, rng=rng),
        "the model's log_joint alone": lambda: log_joint(samples),
        "elbo_gradient": lambda: elbo_gradient(log_joint, q, NUM_SAMPLES, rng=rng),
        "elbo_gradient, return_terms=True": lambda: elbo_gradient(
            log_joint, q, NUM_SAMPLES, rng=rng, return_terms=True
        ),
    }
    torch = torch_estimator()
    if torch is not None:
        functions["PyTorch float64 autograd"] = torch
    times, results = best_times(functions)
    print(
        f"q: {DIM}-dimensional DiagonalGaussian, {NUM_SAMPLES:,} samples; best of {REPEATS}"
    )
    for name, seconds in times.items():
        print(f"  {name:34s} {1e3 * seconds:8.1f} ms")
    ratio = times["elbo_gradient"] / times["draw the samples (floor)"]
    print(
        f"elbo_gradient / floor   = {ratio:.2f}  (target <= 3: {'met' if ratio <= 3 else 'MISSED'})"
    )
    if torch is None:
        print("PyTorch is not installed: its comparison is skipped")
    else:
        speedup = times["PyTorch float64 autograd"] / times["elbo_gradient"]
        met = "met" if speedup >= 2 else "MISSED"
        print(f"PyTorch / elbo_gradient = {speedup:.2f}  (target >= 2: {met})")
        unavoidable = (
            times["draw the samples (floor)"] + times["the model's log_joint alone"]
        )
        ceiling = times["PyTorch float64 autograd"] / unavoidable
        print(
            f"PyTorch / (floor + log_joint) = {ceiling:.2f}  (the most any NumPy"
            " estimator could reach here: it must draw the samples and call the model)"
        )
    estimate = results["elbo_gradient"]
    worst = np.max(
        np.abs(estimate.gradient - exact_gradient()) / estimate.standard_error
    )
    print(f"largest deviation from the exact gradient: {worst:.1f} standard errors")


if __name__ == "__main__":
    main()

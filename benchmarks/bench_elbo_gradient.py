"""How fast is `elbo_gradient`? A benchmark, not a test.

Times the score-function ELBO gradient for a 10-dimensional diagonal Gaussian
q with 100 000 samples, on a cheap model (a standard normal prior and a
Gaussian likelihood of one observation per dimension), beside

* the floor: the time merely to draw the same samples with ``q.sample``;
* a naive per-sample Python loop computing the same estimate.

Run it from the repository root with the project's environment::

    .venv/bin/python benchmarks/bench_elbo_gradient.py

Targets: within 3x of the floor, and at least 50x faster than the loop.
Each time is the best of several interleaved repetitions (the loop, being
slow, runs once); the ratios printed are what matters, as machines differ.
"""

from __future__ import annotations

import math
import time

import numpy as np

from elbo_grad import DiagonalGaussian, elbo_gradient

DIM = 10
NUM_SAMPLES = 100_000
REPEATS = 15
LOG_2PI = math.log(2.0 * math.pi)

x = np.linspace(-1.0, 1.0, DIM)
q = DiagonalGaussian(mean=np.linspace(-0.5, 0.5, DIM), log_std=np.full(DIM, -0.3))


def log_joint(z: np.ndarray) -> np.ndarray:
    """ln N(z; 0, I) + ln N(x; z, I), one value per row of z."""
    return -DIM * LOG_2PI - 0.5 * np.sum(z * z, axis=1) - 0.5 * np.sum((x - z) ** 2, axis=1)


def exact_gradient() -> np.ndarray:
    """Per dimension a conjugate model with one observation: d/dmu = x - 2 mu, d/dln(sigma) = 1 - 2 sigma^2."""
    return np.concatenate([x - 2 * q.mean, 1 - 2 * q.std**2])


def naive_loop(num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """The same estimator, one sample at a time, as a first attempt might write it."""
    mean, log_std, std = q.mean, q.log_std, q.std
    total = np.zeros(2 * DIM)
    for _ in range(num_samples):
        z = mean + std * rng.standard_normal(DIM)
        log_p = -DIM * LOG_2PI - 0.5 * np.sum(z * z) - 0.5 * np.sum((x - z) ** 2)
        eps = (z - mean) / std
        log_q = np.sum(-0.5 * LOG_2PI - log_std - 0.5 * eps**2)
        score = np.concatenate([eps / std, eps**2 - 1.0])
        total += (log_p - log_q) * score
    return total / num_samples


def best_times(functions: dict, repeats: int = REPEATS) -> tuple[dict, dict]:
    """The best of ``repeats`` timings of each function, interleaved so that load on the machine hits all alike."""
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
    times, results = best_times(
        {
            "floor": lambda: q.sample(NUM_SAMPLES, rng=rng),
            "elbo_gradient": lambda: elbo_gradient(log_joint, q, NUM_SAMPLES, rng=rng),
            "with terms": lambda: elbo_gradient(log_joint, q, NUM_SAMPLES, rng=rng, return_terms=True),
        }
    )
    floor, vectorised_no_terms, vectorised = times["floor"], times["elbo_gradient"], times["with terms"]
    gradient, terms = results["with terms"]
    loop_times, loop_results = best_times({"loop": lambda: naive_loop(NUM_SAMPLES, rng)}, repeats=1)
    loop, loop_gradient = loop_times["loop"], loop_results["loop"]

    standard_error = terms.std(axis=0, ddof=1) / math.sqrt(NUM_SAMPLES)
    worst = lambda g: float(np.max(np.abs(g - exact_gradient()) / standard_error))  # noqa: E731

    print(f"q: {DIM}-dimensional DiagonalGaussian, {NUM_SAMPLES:,} samples; best of {REPEATS} runs")
    print(f"  draw the samples (floor)          {1e3 * floor:9.1f} ms")
    print(f"  elbo_gradient                     {1e3 * vectorised_no_terms:9.1f} ms")
    print(f"  elbo_gradient, return_terms=True  {1e3 * vectorised:9.1f} ms")
    print(f"  naive per-sample Python loop      {1e3 * loop:9.1f} ms")
    ratio_floor = vectorised_no_terms / floor
    ratio_loop = loop / vectorised_no_terms
    print(f"elbo_gradient / floor = {ratio_floor:.2f}   (target <= 3: {'met' if ratio_floor <= 3 else 'MISSED'})")
    print(f"loop / elbo_gradient  = {ratio_loop:.0f}   (target >= 50: {'met' if ratio_loop >= 50 else 'MISSED'})")
    print(
        "largest deviation from the exact gradient, in standard errors: "
        f"vectorised {worst(gradient):.1f}, loop {worst(loop_gradient):.1f}"
    )


if __name__ == "__main__":
    main()

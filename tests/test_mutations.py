"""Every link's check can fail: wrong versions of each link are fed to the check the chapters call.

For each link L1–L8 (and the general identity after L7) the book's own form
must pass ``check_link`` and each deliberately wrong version must be
rejected. A last test makes sure the derivation chapters call ``check_link``
for every link, so that weakening a chapter's check fails this module.
"""

import json
import pathlib
import re

import pytest
import sympy as sp

from elbo_grad.symbolic import (
    LINKS,
    check_link,
    examples,
    gradient_of_integral,
    integral,
)

CHAPTERS = pathlib.Path(__file__).resolve().parents[1] / "chapters"
EXAMPLES = {q.name: (q, log_joint) for q, log_joint in examples()}


def _seed_index_slip(parts_at, samples):
    """(1/k) sum_k T(z_k) with k both the index and the count: every term is the last sample."""
    k = len(samples)
    last = samples[k - 1]
    return (
        sum(
            (parts_at(last).log_p - parts_at(last).log_q) * parts_at(last).score
            for _ in samples
        )
        / k
    )


def _one_over_k_minus_one(parts_at, samples):
    total = sum(
        (parts_at(z).log_p - parts_at(z).log_q) * parts_at(z).score for z in samples
    )
    return total / (len(samples) - 1)


def _without_entropy_term(parts_at, samples):
    return sum(parts_at(z).log_p * parts_at(z).score for z in samples) / len(samples)


def _flipped_sign(parts_at, samples):
    return -LINKS["L8"](parts_at, samples)


MUTATIONS = {
    "L1": {
        "dropped entropy term": [gradient_of_integral(lambda p: p.q * p.log_p)],
        "flipped sign": [
            gradient_of_integral(lambda p: p.q * p.log_p),
            gradient_of_integral(lambda p: p.q * p.log_q),
        ],
        "missing factor q": [
            gradient_of_integral(lambda p: p.q * p.log_p),
            gradient_of_integral(lambda p: -p.log_q),
        ],
    },
    "L2": {
        "dropped third term": LINKS["L2"][:2],
        "flipped sign": [
            LINKS["L2"][0],
            integral(lambda p: p.log_q * p.grad_q),
            LINKS["L2"][2],
        ],
        "missing factor q": LINKS["L2"][:2] + [integral(lambda p: -p.score)],
    },
    "L3": {
        "missing factor q": [integral(lambda p: p.grad_q / p.q)],
        "flipped sign": [integral(lambda p: -(p.grad_q / p.q) * p.q)],
        "q times gradient": [integral(lambda p: p.grad_q * p.q)],
    },
    "L4": {
        "dropped gradient": [integral(lambda p: p.q)],
        "unnormalised q squared": [gradient_of_integral(lambda p: p.q * p.q)],
    },
    "L5": {
        "dropped term": [integral(lambda p: p.log_p * p.grad_q)],
        "flipped sign": [integral(lambda p: (p.log_p + p.log_q) * p.grad_q)],
    },
    "L6": {
        "missing factor q": [integral(lambda p: (p.log_p - p.log_q) * p.score)],
        "flipped sign": [integral(lambda p: -(p.log_p - p.log_q) * p.q * p.score)],
        "divided by q": [integral(lambda p: (p.log_p - p.log_q) * p.score / p.q)],
    },
    "L7": {
        "dropped -ln q": lambda p: p.log_p * p.score,
        "extra factor q": lambda p: (p.log_p - p.log_q) * p.q * p.score,
        "flipped sign": lambda p: -(p.log_p - p.log_q) * p.score,
    },
    "L8": {
        "seed's index slip": _seed_index_slip,
        "1/(k-1) for 1/k": _one_over_k_minus_one,
        "dropped -ln q": _without_entropy_term,
        "flipped sign": _flipped_sign,
    },
}

# Which families each link is mutated on: a continuous and a discrete one at
# least; the Gaussian where it is cheap.
FAMILIES = {
    "L1": ("exponential", "Bernoulli"),
    "L2": ("exponential", "Bernoulli"),
    "L3": ("Gaussian", "exponential", "Bernoulli"),
    "L4": ("exponential", "Bernoulli"),
    "L5": ("exponential", "Bernoulli"),
    "L6": ("exponential", "Bernoulli"),
    "L7": ("Gaussian", "exponential", "Bernoulli"),
    "L8": ("Gaussian", "Bernoulli"),
}

CASES = [
    (link, family, name)
    for link, mutations in MUTATIONS.items()
    for family in FAMILIES[link]
    for name in mutations
]


@pytest.mark.parametrize(
    ("link", "family"), [(link, f) for link in MUTATIONS for f in FAMILIES[link]]
)
def test_the_book_form_passes(link, family):
    q, log_joint = EXAMPLES[family]
    assert check_link(link, q, log_joint)


@pytest.mark.parametrize(("link", "family", "mutation"), CASES)
def test_a_wrong_version_is_rejected(link, family, mutation):
    q, log_joint = EXAMPLES[family]
    candidate = MUTATIONS[link][mutation]
    assert not check_link(link, q, log_joint, candidate=candidate)


def test_every_link_has_at_least_two_mutations():
    assert set(MUTATIONS) == {f"L{i}" for i in range(1, 9)}
    assert all(len(mutations) >= 2 for mutations in MUTATIONS.values())


def _general_families():
    gaussian_q, _ = EXAMPLES["Gaussian"]
    mu, log_sigma = gaussian_q.params
    z = gaussian_q.variable
    exponential_q, _ = EXAMPLES["exponential"]
    (eta,) = exponential_q.params
    return [
        (gaussian_q, mu * z**2 + log_sigma * z),
        (exponential_q, sp.exp(eta) * z**2 + eta * z),
    ]


@pytest.mark.parametrize("index", [0, 1])
def test_general_identity_and_its_mutations(index):
    q, function = _general_families()[index]
    assert check_link("general", q, function=function)
    only_score_term = [LINKS["general"][0]]
    flipped = [LINKS["general"][0], ("expectation", lambda p: -p.grad_f)]
    assert not check_link("general", q, function=function, candidate=only_score_term)
    assert not check_link("general", q, function=function, candidate=flipped)


def test_a_moving_support_fails_l2_and_l4():
    from elbo_grad.symbolic import uniform

    _, log_joint = EXAMPLES["exponential"]
    assert not check_link("L2", uniform(), log_joint)
    assert not check_link("L4", uniform(), log_joint)


def test_unknown_link_raises():
    q, log_joint = EXAMPLES["Bernoulli"]
    with pytest.raises(ValueError, match="link"):
        check_link("L9", q, log_joint)


def _chapter_code(name):
    notebook = json.loads((CHAPTERS / name).read_text())
    return "\n".join(
        "".join(cell["source"])
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    )


def test_chapters_call_the_checks():
    """Each link's check is called, unmodified, in the chapter that derives it, and asserted."""
    where = {
        "derivation-integrals.ipynb": ("L1", "L2"),
        "derivation-score.ipynb": ("L3", "L4"),
        "derivation-expectation.ipynb": ("L5", "L6", "L7", "L8", "general"),
    }
    for chapter, links in where.items():
        code = _chapter_code(chapter)
        assert "candidate" not in code, (
            f"{chapter} must check the book's form, not a candidate"
        )
        for link in links:
            call = re.compile(rf"assert\s+check_link\(\s*[\"']{link}[\"']")
            loop = re.compile(r"assert all\(\s*check_link\(\s*link\b")
            listed = re.search(rf"[\"']{link}[\"']", code)
            assert call.search(code) or (loop.search(code) and listed), (
                f"{chapter} does not assert check_link for {link}"
            )

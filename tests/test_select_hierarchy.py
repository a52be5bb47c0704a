"""The forward search keeps the marginality principle (bayesreg/assessment/term_hierarchy.py): an
interaction enters only after its lower-order terms, as projpred's search does.

The data make the interaction the single best first term (y = 3 x1 x2 + noise, x1 and x2 with mean
zero so the main effects explain almost nothing alone): an unconstrained search takes ``x1:x2``
first, which the tests check too, so the constraint is what moves it; with the constraint both main
effects come first. Each search (Gaussian rows, Gaussian Gram statistics, GLM Newton) is checked,
and a formula fit end to end. The effect sizes leave no room for chance: the interaction's
reduction of the residual sum of squares is ~9 n against ~n/50 for a noise column.
"""

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.assessment.projection import forward_search
from bayesreg.assessment.projection_glm import forward_search_glm
from bayesreg.assessment.projection_gram import GramStatistics, forward_search_gram
from bayesreg.assessment.term_hierarchy import eligible, parents_of
from seeds import shifted

NAMES = ["x1", "x2", "x3", "x1:x2"]
PARENTS = parents_of(NAMES)


def _data(seed, n=300):
    generator = np.random.default_rng(shifted(seed))
    x = generator.normal(size=(n, 3))
    X = np.column_stack([x, x[:, 0] * x[:, 1]])
    return X, generator


def test_parents_are_the_proper_subsets_present():
    names = ["a", "b", "a:b", "c", "a:b:c", "b:c"]
    parents = parents_of(names)
    assert parents[2] == {0, 1}
    assert parents[4] == {0, 1, 2, 3, 5}  # a, b, a:b, c, b:c; a:c is absent and constrains nothing
    assert parents[0] == parents[1] == parents[3] == frozenset()
    assert parents_of(["a:b"]) == [frozenset()]  # an interaction without its main effects may enter at once
    assert eligible(2, [0, 1], parents) and not eligible(2, [0], parents) and eligible(2, [], None)


def test_gaussian_search_adds_main_effects_before_their_interaction():
    X, generator = _data(1)
    draws = 3 * X[:, 3] + 0.1 * generator.normal(size=(40, len(X)))  # reference draws of the mean
    sigma = np.full(40, 1.0)
    assert forward_search(X, draws, sigma, True, 4)[0] == 3  # unconstrained: the interaction first
    order = forward_search(X, draws, sigma, True, 4, parents=PARENTS)
    assert order.index(3) > max(order.index(0), order.index(1))
    assert order.index(3) == max(order.index(0), order.index(1)) + 1  # once allowed, still the best term


def test_gram_search_adds_main_effects_before_their_interaction():
    X, generator = _data(2)
    coef = np.array([0.0, 0.0, 0.0, 3.0]) + 0.05 * generator.normal(size=(40, 4))
    mean = X.mean(axis=0)
    stats = GramStatistics(len(X), mean, (X - mean).T @ (X - mean))
    sigma = np.full(40, 1.0)
    assert forward_search_gram(stats, coef, sigma, True, 4)[0] == 3
    order = forward_search_gram(stats, coef, sigma, True, 4, parents=PARENTS)
    assert order.index(3) > max(order.index(0), order.index(1))


def test_glm_search_adds_main_effects_before_their_interaction():
    X, generator = _data(3)
    eta = 2.5 * X[:, 3] + 0.05 * generator.normal(size=(10, len(X)))
    prob = 1 / (1 + np.exp(-eta))
    assert forward_search_glm(X, prob, True, 4, "bernoulli")[0] == 3
    order = forward_search_glm(X, prob, True, 4, "bernoulli", parents=PARENTS)
    assert order.index(3) > max(order.index(0), order.index(1))


@pytest.mark.parametrize("cv_method", ["loo", "kfold"])
def test_a_formula_fit_selects_an_interaction_after_its_main_effects(cv_method):
    X, generator = _data(4, n=200)
    frame = pd.DataFrame(X[:, :3], columns=["x1", "x2", "x3"])
    frame["y"] = 3 * X[:, 3] + generator.normal(size=len(frame))
    est = br.LinearRegression(br.Normal(2.0), formula="y ~ x1 + x2 + x3 + x1:x2").fit(
        frame, draws=1000, tune=500, chains=2, random_seed=shifted(5), progressbar=False)
    selection = br.select(est, frame, cv_method=cv_method, k=3, random_seed=shifted(6))
    for path in [selection.order, *(selection.fold_orders or [])]:
        names = [selection.term_names[t] for t in path]
        assert names.index("x1:x2") > max(names.index("x1"), names.index("x2")), names

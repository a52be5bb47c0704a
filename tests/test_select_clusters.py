"""The GLM search on clusters of the reference draws (projpred's ``nclusters``; issue 23):
bayesreg/assessment/draw_clusters.py and ``br.select(..., search_draws=...)``.

References: the per-draw projection and search (as many clusters as draws); draws built as copies
of a few distinct ones (k-means must find exactly those, so the clustered divergence is the
per-draw one summed); the score equations of each cluster's draws written out; the simulated truth.
"""

import warnings

import numpy as np
import pytest
from scipy import special

import bayesreg as br
from bayesreg.assessment.draw_clusters import cluster_draws
from bayesreg.assessment.projection_glm import FAMILIES, forward_search_glm, glm_divergence, project_glm
from bayesreg.assessment.submodels import Reference, search
from seeds import shifted

N, P, S = 50, 6, 40


def _draws(seed, family):
    """Linear predictors that are no submodel's (column effects plus draw-row noise) and their means."""
    generator = np.random.default_rng(seed)
    X = generator.normal(size=(N, P))
    eta = 0.2 + (generator.normal(size=(S, P)) * 0.4 + [0.8, 0, -0.6, 0, 0.3, 0]) @ X.T
    eta = eta + 0.3 * generator.normal(size=(S, N))
    return generator, X, eta, FAMILIES[family].mean(eta)


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_as_many_clusters_as_draws_is_the_per_draw_search(family):
    """search_draws >= S: each draw its own cluster of size 1 (projpred returns the draws), so the
    search is the one over every draw."""
    _, X, eta, mean = _draws(shifted(2501), family)
    targets, sizes, labels = cluster_draws(eta, mean, S, random_seed=shifted(1))
    np.testing.assert_array_equal(targets, mean)
    assert np.all(sizes == 1) and list(labels) == list(range(S))
    reference = Reference(X, mean, None, True, family)
    assert search(reference, P, [[j] for j in range(P)], S, shifted(1)) == forward_search_glm(X, mean, True, P, family)


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_clusters_of_identical_draws_weigh_as_their_draws(family):
    """Five distinct draws, each copied 8 times: k-means with 5 clusters finds exactly them (any
    other partition has a positive within-cluster sum of squares), each of size 8. The clustered
    divergence (each cluster counted 8 times) equals the per-draw sum over the 40 draws to 1e-10
    relative (the same projections), and the search paths are equal."""
    generator, X, eta, mean = _draws(shifted(2502), family)
    eta, mean = np.repeat(eta[:5], 8, axis=0), np.repeat(mean[:5], 8, axis=0)
    order = generator.permutation(S)
    eta, mean = eta[order], mean[order]
    targets, sizes, labels = cluster_draws(eta, mean, 5, random_seed=shifted(2))
    assert sorted(sizes) == [8.0] * 5 and len(targets) == 5
    for c in range(5):
        np.testing.assert_allclose(mean[labels == c], np.repeat(targets[c][None], 8, axis=0), rtol=1e-14)  # a mean of 8 equal numbers: rounding
    columns = [0, 2]
    clustered = glm_divergence(X, targets, columns, True, family, draw_weights=sizes)
    per_draw = glm_divergence(X, mean, columns, True, family)
    assert clustered == pytest.approx(per_draw, rel=1e-10)
    assert forward_search_glm(X, targets, True, P, family, draw_weights=sizes) == forward_search_glm(X, mean, True, P, family)


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_cluster_sizes_decide_when_the_clusters_disagree(family):
    """30 copies of a draw driven by x0 (effect 1.0) and 10 of one driven by x1 (effect 1.5): one
    x1-draw loses more by leaving x1 out than one x0-draw by leaving x0 out (~ 1.5^2 against 1), but
    30 of the latter outweigh 10 of the former, so the per-draw search and the clustered one (2
    clusters, counted 30 and 10 times) take x0 first; counting each cluster once would take x1."""
    generator, X, _, _ = _draws(shifted(2506), family)
    eta = np.vstack([np.tile(1.0 * X[:, 0], (30, 1)), np.tile(1.5 * X[:, 1], (10, 1))])[generator.permutation(S)]
    mean = FAMILIES[family].mean(eta)
    assert forward_search_glm(X, mean, True, 1, family) == [0]
    assert search(Reference(X, mean, None, True, family), 1, [[j] for j in range(P)], 2, shifted(6)) == [0]
    targets, _, _ = cluster_draws(eta, mean, 2, random_seed=shifted(6))
    assert forward_search_glm(X, targets, True, 1, family) == [1]  # unweighted clusters: the other answer


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_a_cluster_projection_solves_its_draws_summed_weighted_score_equations(family):
    """One parameter vector per cluster, from the mean target: ``sum_{s in c} Z'V(A'(o + Z b_c) - m_s)
    = 0`` over the cluster's draws, with row weights and an offset, to 1e-10 relative to the size of
    ``sum_s |Z|'V|m_s|`` (Newton's residual is rounding)."""
    generator, X, eta, mean = _draws(shifted(2503), family)
    offset, weights = 0.3 * generator.normal(size=N), generator.uniform(0.2, 3.0, N)
    targets, sizes, labels = cluster_draws(eta + offset, FAMILIES[family].mean(eta + offset), 6,
                                           random_seed=shifted(3), weights=weights)
    mean = FAMILIES[family].mean(eta + offset)
    assert len(targets) == 6 and sizes.sum() == S
    columns = [0, 2, 4]
    projection = project_glm(X, targets, columns, True, family, offset=offset, weights=weights)
    Z = np.hstack([np.ones((N, 1)), X[:, columns]])
    fitted = FAMILIES[family].mean(projection.linear_predictor(X, offset))
    for c in range(6):
        members = mean[labels == c]
        score = np.sum((weights * (fitted[c] - members)) @ Z, axis=0)
        scale = np.sum((weights * np.abs(members)) @ np.abs(Z), axis=0)
        assert np.max(np.abs(score) / scale) < 1e-10
    again = cluster_draws(eta + offset, mean, 6, random_seed=shifted(3), weights=weights)
    np.testing.assert_array_equal(again[2], labels)  # the same seed: the same clusters


def test_integer_row_weights_cluster_as_repeated_rows():
    """Coordinates sqrt(v_i) eta_si: the distances between draws are the repeated rows', so k-means
    (same seed) finds the same clusters, and their targets are the repeated rows' (1e-12: means of
    the same numbers)."""
    generator, X, eta, mean = _draws(shifted(2505), "poisson")
    copies = generator.integers(0, 4, size=N)
    repeat = np.repeat(np.arange(N), copies)
    weighted = cluster_draws(eta, mean, 5, random_seed=shifted(5), weights=copies.astype(float))
    repeated = cluster_draws(eta[:, repeat], mean[:, repeat], 5, random_seed=shifted(5))
    np.testing.assert_array_equal(weighted[2], repeated[2])
    np.testing.assert_allclose(weighted[0][:, repeat], repeated[0], rtol=1e-12)


def test_search_draws_must_be_a_positive_integer():
    _, X, eta, mean = _draws(shifted(2504), "bernoulli")
    with pytest.raises(ValueError, match="search_draws"):
        cluster_draws(eta, mean, 0)


@pytest.mark.parametrize("seed", [shifted(2510 + k) for k in range(4)])
def test_clustered_search_ranks_the_signals_first(seed):
    """A logistic NUTS fit (n = 250, three signals of logit effect 1.2 per sd among 8 columns),
    searched on 20 clusters of its 600 draws: the three signals first, on each of four data sets.
    Why not seed luck: a coefficient's posterior sd is ~ 0.2 here, so each signal is ~ 6 sd from 0,
    and the divergence it removes (~ n 1.2^2 p(1-p) / 2 ~ 40 nats) dwarfs a noise column's
    (~ chi^2_1 / 2); the clusters' mean targets keep that (they average the draws' probabilities)."""
    generator = np.random.default_rng(seed)
    X = generator.normal(size=(250, 8))
    y = (generator.uniform(size=250) < special.expit(0.3 + 1.2 * (X[:, 1] - X[:, 3] + X[:, 6]))).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = br.LogisticRegression().fit(X, y, draws=300, tune=300, chains=2, random_seed=seed, progressbar=False)
        selection = br.select(est, X, y, max_terms=4, search_draws=20, random_seed=seed)
    assert set(selection.order[:3]) == {1, 3, 6}

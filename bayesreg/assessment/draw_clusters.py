r"""Clustering of the reference draws for the GLM search (projpred's ``nclusters``).

The forward search of a logistic or Poisson reference projects every candidate by Newton's method;
doing that for each of ~1000 draws at every step is most of the selection's time. projpred
(``R/misc.R``: ``.get_refdist`` and ``.get_p_clust``; ``nclusters = 20`` for the search by default)
clusters the draws instead:

1. k-means (``kmeans(t(f), nclusters, iter.max = 50)``) on the draws' linear predictors
   ``f_s = link(m_s)`` over the training rows (one point per draw, one coordinate per row);
2. each cluster ``c`` is represented by the mean of its draws' means (response scale, the
   projection's targets), ``m_c = (1/|c|) sum_{s in c} m_s``;
3. its weight in the summed divergence is its share of the draws, ``|c| / S``;
4. as many clusters as draws returns the draws themselves (weight ``1/S`` each), as projpred does.

Here the k-means is scikit-learn's (k-means++ start, one start, at most 50 iterations as
projpred's), seeded from ``random_seed``: the clusters, and so the search, are the same for the same
seed. With row weights ``v_i`` (a row counts ``v_i`` times) the coordinates are ``sqrt(v_i) f_si``,
so that distances between draws are those of the repeated rows.

Why the cluster mean is the right target: the projection's loss ``sum_i v_i (A(eta_i) - m_si
eta_i)`` is linear in the target, so one parameter vector minimising the summed loss of a
cluster's draws minimises the loss at their mean target (:mod:`.projection_glm`).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["cluster_draws"]


def cluster_draws(eta, mean, count: int, random_seed=None, weights=None):
    """``(targets, sizes, labels)``: the clusters' mean targets (C, n), how many draws each holds (C,)
    and each draw's cluster (S,), from the draws' linear predictors ``eta`` and means ``mean`` (S, n),
    ``count`` clusters at most (module docstring). ``count >= S``: the draws themselves, each of size 1."""
    S = len(mean)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"search_draws (the number of clusters of draws for the search) must be a positive "
                         f"integer, got {count!r}")
    if count >= S:
        return mean, np.ones(S), np.arange(S)
    if count == 1:
        return mean.mean(axis=0, keepdims=True), np.array([float(S)]), np.zeros(S, dtype=int)
    from sklearn.cluster import KMeans

    points = eta if weights is None else eta * np.sqrt(weights)
    seed = int(np.random.default_rng(random_seed).integers(2**31 - 1))
    with warnings.catch_warnings():  # fewer distinct draws than clusters: fewer clusters, said by the sizes
        warnings.simplefilter("ignore")
        labels = KMeans(n_clusters=int(count), n_init=1, max_iter=50, random_state=seed).fit(points).labels_
    used, labels = np.unique(labels, return_inverse=True)  # clusters 0..C-1, none empty
    targets = np.array([mean[labels == c].mean(axis=0) for c in range(len(used))])
    return targets, np.bincount(labels).astype(float), labels

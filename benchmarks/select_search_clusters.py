"""The logistic forward search alone (n = 250, p = 13, 1000 draws around a sparse truth): 20 evenly
thinned draws (the search before issue 23's clustering) against 20 k-means clusters of the draws
(``search``), alternating in one process so both see the same load.

Usage: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/select_search_clusters.py
"""
import time, numpy as np
from scipy import special
from bayesreg.assessment.projection_glm import forward_search_glm
from bayesreg.assessment.submodels import Reference, search
rng = np.random.default_rng(0)
n, p, S = 250, 13, 1000
X = rng.normal(size=(n, p))
coef = np.zeros(p); coef[[1, 4, 7, 9, 11]] = np.array([3.0, -2.5, 2.0, -2.0, 1.5]) / 2
draws = coef + 0.2 * rng.normal(size=(S, p))
mean = special.expit(draws @ X.T)
groups = [[j] for j in range(p)]
for rep in range(5):
    t = time.perf_counter()
    thin = np.unique(np.linspace(0, S - 1, 20).round().astype(int))
    a = forward_search_glm(X, mean[thin], True, p, "bernoulli", groups=groups)
    t1 = time.perf_counter()
    b = search(Reference(X, mean, None, True, "bernoulli"), p, groups, 20, 1)
    t2 = time.perf_counter()
    truth = {1, 4, 7, 9, 11}
    print(f"thinned {t1 - t:.2f} s, clustered {t2 - t1:.2f} s (the first includes importing scikit-learn); "
          f"signals first: thinned {set(a[:5]) == truth}, clustered {set(b[:5]) == truth}; paths {a} and {b}", flush=True)

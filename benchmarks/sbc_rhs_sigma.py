"""The regularized horseshoe's SBC failure with sigma estimated (n = 30, coef[0]): probes.

The case of ``benchmarks/sbc.py`` (``RegularizedHorseshoe(1, 2, 4, autoscale=False)``, p = 3,
sigma ~ Half-t_4(0, 1) estimated, no intercept), with two changes the benchmark has no options for:

- ``--perm 1,2,0``: the simulated columns (and their true coefficients) permuted before the fit, so
  model position k sees generated column perm[k]. The data sets and sampler seeds are those of
  ``sbc.py --seed SEED``: a failure that follows the generated column lies in the data sets (the
  generator, or chance), one that stays at a model position lies in the model or sampler.
- ``--draws/--tune/--thin``: longer chains (ranks over the same 200 values), to see whether the
  failure is the sampler's mixing.
- ``--reassign 2,1,0``: the same X and noise, the drawn coefficient values moved between columns
  (column k gets drawn value reassign[k], y rebuilt as X w + the same noise): a failure that follows
  the drawn value lies in the coefficient draws, one that stays with column k in X or the noise.

Prints, per generated column, the chi-square p-value (10 bins), the binned ranks and the share of
ranks in the lower half; saves the ranks to ``--save`` if given.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/sbc_rhs_sigma.py --seed 8 [--perm 1,2,0]
        [--draws 1000 --tune 1000 --thin 10] [--reassign 2,1,0]
"""

import argparse
import warnings

import numpy as np

import bayesreg as br
from bayesreg.calibration import _posterior, simulate, uniformity_pvalues
from bayesreg.sampling import SamplingWarning

PRIOR = br.RegularizedHorseshoe(1.0, 2.0, 4.0, autoscale=False)
N, P, CHAINS, BINS = 30, 3, 2, 10


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--replications", type=int, default=400)
    parser.add_argument("--perm", default="0,1,2")
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--tune", type=int, default=300)
    parser.add_argument("--thin", type=int, default=4)
    parser.add_argument("--reassign", default="0,1,2")
    parser.add_argument("--save", default="")
    args = parser.parse_args()
    perm = np.array([int(k) for k in args.perm.split(",")])
    reassign = np.array([int(k) for k in args.reassign.split(",")])
    kept = (args.draws * CHAINS // args.thin + 1) // BINS * BINS - 1  # as bayesreg.calibration.sbc_ranks
    rng = np.random.default_rng(args.seed)  # as sbc_ranks: used by simulate only
    ranks = np.empty((args.replications, P + 1), dtype=int)
    for r in range(args.replications):
        X, y, truth = simulate(PRIOR, rng, n=N, p=P, sigma=None)
        noise = y - X @ truth[:P]
        truth = np.r_[truth[:P][reassign], truth[P]]
        y = X @ truth[:P] + noise
        X, truth = X[:, perm], np.r_[truth[:P][perm], truth[P]]
        settings = dict(draws=args.draws, tune=args.tune, chains=CHAINS, random_seed=args.seed * 100_003 + r,
                        progressbar=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)
            posterior = _posterior(PRIOR, "gaussian", X, y, None, 1.0, False, settings)
        draws = np.hstack([posterior["coef"].to_numpy().reshape(-1, P), posterior["sigma"].to_numpy().reshape(-1, 1)])
        ranks[r] = (draws[::args.thin][:kept] < truth).sum(axis=0)
    pvalues = uniformity_pvalues(ranks, kept + 1)
    edges = np.linspace(0, kept + 1, BINS + 1)
    for position in np.argsort(perm):  # generated column order
        column = ranks[:, position]
        print(f"generated column {perm[position]}, drawn value {reassign[perm[position]]} (model position {position}): "
              f"p = {pvalues[position]:.2g}, binned "
              f"{np.histogram(column, bins=edges)[0].tolist()}, lower half {np.mean(column < (kept + 1) / 2):.3f}")
    print(f"sigma: p = {pvalues[P]:.2g}")
    if args.save:
        np.save(args.save, ranks)


if __name__ == "__main__":
    main()

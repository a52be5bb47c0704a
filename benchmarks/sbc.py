"""Simulation-based calibration at a larger size than the test suite runs.

    .venv/bin/python benchmarks/sbc.py [--replications 400] [--priors fixed,learned] [--seed 7]
        [--only TEXT] [--non-centred]

Prints, per case and parameter, the chi-square p-value that SBC ranks are uniform (10 bins), plus
the binned counts so a skew (over- or under-dispersion) is visible. Groups (``--priors``): fixed
(Normal, Laplace, horseshoes), learned (hyperpriors, Bayesian lasso), mixture (learned Laplace
scales with p > n), global_local (issue 24), elasticnet, intercept (flat
linear intercept), sigma (estimated noise sd), logistic; ``all`` runs every group. Logistic cases
also print how many simulated data sets were completely separable, and the p-values on the
separable and the other data sets apart. ``--only`` keeps the cases whose description matches the
regular expression TEXT; ``--non-centred`` forces the non-centred kernel where the integrated (scale-mixture) one
would be used (``mixture_pays`` patched to False, as benchmarks/global_local.py does): the
simulated data sets depend on the seed only, so the same seed compares the two samplers on the
same data. ``--seed`` changes both the data sets and the sampler seeds.
"""

import argparse
import contextlib
import re
import time

import numpy as np
from scipy import optimize

import bayesreg as br
from bayesreg.calibration import rank_names, sbc_ranks, simulate, uniformity_pvalues
from bayesreg.model import spec as model_spec

P = 3
SEED = 7


def case(prior, n, **options):
    return prior, n, options


GROUPS = {
    "fixed": [case(br.Normal(1.0), 30), case(br.Laplace(1.0), 30), case(br.Horseshoe(autoscale=False), 30),
              case(br.RegularizedHorseshoe(1.0, 2.0, 4.0, autoscale=False), 30)],
    # few rows, so that the hierarchy, not the data, shapes the posterior
    "learned": [case(br.Normal(br.HalfCauchy(1.0)), 4), case(br.Laplace(br.HalfStudentT(3.0, 1.0)), 4),
                case(br.BayesianLasso(r=2.0, delta=2.0), 4)],
    # fewer rows than coefficients: the Laplace scale mixture's reason to exist (bayesreg.model.spec.mixture_pays)
    "mixture": [case(br.Laplace(br.HalfStudentT(3.0, 1.0)), 2), case(br.BayesianLasso(r=2.0, delta=2.0), 2),
                case(br.Laplace(br.HalfCauchy(1.0)), 3, sigma=None, fit_intercept=True)],
    "elasticnet": [case(br.ElasticNet(1.0, 1.0), 30), case(br.ElasticNet(0.3, 2.0), 30)],
    # a group of two and one of one (the lasso); few rows, so that the prior shapes the posterior
    "groups": [case(br.GroupLaplace(1.0, groups=["a", "a", "b"]), 2),
               case(br.GroupLaplace(1.0, groups=["a", "a", "b"]), 10),
               case(br.GroupLaplace(0.5, groups=["a", "a", "a"]), 3, family="bernoulli")],
    # a learned scale per group and the group horseshoe (one local scale per group); tau0 = sigma learned too
    "group-scales": [case(br.Normal(br.HalfCauchy(1.0), groups=["a", "a", "b"]), 2),
                     case(br.Horseshoe(1.0, autoscale=False, groups=["a", "a", "b"]), 20),
                     case(br.Horseshoe(autoscale=False, groups=["a", "a", "b"]), 20, sigma=None)],
    "intercept": [case(br.Normal(1.0), 30, fit_intercept=True), case(br.Laplace(1.0), 30, fit_intercept=True)],
    # the horseshoe's tau0 = sigma, the regularized horseshoe's tau0 and the Bayesian lasso's scale use sigma
    "sigma": [case(br.Normal(1.0), 30, sigma=None, fit_intercept=True), case(br.Horseshoe(autoscale=False), 30, sigma=None),
              case(br.RegularizedHorseshoe(1.0, 2.0, 4.0, autoscale=False), 30, sigma=None),
              case(br.BayesianLasso(r=2.0, delta=2.0), 10, sigma=None, fit_intercept=True)],
    # n = 50, p = 3: about 8 units of Fisher information per coefficient against the prior's 1
    "logistic": [case(br.Normal(1.0), 50, family="bernoulli"), case(br.Laplace(1.0), 50, family="bernoulli"),
                 case(br.ElasticNet(1.0, 1.0), 50, family="bernoulli"),
                 case(br.Normal(br.HalfCauchy(1.0)), 50, family="bernoulli", fit_intercept=True),
                 case(br.Horseshoe(autoscale=False), 50, family="bernoulli", fit_intercept=True),
                 case(br.RegularizedHorseshoe(1.0, 2.0, 4.0, autoscale=False), 50, family="bernoulli", fit_intercept=True)],
    # issue 24: the integrated global-local kernel (linear: n = 2 < p, and n = 30 with sigma estimated,
    # where tau0 = sigma for the horseshoe and sigma enters the regularized horseshoe's tau0)
    # and the horseshoe+ and R2D2 on the non-centred kernel (logistic)
    "global_local": [case(br.Horseshoe(autoscale=False), 2), case(br.RegularizedHorseshoe(1.0, 2.0, 4.0, autoscale=False), 2),
                     case(br.Horseshoe(autoscale=False), 30, sigma=None),
                     case(br.RegularizedHorseshoe(1.0, 2.0, 4.0, autoscale=False), 30, sigma=None),
                     case(br.HorseshoePlus(autoscale=False), 2), case(br.R2D2(0.5, 2.0, autoscale=False), 2),
                     case(br.HorseshoePlus(autoscale=False), 30, sigma=None),
                     case(br.R2D2(0.5, 2.0, autoscale=False), 30, sigma=None, fit_intercept=True),
                     case(br.HorseshoePlus(autoscale=False), 50, family="bernoulli", fit_intercept=True),
                     case(br.R2D2(0.5, 2.0, autoscale=False), 50, family="bernoulli", fit_intercept=True)],
}


def describe(prior, n, options) -> str:
    words = [f"{prior!r}, n = {n}"]
    words += ["logistic"] * (options.get("family") == "bernoulli")
    words += ["intercept"] * options.get("fit_intercept", False)
    words += ["sigma estimated"] * ("sigma" in options and options["sigma"] is None)
    return ", ".join(words)


def separable(X, y01, fit_intercept) -> bool:
    """Complete separation: some (b, w) has (2 y_i - 1)(b + x_i'w) >= 1 for every row (an LP)."""
    design = np.column_stack([np.ones(len(y01)), X]) if fit_intercept else X
    signed = (2 * y01 - 1)[:, None] * design
    result = optimize.linprog(np.zeros(design.shape[1]), A_ub=-signed, b_ub=-np.ones(len(y01)),
                              bounds=(None, None), method="highs")
    return result.status == 0


@contextlib.contextmanager
def non_centred(active: bool):
    original = model_spec.mixture_pays
    if active:
        model_spec.mixture_pays = lambda *args: False
    try:
        yield
    finally:
        model_spec.mixture_pays = original


def separable_mask(prior, n, options, replications, seed=SEED) -> np.ndarray:
    """Which replications' data are separable, replaying sbc_ranks' simulations (its generator is
    default_rng(seed), used only by simulate)."""
    rng = np.random.default_rng(seed)
    return np.array([separable(*simulate(prior, rng, n=n, p=P, **options)[:2], options.get("fit_intercept", False))
                     for _ in range(replications)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=400)
    parser.add_argument("--priors", default="fixed,learned", help=f"groups: {', '.join(GROUPS)}, or all")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--only", default="", help="run only the cases whose description matches this regex")
    parser.add_argument("--non-centred", action="store_true", help="force the non-centred kernel")
    args = parser.parse_args()
    names = list(GROUPS) if args.priors == "all" else args.priors.split(",")
    for prior, n, options in [entry for name in names for entry in GROUPS[name]]:
        if not re.search(args.only, describe(prior, n, options)):
            continue
        started = time.perf_counter()
        with non_centred(args.non_centred):
            ranks, n_values = sbc_ranks(prior, n=n, p=P, replications=args.replications, seed=args.seed, **options)
        pvalues = uniformity_pvalues(ranks, n_values)
        print(f"{describe(prior, n, options)}: {args.replications} replications in "
              f"{time.perf_counter() - started:.0f} s (seed {args.seed}"
              f"{', non-centred kernel forced' if args.non_centred else ''})")
        if options.get("family") == "bernoulli":
            # ranks are uniform given the data, so each side of a split by the data is a valid SBC
            mask = separable_mask(prior, n, options, args.replications, args.seed)
            print(f"  completely separable data sets: {mask.sum()}")
            if 0 < mask.sum() < len(mask):
                for side, rows in (("separable", mask), ("not separable", ~mask)):
                    print(f"  p on the {side} ones: {np.round(uniformity_pvalues(ranks[rows], n_values), 3).tolist()}")
        labels = rank_names(P, **{key: options[key] for key in ("family", "sigma", "fit_intercept") if key in options})
        for label, column, pvalue in zip(labels, ranks.T, pvalues):
            counts = np.histogram(column, bins=np.linspace(0, n_values, 11))[0]
            print(f"  {label}  p = {pvalue:.3f}  binned ranks {counts.tolist()}")


if __name__ == "__main__":
    main()

"""Command-line interface: ``bayesreg demo``, ``bayesreg fit`` and ``bayesreg --version``.

Errors are one line (what is wrong, what to do), never a traceback.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np
import pandas as pd

from . import (ElasticNet, GroupLaplace, HalfCauchy, Horseshoe, Laplace, LinearRegression, LogisticRegression,
               NegativeBinomialRegression, Normal, PoissonRegression, RegularizedHorseshoe, StudentTRegression,
               prior_from_sklearn)
from .sampling import collected_problems

DEMO_SIGMA = 50.0  # noise sd assumed by the demo's conversions (the diabetes residual sd is ~54)
DEFAULT_RIDGE_SCALE = 2.5  # with no --scale, ridge is the estimators' default Normal(2.5, autoscale=True)
PRIORS = {
    "ridge": lambda a: (Normal(DEFAULT_RIDGE_SCALE, autoscale=True) if a.scale is None
                        else Normal(a.scale, autoscale=a.autoscale)),
    "lasso": lambda a: Laplace(_or(a.scale, 1.0), autoscale=a.autoscale),
    "elasticnet": lambda a: ElasticNet(_or(a.laplace_scale, 1.0), _or(a.normal_scale, 1.0), autoscale=a.autoscale),
    "horseshoe": lambda a: Horseshoe(a.scale),
    "group-lasso": lambda a: GroupLaplace(_or(a.scale, 1.0)),  # with --formula: each term a group
    "regularized-horseshoe": lambda a: RegularizedHorseshoe(
        **{name: value for name in ("expected_nonzero", "slab_scale", "slab_df")
           if (value := getattr(a, name)) is not None}),
}
LEARNABLE = {"ridge": Normal, "lasso": Laplace}
# options that belong to one prior each; --scale is the single prior scale of the others
PRIOR_OPTIONS = {"laplace_scale": "elasticnet", "normal_scale": "elasticnet",
                 "expected_nonzero": "regularized-horseshoe", "slab_scale": "regularized-horseshoe",
                 "slab_df": "regularized-horseshoe"}
POSITIVE_NUMBERS = ("scale", "sigma", *PRIOR_OPTIONS)
SAMPLER_COUNTS = {"draws": 1000, "tune": 1000, "chains": 4}


def _prior(args):
    """The prior the options describe; ``--learn-scale`` puts HalfCauchy(--scale or 1) on the scale,
    in standardized units."""
    if args.autoscale and args.prior not in ("ridge", "lasso", "elasticnet"):
        raise ValueError(f"--autoscale applies to ridge, lasso and elasticnet, not {args.prior}")
    if not args.learn_scale:
        return PRIORS[args.prior](args)
    if args.prior not in LEARNABLE:
        raise ValueError(f"--learn-scale applies to ridge and lasso, not {args.prior}")
    return LEARNABLE[args.prior](HalfCauchy(_or(args.scale, 1.0)), autoscale=True)


def _or(value, default):
    return default if value is None else value


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_options(args) -> None:
    """Each option means one thing: refuse values out of range and options the fit would ignore."""
    for name in POSITIVE_NUMBERS:
        value = getattr(args, name)
        if value is not None and not (np.isfinite(value) and value > 0):
            raise ValueError(f"{_option(name)} must be a finite number > 0, got {value}")
    for name in SAMPLER_COUNTS:
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"{_option(name)} must be a whole number >= 1, got {value}")
    for name, prior in PRIOR_OPTIONS.items():
        if getattr(args, name) is not None and args.prior != prior:
            raise ValueError(f"{_option(name)} applies to --prior {prior} only (this is --prior {args.prior})")
    if args.scale is not None and args.prior in ("elasticnet", "regularized-horseshoe"):
        own = [_option(name) for name, prior in PRIOR_OPTIONS.items() if prior == args.prior]
        raise ValueError(f"--prior {args.prior} has no single scale: use {', '.join(own)} instead of --scale")
    if args.sigma is not None and args.family not in ("linear", "student_t"):
        raise ValueError("--sigma is the noise sd of a linear model; logistic regression has no noise sd: drop --sigma")
    if args.formula is not None and (args.columns is not None or args.drop is not None):
        raise ValueError("--formula chooses the columns itself: drop --columns / --drop")
    if args.formula is not None and "~" in args.formula:
        raise ValueError(f"--formula takes the right side only (e.g. 'x1 + C(region)'); the outcome is --target, "
                         f"got {args.formula!r}")
    if args.prior == "group-lasso" and args.formula is None:
        raise ValueError("--prior group-lasso shrinks the formula's terms as groups: give --formula")
    if args.term_size is not None:
        if args.formula is None:
            raise ValueError("--term-size is a size of a formula term's contribution (terms.csv): give --formula")
        if not (np.isfinite(args.term_size) and args.term_size >= 0):
            raise ValueError(f"--term-size must be a number >= 0 (units of the linear predictor), got {args.term_size}")
        if args.method in ("map", "empirical_bayes"):
            raise ValueError(f"--term-size asks for P(a term's contribution > size), which needs posterior draws; "
                             f"--method {args.method} gives a point estimate: use --method nuts, or drop --term-size")
    if args.columns is not None and args.drop is not None:
        raise ValueError("--columns and --drop together: list the features to keep (--columns) or the ones to "
                         "leave out (--drop), not both")
    if args.method in ("map", "empirical_bayes"):
        given = [_option(name) for name in SAMPLER_COUNTS if getattr(args, name) is not None]
        if given:
            raise ValueError(f"{', '.join(given)} set the NUTS sampler; --method {args.method} does not sample: "
                             "drop them")


def demo(args) -> int:
    """Ridge, lasso, horseshoe and a learned-scale ridge on the diabetes data: penalized fit vs MAP vs
    posterior, and the three answers to "how much to regularize?" on one axis."""
    import matplotlib

    matplotlib.use("Agg")
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Lasso, Ridge

    from . import plots

    started = time.perf_counter()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_diabetes(as_frame=True)
    X, y = data.data, data.target
    n = len(y)
    print(f"Diabetes data (bundled with scikit-learn): n = {n}, p = {X.shape[1]}; noise sd sigma = {DEMO_SIGMA}")
    print("Each prior is sampled with NUTS (4 chains x 1000 draws).\n")
    columns, fits, written = {}, {}, []
    for name, sk in (("ridge", Ridge(alpha=0.1)), ("lasso", Lasso(alpha=0.5, tol=1e-12, max_iter=100_000)),
                     ("horseshoe", None), ("learned ridge", None)):
        if name == "learned ridge":  # how much to regularize, learned: tau ~ HalfCauchy(1) in standardized units
            prior = Normal(HalfCauchy(1.0), autoscale=True)
        else:
            prior = _demo_horseshoe(X, y) if sk is None else prior_from_sklearn(sk.fit(X, y), n_samples=n,
                                                                                 sigma=DEMO_SIGMA)
        print(f"{name}: {'no penalty equivalent (no finite MAP)' if sk is None else sk} -> prior {prior}")
        est = LinearRegression(prior, sigma=DEMO_SIGMA)
        # the horseshoe's funnel: 1 divergence in 4000 at the default .99 with seed 1, none at .995
        # a learned scale is a milder funnel: 3 of 4000 diverged at the default .8 with seed 1, none at .95
        settings = {"horseshoe": {"target_accept": 0.995}, "learned ridge": {"target_accept": 0.95}}.get(name, {})
        _fit_reporting_warnings(est, X, y, random_seed=args.seed, progressbar=True, **settings)
        summary = est.summary()
        fits[name] = est
        columns[(name, "penalized")] = pd.Series(sk.coef_ if sk is not None else np.nan, index=est.feature_names_)
        columns[(name, "MAP")] = pd.Series(est.map_.coef if est.map_ else np.nan, index=est.feature_names_)
        columns[(name, "mean ± sd")] = [f"{m:8.1f} ± {s:5.1f}" for m, s in
                                        summary.loc[est.feature_names_, ["mean", "sd"]].to_numpy()]
        written += _save_figures(out, name.replace(" ", "-"), {"coefficients": plots.coefficients(est),
                                             "prior_posterior": plots.prior_posterior(est, ["bmi", "s5", "age"])})
    table = pd.DataFrame(columns, index=X.columns)
    print("\nCoefficients: scikit-learn's penalized fit, bayesreg's MAP (equal), posterior mean ± sd")
    print(table.to_string(float_format=lambda v: f"{round(v, 2) + 0.0:9.2f}", na_rep="—"))  # no "-0.00"
    written += _save_figures(out, "priors", {"coefficients": plots.coefficients(fits)})
    tau = fits["learned ridge"].summary().loc["prior_scale"]
    print(f"\nLearned ridge: the prior scale tau (standardized units) has posterior mean {tau['mean']:.3g} "
          f"± {tau['sd']:.2g}; the CV curve, the evidence and this posterior are in how_much_scale.png")
    written += _save_figures(out, "how_much", {"scale": plots.how_much(X, y, learned=fits["learned ridge"],
                                                                       sigma=DEMO_SIGMA)})
    print("\nShrinkage picture (lasso path = MAP over the Laplace scale, beside the posterior over it)...")
    written += _save_figures(out, "lasso", {"shrinkage": plots.shrinkage(X, y, kind="lasso", sigma=DEMO_SIGMA)})
    print(f"\nWrote {len(written)} plots to {out.resolve()}:")
    for path in written:
        print(f"  {path.name}")
    print(f"Done in {time.perf_counter() - started:.0f} s.")
    return 0


def _demo_horseshoe(X, y) -> RegularizedHorseshoe:
    """About 3 of the 10 features expected to matter; the slab (the size of the effects that escape
    shrinkage) is sd(y) per sd of a feature (``slab_scale=1`` in the standardized units of the
    default ``autoscale=True``)."""
    return RegularizedHorseshoe(expected_nonzero=3, slab_scale=1.0)


def fit(args) -> int:
    """Fit a CSV file, or Parquet (a file or a directory of files, read lazily through Dask); write the
    summary (CSV), plots (PNG) and the fitted model (``fit.zip``, for ``bayesreg.load``) to --out."""
    check_options(args)
    import matplotlib

    matplotlib.use("Agg")

    started = time.perf_counter()
    path = pathlib.Path(args.data)
    lazy = path.is_dir() or path.suffix.lower() in PARQUET_SUFFIXES
    if not (path.is_file() or (lazy and path.exists())):
        raise FileNotFoundError(f"no such file: {path}")
    if lazy and args.term_size is not None:
        raise ValueError("--term-size compares each term's contribution over the rows, which Parquet input (read "
                         "lazily) does not hold in memory: drop --term-size (terms.csv still has the group norms), "
                         "or fit a CSV file")
    frame = _read_parquet(path) if lazy else pd.read_csv(path)
    if args.target not in frame.columns:
        raise ValueError(f"column {args.target!r} is not in {path.name}; its columns are {list(frame.columns)}")
    X = frame if args.formula is not None else _features(frame, args, path.name)
    y = frame[args.target]
    offset = None
    if args.offset is not None:
        if args.offset not in (frame.columns if args.formula is not None else X.columns):
            raise ValueError(f"--offset: no column {args.offset!r} among the feature columns of {path.name}")
        offset = frame[args.offset] if args.formula is not None else X[args.offset]
        if args.formula is None:
            X = X.drop(columns=[args.offset])
    if args.method == "surrogate" and args.family not in SURROGATE_FAMILIES:
        raise ValueError(f"--method surrogate is for --family {', '.join(SURROGATE_FAMILIES)}, not {args.family} "
                         "(linear fits are exact at any n; the Student-t likelihood is not log-concave, so a "
                         "quadratic surrogate is no sound proposal for it): use --method nuts")
    if not lazy and args.family == "logistic" and (n_values := y.nunique()) != 2:
        raise ValueError(f"--family logistic needs a target with two values; {args.target!r} has {n_values} "
                         "(use --family linear for a continuous target)")
    prior = _prior(args)
    formula = None if args.formula is None else f"~ {args.formula}"  # y is --target's column, passed as y
    if args.family in FAMILY_ESTIMATORS:
        own = {"sigma": args.sigma} if args.family == "student_t" else {}
        est = FAMILY_ESTIMATORS[args.family](prior, formula=formula, **own)
    else:
        est = (LinearRegression(prior, sigma=args.sigma, formula=formula) if args.family == "linear"
               else LogisticRegression(prior, formula=formula))
    counts = {name: _or(getattr(args, name), default) for name, default in SAMPLER_COUNTS.items()}
    point = args.method in ("map", "empirical_bayes")
    kwargs = {} if point else dict(**counts, random_seed=args.seed, progressbar=True)
    sampled = f"{counts['chains']} chains x {counts['draws']} draws after {counts['tune']} tuning steps"
    what = {"map": "MAP (the penalized fit)",
            "empirical_bayes": "empirical Bayes (prior scale by maximum evidence)",
            "nuts": f"NUTS, {sampled}",
            "surrogate": f"surrogate NUTS (quadratic expansion, PSIS-corrected), {sampled}"}
    source = f"Parquet read lazily through Dask, {frame.npartitions} partitions" if lazy else f"{len(y)} rows"
    features = f"formula {args.formula!r}" if args.formula is not None else f"{X.shape[1]} features"
    print(f"{type(est).__name__}, prior {prior}, {source} x {features}: {what[args.method]}", flush=True)
    if args.family == "linear" and not lazy:  # (Parquet: finding out would cost a pass over the data)
        _warn_if_binary(y, args.target)
    _fit_reporting_warnings(est, X, y, method=args.method, **kwargs, **({} if offset is None else {"offset": offset}))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.method == "empirical_bayes":
        noise = f", sigma {est.sigma_:.4g}" if hasattr(est, "sigma_") else ""  # logistic: approximate evidence
        print(f"chosen prior {est.prior_}{noise}, log evidence {est.log_evidence_:.6g}")
    est.save(out / SAVED)  # what bayesreg.load reads: the estimator, its MAP and its posterior
    written = [out / "summary.csv", out / SAVED]
    if point:
        table = pd.DataFrame({args.method: est.coef_}, index=est.feature_names_)
        table.loc["intercept"] = est.intercept_
        table.to_csv(out / "summary.csv")
    else:
        est.summary().to_csv(out / "summary.csv")
    rows = None if lazy else X  # Parquet: the terms without the contributions, which would cost a pass over the rows
    if args.formula is not None:  # one row per term: a factor's dummies together
        est.term_summary(rows, args.term_size).to_csv(out / "terms.csv")
        written.append(out / "terms.csv")
    if not point:
        from . import plots

        figures = ({"coefficients": plots.coefficients(est)} if lazy or args.family in FAMILY_ESTIMATORS
                   else _fit_figures(est, X, y))  # data on disk, or no predictive plots yet: no rows needed
        if args.formula is not None:
            figures["terms"] = plots.terms(est, rows, args.term_size)
        written += _save_figures(out, "fit", figures)
    print(pd.read_csv(out / "summary.csv", index_col=0).to_string(float_format=lambda v: f"{v:.4g}"))
    if args.method == "surrogate":
        print(f"Pareto k-hat of the surrogate's importance weights: {est.idata_.attrs['pareto_k']:.2f} "
              "(< 0.5 good, > 0.7 not trustworthy: use --method nuts)")
    print(f"\nWrote to {out.resolve()}: {', '.join(p.name for p in written)} ({time.perf_counter() - started:.0f} s)")
    print(f"Load the fit in Python: import bayesreg; est = bayesreg.load({str((out / SAVED).resolve())!r})")
    return 0


SAVED = "fit.zip"
SURROGATE_FAMILIES = ("logistic", "poisson", "negative_binomial")
FAMILY_ESTIMATORS = {"poisson": PoissonRegression, "negative_binomial": NegativeBinomialRegression,
                     "student_t": StudentTRegression}


def _features(frame, args, source: str):
    """The feature columns: every column but the target, or those of --columns (in their order), or
    every column but the target and those of --drop. Unknown names are an error that lists the known."""
    available = [str(c) for c in frame.columns if c != args.target]
    option, given = ("--columns", args.columns) if args.columns is not None else ("--drop", args.drop)
    if given is None:
        return frame[available]
    names = [name.strip() for name in given.split(",") if name.strip()]
    if args.target in names:
        raise ValueError(f"{option} names the target {args.target!r}: list feature columns only")
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(f"{option}: no column {', '.join(map(repr, unknown))} in {source}; its feature columns "
                         f"are {', '.join(available)}")
    if len(set(names)) < len(names) or not names:
        raise ValueError(f"{option} must name each column once, got {given!r}")
    kept = names if option == "--columns" else [name for name in available if name not in names]
    if not kept:
        raise ValueError(f"--drop leaves no feature columns in {source}")
    return frame[kept]


def _warn_if_binary(y, target: str) -> None:
    """A two-valued target under --family linear is a linear probability model: legitimate (R's lm and
    statsmodels' OLS fit it too) but more often a forgotten --family logistic, so say so and fit."""
    values = pd.unique(y.dropna())
    if len(values) == 2:
        low, high = sorted(values.tolist())
        print(f"warning: {target!r} has only two values ({low} and {high}); fitting a linear model to it (a "
              "linear probability model). For a classifier (probabilities in [0, 1]) use --family logistic.")


PARQUET_SUFFIXES = (".parquet", ".pq")


def _read_parquet(path):
    from .data import read_parquet

    return read_parquet(path)


def _fit_reporting_warnings(est, X, y, **fit_kwargs):
    """Fit, printing each sampling problem as one line (what happened, what to do)."""
    with collected_problems() as problems:
        est.fit(X, y, **fit_kwargs)
    for problem in problems:
        print(f"  warning: {problem}")
    return est


def _fit_figures(est, X, y, n_prior_posterior: int = 4) -> dict:
    """Forest plot, prior against posterior for the most clearly determined coefficients, and the
    posterior predictive check (logistic: calibration and predicted probabilities)."""
    from . import plots

    table = est.summary().loc[est.feature_names_]
    clearest = (table["mean"].abs() / table["sd"]).nlargest(n_prior_posterior).index
    figures = {"coefficients": plots.coefficients(est),
               "prior_posterior": plots.prior_posterior(est, [name for name in est.feature_names_ if name in clearest]),
               "posterior_predictive": plots.posterior_predictive(est, X, y)}
    if isinstance(est, LogisticRegression):
        figures["predicted_probabilities"] = plots.predicted_probabilities(est, X, y)
    return figures


def _save_figures(out, prefix, figures) -> list[pathlib.Path]:
    import matplotlib.pyplot as plt

    paths = []
    for name, figure in figures.items():
        paths.append(out / f"{prefix}_{name}.png")
        figure.savefig(paths[-1], dpi=110)
        plt.close(figure)
    return paths


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="bayesreg", description="Regularized regression as a Bayesian prior.")
    parser.add_argument("--version", action="version", version=f"bayesreg {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run_demo = commands.add_parser("demo", help="ridge, lasso, horseshoe and a learned-scale ridge on bundled "
                                                   "data, with plots")
    run_demo.add_argument("--out", default="bayesreg-output", help="folder for the plots (default: %(default)s)")
    run_demo.add_argument("--seed", type=int, default=1)
    run_demo.set_defaults(run=demo)
    run_fit = commands.add_parser("fit", help="fit a CSV or Parquet file; the fit is saved for bayesreg.load")
    run_fit.add_argument("data", help="CSV file with a header row, or Parquet (a .parquet file or a directory)")
    run_fit.add_argument("--target", required=True, help="name of the response column")
    run_fit.add_argument("--family", choices=["linear", "logistic", *FAMILY_ESTIMATORS], default="linear",
                         help="default: linear (a 0/1 target is then a linear probability model, with a warning); "
                              "poisson and negative_binomial for counts, student_t for continuous data with outliers")
    run_fit.add_argument("--offset", default=None, metavar="COLUMN",
                         help="a column added to the linear predictor (not a feature), e.g. log(exposure) for counts")
    run_fit.add_argument("--columns", default=None, metavar="A,B,...",
                         help="the feature columns to use, comma-separated (default: every column but the target)")
    run_fit.add_argument("--drop", default=None, metavar="A,B,...",
                         help="feature columns to leave out, comma-separated (e.g. one that leaks the target); "
                              "not together with --columns")
    run_fit.add_argument("--formula", default=None, metavar="'x1 + C(region) + x2:x3'",
                         help="the right side of a Wilkinson formula (formulaic): factors C(x), interactions, "
                              "bs(x, 4), ...; the outcome is --target. Writes terms.csv (one row per term) and "
                              "fit_terms.png too")
    run_fit.add_argument("--term-size", type=float, default=None, metavar="SIZE",
                         help="with --formula and NUTS: terms.csv adds P(sd over the rows of a term's contribution to "
                              "the linear predictor > SIZE), fit_terms.png marks it (units of y, or log-odds)")
    run_fit.add_argument("--prior", choices=list(PRIORS), default="ridge",
                         help="default: ridge; without --scale that is Normal(2.5, autoscale=True), scale 2.5 in "
                              "standardized units (rstanarm's default)")
    run_fit.add_argument("--scale", type=float, default=None,
                         help="prior scale of ridge (Normal sd), lasso (Laplace scale), group-lasso (GroupLaplace "
                              "scale, default 1) and horseshoe (global scale tau0); ridge without it: the default "
                              "Normal(2.5, autoscale=True); lasso: 1; horseshoe: the noise sd, or 1 for logistic; "
                              "with --learn-scale: the scale of the "
                              "half-Cauchy on the learned scale")
    run_fit.add_argument("--autoscale", action="store_true",
                         help="state the scales in standardized units: sd(y)/sd(x_j) (linear), 1/sd(x_j) (logistic)")
    run_fit.add_argument("--learn-scale", action="store_true",
                         help="ridge, lasso: learn the prior scale, tau ~ HalfCauchy(--scale or 1) in standardized "
                              "units, sampled by NUTS")
    run_fit.add_argument("--laplace-scale", type=float, default=None,
                         help="elasticnet: its Laplace factor's scale (default 1)")
    run_fit.add_argument("--normal-scale", type=float, default=None,
                         help="elasticnet: its Normal factor's sd (default 1)")
    run_fit.add_argument("--expected-nonzero", type=float, default=None,
                         help="regularized-horseshoe: prior guess of the number of non-zero coefficients (default 1)")
    run_fit.add_argument("--slab-scale", type=float, default=None, help="regularized-horseshoe: slab scale (default 2)")
    run_fit.add_argument("--slab-df", type=float, default=None,
                         help="regularized-horseshoe: slab degrees of freedom (default 4)")
    run_fit.add_argument("--sigma", type=float, default=None, help="known noise sd (linear only); default: estimated")
    run_fit.add_argument("--method", choices=["nuts", "map", "empirical_bayes", "surrogate"], default="nuts",
                         help="empirical_bayes: ridge only, the prior scale that maximises the evidence (exact for "
                              "linear, Laplace-approximate for logistic, poisson, negative_binomial); surrogate: "
                              "logistic, poisson or negative_binomial at large n (NUTS on a quadratic expansion, "
                              "PSIS-corrected)")
    for name, default in SAMPLER_COUNTS.items():
        run_fit.add_argument(_option(name), type=int, default=None, help=f"NUTS {name} (default {default})")
    run_fit.add_argument("--seed", type=int, default=None)
    run_fit.add_argument("--out", default="bayesreg-output",
                         help="folder for summary.csv, the plots and fit.zip (bayesreg.load reads it; default: "
                              "%(default)s)")
    run_fit.set_defaults(run=fit)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("bayesreg: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user, not a traceback
        print(f"bayesreg: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

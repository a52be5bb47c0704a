"""Command-line interface: ``bayesreg demo`` and ``bayesreg fit``.

Errors are one line (what is wrong, what to do), never a traceback.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np
import pandas as pd

from . import (ElasticNet, Horseshoe, Laplace, LinearRegression, LogisticRegression, Normal,
               RegularizedHorseshoe, prior_from_sklearn)
from .sampling import collected_problems

DEMO_SIGMA = 50.0  # noise sd assumed by the demo's conversions (the diabetes residual sd is ~54)
PRIORS = {
    "ridge": lambda scale: Normal(scale or 1.0),
    "lasso": lambda scale: Laplace(scale or 1.0),
    "elasticnet": lambda scale: ElasticNet(scale or 1.0, scale or 1.0),
    "horseshoe": lambda scale: Horseshoe(scale),
    "regularized-horseshoe": lambda scale: RegularizedHorseshoe(scale or 1.0),
}


def demo(args) -> int:
    """Ridge, lasso and horseshoe on the diabetes data: penalized fit vs MAP vs posterior."""
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
    print("Each prior is sampled with NUTS (4 chains); the first fit of each prior compiles (10-30 s).\n")
    columns, fits, written = {}, {}, []
    for name, sk in (("ridge", Ridge(alpha=0.1)), ("lasso", Lasso(alpha=0.5, tol=1e-12, max_iter=100_000)),
                     ("horseshoe", None)):
        prior = _demo_horseshoe(X, y) if sk is None else prior_from_sklearn(sk.fit(X, y), n_samples=n, sigma=DEMO_SIGMA)
        print(f"{name}: {'no penalty equivalent (no finite MAP)' if sk is None else sk} -> prior {prior}")
        est = LinearRegression(prior, sigma=DEMO_SIGMA)
        # the horseshoe's funnel: 1 divergence in 4000 at the default .99 with seed 1, none at .995
        settings = {"target_accept": 0.995} if sk is None else {}
        _fit_reporting_warnings(est, X, y, random_seed=args.seed, progressbar=True, **settings)
        summary = est.summary()
        fits[name] = est
        columns[(name, "penalized")] = pd.Series(sk.coef_ if sk is not None else np.nan, index=est.feature_names_)
        columns[(name, "MAP")] = pd.Series(est.map_.coef if est.map_ else np.nan, index=est.feature_names_)
        columns[(name, "mean ± sd")] = [f"{m:8.1f} ± {s:5.1f}" for m, s in
                                        summary.loc[est.feature_names_, ["mean", "sd"]].to_numpy()]
        written += _save_figures(out, name, {"coefficients": plots.coefficients(est),
                                             "prior_posterior": plots.prior_posterior(est, ["bmi", "s5", "age"])})
    table = pd.DataFrame(columns, index=X.columns)
    print("\nCoefficients: scikit-learn's penalized fit, bayesreg's MAP (equal), posterior mean ± sd")
    print(table.to_string(float_format=lambda v: f"{round(v, 2) + 0.0:9.2f}", na_rep="—"))  # no "-0.00"
    written += _save_figures(out, "priors", {"coefficients": plots.coefficients(fits)})
    print("\nShrinkage picture (lasso path = MAP over the Laplace scale, beside the posterior over it)...")
    written += _save_figures(out, "lasso", {"shrinkage": plots.shrinkage(X, y, kind="lasso", sigma=DEMO_SIGMA)})
    print(f"\nWrote {len(written)} plots to {out.resolve()}:")
    for path in written:
        print(f"  {path.name}")
    print(f"Done in {time.perf_counter() - started:.0f} s.")
    return 0


def _demo_horseshoe(X, y) -> RegularizedHorseshoe:
    """About 3 of the 10 features expected to matter; the slab (the size of the effects that escape
    shrinkage) is sd(y) per sd of a feature, in the raw features' units. The plain Horseshoe
    diverges on these data (9 of 4000 transitions at target_accept .99); this one with
    target_accept .995 had none in 5 seeds."""
    return RegularizedHorseshoe(expected_nonzero=3, slab_scale=float(y.std() / X.std().mean()))


def fit(args) -> int:
    """Fit a CSV file, or Parquet (a file or a directory of files, read lazily through Dask); write the
    summary (CSV), plots (PNG) and the posterior (zarr) to --out."""
    import matplotlib

    matplotlib.use("Agg")

    started = time.perf_counter()
    path = pathlib.Path(args.data)
    lazy = path.is_dir() or path.suffix.lower() in PARQUET_SUFFIXES
    if not (path.is_file() or (lazy and path.exists())):
        raise FileNotFoundError(f"no such file: {path}")
    frame = _read_parquet(path) if lazy else pd.read_csv(path)
    if args.target not in frame.columns:
        raise ValueError(f"column {args.target!r} is not in {path.name}; its columns are {list(frame.columns)}")
    X, y = frame.drop(columns=[args.target]), frame[args.target]
    if args.method == "surrogate" and args.family != "logistic":
        raise ValueError("--method surrogate is for --family logistic (linear fits are exact at any n)")
    if not lazy and args.family == "logistic" and (n_values := y.nunique()) != 2:
        raise ValueError(f"--family logistic needs a target with two values; {args.target!r} has {n_values} "
                         "(use --family linear for a continuous target)")
    prior = PRIORS[args.prior](args.scale)
    est = (LinearRegression(prior, sigma=args.sigma) if args.family == "linear"
           else LogisticRegression(prior))
    kwargs = {} if args.method == "map" else dict(draws=args.draws, random_seed=args.seed, progressbar=True)
    rows = f"Parquet read lazily through Dask, {frame.npartitions} partitions" if lazy else f"{len(y)} rows"
    print(f"{type(est).__name__}, prior {prior}, {rows} x {X.shape[1]} features: "
          + ("MAP (the penalized fit)" if args.method == "map" else
             f"{'surrogate ' if args.method == 'surrogate' else ''}NUTS, 4 chains x {args.draws} draws "
             "(compiling the model first takes 10-30 s)"), flush=True)
    _fit_reporting_warnings(est, X, y, method=args.method, **kwargs)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.method == "map":
        table = pd.DataFrame({"map": est.coef_}, index=est.feature_names_)
        table.loc["intercept"] = est.intercept_
        table.to_csv(out / "summary.csv")
        written = [out / "summary.csv"]
    else:
        est.summary().to_csv(out / "summary.csv")
        # consolidated metadata is not part of Zarr v3 and warns; xr.open_datatree reads it without
        est.idata_.to_zarr(out / "posterior.zarr", mode="w", consolidated=False)
        written = [out / "summary.csv", out / "posterior.zarr"]
        if lazy:  # the data stay on disk: only the figures that need no rows
            from . import plots

            written += _save_figures(out, "fit", {"coefficients": plots.coefficients(est)})
        else:
            written += _save_figures(out, "fit", _fit_figures(est, X, y))
    print(pd.read_csv(out / "summary.csv", index_col=0).to_string(float_format=lambda v: f"{v:.4g}"))
    if args.method == "surrogate":
        print(f"Pareto k-hat of the surrogate's importance weights: {est.idata_.attrs['pareto_k']:.2f} "
              "(< 0.5 good, > 0.7 not trustworthy: use --method nuts)")
    print(f"\nWrote to {out.resolve()}: {', '.join(p.name for p in written)} ({time.perf_counter() - started:.0f} s)")
    return 0


PARQUET_SUFFIXES = (".parquet", ".pq")


def _read_parquet(path):
    from .data.dask_input import require_dask

    require_dask()
    import dask.dataframe as dd

    return dd.read_parquet(path)


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
    parser = argparse.ArgumentParser(prog="bayesreg", description="Regularized regression as a Bayesian prior.")
    commands = parser.add_subparsers(dest="command", required=True)
    run_demo = commands.add_parser("demo", help="ridge, lasso and horseshoe on bundled data, with plots")
    run_demo.add_argument("--out", default="bayesreg-output", help="folder for the plots (default: %(default)s)")
    run_demo.add_argument("--seed", type=int, default=1)
    run_demo.set_defaults(run=demo)
    run_fit = commands.add_parser("fit", help="fit a CSV or Parquet file")
    run_fit.add_argument("data", help="CSV file with a header row, or Parquet (a .parquet file or a directory)")
    run_fit.add_argument("--target", required=True, help="name of the response column")
    run_fit.add_argument("--family", choices=["linear", "logistic"], default="linear")
    run_fit.add_argument("--prior", choices=list(PRIORS), default="ridge")
    run_fit.add_argument("--scale", type=float, default=None,
                         help="prior scale (horseshoe: global scale; regularized-horseshoe: expected non-zeros)")
    run_fit.add_argument("--sigma", type=float, default=None, help="known noise sd (linear); default: estimated")
    run_fit.add_argument("--method", choices=["nuts", "map", "surrogate"], default="nuts",
                         help="surrogate: logistic at large n (NUTS on a quadratic expansion, PSIS-corrected)")
    run_fit.add_argument("--draws", type=int, default=1000)
    run_fit.add_argument("--seed", type=int, default=None)
    run_fit.add_argument("--out", default="bayesreg-output")
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

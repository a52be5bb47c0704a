"""Command-line interface: ``bayesreg demo``.

Errors are one line (what is wrong, what to do), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from . import LinearRegression, prior_from_sklearn

DEMO_SIGMA = 50.0  # noise sd assumed by the demo's conversions (the diabetes residual sd is ~54)


def demo(args) -> int:
    """Ridge and lasso MAP on the diabetes data, beside scikit-learn's penalized solutions."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Lasso, Ridge

    started = time.perf_counter()
    data = load_diabetes(as_frame=True)
    X, y = data.data, data.target
    n = len(y)
    print(f"Diabetes data (bundled with scikit-learn): n = {n}, p = {X.shape[1]}; noise sd sigma = {DEMO_SIGMA}\n")
    for sk in (Ridge(alpha=0.1), Lasso(alpha=0.5, tol=1e-12, max_iter=100_000)):
        sk.fit(X, y)
        prior = prior_from_sklearn(sk, n_samples=n, sigma=DEMO_SIGMA)
        ours = LinearRegression(prior, sigma=DEMO_SIGMA).fit(X, y, method="map")
        print(f"{type(sk).__name__}(alpha={sk.alpha})  is the MAP under  {prior}")
        table = pd.DataFrame({"scikit-learn": sk.coef_, "bayesreg MAP": ours.coef_,
                              "difference": ours.coef_ - sk.coef_}, index=ours.feature_names_)
        print(table.to_string(float_format=lambda v: f"{v:12.6g}"))
        zeros = int(np.sum(ours.coef_ == 0))
        print(f"max |difference| = {np.abs(table['difference']).max():.2e}; exact zeros in the MAP: {zeros}\n")
    print(f"Done in {time.perf_counter() - started:.1f} s.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bayesreg", description="Regularized regression as a Bayesian prior.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="show that the MAP is the penalized fit, on bundled data").set_defaults(run=demo)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"bayesreg: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Mass-matrix adaptation for a small horseshoe: the wells data of notebooks/03 (n=3020, p=10).

bayesreg samples horseshoes with a diagonal mass matrix at target_accept .99 (chosen on n=100,
p=200, where the low-rank adaptation did not finish). This measures the alternatives on a small
p, where the low-rank one might pay off. ESS/s ratios are against the default in the same run.

    .venv/bin/python benchmarks/horseshoe_adaptation.py
"""

from __future__ import annotations

import pathlib
import time
import warnings

import pandas as pd

import bayesreg as br

WELLS = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "data" / "wells.csv"
SETTINGS = {
    "diag, .99 (default)": {},
    "low-rank, .99": {"adaptation": "low_rank"},
    "diag, .95": {"target_accept": 0.95},
}


def design():
    wells = pd.read_csv(WELLS)
    main = ["dist100", "arsenic", "educ4", "assoc"]
    z = (wells[main] - wells[main].mean()) / wells[main].std()
    X = z.copy()
    for i, a in enumerate(main):
        for b in main[i + 1:]:
            X[f"{a}:{b}"] = z[a] * z[b]
    return X, wells["switch"]


def main():
    X, y = design()
    rows = []
    for label, settings in SETTINGS.items():
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = br.LogisticRegression(br.RegularizedHorseshoe(expected_nonzero=3, autoscale=False)).fit(
                X, y, draws=500, tune=500, chains=4, random_seed=13, progressbar=False, **settings)
        stats, summary = fit.idata_["sample_stats"], fit.summary()
        sampling = fit.idata_.attrs["sampling_seconds"]
        rows.append({"setting": label, "wall s": time.perf_counter() - started, "sampling s": sampling,
                     "leapfrog/draw": float(stats["n_steps"].mean()), "divergent": int(stats["diverging"].sum()),
                     "min bulk ESS": summary["ess_bulk"].min(), "max R-hat": summary["r_hat"].max(),
                     "ESS/s (sampling)": summary["ess_bulk"].min() / sampling})
    table = pd.DataFrame(rows).set_index("setting")
    table["ratio vs default"] = table["ESS/s (sampling)"] / table["ESS/s (sampling)"].iloc[0]
    print(table.to_string(float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()

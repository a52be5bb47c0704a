"""The command line: fit a CSV, one-line errors."""

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.cli import main


@pytest.fixture
def csv(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    frame["y"] = 1 + 2 * frame["a"] - frame["c"] + rng.normal(size=60)
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_fit_map_writes_the_penalized_solution(csv, tmp_path, capsys):
    path, frame = csv
    out = tmp_path / "out"
    assert main(["fit", str(path), "--target", "y", "--prior", "lasso", "--scale", "0.5", "--sigma", "1",
                 "--method", "map", "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    ref = br.LinearRegression(br.Laplace(0.5), sigma=1.0).fit(frame[["a", "b", "c"]], frame["y"], method="map")
    np.testing.assert_allclose(summary.loc[["a", "b", "c"], "map"], ref.coef_, rtol=1e-12)
    assert "Wrote to" in capsys.readouterr().out


def test_default_prior_and_empirical_bayes(csv, tmp_path, capsys):
    path, frame = csv
    X, y = frame[["a", "b", "c"]], frame["y"]
    assert main(["fit", str(path), "--target", "y", "--method", "map", "--out", str(tmp_path / "map")]) == 0
    summary = pd.read_csv(tmp_path / "map" / "summary.csv", index_col=0)
    ref = br.LinearRegression().fit(X, y, method="map")  # the package default, Normal(2.5, autoscale=True)
    np.testing.assert_allclose(summary.loc[["a", "b", "c"], "map"], ref.coef_, rtol=1e-12)
    assert "prior Normal(scale=2.5, autoscale=True)" in capsys.readouterr().out
    assert main(["fit", str(path), "--target", "y", "--method", "empirical_bayes", "--autoscale", "--scale", "1",
                 "--out", str(tmp_path / "eb")]) == 0
    summary = pd.read_csv(tmp_path / "eb" / "summary.csv", index_col=0)
    ref = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X, y, method="empirical_bayes")
    np.testing.assert_allclose(summary.loc[["a", "b", "c"], "empirical_bayes"], ref.coef_, rtol=1e-12)
    assert f"log evidence {ref.log_evidence_:.6g}" in capsys.readouterr().out


@pytest.mark.slow
def test_fit_nuts_writes_summary_plots_and_posterior(csv, tmp_path):
    path, _ = csv
    out = tmp_path / "out"
    assert main(["fit", str(path), "--target", "y", "--draws", "300", "--seed", "1", "--out", str(out)]) == 0
    assert {"summary.csv", "posterior.zarr", "fit_coefficients.png", "fit_posterior_predictive.png"} <= {
        p.name for p in out.iterdir()}
    assert list(pd.read_csv(out / "summary.csv", index_col=0).index[:3]) == ["a", "b", "c"]


@pytest.mark.parametrize("argv,message", [
    (["fit", "missing.csv", "--target", "y"], "no such file: missing.csv"),
    (["fit", "{csv}", "--target", "nope"], "column 'nope' is not in data.csv"),
    (["fit", "{csv}", "--target", "y", "--family", "logistic", "--method", "map"],
     "--family logistic needs a target with two values; 'y' has 60 (use --family linear"),
    (["fit", "{csv}", "--target", "y", "--prior", "ridge", "--scale", "-1", "--method", "map"],
     "Normal scale must be finite and > 0, got -1.0"),
    (["fit", "{csv}", "--target", "y", "--learn-scale", "--method", "map"], "no joint MAP over (coef, scale)"),
    (["fit", "{csv}", "--target", "y", "--learn-scale", "--prior", "horseshoe"], "--learn-scale applies to ridge"),
    (["fit", "{csv}", "--target", "y", "--prior", "lasso", "--method", "empirical_bayes"],
     "chooses the scale of a fixed Normal prior"),
])
def test_errors_are_one_line(csv, capsys, argv, message):
    path, _ = csv
    argv = [a.replace("{csv}", str(path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bayesreg: error:") and message in err and "\n" not in err


@pytest.mark.slow
def test_demo_runs_and_writes_its_plots(tmp_path, capsys):
    """What `make demo` runs: the table, the plots, and the closing line."""
    assert main(["demo", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "penalized" in printed and "mean ± sd" in printed and "Wrote 11 plots" in printed
    assert "Learned ridge: the prior scale tau" in printed and (tmp_path / "how_much_scale.png").is_file()
    assert len(list(tmp_path.glob("*.png"))) == 11


@pytest.mark.slow
def test_fit_learn_scale_reports_the_scale(csv, tmp_path):
    path, _ = csv
    out = tmp_path / "out"
    assert main(["fit", str(path), "--target", "y", "--learn-scale", "--draws", "300", "--seed", "1",
                 "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    assert "prior_scale" in summary.index and summary.loc["prior_scale", "mean"] > 0
    assert (out / "fit_prior_posterior.png").is_file()

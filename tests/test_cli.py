"""The command line: fit a CSV, one-line errors."""

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.cli import main
from seeds import shifted


@pytest.fixture
def csv(tmp_path):
    rng = np.random.default_rng(shifted(0))
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
def test_fit_nuts_writes_summary_plots_and_a_fit_bayesreg_loads(csv, tmp_path, capsys):
    """Issue 20: the CLI wrote posterior.zarr, which br.load cannot read; it now saves the estimator
    (est.save) and says how to load it."""
    path, frame = csv
    out = tmp_path / "out"
    assert main(["fit", str(path), "--target", "y", "--draws", "300", "--seed", str(shifted(1)), "--out", str(out)]) == 0
    assert {"summary.csv", "fit.zip", "fit_coefficients.png", "fit_posterior_predictive.png"} <= {
        p.name for p in out.iterdir()}
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    assert list(summary.index[:3]) == ["a", "b", "c"]
    assert f"bayesreg.load({str((out / 'fit.zip').resolve())!r})" in capsys.readouterr().out
    est = br.load(out / "fit.zip")
    assert est.idata_["posterior"].sizes["draw"] == 300 and est.feature_names_ == ["a", "b", "c"]
    np.testing.assert_allclose(summary.loc[["a", "b", "c"], "mean"], est.coef_, rtol=1e-12)


def test_map_fit_is_saved_for_bayesreg_load(csv, tmp_path):
    path, frame = csv
    assert main(["fit", str(path), "--target", "y", "--method", "map", "--out", str(tmp_path)]) == 0
    ref = br.LinearRegression().fit(frame[["a", "b", "c"]], frame["y"], method="map")
    np.testing.assert_array_equal(br.load(tmp_path / "fit.zip").coef_, ref.coef_)


def test_version(capsys):
    """Issue 20: `bayesreg --version` failed."""
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"bayesreg {br.__version__}"


@pytest.mark.parametrize("option,features", [(["--columns", "c, a"], ["c", "a"]), (["--drop", "b"], ["a", "c"]),
                                             ([], ["a", "b", "c"])])
def test_columns_and_drop_choose_the_features(csv, tmp_path, option, features):
    """Issue 20: no way to leave out a column (one that leaked the target was fitted at 20.8)."""
    path, frame = csv
    assert main(["fit", str(path), "--target", "y", "--method", "map", *option, "--out", str(tmp_path)]) == 0
    summary = pd.read_csv(tmp_path / "summary.csv", index_col=0)
    assert list(summary.index) == [*features, "intercept"]
    ref = br.LinearRegression().fit(frame[features], frame["y"], method="map")
    np.testing.assert_allclose(summary.loc[features, "map"], ref.coef_, rtol=1e-12)


def test_a_two_valued_target_fitted_linearly_gets_a_warning(csv, tmp_path, capsys):
    """Issue 20: a 0/1 target silently became a linear model. It still does (a linear probability
    model is legitimate, as in R's lm), with a warning that points at --family logistic."""
    path, frame = csv
    frame.assign(y=(frame["y"] > 1).astype(int)).to_csv(path, index=False)
    assert main(["fit", str(path), "--target", "y", "--method", "map", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "warning: 'y' has only two values (0 and 1)" in printed and "use --family logistic" in printed
    linear = br.LinearRegression().fit(frame[["a", "b", "c"]], frame["y"] > 1, method="map")  # still fitted
    np.testing.assert_allclose(pd.read_csv(tmp_path / "summary.csv", index_col=0).loc[["a", "b", "c"], "map"],
                               linear.coef_, rtol=1e-12)
    assert main(["fit", str(path), "--target", "y", "--method", "map", "--family", "logistic",
                 "--out", str(tmp_path)]) == 0
    assert "warning" not in capsys.readouterr().out
    frame.to_csv(path, index=False)  # a continuous target: no warning
    assert main(["fit", str(path), "--target", "y", "--method", "map", "--out", str(tmp_path)]) == 0
    assert "warning" not in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["fit", "missing.csv", "--target", "y"], "no such file: missing.csv"),
    (["fit", "{csv}", "--target", "nope"], "column 'nope' is not in data.csv"),
    (["fit", "{csv}", "--target", "y", "--family", "logistic", "--method", "map"],
     "--family logistic needs a target with two values; 'y' has 60 (use --family linear"),
    (["fit", "{csv}", "--target", "y", "--prior", "ridge", "--scale", "-1", "--method", "map"],
     "--scale must be a finite number > 0, got -1.0"),
    (["fit", "{csv}", "--target", "y", "--learn-scale", "--method", "map"], "no joint MAP over (coef, scale)"),
    (["fit", "{csv}", "--target", "y", "--learn-scale", "--prior", "horseshoe"], "--learn-scale applies to ridge"),
    (["fit", "{csv}", "--target", "y", "--prior", "lasso", "--method", "empirical_bayes"],
     "chooses the scale of a fixed Normal prior"),
    (["fit", "{csv}", "--target", "y", "--columns", "a,nope,zip"],
     "--columns: no column 'nope', 'zip' in data.csv; its feature columns are a, b, c"),
    (["fit", "{csv}", "--target", "y", "--drop", "B"], "--drop: no column 'B' in data.csv; its feature columns are"),
    (["fit", "{csv}", "--target", "y", "--columns", "a,y"], "--columns names the target 'y'"),
    (["fit", "{csv}", "--target", "y", "--columns", "a,a"], "--columns must name each column once"),
    (["fit", "{csv}", "--target", "y", "--drop", "a,b,c"], "--drop leaves no feature columns in data.csv"),
    (["fit", "{csv}", "--target", "y", "--columns", "a", "--drop", "b"], "--columns and --drop together"),
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
    assert main(["fit", str(path), "--target", "y", "--learn-scale", "--draws", "300", "--seed", str(shifted(1)),
                 "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    assert "prior_scale" in summary.index and summary.loc["prior_scale", "mean"] > 0
    assert (out / "fit_prior_posterior.png").is_file()


@pytest.mark.parametrize("argv,message", [
    (["--scale", "0"], "--scale must be a finite number > 0, got 0.0"),
    (["--scale", "nan"], "--scale must be a finite number > 0, got nan"),
    (["--sigma", "-2"], "--sigma must be a finite number > 0, got -2.0"),
    (["--prior", "elasticnet", "--scale", "2"],
     "--prior elasticnet has no single scale: use --laplace-scale, --normal-scale"),
    (["--prior", "regularized-horseshoe", "--scale", "3"],
     "--prior regularized-horseshoe has no single scale: use --expected-nonzero, --slab-scale, --slab-df"),
    (["--prior", "ridge", "--slab-scale", "2"], "--slab-scale applies to --prior regularized-horseshoe only"),
    (["--prior", "lasso", "--normal-scale", "2"], "--normal-scale applies to --prior elasticnet only"),
    (["--family", "logistic", "--sigma", "1"], "--sigma is the noise sd of a linear model"),
    (["--method", "map", "--tune", "500"], "--tune set the NUTS sampler; --method map does not sample"),
    (["--method", "empirical_bayes", "--draws", "50"], "--method empirical_bayes does not sample"),
    (["--chains", "0"], "--chains must be a whole number >= 1, got 0"),
    (["--draws", "-5"], "--draws must be a whole number >= 1, got -5"),
    (["--term-size", "0.3"], "--term-size is a size of a formula term's contribution (terms.csv): give --formula"),
    (["--formula", "a + b", "--term-size", "-1"], "--term-size must be a number >= 0"),
    (["--formula", "a + b", "--method", "map", "--term-size", "0.3"], "needs posterior draws; --method map"),
])
def test_each_option_means_one_thing_and_bad_values_are_refused(csv, capsys, argv, message):
    """Issue 13 item 7: --scale 0 became 1.0, --scale meant expected_nonzero for the regularized
    horseshoe and both scales of the elastic net, --sigma was ignored for logistic regression."""
    path, frame = csv
    if "logistic" in argv:
        frame.assign(y=frame["y"] > 1).to_csv(path, index=False)
    assert main(["fit", str(path), "--target", "y", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bayesreg: error:") and message in err and "\n" not in err


def test_elastic_net_scales_are_separate_options(csv, tmp_path):
    """Reference: scikit-learn ElasticNet, 1/(2n)||r||^2 + a r |w|_1 + a (1 - r)/2 |w|^2, is the MAP of
    ElasticNet(laplace_scale=b, normal_scale=s) at sigma = 1 with a r = 1/(n b), a (1 - r) = 1/(n s^2)."""
    from sklearn.linear_model import ElasticNet as SkElasticNet

    path, frame = csv
    out = tmp_path / "out"
    assert main(["fit", str(path), "--target", "y", "--prior", "elasticnet", "--laplace-scale", "0.05",
                 "--normal-scale", "0.3", "--sigma", "1", "--method", "map", "--out", str(out)]) == 0
    n = len(frame)
    l1, l2 = 1 / (n * 0.05), 1 / (n * 0.3**2)
    sk = SkElasticNet(alpha=l1 + l2, l1_ratio=l1 / (l1 + l2), tol=1e-14, max_iter=10**6)
    sk.fit(frame[["a", "b", "c"]], frame["y"])
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    np.testing.assert_allclose(summary.loc[["a", "b", "c"], "map"], sk.coef_, rtol=1e-7, atol=1e-10)


def test_regularized_horseshoe_options_and_sampler_counts_reach_the_fit(csv, monkeypatch):
    import bayesreg.cli

    class Reached(Exception):
        pass

    seen = {}

    def capture(est, X, y, **kwargs):
        seen.update(prior=est.prior, **kwargs)
        raise Reached

    monkeypatch.setattr(bayesreg.cli, "_fit_reporting_warnings", capture)
    path, _ = csv
    argv = ["fit", str(path), "--target", "y", "--prior", "regularized-horseshoe", "--expected-nonzero", "2",
            "--slab-scale", "1.5", "--slab-df", "6", "--tune", "300", "--chains", "2", "--draws", "200"]
    assert main(argv) == 2  # Reached is reported as an error by main
    assert seen["prior"] == br.RegularizedHorseshoe(expected_nonzero=2, slab_scale=1.5, slab_df=6)
    assert (seen["draws"], seen["tune"], seen["chains"]) == (200, 300, 2)


@pytest.mark.parametrize("family", ["poisson", "negative_binomial", "student_t"])
def test_family_and_offset_options(tmp_path, capsys, family):
    """``--family`` reaches the family's estimator and ``--offset`` its offset: the saved MAP is the
    estimator's own fit on the same columns."""
    rng = np.random.default_rng(shifted(5))
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80),
                          "log_exposure": np.log(rng.uniform(0.5, 2.0, 80))})
    eta = frame["log_exposure"] + 0.3 * frame["a"]
    frame["y"] = rng.poisson(np.exp(eta)) if family != "student_t" else eta + rng.standard_t(3, 80)
    path = tmp_path / "counts.csv"
    frame.to_csv(path, index=False)
    assert main(["fit", str(path), "--target", "y", "--family", family, "--offset", "log_exposure", "--method", "map",
                 "--out", str(tmp_path / "out")]) == 0
    saved = br.load(tmp_path / "out" / "fit.zip")
    estimator = {"poisson": br.PoissonRegression, "negative_binomial": br.NegativeBinomialRegression,
                 "student_t": br.StudentTRegression}[family]
    direct = estimator(method="map").fit(frame[["a", "b"]], frame["y"], offset=frame["log_exposure"])
    assert type(saved) is estimator
    np.testing.assert_allclose(saved.coef_, direct.coef_, rtol=1e-12)
def test_parquet_offset_with_the_surrogate(tmp_path, capsys):
    """``--offset COLUMN`` on Parquet (read through Dask) with ``--family poisson --method surrogate``:
    the offset goes into the distributed passes, so the saved MAP is the in-memory fit with that offset
    (to rounding: the same sums in another order) and the fit is the surrogate."""
    pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(shifted(25))
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400),
                          "log_exposure": np.log(rng.uniform(0.5, 4.0, 400))})
    frame["y"] = rng.poisson(np.exp(frame["log_exposure"] + 0.3 * frame["a"]))
    (tmp_path / "pq").mkdir()
    frame.iloc[:150].to_parquet(tmp_path / "pq" / "part0.parquet")
    frame.iloc[150:].to_parquet(tmp_path / "pq" / "part1.parquet")
    assert main(["fit", str(tmp_path / "pq"), "--target", "y", "--family", "poisson", "--offset", "log_exposure",
                 "--method", "surrogate", "--draws", "200", "--tune", "200", "--chains", "2", "--seed",
                 str(shifted(2)), "--out", str(tmp_path / "out")]) == 0
    assert "Pareto k-hat" in capsys.readouterr().out
    saved = br.load(tmp_path / "out" / "fit.zip")
    direct = br.PoissonRegression(method="map").fit(frame[["a", "b"]], frame["y"], offset=frame["log_exposure"])
    assert saved.method_ == "surrogate" and list(saved.feature_names_in_) == ["a", "b"]
    np.testing.assert_allclose(saved.map_.coef, direct.coef_, rtol=1e-9)
    np.testing.assert_allclose(saved.map_.intercept, direct.intercept_, rtol=1e-9, atol=1e-12)


def test_fit_with_a_formula(tmp_path):
    """--formula: the right side, --target the outcome; the MAP equals the estimator's with the same formula."""
    rng = np.random.default_rng(shifted(22))
    frame = pd.DataFrame({"a": rng.normal(size=60), "region": rng.choice(["n", "s", "w"], 60)})
    frame["y"] = 1 + frame["a"] + (frame["region"] == "s") + rng.normal(size=60)
    frame.to_csv(tmp_path / "d.csv", index=False)
    assert main(["fit", str(tmp_path / "d.csv"), "--target", "y", "--formula", "a + C(region)", "--prior",
                 "group-lasso", "--scale", "0.2", "--sigma", "1", "--method", "map", "--out", str(tmp_path / "o")]) == 0
    summary = pd.read_csv(tmp_path / "o" / "summary.csv", index_col=0)
    ref = br.LinearRegression(br.GroupLaplace(0.2), sigma=1.0, formula="y ~ a + C(region)").fit(frame, method="map")
    np.testing.assert_allclose(summary.loc[ref.feature_names_, "map"], ref.coef_, rtol=1e-12)
    assert main(["fit", str(tmp_path / "d.csv"), "--target", "y", "--formula", "y ~ a"]) == 2
    terms = pd.read_csv(tmp_path / "o" / "terms.csv", index_col=0)  # a MAP fit: the MAP's term norms
    np.testing.assert_allclose(terms.loc["C(region)", "norm_map"], np.linalg.norm(ref.coef_[1:]), rtol=1e-12)
    # Parquet, read lazily through Dask: the spec from the first partition (one file of two here),
    # which holds every level
    pytest.importorskip("dask.dataframe")
    (tmp_path / "pq").mkdir()
    frame = frame.assign(region=np.r_[["n", "s", "w"], frame["region"].to_numpy()[3:]])
    frame.iloc[:30].to_parquet(tmp_path / "pq" / "part0.parquet")
    frame.iloc[30:].to_parquet(tmp_path / "pq" / "part1.parquet")
    assert main(["fit", str(tmp_path / "pq"), "--target", "y", "--formula", "a + C(region)", "--sigma", "1",
                 "--method", "map", "--out", str(tmp_path / "p")]) == 0
    ridge = br.LinearRegression(br.Normal(2.5, autoscale=True), sigma=1.0, formula="y ~ a + C(region)")
    ridge.fit(frame, method="map")
    lazy_summary = pd.read_csv(tmp_path / "p" / "summary.csv", index_col=0)
    np.testing.assert_allclose(lazy_summary.loc[ridge.feature_names_, "map"], ridge.coef_, rtol=1e-10)
    assert main(["fit", str(tmp_path / "d.csv"), "--target", "y", "--prior", "group-lasso"]) == 2
    assert main(["fit", str(tmp_path / "pq"), "--target", "y", "--formula", "a + C(region)", "--term-size", "1",
                 "--out", str(tmp_path / "p")]) == 2  # the contributions need the rows in memory


def test_formula_fit_writes_the_term_table_and_plot(tmp_path):
    """NUTS with --formula and --term-size: terms.csv is the saved fit's term_summary(rows, size) (the
    same draws, so the same numbers to the CSV's 1e-12) and fit_terms.png is written."""
    rng = np.random.default_rng(shifted(23))
    frame = pd.DataFrame({"a": rng.normal(size=60), "region": rng.choice(["n", "s", "w"], 60)})
    frame["y"] = 1 + frame["a"] + (frame["region"] == "s") + rng.normal(size=60)
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "o"
    assert main(["fit", str(tmp_path / "d.csv"), "--target", "y", "--formula", "a + C(region)", "--prior",
                 "group-lasso", "--term-size", "0.3", "--draws", "100", "--tune", "100", "--chains", "2",
                 "--seed", str(shifted(2)), "--out", str(out)]) == 0
    saved = br.load(out / "fit.zip")
    expected = saved.term_summary(frame, 0.3)
    written = pd.read_csv(out / "terms.csv", index_col=0)
    assert list(written.columns) == list(expected.columns) and "p_contribution_sd_gt_0.3" in written
    numbers = expected.columns.drop("columns")
    np.testing.assert_allclose(written[numbers].to_numpy(float), expected[numbers].to_numpy(float), rtol=1e-12)
    assert (out / "fit_terms.png").stat().st_size > 0 and (out / "fit_coefficients.png").exists()


@pytest.mark.parametrize("family", ["poisson", "negative_binomial"])
def test_count_families_take_the_surrogate(tmp_path, capsys, family):
    """``--method surrogate`` with ``--family poisson|negative_binomial``, from CSV and from Parquet
    (read through Dask): the saved fit is the family's surrogate (k-hat stored and printed), its
    MAP the estimator's own; student_t is refused with the reason."""
    rng = np.random.default_rng(shifted(23))
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    frame["y"] = rng.poisson(np.exp(0.5 + 0.4 * frame["a"]))
    frame.to_csv(tmp_path / "counts.csv", index=False)
    estimator = {"poisson": br.PoissonRegression, "negative_binomial": br.NegativeBinomialRegression}[family]
    direct = estimator(method="map").fit(frame[["a", "b"]], frame["y"])
    sources = [tmp_path / "counts.csv"]
    if pytest.importorskip("dask.dataframe"):
        (tmp_path / "pq").mkdir()
        frame.iloc[:200].to_parquet(tmp_path / "pq" / "part0.parquet")
        frame.iloc[200:].to_parquet(tmp_path / "pq" / "part1.parquet")
        sources.append(tmp_path / "pq")
    for i, source in enumerate(sources):
        out = tmp_path / f"out{i}"
        assert main(["fit", str(source), "--target", "y", "--family", family, "--method", "surrogate", "--draws",
                     "200", "--tune", "200", "--chains", "2", "--seed", str(shifted(1)), "--out", str(out)]) == 0
        assert "Pareto k-hat of the surrogate's importance weights" in capsys.readouterr().out
        saved = br.load(out / "fit.zip")
        assert type(saved) is estimator and saved.method_ == "surrogate"
        assert "pareto_k" in saved.idata_.attrs and "surrogate_weights" in saved.idata_.children
        np.testing.assert_allclose(saved.map_.coef, direct.coef_, rtol=1e-9)
    assert main(["fit", str(sources[0]), "--target", "y", "--family", "student_t", "--method", "surrogate"]) == 2
    assert "not log-concave" in capsys.readouterr().err


def test_count_families_take_empirical_bayes(tmp_path, capsys):
    """``--method empirical_bayes --family poisson``: the chosen prior and log evidence are the estimator's."""
    rng = np.random.default_rng(shifted(24))
    frame = pd.DataFrame({"a": rng.normal(size=150), "b": rng.normal(size=150)})
    frame["y"] = rng.poisson(np.exp(0.5 + 0.4 * frame["a"]))
    frame.to_csv(tmp_path / "counts.csv", index=False)
    assert main(["fit", str(tmp_path / "counts.csv"), "--target", "y", "--family", "poisson", "--method",
                 "empirical_bayes", "--out", str(tmp_path / "out")]) == 0
    assert "log evidence" in capsys.readouterr().out
    saved = br.load(tmp_path / "out" / "fit.zip")
    direct = br.PoissonRegression().fit(frame[["a", "b"]], frame["y"], method="empirical_bayes")
    assert saved.log_evidence_ == pytest.approx(direct.log_evidence_, rel=1e-12)
    np.testing.assert_allclose(saved.coef_, direct.coef_, rtol=1e-12)

"""``formula=``: a fit from a data frame equals the fit on the same design built by hand; new rows
are encoded by the stored spec (reordered columns, a subset of levels); bad frames are clear errors;
save/load keeps the spec as JSON data and refuses a formula that would run code."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import bayesreg as br
from bayesreg import persistence
from bayesreg.data import formula_state
from bayesreg.sampling import SamplingWarning
from seeds import shifted

FORMULA = "y ~ x1 + C(region) + x2:x3"


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(shifted(22))
    n = 80
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "x3": rng.normal(size=n),
                       "region": rng.choice(["north", "south", "west"], n), "flag": rng.random(n) > 0.5})
    effect = df["region"].map({"north": 0.0, "south": 1.0, "west": -1.0})
    df["y"] = 0.5 + df.x1 - 0.5 * df.x2 * df.x3 + effect + 0.7 * df.flag + rng.normal(size=n)
    df["label"] = np.where(df["y"] > df["y"].median(), "high", "low")
    return df


def by_hand(df):
    """The design of FORMULA written out: treatment contrasts against the first level, 'north'."""
    return pd.DataFrame({"x1": df.x1, "south": (df.region == "south").astype(float),
                         "west": (df.region == "west").astype(float), "x2x3": df.x2 * df.x3})


def test_formula_map_equals_the_hand_built_design(frame):
    """Linear (closed form) and logistic (Newton) MAPs to 1e-12, coefficient names from formulaic."""
    prior = br.Laplace(0.8)
    fit = br.LinearRegression(prior, sigma=1.0, formula=FORMULA).fit(frame, method="map")
    hand = br.LinearRegression(prior, sigma=1.0).fit(by_hand(frame), frame["y"], method="map")
    np.testing.assert_allclose(fit.coef_, hand.coef_, rtol=0, atol=1e-12)
    assert abs(fit.intercept_ - hand.intercept_) < 1e-12
    assert fit.feature_names_ == ["x1", "C(region)[T.south]", "C(region)[T.west]", "x2:x3"]
    assert fit.terms_ == {"x1": ["x1"], "C(region)": ["C(region)[T.south]", "C(region)[T.west]"],
                          "x2:x3": ["x2:x3"]}
    clf = br.LogisticRegression(br.Normal(1.0), formula="label ~ x1 + C(region) + x2:x3").fit(frame, method="map")
    hand_clf = br.LogisticRegression(br.Normal(1.0)).fit(by_hand(frame), frame["label"], method="map")
    np.testing.assert_allclose(clf.coef_, hand_clf.coef_, rtol=0, atol=1e-12)
    assert list(clf.classes_) == ["high", "low"]
    np.testing.assert_array_equal(clf.predict(frame), hand_clf.predict(by_hand(frame)))


def test_design_assembled_in_blocks_equals_formulaic_matrix():
    """The design bayesreg assembles from formulaic's columns (one column-major array, each column
    copied whole) equals formulaic's own matrix bit for bit; an
    infinity in a used column is an error that says so (formulaic checks NaN only)."""
    from bayesreg.data import formula as fm

    rng = np.random.default_rng(shifted(23))
    n = 4133
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                       "region": rng.choice(["north", "south", "west"], n), "flag": rng.random(n) > 0.5})
    fitted = fm.fit_design("~ x1 + C(region) + flag + x1:x2", df, df.x1, True)
    expected = fitted.model_spec.get_model_matrix(df).drop(columns="Intercept").astype(float)
    assert fitted.X.columns == list(expected.columns)
    assert fitted.X.values.flags.f_contiguous and fitted.X.values.dtype == np.float64
    np.testing.assert_array_equal(fitted.X.values, expected.to_numpy())
    new = df.iloc[::-1].reset_index(drop=True)
    np.testing.assert_array_equal(fm.apply_spec(fitted.model_spec, new, expected.columns).values,
                                  expected.to_numpy()[::-1])
    df.loc[5, "x2"] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        br.LinearRegression(br.Normal(1.0), formula="y ~ x1 + x2").fit(df.assign(y=df.x1), method="map")


def test_formula_nuts_draws_equal_the_hand_built_design(frame):
    """Same design, same seed: the same draws, bit for bit."""
    settings = dict(method="nuts", draws=60, tune=60, chains=1, random_seed=shifted(3), progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # 60 draws: ESS warnings are expected
        fit = br.LinearRegression(br.Normal(2.0), formula=FORMULA).fit(frame, **settings)
        hand = br.LinearRegression(br.Normal(2.0)).fit(by_hand(frame), frame["y"], **settings)
    np.testing.assert_array_equal(fit.idata_["posterior"]["coef"].to_numpy(),
                                  hand.idata_["posterior"]["coef"].to_numpy())
    new = frame.iloc[:7]
    np.testing.assert_array_equal(fit.predict_interval(new, random_seed=shifted(4)),
                                  hand.predict_interval(by_hand(new), random_seed=shifted(4)))


def test_new_rows_reordered_and_with_a_subset_of_levels(frame):
    fit = br.LinearRegression(br.Normal(1.0), sigma=1.0, formula=FORMULA).fit(frame, method="map")
    new = frame[frame.region != "west"].iloc[:9][["region", "x3", "x2", "x1"]]  # no 'west', other column order
    expected = fit.intercept_ + by_hand(new).to_numpy() @ fit.coef_
    np.testing.assert_allclose(fit.predict(new), expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.assign(region=["east"] + list(d.region[1:])), r"column 'region' has \['east'\], the fit saw"),
    (lambda d: d.drop(columns=["x2"]), r"the data frame has no column 'x2', which the formula uses"),
    (lambda d: d.assign(x1=[np.nan] + list(d.x1[1:])), r"missing values .*x1"),
    (lambda d: d.to_numpy(), "pass a pandas DataFrame"),
])
def test_bad_new_rows_are_errors_that_name_them(frame, change, message):
    fit = br.LinearRegression(br.Normal(1.0), sigma=1.0, formula=FORMULA).fit(frame, method="map")
    with pytest.raises((ValueError, TypeError), match=message):
        fit.predict(change(frame.iloc[:5]))


def test_fit_errors_name_the_problem_and_keep_the_previous_fit(frame):
    est = br.LinearRegression(br.Normal(1.0), sigma=1.0, formula=FORMULA).fit(frame, method="map")
    coef = est.coef_.copy()
    cases = [(dict(formula="y ~ 0 + x1"), {}, "removes an intercept but fit_intercept=True"),
             (dict(formula="y ~ x1", fit_intercept=False), {}, "has an intercept but fit_intercept=False"),
             (dict(formula="y ~ x1"), {"y": frame.y}, "takes no y"),
             (dict(formula="~ x1"), {}, "has no outcome"),
             (dict(formula="z ~ x1"), {}, "no such column"),
             (dict(formula="y ~ x1 +"), {}, "cannot parse formula"),
             (dict(formula=None), {}, "requires y to be passed")]
    for params, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            clone(est).set_params(**params).fit(frame, method="map", **kwargs)
    with pytest.raises(ValueError, match="missing values"):
        est.fit(frame.assign(x3=[None] + list(frame.x3[1:])), method="map")
    np.testing.assert_array_equal(est.coef_, coef)


def test_no_intercept_formula_with_fit_intercept_false(frame):
    """Without an intercept formulaic codes all levels; the fit equals that design by hand."""
    fit = br.LinearRegression(br.Normal(1.0), sigma=1.0, fit_intercept=False,
                              formula="y ~ 0 + C(region) + x1").fit(frame, method="map")
    design = pd.DataFrame({level: (frame.region == level).astype(float) for level in ("north", "south", "west")})
    hand = br.LinearRegression(br.Normal(1.0), sigma=1.0, fit_intercept=False).fit(
        design.assign(x1=frame.x1), frame.y, method="map")
    np.testing.assert_allclose(fit.coef_, hand.coef_, rtol=0, atol=1e-12)
    assert fit.terms_["C(region)"] == ["C(region)[north]", "C(region)[south]", "C(region)[west]"]


def test_save_and_load_keep_the_spec(tmp_path, frame):
    """Reference level, B-spline knots, scale() constants and a boolean all survive as JSON."""
    formula = "y ~ x1 + C(region, contr.treatment('west')) + bs(x2, 4) + scale(x3) + flag + np.log(x1 ** 2)"
    fit = br.LinearRegression(br.Normal(1.0), sigma=1.0, formula=formula).fit(frame, method="map")
    fit.save(tmp_path / "formula.zip")
    back = br.load(tmp_path / "formula.zip")
    new = frame.iloc[5:20][list(reversed(frame.columns))]
    np.testing.assert_array_equal(back.predict(new), fit.predict(new))
    assert back.terms_ == fit.terms_ and back.get_params()["formula"] == formula
    with pytest.raises(ValueError, match="not seen in training"):
        back.predict(new.assign(region="east"))


@pytest.mark.parametrize("formula, message", [
    ("x1 + eval('1')", "call of 'eval'"), ("open('f') + x1", "call of 'open'"),
    ("x1 + np.save('f', x1)", "np.save"), ("x1 + getattr(x1, 'real')", "call of 'getattr'"),
    ("x1 + x1.__class__", "__class__"), ("x1 + __import__('os').system('echo hi')", "cannot parse"),
    ("y ~ x1", "left side"),
])
def test_a_formula_that_would_run_code_is_not_loaded(formula, message):
    """A saved file's formula is checked before formulaic could evaluate it (it evaluates factors as Python)."""
    saved = {"format": formula_state.FORMAT, "formula": formula, "ensure_full_rank": True,
             "transform_state": {}, "encoder_state": {}}
    with pytest.raises(ValueError, match=message):
        formula_state.spec_from_json(saved)


def test_scikit_learn_protocol_with_a_formula(frame):
    """clone keeps the formula; a formula without outcome takes y, so GridSearchCV can score."""
    est = br.LinearRegression(br.Normal(1.0), sigma=1.0, method="map", formula="~ x1 + C(region) + x2:x3")
    assert clone(est).get_params()["formula"] == est.formula
    search = GridSearchCV(est, {"prior__scale": [0.1, 10.0]}, cv=3).fit(frame, frame.y)
    assert search.best_estimator_.terms_["C(region)"] == ["C(region)[T.south]", "C(region)[T.west]"]
    assert search.score(frame, frame.y) > 0.3


def test_every_estimator_takes_a_formula():
    for cls in persistence.ESTIMATORS.values():
        if cls.__name__.startswith("_"):  # a shared base class (glm._FamilyRegression) registers itself too
            continue
        assert "formula" in cls().get_params(), cls.__name__


def test_term_summary_recomputed_from_the_draws(frame):
    """The term table against numpy on the stored draws: norms of a factor's coefficients, and the
    share of draws whose contribution sd over the rows exceeds the size."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        fit = br.LinearRegression(br.GroupLaplace(0.5), formula=FORMULA).fit(
            frame, draws=60, tune=60, chains=2, random_seed=shifted(5), progressbar=False)
    table = fit.term_summary(frame, size=0.4, ci_prob=0.8)
    assert list(table.index) == ["x1", "C(region)", "x2:x3"] and table.loc["C(region)", "n_columns"] == 2
    draws = fit.idata_["posterior"]["coef"].to_numpy().reshape(-1, 4)
    norms = np.linalg.norm(draws[:, 1:3], axis=1)
    assert table.loc["C(region)", "norm_mean"] == pytest.approx(norms.mean(), rel=1e-12)
    assert table.loc["C(region)", "norm_eti80_lb"] == pytest.approx(np.quantile(norms, 0.1), rel=1e-12)
    assert table.loc["C(region)", "norm_map"] == pytest.approx(np.linalg.norm(fit.map_.coef[1:3]), rel=1e-12)
    contribution = (by_hand(frame).to_numpy()[:, 1:3] @ draws[:, 1:3].T).std(axis=0)
    assert table.loc["C(region)", "p_contribution_sd_gt_0.4"] == np.mean(contribution > 0.4)
    with pytest.raises(ValueError, match="pass X"):
        fit.term_summary(size=0.4)
    assert br.LinearRegression(br.GroupLaplace(1.0, groups=[0, 0, 1]), sigma=1.0).fit(
        by_hand(frame).iloc[:, :3], frame.y, method="map").term_columns_ == {"0": ["x1", "south"], "1": ["west"]}


def test_formula_on_dask_equals_the_in_memory_fit(frame):
    """A Dask data frame: the spec learned on partition 0 (which holds every level here), every
    partition encoded with it inside the sufficient-statistics pass; the MAP equals the in-memory
    formula fit (to 1e-10: sums in another order), names and terms too, and predictions on a Dask
    frame equal the in-memory ones; the same for logistic regression."""
    dd = pytest.importorskip("dask.dataframe")
    frame = frame.assign(region=np.r_[["north", "south", "west"], frame.region.to_numpy()[3:]])
    lazy = dd.from_pandas(frame, npartitions=3, sort=False)
    prior = br.Laplace(0.8)
    fit = br.LinearRegression(prior, formula=FORMULA).fit(lazy, method="map")
    memory = br.LinearRegression(prior, formula=FORMULA).fit(frame, method="map")
    np.testing.assert_allclose(fit.coef_, memory.coef_, rtol=0, atol=1e-10)
    assert abs(fit.intercept_ - memory.intercept_) < 1e-10 and abs(fit.sigma_ - memory.sigma_) < 1e-10
    assert fit.feature_names_ == memory.feature_names_ and fit.terms_ == memory.terms_
    np.testing.assert_allclose(fit.predict(lazy).compute(), memory.predict(frame), rtol=1e-12)
    np.testing.assert_allclose(fit.predict(frame), memory.predict(frame), rtol=1e-12)
    formula = "label ~ x1 + C(region) + x2:x3"  # logistic: its passes over the partitions, labels as strings
    clf = br.LogisticRegression(br.Normal(1.0), formula=formula).fit(lazy, method="map")
    clf_memory = br.LogisticRegression(br.Normal(1.0), formula=formula).fit(frame, method="map")
    np.testing.assert_allclose(clf.coef_, clf_memory.coef_, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(clf.predict(lazy).compute(), clf_memory.predict(frame))


def test_formula_on_dask_errors_name_the_problem(frame):
    """A level first seen in a later partition names the column, the level and partition 0's levels;
    transforms with learned constants and an empty first partition are refused with the fix."""
    dd = pytest.importorskip("dask.dataframe")
    late = frame.assign(region=np.where(np.arange(len(frame)) < 40, "north", frame.region))
    late.loc[late.index[-1], "region"] = "east"
    est = br.LinearRegression(br.Normal(1.0), sigma=1.0, formula=FORMULA)
    with pytest.raises(ValueError, match=r"column 'region' has \['east', 'south', 'west'\], the fit saw \['north'\]"):
        est.fit(dd.from_pandas(late, npartitions=2, sort=False), method="map")
    assert not hasattr(est, "coef_")  # a failed fit leaves no fit behind
    with pytest.raises(ValueError, match="center.*Compute those columns first"):
        est.set_params(formula="y ~ center(x1) + x2").fit(dd.from_pandas(frame, npartitions=2), method="map")
    empty = dd.concat([dd.from_pandas(frame.iloc[:0], npartitions=1), dd.from_pandas(frame, npartitions=2)])
    with pytest.raises(ValueError, match="first partition.*empty"):
        est.set_params(formula=FORMULA).fit(empty, method="map")
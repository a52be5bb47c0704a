"""Data frames as they come (issue 22): string columns of every pandas dtype backend are factors,
Dask frames after ``.categorize()`` fit, and a missing column or an interaction cell without data is
an error that names it. The reference is the fit on a design written out by hand (treatment
contrasts against the first level in sorted order): MAP to 1e-12 (the same closed form on the same
numbers; sums in another order for Dask, 1e-10)."""

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from seeds import shifted

pa = pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(shifted(51))
    n = 90
    df = pd.DataFrame({"x1": rng.normal(size=n), "region": rng.choice(["east", "north", "south"], n).astype(object),
                       "arm": rng.choice(["a", "b"], n).astype(object)})
    df["y"] = 0.5 + df.x1 + df.region.map({"east": 0.0, "north": 0.7, "south": -0.5}) + rng.normal(size=n)
    return df


def by_hand(df) -> np.ndarray:
    region = df["region"].astype(object)
    return np.column_stack([df.x1, region == "north", region == "south"]).astype(float)


def _dictionary(values):
    """A pyarrow dictionary column, its dictionary in order of first appearance (not sorted)."""
    array = pa.array(list(values)).dictionary_encode()
    return pd.Series(array, dtype=pd.ArrowDtype(array.type))


DTYPES = {"object": lambda s: s.astype(object), "str": lambda s: s.astype("str"),
          "string[pyarrow]": lambda s: s.astype("string[pyarrow]"), "string[python]": lambda s: s.astype("string[python]"),
          "arrow string": lambda s: s.astype(pd.ArrowDtype(pa.string())),
          "arrow large_string": lambda s: s.astype(pd.ArrowDtype(pa.large_string())),
          "arrow dictionary": lambda s: _dictionary(s), "category": lambda s: s.astype("category")}


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_string_columns_of_any_dtype_are_factors(frame, dtype):
    """With and without ``C()``: the same columns as an object column gives, the MAP of the by-hand
    design, and predictions on new rows (reversed, so a dictionary's order differs) equal by hand."""
    data = frame.assign(region=DTYPES[dtype](frame["region"]))
    hand = br.LinearRegression(br.Normal(1.0), sigma=1.0).fit(by_hand(frame), frame.y, method="map")
    for formula, prefix in (("y ~ x1 + region", "region"), ("y ~ x1 + C(region)", "C(region)")):
        fit = br.LinearRegression(br.Normal(1.0), sigma=1.0, formula=formula).fit(data, method="map")
        assert fit.feature_names_ == ["x1", f"{prefix}[T.north]", f"{prefix}[T.south]"]
        np.testing.assert_allclose(fit.coef_, hand.coef_, rtol=0, atol=1e-12)
        new = frame.iloc[::-1].reset_index(drop=True)
        new_data = new.assign(region=DTYPES[dtype](new["region"]))
        np.testing.assert_allclose(fit.predict(new_data), hand.predict(by_hand(new)), rtol=0, atol=1e-12)


def test_a_missing_value_in_a_pyarrow_string_column_names_it(frame):
    data = frame.assign(region=frame["region"].astype("string[pyarrow]"))
    data.loc[3, "region"] = pd.NA
    with pytest.raises(ValueError, match="missing values.*region"):
        br.LinearRegression(br.Normal(1.0), formula="y ~ x1 + region").fit(data, method="map")


def test_dask_frame_after_categorize_equals_the_in_memory_fit(frame):
    """``.categorize()`` gives every partition the column's categories; partition 0 lacks the level
    'south' here, which the categories still hold, so the fit equals the in-memory one (and a
    projection below ``categorize`` no longer reaches Dask's optimiser, which failed with KeyError)."""
    dd = pytest.importorskip("dask.dataframe")
    ordered = pd.concat([frame[frame.region != "south"], frame[frame.region == "south"]], ignore_index=True)
    lazy = dd.from_pandas(ordered.assign(region=ordered.region.astype("string[pyarrow]")), npartitions=3, sort=False)
    assert "south" not in set(lazy.get_partition(0).compute().region)
    hand = br.LinearRegression(br.Normal(1.0)).fit(by_hand(ordered), ordered.y, method="map")
    for formula in ("y ~ x1 + C(region)", "y ~ x1 + region"):
        fit = br.LinearRegression(br.Normal(1.0), formula=formula).fit(lazy.categorize(columns=["region"]),
                                                                       method="map")
        np.testing.assert_allclose(fit.coef_, hand.coef_, rtol=0, atol=1e-10)
        np.testing.assert_allclose(fit.predict(lazy.categorize(columns=["region"])).compute(),
                                   hand.predict(by_hand(ordered)), rtol=0, atol=1e-10)
    everything = br.LinearRegression(br.Normal(1.0), formula="y ~ x1 + region + arm").fit(lazy.categorize(),
                                                                                           method="map")
    memory = br.LinearRegression(br.Normal(1.0), formula="y ~ x1 + region + arm").fit(ordered, method="map")
    np.testing.assert_allclose(everything.coef_, memory.coef_, rtol=0, atol=1e-10)


@pytest.mark.parametrize("formula", ["y ~ x1 + C(regoin)", "y ~ x1 + regoin", "y ~ x1 + regoin:x1"])
def test_a_missing_column_is_named(frame, formula):
    """On fit and on predict: the column, and the closest one the frame has."""
    with pytest.raises(ValueError, match="no column 'regoin', which the formula uses; did you mean 'region'"):
        br.LinearRegression(br.Normal(1.0), formula=formula).fit(frame, method="map")
    fit = br.LinearRegression(br.Normal(1.0), formula="y ~ x1 + C(region)").fit(frame, method="map")
    with pytest.raises(ValueError, match=r"no column 'region', which the formula uses \(it has columns"):
        fit.predict(frame.drop(columns="region"))


def test_an_interaction_cell_without_data_is_an_error(frame):
    """No row has region 'south' with arm 'b': its column would hold zeros only (a coefficient the
    data do not touch). Also a category no row has. The previous fit stays."""
    est = br.LinearRegression(br.Normal(1.0), formula="y ~ C(region) * C(arm)").fit(frame, method="map")
    coef = est.coef_.copy()
    empty = frame[~((frame.region == "south") & (frame.arm == "b"))]
    for formula in ("y ~ C(region) * C(arm)", "y ~ C(region):C(arm)"):
        with pytest.raises(ValueError, match=r"column 'C\(region\)\[T.south\]:C\(arm\)\[(T.)?b\]' of term "
                                             r"'C\(region\):C\(arm\)' is zero in every row: no row has that "
                                             "combination of levels"):
            est.set_params(formula=formula).fit(empty, method="map")
    np.testing.assert_array_equal(est.coef_, coef)
    unused = frame.assign(region=pd.Categorical(frame.region, categories=["east", "north", "south", "west"]))
    with pytest.raises(ValueError, match=r"'C\(region\)\[T.west\]' of term 'C\(region\)' .* no row has that level"):
        est.set_params(formula="y ~ x1 + C(region)").fit(unused, method="map")
    np.testing.assert_array_equal(est.coef_, coef)

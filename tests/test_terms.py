"""Results per term (issue 22): the term table of a MAP fit and of ``summary()``, each recomputed in
NumPy from the fit's own coefficients or draws on a design written out by hand (treatment contrasts
against the first level), so that the reference does not go through formulaic or bayesreg.terms.

The comparisons are of the same floating-point numbers computed in another order (a norm, a
population sd, a share of draws): tolerances 1e-12 relative, no Monte Carlo error enters."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.results import SummaryTable
from bayesreg.sampling import SamplingWarning
from seeds import shifted

FORMULA = "y ~ x1 + C(region)"


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(shifted(31))
    n = 90
    df = pd.DataFrame({"x1": rng.normal(size=n), "region": rng.choice(["north", "south", "west"], n)})
    df["y"] = 0.3 + df.x1 + df.region.map({"north": 0.0, "south": 0.8, "west": -0.4}) + rng.normal(size=n)
    return df


def by_hand(df) -> np.ndarray:
    return np.column_stack([df.x1, df.region == "south", df.region == "west"]).astype(float)


@pytest.fixture(scope="module")
def nuts_fit(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # 80 draws: ESS warnings are expected
        return br.LinearRegression(br.GroupLaplace(0.5), formula=FORMULA).fit(
            frame, draws=80, tune=80, chains=2, random_seed=shifted(6), progressbar=False)


def test_term_summary_of_a_map_fit(frame):
    """A MAP fit has no draws: the norm of the MAP's coefficients per term and the sd over the rows of
    the term's contribution at the MAP; a probability (which needs draws) is refused with the fix."""
    fit = br.LinearRegression(br.GroupLaplace(0.5), sigma=1.0, formula=FORMULA).fit(frame, method="map")
    table = fit.term_summary(frame)
    assert list(table.index) == ["x1", "C(region)"]
    assert list(table.columns) == ["n_columns", "norm_map", "contribution_sd_map", "columns"]
    assert table.loc["C(region)", "columns"] == "C(region)[T.south], C(region)[T.west]"
    assert table.loc["C(region)", "norm_map"] == pytest.approx(np.linalg.norm(fit.coef_[1:]), rel=1e-12)
    contribution = by_hand(frame)[:, 1:] @ fit.coef_[1:]
    assert table.loc["C(region)", "contribution_sd_map"] == pytest.approx(contribution.std(), rel=1e-12)
    assert table.loc["x1", "contribution_sd_map"] == pytest.approx(abs(fit.coef_[0]) * frame.x1.std(ddof=0),
                                                                   rel=1e-12)
    assert list(fit.term_summary().columns) == ["n_columns", "norm_map", "columns"]
    with pytest.raises(ValueError, match="needs a posterior.*method='nuts'"):
        fit.term_summary(frame, size=0.3)
    with pytest.raises(ValueError, match="size .* must be a finite number >= 0"):
        fit.term_summary(frame, size=-1.0)


def test_summary_carries_the_term_table(frame, nuts_fit):
    """``summary()`` keeps one row per coefficient (as before) and holds the term table, equal to
    ``term_summary`` with the same arguments and to NumPy on the stored draws; it is shown below the
    coefficients. A fit without terms has none, and refuses X and size, which would go unused."""
    table = nuts_fit.summary(X=frame, size=0.3, ci_prob=0.8)
    assert isinstance(table, SummaryTable)
    assert list(table.index) == [*nuts_fit.feature_names_, "intercept", "sigma"]
    pd.testing.assert_frame_equal(table.terms, nuts_fit.term_summary(frame, size=0.3, ci_prob=0.8))
    draws = nuts_fit.idata_["posterior"]["coef"].to_numpy().reshape(-1, 3)
    contribution = (by_hand(frame)[:, 1:] @ draws[:, 1:].T).std(axis=0)
    assert table.terms.loc["C(region)", "p_contribution_sd_gt_0.3"] == np.mean(contribution > 0.3)
    assert table.terms.loc["C(region)", "contribution_sd_mean"] == pytest.approx(contribution.mean(), rel=1e-12)
    norms = np.linalg.norm(draws[:, 1:], axis=1)
    assert table.terms.loc["C(region)", "norm_eti80_ub"] == pytest.approx(np.quantile(norms, 0.9), rel=1e-12)
    shown = repr(table)
    assert "per term (term_summary)" in shown and shown.index("sigma") < shown.index("C(region)[T.south], ")
    assert table.loc[["x1"]].terms is table.terms  # a selection keeps it
    assert list(nuts_fit.summary().terms.columns)[:3] == ["n_columns", "norm_mean", "norm_sd"]
    plain = nuts_fit.summary(round_to="none")
    assert type(plain) is pd.DataFrame and list(plain.index) == list(table.index)

    X = pd.DataFrame(by_hand(frame), columns=["x1", "south", "west"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        no_terms = br.LinearRegression(br.Normal(1.0), sigma=1.0).fit(X, frame.y, draws=40, tune=40, chains=1,
                                                                      random_seed=shifted(7), progressbar=False)
    assert no_terms.summary().terms is None and "per term" not in repr(no_terms.summary())
    with pytest.raises(ValueError, match="no terms"):
        no_terms.summary(X=X)


def test_term_table_is_shown_whole(frame):
    """The term table prints every column (no "..."), rounded, and keeps full precision."""
    fit = br.LinearRegression(br.GroupLaplace(0.5), sigma=1.0, formula=FORMULA).fit(frame, method="map")
    table = fit.term_summary(frame)
    assert isinstance(table, SummaryTable) and "..." not in repr(table)
    assert f"{table.loc['C(region)', 'norm_map']:.3g}" in repr(table)
    assert table.loc["C(region)", "norm_map"] == pytest.approx(np.linalg.norm(fit.coef_[1:]), rel=1e-12)

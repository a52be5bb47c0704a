"""Poisson and negative binomial on Dask input: the same rows' sums, MAP, draws' log-likelihoods,
surrogate and predictions as in NumPy (bayesreg/data/family_passes.py).

Equalities are to rounding: a Dask pass sums the same per-row numbers in another order, so the
sums agree to ~1e-12 relative and the MAP (Newton to rounding level on both) to 1e-10.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesreg as br
from bayesreg.data import family_data, family_draws_log_likelihood_of, family_likelihood_of
from bayesreg.families import NEGATIVE_BINOMIAL, POISSON
from bayesreg.solvers import NoMAPError
from seeds import shifted

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

COLUMNS = list("abcd")


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(shifted(21))
    n = 3000
    X = rng.normal(size=(n, 4))
    mu = np.exp(0.3 + X @ [0.5, -0.3, 0.2, 0.0])
    frame = pd.DataFrame(X, columns=COLUMNS)
    return frame.assign(poisson=rng.poisson(mu), negative_binomial=rng.poisson(rng.gamma(2.0, mu / 2.0)))


def _dask(frame, column, npartitions=5):
    data = dd.from_pandas(frame, npartitions=npartitions)
    return data[COLUMNS], data[column]


FAMILIES = [(br.PoissonRegression, "poisson", POISSON), (br.NegativeBinomialRegression, "negative_binomial",
                                                            NEGATIVE_BINOMIAL)]


@pytest.mark.parametrize("estimator, column, family", FAMILIES, ids=["poisson", "negative_binomial"])
def test_rows_sums_and_draws_equal_numpy(client, counts, estimator, column, family):
    X, y = counts[COLUMNS].to_numpy(), counts[column].to_numpy(dtype=float)
    data = family_data(*_dask(counts, column, npartitions=7), family)
    assert data.n == len(y) and data.y_mean == pytest.approx(y.mean(), rel=1e-13)
    rng = np.random.default_rng(shifted(1))
    theta, aux = rng.normal(scale=0.3, size=5), (1.7,)[: len(family.aux_names)]
    memory = family_likelihood_of((X, y), family, True)(theta, aux)
    dask = family_likelihood_of(data, family, True)(theta, aux)
    for got, expected in zip(dask.astuple(), memory.astuple()):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.max(np.abs(expected), initial=1.0))
    # per-draw log-likelihoods against a direct sum with scipy's densities
    coef, intercept = rng.normal(scale=0.3, size=(20, 4)), rng.normal(scale=0.3, size=20)
    aux_draws = tuple(rng.uniform(0.5, 3.0, size=(len(family.aux_names), 20)))
    direct = []
    for s in range(20):
        mu = np.exp(intercept[s] + X @ coef[s])
        if family is POISSON:
            direct.append(np.sum(y * np.log(mu) - mu - special.gammaln(y + 1)))
        else:
            phi = aux_draws[0][s]
            direct.append(np.sum(special.gammaln(y + phi) - special.gammaln(phi) - special.gammaln(y + 1)
                                 + phi * np.log(phi / (phi + mu)) + y * np.log(mu / (phi + mu))))
    for source in ((X, y), data):
        got = family_draws_log_likelihood_of(source, family)(coef, intercept, aux_draws)
        np.testing.assert_allclose(got, direct, rtol=1e-10)


@pytest.mark.parametrize("prior", [br.Normal(0.5), br.Laplace(0.2)], ids=["normal", "laplace"])
@pytest.mark.parametrize("estimator, column, family", FAMILIES, ids=["poisson", "negative_binomial"])
def test_dask_map_equals_numpy(client, counts, estimator, column, family, prior):
    expected = estimator(prior, method="map").fit(counts[COLUMNS], counts[column])
    got = estimator(prior, method="map").fit(*_dask(counts, column))
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.intercept_, expected.intercept_, rtol=1e-10)
    if family is NEGATIVE_BINOMIAL:
        np.testing.assert_allclose(got.phi_, expected.phi_, rtol=1e-10)
    assert got.feature_names_ == COLUMNS
    predicted = got.predict(_dask(counts, column)[0])
    assert type(predicted).__module__.startswith("dask")
    np.testing.assert_allclose(predicted.compute(), expected.predict(counts[COLUMNS]), rtol=1e-10)


@pytest.mark.parametrize("estimator, column, family", FAMILIES, ids=["poisson", "negative_binomial"])
def test_dask_surrogate_equals_in_memory(client, counts, estimator, column, family):
    """The expansion is the same to rounding (the MAP and the rows' sums above), so the sampler sees
    the same model: the corrected means agree far within their Monte Carlo error, and k-hat is small."""
    settings = dict(draws=500, tune=500, random_seed=shifted(4), progressbar=False)
    memory = estimator(br.Normal(1.0), method="surrogate").fit(counts[COLUMNS], counts[column], **settings)
    dask = estimator(br.Normal(1.0), method="surrogate").fit(*_dask(counts, column), **settings)
    np.testing.assert_allclose(dask.map_.coef, memory.map_.coef, rtol=1e-10)
    assert dask.idata_.attrs["pareto_k"] < 0.5 and memory.idata_.attrs["pareto_k"] < 0.5
    a, b = dask.summary(), memory.summary()
    # MCSE of each mean is ~sd / sqrt(ESS) <= sd / 20; two independent runs would differ by < 4 MCSE
    # 99.99% of the time; the same seed on the same model differs far less
    gap = (a["mean"] - b["mean"]).abs() / b["sd"]
    assert gap.max() < 4 * np.sqrt(2) / 20, gap
    if family is NEGATIVE_BINOMIAL:
        assert "phi" in dask.idata_["posterior"] and dask.phi_ == pytest.approx(memory.phi_, rel=0.05)


def test_a_negative_count_in_a_late_block_is_a_clear_error(client, counts):
    frame = counts.copy()
    frame.loc[len(frame) - 2, "poisson"] = -1
    est = br.PoissonRegression(method="map")
    with pytest.raises(ValueError, match=r"counts in y.*row block 4.*Nothing was fitted"):
        est.fit(*_dask(frame, "poisson"))
    assert not hasattr(est, "coef_")


def test_all_zero_counts_on_dask_have_no_map(client, counts):
    frame = counts.assign(poisson=0)
    with pytest.raises(NoMAPError, match="every count in y is 0"):
        br.PoissonRegression(method="map").fit(*_dask(frame, "poisson"))


def test_student_t_refuses_dask_input_and_the_surrogate_with_the_reason(client, counts):
    with pytest.raises(ValueError, match="Dask input is not available for StudentTRegression.*not log-concave"):
        br.StudentTRegression(method="map").fit(*_dask(counts, "poisson"))
    with pytest.raises(ValueError, match="method='surrogate' is for .*not StudentTRegression.*not log-concave"):
        br.StudentTRegression().fit(counts[COLUMNS], counts["poisson"], method="surrogate")


# -- offset and sample_weight with Dask input (issue 21) ---------------------------------------------
@pytest.fixture(scope="module")
def rows(counts):
    """An offset (log exposure, moving the mean) and integer weights 0..3 (zeros included)."""
    rng = np.random.default_rng(shifted(22))
    return rng.normal(scale=0.5, size=len(counts)), rng.integers(0, 4, size=len(counts)).astype(float)


def _dask_rows(frame, column, offset, weights, npartitions=5):
    """X, y, offset and weights as columns of one Dask DataFrame (as the CLI's Parquet input gives them)."""
    data = dd.from_pandas(frame.assign(offset=offset, weight=weights), npartitions=npartitions)
    return data[COLUMNS], data[column], data["offset"], data["weight"]


def _assert_same_map(got, expected, family):
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.intercept_, expected.intercept_, rtol=1e-10)
    if family is NEGATIVE_BINOMIAL:
        np.testing.assert_allclose(got.phi_, expected.phi_, rtol=1e-10)


@pytest.mark.parametrize("estimator, column, family", FAMILIES, ids=["poisson", "negative_binomial"])
def test_dask_map_with_offset_and_weights_equals_numpy(client, counts, rows, estimator, column, family):
    """The same rows' sums to rounding, so the same MAP to 1e-10: offset and weights as columns of a
    Dask DataFrame, and with a Dask array X as a NumPy offset and Dask weights chunked unlike X."""
    offset, weights = rows
    expected = estimator(br.Normal(0.5), method="map").fit(counts[COLUMNS], counts[column], offset=offset,
                                                           sample_weight=weights)
    X, y, dask_offset, dask_weights = _dask_rows(counts, column, offset, weights)
    got = estimator(br.Normal(0.5), method="map").fit(X, y, offset=dask_offset, sample_weight=dask_weights)
    _assert_same_map(got, expected, family)
    da = pytest.importorskip("dask.array")
    X, y = da.from_array(counts[COLUMNS].to_numpy(), chunks=(700, 4)), da.from_array(counts[column].to_numpy(), 500)
    got = estimator(br.Normal(0.5), method="map").fit(X, y, offset=offset,
                                                      sample_weight=da.from_array(weights, chunks=1100))
    _assert_same_map(got, expected, family)


@pytest.mark.parametrize("estimator, column, family", FAMILIES, ids=["poisson", "negative_binomial"])
def test_dask_integer_weights_equal_repeated_rows(client, counts, rows, estimator, column, family):
    """A weight k counts its row k times: the Dask fit with weights is the in-memory fit of the rows
    repeated (weight 0: left out), to 1e-10, the offset repeated with its row."""
    offset, weights = rows
    repeat = weights.astype(int)
    expected = estimator(br.Normal(0.5), method="map").fit(counts[COLUMNS].loc[counts.index.repeat(repeat)],
                                                           np.repeat(counts[column].to_numpy(), repeat),
                                                           offset=np.repeat(offset, repeat))
    X, y, dask_offset, dask_weights = _dask_rows(counts, column, offset, weights, npartitions=4)
    got = estimator(br.Normal(0.5), method="map").fit(X, y, offset=dask_offset, sample_weight=dask_weights)
    _assert_same_map(got, expected, family)


@pytest.mark.parametrize("estimator, column, family", FAMILIES, ids=["poisson", "negative_binomial"])
def test_dask_surrogate_with_offset_and_weights_equals_in_memory(client, counts, rows, estimator, column, family):
    """As test_dask_surrogate_equals_in_memory, with offset and weights: the expansion (the MAP, the
    rows' sums) is the same to rounding, and so are the weighted n and mean y the kernel gets, so
    the sampler sees the same model and the same seed; the corrected means agree within the
    bound derived there (4 sqrt(2) MCSE, MCSE <= sd / 20: a false alarm < 1e-4 per mean even for
    independent runs)."""
    offset, weights = rows
    settings = dict(draws=500, tune=500, random_seed=shifted(5), progressbar=False)
    memory = estimator(br.Normal(1.0), method="surrogate").fit(counts[COLUMNS], counts[column], offset=offset,
                                                               sample_weight=weights, **settings)
    X, y, dask_offset, dask_weights = _dask_rows(counts, column, offset, weights)
    dask = estimator(br.Normal(1.0), method="surrogate").fit(X, y, offset=dask_offset, sample_weight=dask_weights,
                                                             **settings)
    np.testing.assert_allclose(dask.map_.coef, memory.map_.coef, rtol=1e-10)
    assert dask.idata_.attrs["pareto_k"] < 0.5 and memory.idata_.attrs["pareto_k"] < 0.5
    a, b = dask.summary(), memory.summary()
    gap = (a["mean"] - b["mean"]).abs() / b["sd"]
    assert gap.max() < 4 * np.sqrt(2) / 20, gap


def test_dask_rows_refused_clearly_where_not_available(client, counts, rows):
    offset, weights = rows
    X, y, dask_offset, dask_weights = _dask_rows(counts, "poisson", offset, weights)
    with pytest.raises(ValueError, match=r"offset with Dask input is not available with method='nuts'.*'map', "
                                         r"'surrogate'.*X.compute\(\)"):
        br.PoissonRegression().fit(X, y, offset=dask_offset, method="nuts")
    binary = (counts["poisson"] > 1).astype(int)
    data = dd.from_pandas(counts.assign(binary=binary), npartitions=5)
    with pytest.raises(ValueError, match="sample_weight with Dask input is not available .*for this estimator"):
        br.LogisticRegression(method="map").fit(data[COLUMNS], data["binary"], sample_weight=dask_weights)
    est = br.PoissonRegression(method="map")
    with pytest.raises(ValueError, match="with a Dask DataFrame X, give offset as a Dask Series"):
        est.fit(X, y, offset=offset)
    bad = weights.copy()
    bad[-3] = -1.0
    X, y, _, bad_weights = _dask_rows(counts, "poisson", offset, bad)
    with pytest.raises(ValueError, match=r"sample_weight must be >= 0.*row block 4.*Nothing was fitted"):
        est.fit(X, y, sample_weight=bad_weights)
    assert not hasattr(est, "coef_")

"""K-fold and reloo on Dask rows (issue 23): refits on the Dask training rows, scored in passes.

Reference: the same estimator's in-memory ``kfold`` / ``loo(reloo=True)`` with the same folds and
seeds. Two claims:

- One row block (a Dask array of one chunk, read as one piece): each refit's sufficient statistics
  are computed as in memory to the bit (one block: the same two-pass computation,
  tests/test_dask.py), so the refits' draws and every elpd_i equal the in-memory ones to 1e-10
  (the fold assignment, the seeds, the training rows and the scoring are deterministic; the
  scoring's matrix products may round differently in pieces of other shapes).
- Several partitions: the refits' data agree to rounding only, which NUTS may amplify (~1e-5 seen),
  so each row's difference is bounded by its Monte Carlo error, as if the two runs were
  independent: ``|d_i| < 5 sqrt(2) w_i sd_i``, ``sd_i = sd_s(p_is) / (mean_s(p_is) sqrt(S / 4))``
  (delta method; ESS >= S / 4 is conservative for these NUTS and resampled surrogate draws), from
  the in-memory refits' own draws: a false alarm < 6e-7 per row, < 1e-3 over a test's rows.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesreg as br
from bayesreg.assessment.fitted import _kfold_settings
from bayesreg.assessment.loo import fixed_auxiliary
from bayesreg.assessment.kfold import fold_ids, fold_seeds, refit_clone
from bayesreg.assessment.loo import log_likelihood_blocks
from bayesreg.data import dask_input
from seeds import shifted

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning",
                                        "ignore::bayesreg.assessment.LOOWarning")
rng = np.random.default_rng(shifted(241))
N, P, COLUMNS = 600, 4, list("abcd")
X = rng.normal(size=(N, P)) * [1.0, 2.0, 0.5, 1.0]
y = 1.5 + X @ [1.0, -0.5, 0.0, 0.25] + rng.normal(size=N)
OFFSET = np.log(rng.uniform(0.5, 2.0, N))
WEIGHTS = rng.integers(0, 3, N).astype(float)  # zeros included: rows left out of every fit
COUNTS = rng.poisson(np.exp(0.5 + X @ [0.3, -0.15, 0.0, 0.2] + OFFSET)).astype(float)
LABELS = np.where(X @ [0.5, -0.25, 0.0, 0.1] + rng.logistic(size=N) > 0, "yes", "no")
SETTINGS = dict(draws=200, tune=200, chains=2, progressbar=False)


@pytest.fixture(autouse=True)
def synchronous(request):
    if "client" in request.fixturenames:  # the test runs on its 2-worker cluster
        yield
        return
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(dask_input, "ROWS_PER_PIECE", 100)  # several pieces per partition


def _frame(npartitions=4):
    frame = dd.from_pandas(pd.DataFrame(X, columns=COLUMNS).assign(y=y, count=COUNTS, offset=OFFSET, weight=WEIGHTS),
                           npartitions=npartitions)
    return frame[COLUMNS], frame


def in_memory_refit_sd(est, X_arr, y_raw, y_arr, k, seed, offset=None, weights=None):
    """Per row, the Monte Carlo sd of its K-fold elpd_i (module docstring), from in-memory refits
    with the folds and seeds ``est.kfold`` uses."""
    fold = fold_ids(len(y_arr), k, None, seed)
    settings = _kfold_settings(est, None)
    sd = np.empty(len(y_arr))
    for j, fold_seed in zip(range(k), fold_seeds(seed, k)):
        train, test = fold != j, fold == j
        rows = {} if offset is None else {"offset": offset[train]}
        if weights is not None:
            rows["sample_weight"] = weights[train]
        refit = refit_clone(est).fit(X_arr[train], np.asarray(y_raw)[train], **rows,
                                     **{**settings, "random_seed": fold_seed})
        blocks = log_likelihood_blocks(refit.idata_, X_arr[test], y_arr[test], est._family, est.fit_intercept,
                                       est._known_sigma(), offset=None if offset is None else offset[test],
                                       aux_fixed=fixed_auxiliary(est))
        loglik = np.concatenate([values.reshape(-1, values.shape[-1]) for _, values in blocks], axis=1)
        if weights is not None:  # a row's copies held out together: the density of p^w (kfold module)
            loglik = loglik * weights[test]
        p = np.exp(loglik - special.logsumexp(loglik, axis=0))
        sd[test] = p.std(axis=0) / p.mean(axis=0) / np.sqrt(p.shape[0] / 4)
    return sd


def _assert_within_monte_carlo(got, expected, sd):
    error = np.abs(got.elpd_i.to_numpy() - expected.elpd_i.to_numpy())
    assert np.all(error <= 5 * np.sqrt(2) * sd), (error / np.maximum(sd, 1e-300)).max()
    assert got.n_folds == expected.n_folds and got.n_samples == expected.n_samples


def test_linear_kfold_on_one_dask_chunk_equals_in_memory():
    est = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X, y, **SETTINGS, random_seed=shifted(1))
    expected = est.kfold(X, y, k=4, random_seed=shifted(2))
    got = est.kfold(da.from_array(X), da.from_array(y), k=4, random_seed=shifted(2))
    np.testing.assert_allclose(got.elpd_i.to_numpy(), expected.elpd_i.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(got.p_kfold_i.to_numpy(), expected.p_kfold_i.to_numpy(), rtol=1e-10, atol=1e-12)
    assert got.n_folds == 4 and got.se == pytest.approx(expected.se, rel=1e-10)
    labels = np.repeat(["a", "b", "c"], N // 3)  # folds given as labels (NumPy or Dask)
    np.testing.assert_allclose(est.kfold(da.from_array(X), da.from_array(y), folds=da.from_array(labels),
                                         random_seed=shifted(2)).elpd_i,
                               est.kfold(X, y, folds=labels, random_seed=shifted(2)).elpd_i, rtol=1e-10)


def test_linear_kfold_on_dask_partitions_within_monte_carlo_error(small_pieces):
    est = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X, y, **SETTINGS, random_seed=shifted(3))
    X_frame, frame = _frame()
    expected = est.kfold(X, y, k=3, random_seed=shifted(4))
    sd = in_memory_refit_sd(est, X, y, y, 3, shifted(4))
    _assert_within_monte_carlo(est.kfold(X_frame, frame["y"], k=3, random_seed=shifted(4)), expected, sd)
    X_chunked = da.from_array(X, chunks=(250, 2))
    _assert_within_monte_carlo(est.kfold(X_chunked, y, k=3, random_seed=shifted(4)), expected, sd)  # NumPy y


def test_poisson_kfold_with_offset_and_weights_on_dask_within_monte_carlo_error(small_pieces):
    """The surrogate fitted on Dask with offset and weights (Dask Series of one frame); its K-fold on
    the frame and on a Dask array with NumPy offset and weights, against the in-memory K-fold."""
    X_frame, frame = _frame()
    est = br.PoissonRegression(br.Normal(1.0), method="surrogate").fit(
        X_frame, frame["count"], offset=frame["offset"], sample_weight=frame["weight"], **SETTINGS,
        random_seed=shifted(5))
    expected = est.kfold(pd.DataFrame(X, columns=COLUMNS), COUNTS, k=3, random_seed=shifted(6), offset=OFFSET,
                         sample_weight=WEIGHTS)
    sd = in_memory_refit_sd(est, X, COUNTS, COUNTS, 3, shifted(6), OFFSET, WEIGHTS)
    _assert_within_monte_carlo(est.kfold(X_frame, frame["count"], k=3, random_seed=shifted(6),
                                         offset=frame["offset"], sample_weight=frame["weight"]), expected, sd)
    _assert_within_monte_carlo(est.kfold(da.from_array(X, chunks=(200, 4)), da.from_array(COUNTS, chunks=300),
                                         k=3, random_seed=shifted(6), offset=OFFSET, sample_weight=WEIGHTS),
                               expected, sd)
    assert np.all(expected.elpd_i.to_numpy()[WEIGHTS == 0] == 0)


def test_logistic_surrogate_kfold_on_a_dask_frame_within_monte_carlo_error(small_pieces):
    labels = LABELS
    frame = dd.from_pandas(pd.DataFrame(X, columns=COLUMNS).assign(label=labels), npartitions=3)
    est = br.LogisticRegression(br.Normal(1.0), method="surrogate").fit(frame[COLUMNS], frame["label"], **SETTINGS,
                                                                        random_seed=shifted(7))
    expected = est.kfold(X, labels, k=3, random_seed=shifted(8))
    sd = in_memory_refit_sd(est, X, labels, (labels == "yes").astype(float), 3, shifted(8))
    _assert_within_monte_carlo(est.kfold(frame[COLUMNS], frame["label"], k=3, random_seed=shifted(8)), expected, sd)


def test_formula_kfold_and_reloo_on_a_dask_frame_on_a_cluster(client, small_pieces):
    """A formula fit (the outcome read from the frame, a factor) on a 2-worker cluster: the refits'
    training rows of the lazily encoded design."""
    table = pd.DataFrame(X, columns=COLUMNS).assign(y=y, g=np.array(["u", "v", "w"])[np.arange(N) % 3],
                                                    unused=OFFSET)  # columns the formula leaves out
    frame = dd.from_pandas(table, npartitions=3)
    est = br.LinearRegression(br.Normal(1.0), formula="y ~ a + b + C(g)").fit(frame, **SETTINGS,
                                                                             random_seed=shifted(18))
    expected = est.kfold(table, k=3, random_seed=shifted(19))
    design = est._validated_X(table)
    _assert_within_monte_carlo(est.kfold(frame, k=3, random_seed=shifted(19)), expected,
                               in_memory_refit_sd(est, design, y, y, 3, shifted(19)))


def test_kfold_on_parquet_whose_partitions_dask_fuses(tmp_path, small_pieces):
    """Three small Parquet files: the first pass streams them one by one (parquet_stream), while
    Dask's reader, in the refits' passes, fuses the small files of a column selection into fewer
    partitions (seen: files 2 and 3 as one); the training rows are found by row number, not by
    partition number, so they are the in-memory ones (locating them by partition failed here)."""
    table = pd.DataFrame(X, columns=COLUMNS).assign(y=y, unused=OFFSET)
    dd.from_pandas(table, npartitions=3).to_parquet(tmp_path)
    frame = dd.read_parquet(tmp_path)
    est = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(frame[COLUMNS], frame["y"], **SETTINGS,
                                                                   random_seed=shifted(20))
    expected = est.kfold(X, y, k=3, random_seed=shifted(21))
    _assert_within_monte_carlo(est.kfold(frame[COLUMNS], frame["y"], k=3, random_seed=shifted(21)), expected,
                               in_memory_refit_sd(est, X, y, y, 3, shifted(21)))


def test_reloo_on_one_dask_chunk_equals_in_memory():
    """The two rows of largest k-hat flagged (a threshold between the 2nd and 3rd largest: PSIS on
    Dask equals in memory to 1e-10, test_dask_assessment.py) and refitted without each; with every
    row flagged and max_refits=0, K-fold, as est.kfold with the same seed."""
    est = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X, y, **SETTINGS, random_seed=shifted(9))
    X_dask, y_dask = da.from_array(X), da.from_array(y)
    khat = np.sort(est.loo(X, y).pareto_k.to_numpy())
    threshold = (khat[-2] + khat[-3]) / 2
    expected = est.loo(X, y, reloo=True, k_threshold=threshold, random_seed=shifted(10))
    got = est.loo(X_dask, y_dask, reloo=True, k_threshold=threshold, random_seed=shifted(10))
    refitted = expected.pareto_k.to_numpy() == 0
    assert refitted.sum() == 2 and np.array_equal(got.pareto_k.to_numpy() == 0, refitted)
    np.testing.assert_allclose(got.elpd_i.to_numpy(), expected.elpd_i.to_numpy(), rtol=1e-10)
    assert got.p == pytest.approx(expected.p, rel=1e-10)
    kfold = est.loo(X_dask, y_dask, reloo=True, max_refits=0, k_threshold=-np.inf, kfold=3, random_seed=shifted(11))
    np.testing.assert_allclose(kfold.elpd_i.to_numpy(),
                               est.kfold(X, y, k=3, method="refit", random_seed=shifted(11)).elpd_i.to_numpy(),
                               rtol=1e-10)


def test_dask_refits_refused_clearly():
    est = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X, y, **SETTINGS, random_seed=shifted(12))
    X_frame, frame = _frame()
    with pytest.raises(ValueError, match=r"K-fold on Dask rows refits LinearRegression with method='nuts'.*"
                                         r"sample_weight.*X.compute\(\)"):
        est.kfold(X_frame, frame["y"], sample_weight=frame["weight"])
    with pytest.raises(ValueError, match=r"method='exact': exact LOO needs a known noise sd.*method='refit'"):
        est.kfold(X_frame, frame["y"], method="exact")
    with pytest.raises(ValueError, match="give y, offset and sample_weight as Dask Series|give offset as a Dask Series"):
        br.PoissonRegression(method="surrogate").fit(X, COUNTS, **SETTINGS, random_seed=shifted(13)).kfold(
            X_frame, frame["count"], offset=OFFSET)
    map_fit = br.LinearRegression(method="map").fit(X, y)
    with pytest.raises(ValueError, match=r"kfold \(refits; the exact K-fold needs .*\) needs a posterior"):
        map_fit.kfold(X_frame, frame["y"])


def _reloo_row_by_hand(est, row, seed, method):
    """The flagged row's log mean_s NB(y_i | exp(offset_i + b_s + x_i'w_s), phi = 3) under a refit
    by hand without it (scipy's density; reloo's settings and seed), and its Monte Carlo sd."""
    from scipy import stats

    from bayesreg.assessment.reloo import refit_settings

    keep = np.arange(N) != row
    hand = br.NegativeBinomialRegression(est.prior_, phi=3.0).fit(
        X[keep], COUNTS[keep], offset=OFFSET[keep], method=method, **refit_settings(est.idata_, None, seed))
    posterior = hand.idata_["posterior"]
    coef = posterior["coef"].to_numpy().reshape(-1, P)
    mu = np.exp(OFFSET[row] + posterior["intercept"].to_numpy().ravel() + coef @ X[row])
    log_p = stats.nbinom.logpmf(COUNTS[row], 3.0, 3.0 / (3.0 + mu))
    p = np.exp(log_p - log_p.max())
    return special.logsumexp(log_p) - np.log(mu.size), p.std() / p.mean() / np.sqrt(mu.size / 4)


def _worst_row_threshold(est, *data, offset):
    khat = np.sort(est.loo(*data, offset=offset).pareto_k.to_numpy())
    return (khat[-1] + khat[-2]) / 2  # only the row of largest k-hat is flagged


def test_reloo_with_offset_and_fixed_phi_in_memory_equals_a_hand_refit():
    """reloo of a negative binomial with phi fixed and an offset (in memory it used to refuse the
    offset): the flagged row's elpd is the hand refit's, to 1e-10."""
    est = br.NegativeBinomialRegression(br.Normal(1.0), phi=3.0).fit(X, COUNTS, offset=OFFSET, **SETTINGS,
                                                                      random_seed=shifted(14))
    threshold = _worst_row_threshold(est, X, COUNTS, offset=OFFSET)
    got = est.loo(X, COUNTS, offset=OFFSET, reloo=True, k_threshold=threshold, random_seed=shifted(15))
    (row,) = np.flatnonzero(got.pareto_k.to_numpy() == 0)
    density, _ = _reloo_row_by_hand(est, row, shifted(15), "nuts")
    assert got.elpd_i.to_numpy()[row] == pytest.approx(density, rel=1e-10)


def test_reloo_of_a_dask_surrogate_fit_with_offset_within_monte_carlo_error(small_pieces):
    """On Dask the refit is the full fit's surrogate on the Dask rows without the flagged row (the
    offset a column of the frame): within 5 sqrt(2) Monte Carlo sds of a hand surrogate refit in
    memory (module docstring); the other rows keep PSIS's values exactly."""
    _, frame = _frame()
    est = br.NegativeBinomialRegression(br.Normal(1.0), phi=3.0, method="surrogate").fit(
        frame[COLUMNS], frame["count"], offset=frame["offset"], **SETTINGS, random_seed=shifted(16))
    threshold = _worst_row_threshold(est, X, COUNTS, offset=OFFSET)
    psis = est.loo(X, COUNTS, offset=OFFSET)
    got = est.loo(frame[COLUMNS], frame["count"], offset=frame["offset"], reloo=True, k_threshold=threshold,
                  random_seed=shifted(17))
    (row,) = np.flatnonzero(got.pareto_k.to_numpy() == 0)
    density, sd = _reloo_row_by_hand(est, row, shifted(17), "surrogate")
    assert abs(got.elpd_i.to_numpy()[row] - density) <= 5 * np.sqrt(2) * sd
    others = np.arange(N) != row
    np.testing.assert_allclose(got.elpd_i.to_numpy()[others], psis.elpd_i.to_numpy()[others], rtol=1e-10)

"""``br.select`` on Dask rows (issue 23): the same selection as on the computed rows, in few passes.

References: the in-memory selection (``br.select`` on NumPy rows: QR least squares, Newton on the
rows, PSIS on the draws x rows matrix) on the same fit, and the in-memory projections
(``project_gaussian``, ``project_glm``). Tolerances: the Gram statistics square the columns'
condition number (here ~10, so 1e-14 relative rounding becomes ~1e-12); the Newton passes stop at a
step below 1e-10 (1 + max|b|), after which the error is of the order of the step squared; PSIS is
the same per-row computation. 1e-8 leaves room for both. Pieces of 50 rows and uneven chunks
(one of a single row) exercise the block machinery.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.assessment.projection import forward_search, project_gaussian
from bayesreg.assessment.projection_glm import project_glm
from bayesreg.assessment.projection_gram import GramStatistics, forward_search_gram, project_gram
from bayesreg.assessment.projection_passes import project_glm_passes
from bayesreg.data import dask_input
from seeds import shifted

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
from dask.callbacks import Callback  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning",
                                        "ignore::bayesreg.assessment.LOOWarning")
UNEVEN = (1, 37, 120, 142)
rng = np.random.default_rng(shifted(2310))
N, P = sum(UNEVEN), 6
X = rng.normal(size=(N, P)) * [1.0, 2.0, 0.5, 3.0, 1.0, 1.5] + [0.0, 1.0, -2.0, 0.5, 0.0, 3.0]
ETA = X @ [1.0, -0.5, 0.0, 0.25, 0.0, 0.3]
Y = 1.5 + ETA + rng.normal(size=N)
LABELS = rng.random(N) < 1 / (1 + np.exp(-(ETA - ETA.mean())))
FIT = {"draws": 200, "tune": 200, "chains": 2, "progressbar": False}
ARRAYS = ("elpd_i", "reference_elpd_i", "loo_predictions", "reference_predictions", "y", "pareto_k")


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch):
    monkeypatch.setattr(dask_input, "ROWS_PER_PIECE", 50)


class Computes(Callback):
    """Counts ``dask.compute`` calls (each is one pass over the row blocks here)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1


def dask_rows(labels=Y):
    return da.from_array(X, chunks=(UNEVEN, 3)), da.from_array(np.asarray(labels), chunks=(UNEVEN,))


def assert_same_selection(on_dask, in_memory, tol=1e-8):
    assert on_dask.order == in_memory.order
    for name in ARRAYS:
        np.testing.assert_allclose(getattr(on_dask, name), getattr(in_memory, name), rtol=0, atol=tol, err_msg=name)
    pd.testing.assert_frame_equal(on_dask.table(), in_memory.table(), rtol=1e-8)
    assert on_dask.suggest_size() == in_memory.suggest_size()


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gram_search_and_projection_equal_the_ones_on_rows(fit_intercept):
    """Noise sds from 0.05 to 5 (the draws weigh differently). Groups with a column in the span of
    others (column 6 = x0 + x1): the group's new directions only, or the group skipped. (Single
    dependent columns would tie exactly: after x6, x0 and x1 span the same space; rounding, not
    the method, would break the tie.)"""
    S = 25
    coef, intercept, sigma = rng.normal(size=(S, P + 1)), rng.normal(size=S), np.geomspace(0.05, 5, S)
    Xd = np.column_stack([X, X[:, 0] + X[:, 1]])
    mean = Xd.mean(axis=0)
    stats = GramStatistics(N, mean, (Xd - mean).T @ (Xd - mean))
    mu = coef @ Xd.T + (intercept[:, None] if fit_intercept else 0.0)
    independent = GramStatistics(N, mean[:P], stats.scatter[:P, :P])
    order = forward_search(X, mu, sigma, fit_intercept, P)  # mu uses column 6 too: x0 + x1 in X's span
    assert forward_search_gram(independent, coef[:, :P] + np.outer(coef[:, P], [1, 1, 0, 0, 0, 0]), sigma,
                               fit_intercept, P) == order
    for size in range(len(order) + 1):
        expected = project_gaussian(Xd, mu, sigma, order[:size], fit_intercept)
        got = project_gram(stats, coef, intercept, sigma, order[:size], fit_intercept)
        for name in ("coef", "intercept", "sigma"):
            np.testing.assert_allclose(getattr(got, name), getattr(expected, name), rtol=0, atol=1e-8)
    for groups in ([[0, 6], [2], [1, 3], [4, 5]], [[0, 1], [6], [2]]):
        expected = forward_search(Xd, mu, sigma, fit_intercept, len(groups), groups=groups)
        assert forward_search_gram(stats, coef, sigma, fit_intercept, len(groups), groups) == expected


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_newton_passes_equal_the_projection_on_rows(family):
    S = 15
    coef, intercept = 0.3 * rng.normal(size=(S, P)), rng.normal(size=S) - X.mean(axis=0) @ (0.3 * np.ones(P))
    eta = intercept[:, None] + coef @ X.T
    target = 1 / (1 + np.exp(-eta)) if family == "bernoulli" else np.exp(eta)
    column_sets = [[], [3], [3, 0], [3, 0, 5, 1]]
    Xd, yd = dask_rows()
    with Computes() as computes:
        projections, passes = project_glm_passes(Xd, yd, (coef, intercept), column_sets, target.mean(axis=1), family,
                                                 True)
    assert computes.count == passes <= 20  # all sizes and draws share each Newton iteration's pass
    for columns, got in zip(column_sets, projections):
        expected = project_glm(X, target, columns, True, family)
        np.testing.assert_allclose(got.coef, expected.coef, rtol=0, atol=1e-8)
        np.testing.assert_allclose(got.intercept, expected.intercept, rtol=0, atol=1e-8)


def test_linear_selection_on_dask_rows_equals_the_one_in_memory():
    est = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X, Y, random_seed=shifted(11), **FIT)
    in_memory = br.select(est, X, Y, random_seed=shifted(1))
    with Computes() as computes:
        on_dask = br.select(est, *dask_rows(), random_seed=shifted(1))
    assert computes.count == on_dask._reference.passes == 2  # the statistics, the validation
    assert_same_selection(on_dask, in_memory)
    terms = in_memory.terms[:3]
    for name in ("coef", "intercept", "sigma"):
        np.testing.assert_allclose(getattr(on_dask.project(terms).projection, name),
                                   getattr(in_memory.project(terms).projection, name), rtol=0, atol=1e-8)
    columns = [f"x{j}" for j in range(P)]
    frame = dd.from_pandas(pd.DataFrame(X, columns=columns).assign(target=Y), npartitions=3)
    assert_same_selection(br.select(est, frame[columns].to_dask_array(lengths=True), frame["target"],
                                    random_seed=shifted(1)), in_memory)
    with pytest.raises(ValueError, match="K-fold .*needs the rows in memory"):
        br.select(est, *dask_rows(), cv_method="kfold")


def test_logistic_selection_on_dask_frames_equals_the_one_in_memory():
    columns = [f"x{j}" for j in range(P)]
    frame = pd.DataFrame(X, columns=columns)
    labels = np.where(LABELS, "yes", "no")
    est = br.LogisticRegression(br.Normal(1.0, autoscale=True)).fit(frame, labels, random_seed=shifted(12), **FIT)
    in_memory = br.select(est, frame, labels, ndraws=100, random_seed=shifted(1))
    data = dd.from_pandas(frame.assign(label=labels), npartitions=4)
    with Computes() as computes:
        on_dask = br.select(est, data[columns], data["label"], ndraws=100, random_seed=shifted(1))
    # the sample, the Newton iterations (all sizes at once), the validation: not one per size or candidate
    assert computes.count == on_dask._reference.passes <= 2 + 20
    assert_same_selection(on_dask, in_memory)
    np.testing.assert_allclose(on_dask.project(["x0", "x3"]).projection.coef,
                               in_memory.project(["x0", "x3"]).projection.coef, rtol=0, atol=1e-8)


def test_fits_made_on_dask_select_end_to_end():
    """A LinearRegression fitted on Dask arrays (NUTS on the sufficient statistics) and a
    LogisticRegression and a PoissonRegression fitted by the surrogate on Dask: selected on the Dask
    rows, the same as on the computed rows. The logistic search runs on a sample of 200 of the 300
    rows: then its order may differ from the search on all rows, and every size's validation (all
    rows) still equals the in-memory one of that order."""
    Xd, yd = dask_rows()
    linear = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(Xd, yd, random_seed=shifted(13), **FIT)
    assert_same_selection(br.select(linear, Xd, yd, random_seed=shifted(1)), br.select(linear, X, Y, random_seed=shifted(1)))
    _, labels = dask_rows(LABELS.astype(int))
    logistic = br.LogisticRegression(br.Normal(1.0, autoscale=True)).fit(Xd, labels, method="surrogate",
                                                                          random_seed=shifted(14), **FIT)
    sampled = br.select(logistic, Xd, labels, ndraws=100, search_rows=200, random_seed=shifted(2))
    in_memory = br.select(logistic, X, LABELS.astype(int), ndraws=100)
    assert sorted(sampled.order) == sorted(in_memory.order)
    for size in range(P + 1):
        columns = sampled.order[:size]
        np.testing.assert_allclose(sampled.project(columns).predict(X), in_memory.project(columns).predict(X),
                                   rtol=0, atol=1e-8)
    assert sampled.table()["elpd_diff"].iloc[-1] == pytest.approx(in_memory.table()["elpd_diff"].iloc[-1], abs=1e-8)
    counts = rng.poisson(np.exp(0.3 * (ETA - ETA.mean())))
    _, count_rows = dask_rows(counts)
    poisson = br.PoissonRegression(br.Normal(1.0, autoscale=True)).fit(Xd, count_rows, method="surrogate",
                                                                        random_seed=shifted(15), **FIT)
    assert_same_selection(br.select(poisson, Xd, count_rows, ndraws=100, random_seed=shifted(1)),
                          br.select(poisson, X, counts, ndraws=100, random_seed=shifted(1)))
    with pytest.raises(ValueError, match="counts"):
        br.select(poisson, Xd, dask_rows(counts - 1.0)[1], ndraws=100)


def test_the_search_sample_is_uniform_rows_in_order():
    """The first pass's statistics equal NumPy's, and its sample is ``search_rows`` distinct rows of X
    in row order, spread over the rows (all of X when it has no more rows); a different seed draws a
    different sample."""
    from functools import partial

    from bayesreg.assessment.selection_dask import _first_piece, _merge_first
    from bayesreg.data.dask_reduce import reduce_row_pieces

    coef, intercept = rng.normal(size=(4, P)), rng.normal(size=4)
    Xd, yd = dask_rows()

    def first(rows, seed):
        return reduce_row_pieces(Xd, yd, _first_piece, partial(_merge_first, sample_rows=rows), (coef, intercept),
                                 "poisson", rows, seed)

    moments, target_sum, sample = first(100, shifted(3))
    assert moments.n == N
    np.testing.assert_allclose(moments.mean, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(moments.comoment, (X - X.mean(axis=0)).T @ (X - X.mean(axis=0)), rtol=1e-10)
    np.testing.assert_allclose(target_sum, np.exp(intercept[:, None] + coef @ X.T).sum(axis=1), rtol=1e-10)
    rows = [int(np.flatnonzero((X == row).all(axis=1))[0]) for row in sample[2][np.lexsort(sample[1].T[::-1])]]
    assert len(set(rows)) == 100 and rows == sorted(rows)
    # uniform: the rows in the second half are hypergeometric, mean 100 * 150 / 300 = 50, sd 4.3; 5 sd
    # either side (a false alarm ~ 1e-6) excludes e.g. the first 100 rows
    assert 28 <= sum(row >= N // 2 for row in rows) <= 72
    other = first(100, shifted(4))[2]
    assert not np.array_equal(np.sort(other[0]), np.sort(sample[0]))
    everything = first(N + 5, shifted(3))[2]
    np.testing.assert_array_equal(everything[2][np.lexsort(everything[1].T[::-1])], X)


@pytest.mark.parametrize("draws, scale", [(1000, 0.1), (1000, 3.0), (150, 1.0), (400, 10.0)])
def test_vectorised_psis_equals_arviz(draws, scale):
    """Light and heavy (t with 2 degrees of freedom) log-likelihood tails; 150 draws x r_eff 0.8 < 225
    takes ArviZ's other tail length (S / 5); at scale 10 some rows' tails underflow, where ArviZ
    returns NaN weights (and so must this). The same arithmetic: 1e-10 is rounding's room."""
    from arviz_stats.base import array_stats
    from scipy import special

    from bayesreg.assessment.psis_rows import psis_log_weights

    generator = np.random.default_rng(shifted(2311))
    loglik = (generator.normal(size=(draws, 600)) * scale * generator.uniform(0.1, 3, 600)
              + generator.standard_t(2, size=(draws, 600)) * scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected, expected_k = array_stats.psislw(loglik[None], r_eff=0.8, axis=(0, 1))
    expected = expected.reshape(600, draws).T
    expected -= special.logsumexp(expected, axis=0)
    got, khat = psis_log_weights(loglik, 0.8)
    np.testing.assert_allclose(khat, np.asarray(expected_k).reshape(-1), rtol=0, atol=1e-10)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)

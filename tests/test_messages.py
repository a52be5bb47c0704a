"""Messages that name what happened and point at the user's code (issue 20, "Messages that mislead")."""

import warnings

import nutpie
import numpy as np
import pytest
import xarray as xr

import bayesreg as br
from bayesreg import sampling
from bayesreg.sampling import surrogate
from seeds import shifted

QUICK = dict(draws=100, tune=100, chains=2, random_seed=shifted(1), progressbar=False)
rng = np.random.default_rng(shifted(0))
X = rng.normal(size=(60, 2))
y = X @ [1.0, -0.5] + rng.normal(size=60)
labels = (X[:, 0] + rng.normal(size=60) > 0).astype(int)


def test_a_posterior_method_after_empirical_bayes_names_empirical_bayes():
    est = br.LinearRegression(method="empirical_bayes").fit(X, y)
    with pytest.raises(ValueError, match="method='empirical_bayes'") as caught:
        est.summary()
    assert "method='map'" not in str(caught.value)


# -- unknown sampler options fail before sampling, as Python's own TypeError -------------------------
@pytest.fixture
def no_sampling(monkeypatch):
    """Any call of nutpie.sample fails the test: the option must be refused before it."""
    def sample(*args, **kwargs):
        raise AssertionError("nutpie.sample was called")

    monkeypatch.setattr(nutpie, "sample", sample)


@pytest.mark.parametrize("typo,meant", [("n_draws", "draws"), ("target_acept", "target_accept"),
                                        ("maxdepht", "maxdepth"), ("chain", "chains")])
def test_a_typo_is_an_unexpected_keyword_with_a_suggestion(no_sampling, typo, meant):
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{typo}'. Did you mean '{meant}'"):
        br.LinearRegression().fit(X, y, **{typo: 200})


@pytest.mark.parametrize("name,value", [("formula", "y ~ x0"), ("fit_intercept", False)])
def test_an_estimator_argument_given_to_fit_is_named_as_one(no_sampling, name, value):
    with pytest.raises(TypeError, match=f"fit\\(\\) got '{name}', an argument of the estimator itself: "
                                        f"PoissonRegression\\(..., {name}=...\\)"):
        br.PoissonRegression().fit(X, np.arange(len(X)) % 4, **{name: value})


def test_an_unknown_name_without_a_close_one_lists_what_fit_takes(no_sampling):
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'.*target_accept"):
        br.LogisticRegression().fit(X, labels, colour="red")


@pytest.mark.parametrize("option,message", [({"seed": 1}, "random_seed"), ({"progress_bar": False}, "progressbar"),
                                            ({"return_raw_trace": True}, "sets it itself"),
                                            ({"maxdepth": "deep"}, "maxdepth='deep'"),
                                            ({"adaptation": "lowrank"}, "adaptation='lowrank'"),
                                            ({"target_accept": 1.5}, r"target_accept must be in \(0, 1\)"),
                                            ({"adaptation": "diag", "mass_matrix_gamma": 1e-4}, "mass_matrix_gamma")])
def test_options_fit_sets_itself_or_nutpie_refuses_are_named(no_sampling, option, message):
    with pytest.raises((TypeError, ValueError), match=message):
        br.LinearRegression().fit(X, y, **option)


def test_an_option_of_another_adaptation_is_refused_for_the_default_one(no_sampling):
    """Horseshoes sample with a diagonal mass matrix; the low-rank matrix's gamma means nothing there."""
    with pytest.raises(ValueError, match="mass_matrix_gamma.*diag"):
        br.LinearRegression(br.Horseshoe()).fit(X, y, mass_matrix_gamma=1e-4)


@pytest.mark.filterwarnings("ignore::bayesreg.sampling.SamplingWarning")
def test_nutpie_options_still_reach_the_sampler():
    est = br.LinearRegression().fit(X, y, target_accept=0.9, maxdepth=8, cores=1, **QUICK)
    assert est.idata_.attrs["target_accept"] == 0.9


# -- the tree-depth warning --------------------------------------------------------------------------
def _idata_saturated(count: int, chains: int = 4, draws: int = 1000) -> xr.DataTree:
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    hit = np.zeros(chains * draws, dtype=bool)
    hit[:count] = True
    draws_rng = np.random.default_rng(shifted(5))
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((chains, draws), dtype=bool)),
                        "reached_max_treedepth": (("chain", "draw"), hit.reshape(chains, draws))}, coords=coords)
    posterior = xr.Dataset({"coef": (("chain", "draw"), draws_rng.normal(size=(chains, draws)))}, coords=coords)
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})


def _depth_problem(idata, standardized):
    problems = [p for p in sampling.convergence_problems(idata, ["coef"], standardized) if "tree depth" in p]
    assert len(problems) == 1, problems
    return problems[0]


def test_tree_depth_warning_gives_the_count_not_zero_percent():
    problem = _depth_problem(_idata_saturated(3), None)
    assert problem.startswith("3 of 4000 transitions (0.075%)"), problem
    assert "0.0%" not in problem


def test_tree_depth_advice_follows_whether_X_is_standardized():
    idata = _idata_saturated(40)
    assert "already standardized" in _depth_problem(idata, True)
    assert "Standardize" not in _depth_problem(idata, True)
    assert "not standardized: standardize" in _depth_problem(idata, False)
    assert "If X's columns are on very different scales" in _depth_problem(idata, None)


def test_columns_standardized():
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    assert sampling.columns_standardized(Z)
    assert sampling.columns_standardized(Z * np.sqrt(60 / 59))  # sd with ddof=1
    assert not sampling.columns_standardized(Z * [1.0, 30.0])
    assert not sampling.columns_standardized(Z + [0.0, 5.0])


# -- warnings point at the user's line ---------------------------------------------------------------
def _warnings_of(call, category):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    found = [w for w in caught if issubclass(w.category, category)]
    assert found, [str(w.message) for w in caught]
    return found


def _assert_here(found):
    assert {w.filename for w in found} == {__file__}, [(w.filename, w.lineno) for w in found]


@pytest.mark.parametrize("make,target", [(br.LinearRegression, y), (br.LogisticRegression, labels)])
def test_sampling_warnings_point_at_the_callers_line(make, target):
    """One chain: R-hat cannot be checked, which always warns."""
    _assert_here(_warnings_of(lambda: make().fit(X, target, **{**QUICK, "chains": 1}), sampling.SamplingWarning))


def test_map_failure_warning_points_at_the_callers_line(monkeypatch):
    def fail(*args, **kwargs):
        raise np.linalg.LinAlgError("singular")

    monkeypatch.setattr(br.LinearRegression, "_fit_map", fail)
    _assert_here(_warnings_of(lambda: br.LinearRegression().fit(X, y, **QUICK), br.MAPFailureWarning))


def test_large_data_warning_points_at_the_callers_line(monkeypatch):
    monkeypatch.setattr(surrogate, "NUTS_WARN_SECONDS", 0.0)  # any logistic fit "takes minutes"
    _assert_here(_warnings_of(lambda: br.LogisticRegression().fit(X, labels, **QUICK), sampling.LargeDataWarning))


def test_approximation_warning_points_at_the_callers_line(monkeypatch):
    monkeypatch.setattr(surrogate, "PARETO_K_MAX", -np.inf)  # any k-hat is "too large"
    fit = lambda: br.LogisticRegression(method="surrogate").fit(X, labels, **QUICK)  # noqa: E731
    _assert_here(_warnings_of(fit, sampling.ApproximationWarning))

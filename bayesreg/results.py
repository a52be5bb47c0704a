"""What a posterior gives back: summary table, pointwise log-likelihood, posterior predictive.

All of it is computed from the draws in NumPy after sampling, never inside the model, so the
sampler's gradient stays O(p^2) for the Gaussian likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special


@dataclass(frozen=True)
class MAPEstimate:
    """The posterior mode: the penalized solution. ``sigma`` is the noise sd (linear models)."""

    coef: np.ndarray
    intercept: float
    sigma: float | None = None


CI_PROB = 0.94  # the one interval level of summaries, plots and the CLI unless the user sets another (ArviZ's)
LOG_LIKELIHOOD_MAX_BYTES = 200 * 2**20  # computed automatically below this size
MEMORY_BUDGET_BYTES = 256 * 2**20  # working memory of one prediction over draws, whatever n is
LIVE_BLOCKS = 8  # draws x rows temporaries alive at once in the reductions below (measured: <= 7)
SCALE_NAMES = ("sigma", "global_scale", "slab_scale", "prior_scale")  # prior_scale: a learned tau
AUX_NAMES = ("phi", "nu")  # the negative binomial's and Student-t's auxiliary parameters (sigma is above)


def stacked_draws(idata, name) -> np.ndarray:
    """Draws of ``name`` with (chain, draw) flattened into the first axis."""
    values = idata["posterior"][name]
    return values.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()


def linear_predictor_draws(idata, X, fit_intercept: bool) -> np.ndarray:
    """``eta[s, i] = intercept_s + x_i . coef_s``, shape (n_draws, n_rows): all of it at once, so
    only for results that are that size anyway; reductions over draws use :func:`over_row_blocks`."""
    eta = stacked_draws(idata, "coef") @ X.T
    if fit_intercept:
        eta += stacked_draws(idata, "intercept")[:, None]
    return eta


def row_blocks(n_rows: int, n_draws: int, budget: int | None = None) -> list[slice]:
    """Row slices so that the ``LIVE_BLOCKS`` (n_draws, rows) float64 temporaries a reduction keeps
    at once (eta, its transforms, logsumexp's and quantile's work arrays) fit in ``budget`` bytes."""
    budget = MEMORY_BUDGET_BYTES if budget is None else budget
    size = max(1, budget // (8 * LIVE_BLOCKS * max(n_draws, 1)))
    return [slice(start, min(start + size, n_rows)) for start in range(0, n_rows, size)] or [slice(0, 0)]


def over_row_blocks(idata, X, fit_intercept: bool, per_block, budget: int | None = None) -> np.ndarray:
    """``per_block(eta, rows)`` on each block of ``eta = intercept + X coef`` (draws x block rows),
    joined along the last axis: reductions over draws without a draws x n array (32 GB at
    n = 10^6 with 4000 draws). ``per_block`` must return arrays whose last axis is the rows."""
    coef = stacked_draws(idata, "coef")
    intercept = stacked_draws(idata, "intercept")[:, None] if fit_intercept else 0.0
    pieces = [per_block(coef @ X[rows].T + intercept, rows) for rows in row_blocks(len(X), len(coef), budget)]
    return np.concatenate(pieces, axis=-1)


def predictive_sd(idata, X, fit_intercept: bool, sigma=None, budget=None) -> np.ndarray:
    """Sd of the posterior predictive of a new observation per row, ``sqrt(Var[eta] + E[sigma^2])``."""
    noise_var = np.mean(stacked_draws(idata, "sigma") ** 2) if sigma is None else sigma**2
    return np.sqrt(over_row_blocks(idata, X, fit_intercept, lambda eta, rows: eta.var(axis=0), budget) + noise_var)


def predictive_quantiles(idata, X, fit_intercept: bool, quantiles, rng, sigma=None, budget=None) -> np.ndarray:
    """Quantiles of simulated Gaussian predictive draws per row, shape (len(quantiles), n)."""
    noise = _noise_sd(idata, sigma)

    def block(eta, rows):
        return np.quantile(eta + noise * rng.standard_normal(eta.shape), quantiles, axis=0)

    return over_row_blocks(idata, X, fit_intercept, block, budget)


def bernoulli_log_probabilities(idata, X, fit_intercept: bool, budget=None) -> np.ndarray:
    """``log P(y = 0 | x, data)`` and ``log P(y = 1 | x, data)`` per row, shape (2, n): the
    posterior predictive probability ``E[logit^-1(eta)]`` over draws, in log space (no 0 or 1
    from rounding at |eta| > 37)."""
    def block(eta, rows):
        with np.errstate(divide="ignore"):
            log_p = np.log(np.stack([special.expit(-eta).mean(axis=0), special.expit(eta).mean(axis=0)]))
        hard = log_p.min(axis=0) < _LOG_TINY  # a probability near underflow: redo in log space (5x slower)
        if hard.any():
            log_p1 = special.log_expit(eta[:, hard])
            log_p0 = log_p1 - eta[:, hard]  # log(1 - expit(eta)) = log expit(eta) - eta
            log_p[:, hard] = [_log_mean_exp(log_p0), _log_mean_exp(log_p1)]
        return log_p

    return over_row_blocks(idata, X, fit_intercept, block, budget)


_LOG_TINY = -600.0  # exp(-600) = 3e-261: far above float64's smallest normal, 1e-308


def _log_mean_exp(a: np.ndarray) -> np.ndarray:
    """``log(mean(exp(a), axis=0))`` without overflow."""
    top = a.max(axis=0)
    return np.log(np.mean(np.exp(a - top), axis=0)) + top


def probability_summary(idata, X, fit_intercept: bool, quantiles, budget=None) -> np.ndarray:
    """Posterior mean of ``logit^-1(eta)`` and its quantiles per row, shape (1 + len(quantiles), n)."""
    def block(eta, rows):
        probability = special.expit(eta)
        return np.vstack([probability.mean(axis=0), np.quantile(probability, quantiles, axis=0)])

    return over_row_blocks(idata, X, fit_intercept, block, budget)


def mean_response_quantiles(idata, X, fit_intercept: bool, quantiles, family: str, budget=None) -> np.ndarray:
    """Quantiles over posterior draws of the mean response ``E[y | x, draw]`` per row, shape
    (len(quantiles), n): of ``eta = b + x'w`` (gaussian) or of ``logit^-1(eta)`` (bernoulli), with
    no observation noise (rstanarm's ``posterior_epred``)."""
    def block(eta, rows):
        return np.quantile(eta if family == "gaussian" else special.expit(eta), quantiles, axis=0)

    return over_row_blocks(idata, X, fit_intercept, block, budget)


def _noise_sd(idata, sigma):
    """Per-draw noise sd as a column (estimated), or the known value."""
    return stacked_draws(idata, "sigma")[:, None] if sigma is None else sigma


def _per_draw(idata, values: np.ndarray) -> xr.Dataset:
    """A (n_draws, n_obs) array as a ``y`` variable with the posterior's chain and draw axes."""
    posterior = idata["posterior"]
    shape = (posterior.sizes["chain"], posterior.sizes["draw"], -1)
    return xr.Dataset({"y": (("chain", "draw", "obs"), values.reshape(shape))},
                      coords={"chain": posterior["chain"].to_numpy(), "draw": posterior["draw"].to_numpy()})


def pointwise_log_likelihood(idata, X, y, family: str, fit_intercept: bool, sigma=None) -> np.ndarray:
    """``log p(y_i | draw s)``, shape (n_draws, n_rows); computed by row blocks so that the only
    draws x rows array is the result itself, not its temporaries."""
    s = _noise_sd(idata, sigma) if family == "gaussian" else None

    def block(eta, rows):
        if family == "gaussian":
            return -0.5 * np.log(2 * np.pi) - np.log(s) - (y[rows] - eta) ** 2 / (2 * s**2)
        return y[rows] * eta - np.logaddexp(0.0, eta)

    return over_row_blocks(idata, X, fit_intercept, block)


def add_observation_groups(idata, X, y, family, fit_intercept, sigma=None, log_likelihood=None):
    """Attach ``observed_data`` and (on request, or when small enough) ``log_likelihood``."""
    idata["observed_data"] = xr.Dataset({"y": ("obs", y)})
    if log_likelihood is None:
        n_draws = idata["posterior"].sizes["chain"] * idata["posterior"].sizes["draw"]
        log_likelihood = n_draws * len(y) * 8 <= LOG_LIKELIHOOD_MAX_BYTES
    if log_likelihood:
        idata["log_likelihood"] = _per_draw(
            idata, pointwise_log_likelihood(idata, X, y, family, fit_intercept, sigma))
    return idata


def family_posterior_predictive(idata, X, family, fit_intercept: bool, rng, offset=None, fixed=None) -> xr.Dataset:
    """Replicated ``y`` of a :mod:`bayesreg.families` family (its ``sample``) at every draw: ``eta``
    from the draws (plus ``offset``), the auxiliary parameters from theirs or, held fixed, ``fixed``."""
    eta = linear_predictor_draws(idata, X, fit_intercept)
    if offset is not None:
        eta += offset
    aux = tuple(stacked_draws(idata, name)[:, None] if name in idata["posterior"] else float((fixed or {})[name])
                for name in family.aux_names)
    return _per_draw(idata, family.sample(eta, aux, rng))


def posterior_predictive(idata, X, family: str, fit_intercept: bool, rng, sigma=None) -> xr.Dataset:
    eta = linear_predictor_draws(idata, X, fit_intercept)
    if family == "gaussian":
        y = eta + _noise_sd(idata, sigma) * rng.standard_normal(eta.shape)
    else:
        y = (rng.random(eta.shape) < special.expit(eta)).astype(float)
    return _per_draw(idata, y)


INTERVAL_KIND = "eti"  # equal-tailed: its endpoints are posterior quantiles, as predict_interval's are


def summary_table(idata, ci_prob: float, map_estimate=None, round_to: str = "auto") -> pd.DataFrame:
    """ArviZ's summary indexed by coefficient name, the MAP beside it where it exists, in the order
    ``mean, sd, eti<ci>_lb, eti<ci>_ub, map, r_hat, ess_bulk, ess_tail, mcse_mean, mcse_sd`` (the
    estimates and the interval first, so that a narrow display cuts off diagnostics, not the interval).

    ``round_to="auto"``: a :class:`SummaryTable`, full-precision numbers shown rounded; ``"none"``:
    a plain DataFrame.
    """
    import arviz as az

    if round_to not in ("auto", "none"):
        raise ValueError(f"round_to must be 'auto' (numbers shown rounded) or 'none', got {round_to!r}")
    var_names = summary_var_names(idata)
    table = az.summary(idata, var_names=var_names, ci_prob=ci_prob, ci_kind=INTERVAL_KIND, round_to="none")
    table.index = [_plain_name(label) for label in table.index]
    if map_estimate is not None:
        map_values = dict(zip(idata["posterior"]["feature"].to_numpy().tolist(), map_estimate.coef))
        map_values["intercept"] = map_estimate.intercept
        if map_estimate.sigma is not None:
            map_values["sigma"] = map_estimate.sigma
        map_values.update(getattr(map_estimate, "aux", {}))  # phi; sigma and nu (bayesreg.estimators.glm)
        table["map"] = [map_values.get(name, np.nan) for name in table.index]
    first = [c for c in table.columns if c in ("mean", "sd") or c.startswith(INTERVAL_KIND)] + ["map", "r_hat"]
    table = table[[c for c in first if c in table.columns] + [c for c in table.columns if c not in first]]
    if round_to == "auto":
        table = SummaryTable(table)
    if "pareto_k" in idata.attrs:  # method="surrogate": the diagnostic of its importance weights
        table.attrs["pareto_k"] = idata.attrs["pareto_k"]
    return table


class SummaryTable(pd.DataFrame):
    """A summary that holds full-precision numbers (to compute with; ``to_csv`` writes them) and
    shows them rounded, as ArviZ's own summary does (``arviz_stats.summary``, ``round_to="auto"``):

    - an estimate (mean, interval bounds, MAP) to the decimal of twice its row's ``mcse_mean``
      (2 x 0.0013 = 0.0026: 3 decimals), ``sd`` to that of twice ``mcse_sd``: digits beyond the
      Monte Carlo error are noise;
    - ESS as integers (rounded down), R-hat to 3 decimals (the warning threshold is 1.01, so 1.006
      must not show as 1.01), MCSE and anything else to 2 or 3 significant digits.

    The rounding is computed at display time from the rows and columns present, so it survives
    ``.loc`` selections; ``str(table)`` and ``repr(table)`` show every column, never "...".

    ``terms``: a fit with terms (a formula's, a group prior's) keeps its term table here
    (:meth:`term_summary`), shown below the coefficients; the table itself keeps one row per
    coefficient, as before. Selections (``.loc``) keep it; ``None`` for a fit without terms.
    """

    _metadata = ["terms"]
    terms: pd.DataFrame | None = None

    @property
    def _constructor(self):
        return SummaryTable

    def rounded(self) -> pd.DataFrame:
        """The table as shown: strings, rounded by the rules above."""
        cells = [[_shown(self, row, column) for column in self.columns] for row in self.index]
        return pd.DataFrame(cells, index=self.index, columns=self.columns)

    def _terms_shown(self) -> SummaryTable | None:
        return None if self.terms is None else SummaryTable(self.terms)

    def __repr__(self) -> str:
        shown = self.rounded().to_string()
        terms = self._terms_shown()
        return shown if terms is None else f"{shown}\n\nper term (term_summary):\n{terms.rounded().to_string()}"

    def _repr_html_(self) -> str:
        terms = self._terms_shown()
        shown = self.rounded().to_html()
        return shown if terms is None else f"{shown}<p>per term (term_summary):</p>{terms.rounded().to_html()}"


def _shown(table, row, column) -> str:
    """One cell as shown. A column may be a tuple (summaries side by side, ``pd.concat({...},
    axis=1)``): its last level names it, and its MCSE is the one under the same outer levels."""
    value = table.at[row, column]
    if not isinstance(value, (float, int, np.number)):
        return str(value)
    if not np.isfinite(value):
        return "—" if np.isnan(value) else str(value)
    name = str(column[-1] if isinstance(column, tuple) else column)
    if name.startswith("ess_"):
        return str(int(np.floor(value)))
    if name == "r_hat":
        return f"{value:.3f}"
    if name.startswith("mcse_"):
        return f"{value:.2g}"
    error_name = "mcse_sd" if name == "sd" else "mcse_mean"
    error_column = (*column[:-1], error_name) if isinstance(column, tuple) else error_name
    error = table.at[row, error_column] if error_column in table.columns else np.nan
    if not (np.isfinite(error) and error > 0):
        return f"{value:.3g}"
    decimals = -int(np.floor(np.log10(2 * error)))  # ArviZ's rule: the decimal of 2 x MCSE
    return f"{round(value, decimals) + 0.0:.{max(decimals, 0)}f}"  # + 0.0: no "-0.000"


def summary_var_names(idata) -> list[str]:
    present = idata["posterior"].data_vars
    return [name for name in ("coef", "intercept", *SCALE_NAMES, *AUX_NAMES) if name in present]


def _plain_name(label: str) -> str:
    """``coef[bmi]`` -> ``bmi``; other variables keep their names."""
    if label.startswith("coef[") and label.endswith("]"):
        return label[5:-1]
    return label

r"""The interface every family implements (one file per family, one line in the registry).

A family is the likelihood of one outcome ``y_i`` given its linear predictor
``eta_i = offset_i + b + x_i'w`` and the family's auxiliary parameters ``a`` (dispersion, noise sd,
degrees of freedom; each positive). Everything the solvers, the evidence and the samplers need is
the per-row negative log-likelihood ``l_i(eta_i, a)`` (normalising constant included) and its first
two derivatives, in ``eta`` and in ``log a`` (:class:`RowDerivatives`). Row weights multiply
``l_i``: ``NLL = sum_i s_i l_i``, so an integer weight is that many copies of the row.
No PyMC here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .auxiliary import AuxPrior


@dataclass
class RowDerivatives:
    """Per-row ``l_i`` and its derivatives; aux derivatives are in ``u_k = log a_k``.

    ``value`` (n,), ``d_eta`` (n,), ``d_eta2`` (n,), ``d_aux`` (K, n), ``d_aux2`` (K, K, n),
    ``d_eta_aux`` (K, n).
    """

    value: np.ndarray
    d_eta: np.ndarray
    d_eta2: np.ndarray
    d_aux: np.ndarray
    d_aux2: np.ndarray
    d_eta_aux: np.ndarray


class Family:
    """One outcome distribution. Subclasses set the class attributes and the methods below."""

    name: str = ""
    code: int = -1             # the compiled kernels' family code (bayesreg.sampling.kernels.layout)
    link: str = "identity"     # "identity", "log" or "logit": E[y] = inverse_link(eta)
    aux_names: tuple[str, ...] = ()

    def check_y(self, y: np.ndarray) -> np.ndarray:
        """``y`` as float64 after the family's checks (a clear ``ValueError`` otherwise)."""
        return np.asarray(y, dtype=float)

    def default_aux_prior(self, name: str, y: np.ndarray, weights: np.ndarray) -> AuxPrior:
        """The default prior of the auxiliary parameter ``name`` on these data."""
        raise KeyError(name)

    def nll_rows(self, eta, y, aux: tuple) -> np.ndarray:
        """``l_i(eta_i, a)`` per row."""
        raise NotImplementedError

    def derivatives(self, eta, y, aux: tuple) -> RowDerivatives:
        raise NotImplementedError

    def nll_columns(self, eta, y, weights, aux: tuple) -> np.ndarray:
        """``sum_i s_i l_i(eta_is, a_s)`` for each column ``s`` of ``eta`` (n, S), the auxiliary values
        one array of S draws each: the exact likelihood at posterior draws (the surrogate's weights)."""
        return weights @ self.nll_rows(eta, y[:, None], tuple(np.asarray(a)[None, :] for a in aux))

    def inverse_link(self, eta):
        if self.link == "log":
            return np.exp(eta)
        if self.link == "logit":
            return 1.0 / (1.0 + np.exp(-eta))
        return eta

    def start(self, y, weights, offset) -> tuple[float, tuple]:
        """A starting intercept (the intercept-only fit of the mean) and starting aux values."""
        raise NotImplementedError

    def sample(self, eta, aux: tuple, rng: np.random.Generator) -> np.ndarray:
        """Draws of ``y`` given ``eta`` (prior/posterior predictive)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<family {self.name}>"


def log_mean_start(y, weights, offset) -> float:
    """``log(sum s y / sum s e^offset)``: the intercept-only log-link MAP of the Poisson mean."""
    total = float(weights @ y)
    return float(np.log(max(total, 1e-300) / float(weights @ np.exp(offset))))


def check_counts(y: np.ndarray, family: str) -> np.ndarray:
    """Counts: finite, >= 0 and whole numbers; the message says which rows are not."""
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"y must hold counts (non-negative integers) for {family} regression") from exc
    bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(f"{family} regression needs counts in y (whole numbers >= 0), but {int(bad.sum())} "
                         f"of {y.size} values are not (first: row {first}, y = {y[first]!r}). Round or drop "
                         "those rows; for continuous outcomes use LinearRegression or StudentTRegression")
    return y

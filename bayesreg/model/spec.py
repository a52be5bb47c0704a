r"""What a posterior is computed from: the model's structure and its data, with no PyMC.

A :class:`ModelSpec` fixes the structure (likelihood family, prior family, intercept, sigma known
or not); a dict of arrays holds everything else (sufficient statistics or the design, and the
prior's values). The PyMC reference model (:mod:`bayesreg.model.pymc`) and the compiled log density
(:mod:`bayesreg.sampling.nutpie`) are both built from the same pair, so they cannot drift apart.

Gaussian likelihood through sufficient statistics
    For the minimum-norm least-squares solution :math:`\hat w` of the centred data,

    .. math::
        \|y - b - Xw\|^2 = \mathrm{RSS}_{\min} + \|F(w - \hat w)\|^2 + n(\bar y - b_c)^2,\qquad
        F^\top F = X_c^\top X_c,\quad b_c = b + \bar x^\top w,

    so a gradient costs :math:`O(r p)` with ``r = rank(X_c) <= min(n, p)`` whatever ``n`` is.
    ``F`` keeps only its ``r`` non-zero rows (from the thin SVD of :math:`X_c` when ``n < p``,
    else the eigendecomposition of :math:`X_c^\top X_c`). Expanding around :math:`\hat w`
    (rather than ``y'y - 2w'X'y + w'X'Xw``) avoids cancellation when the fit is good.

Intercept
    Sampled at the centred design (``b_c``, as brms and rstanarm do), so it is not nearly
    collinear with the slopes when X is uncentred; ``b = b_c - xbar'w`` is reported. It is flat,
    so the MAP is scikit-learn's unpenalized intercept, except in logistic regression with a
    prior that has no MAP (the horseshoes, learned scales), whose coefficients have no finite
    mean under a half-Cauchy scale: there a flat intercept leaves
    the posterior improper under separation (a factor ~|w| along separating directions), so
    ``b_c ~ N(0, 2.5^2)``, rstanarm's default for the logistic intercept on the centred design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..data import GaussianStatistics, array_statistics
from ..families.gaussian import check_sigma_prior_scale, sigma_prior_scale
from ..priors import (R2D2, BayesianLasso, ElasticNet, GroupLaplace, HalfCauchy, Horseshoe, HorseshoePlus, Laplace,
                      Normal, Prior,
                      RegularizedHorseshoe)
from ..priors.groups import group_number

LOGISTIC_INTERCEPT_PRIOR_SCALE = 2.5


@dataclass(frozen=True)
class ModelSpec:
    """Everything that fixes the model's structure; the rest is data."""

    family: str  # "gaussian", "bernoulli", "quadratic" (the logistic surrogate), or a family of model/glm_spec.py
    prior_type: type
    n_features: int
    fit_intercept: bool
    sigma_known: bool = False
    global_scale_given: bool = True  # Horseshoe(scale=None) scales tau by the noise instead
    intercept_prior: bool = False  # N(0, 2.5^2) on the centred intercept instead of flat
    scale_learned: bool = False  # Normal / Laplace with a hyperprior on their scale
    # Gaussian likelihood, coefficients integrated out: a learned Normal scale (NUTS samples
    # p(tau, sigma | y), see collapsed_data) always; a learned Laplace scale or the Bayesian lasso
    # (scale mixture, see mixture_data) where linear_inputs finds it pays; False keeps the
    # non-centred density
    collapsed: bool = False
    aux_fixed: tuple[str, ...] = ()  # count and robust families: the auxiliary parameters held fixed (model/glm_spec.py)
    scale_groups: tuple[str, ...] = ()  # Normal(hyperprior, groups=...) or the group horseshoe: the groups' labels

    @property
    def spectral(self) -> bool:
        """Collapsed through the eigen-data of a learned Normal scale (the spectral kernel)."""
        return self.collapsed and self.prior_type is Normal

    @property
    def mixture(self) -> bool:
        """Collapsed as a Laplace scale mixture (the mixture kernel)."""
        return self.collapsed and self.prior_type is not Normal

    @property
    def conjugate(self) -> bool:
        """A fixed Normal prior in linear regression, collapsed: exact iid draws with sigma known
        (:mod:`bayesreg.sampling.exact`), else NUTS on ``log sigma`` alone (the spectral kernel with
        ``tau = 1``), the coefficients drawn exactly given sigma."""
        return self.spectral and not self.scale_learned

    @classmethod
    def of(cls, family: str, prior: Prior, n_features: int, fit_intercept: bool, sigma_known: bool = False):
        given = not (isinstance(prior, Horseshoe) and prior.scale is None)
        # priors with no finite MAP here are those whose coefficients have no finite mean
        # the surrogate ("quadratic") approximates the bernoulli model, so it takes the same intercept prior
        proper_intercept = family in ("bernoulli", "quadratic") and fit_intercept and not prior.has_map
        learned = isinstance(prior, (Normal, Laplace)) and prior.learned
        # a scale per group is sampled non-centred (kernels/groups.py): the spectral kernel has one tau
        groups = scale_group_labels(prior) if learned or type(prior) is Horseshoe else ()
        collapsed = family == "gaussian" and learned and isinstance(prior, Normal) and not groups
        return cls(family, type(prior), n_features, fit_intercept, sigma_known, given, proper_intercept, learned,
                   collapsed, scale_groups=groups)


def prior_data(prior: Prior, n_features: int) -> dict[str, np.ndarray]:
    """The prior's hyperparameters as model data, named ``prior_*``.

    Every hyperparameter that may be per-coefficient is a length-``n_features`` vector (a number
    is broadcast): ``prior_scale`` (Normal, Laplace: ``scale * factor``), ``prior_l1``,
    ``prior_l2``, ``prior_log_normalizer`` (ElasticNet, summed in the model). Global
    hyperparameters (the horseshoes') stay scalars, beside their ``prior_factor`` (the vector
    ``factor_j`` each coefficient is multiplied by). A learned scale (hyperprior) gives
    ``prior_factor`` (the vector ``c_j``) and ``prior_hyper_nu``/``prior_hyper_scale`` of the
    half-t on ``tau`` (``nu = 1``: half-Cauchy); no ``prior_scale``, as that name is the
    posterior's ``tau``. The Bayesian lasso gives ``prior_r`` and ``prior_delta``.
    """
    vectors = {}
    scalars = {}
    if isinstance(prior, (Normal, Laplace)) and prior.learned:
        hyper = prior.scale
        vectors["factor"] = prior.factor
        if scale_group_labels(prior):
            vectors["group_of"] = group_number(prior.groups)
        scalars.update(hyper_nu=1.0 if isinstance(hyper, HalfCauchy) else hyper.nu, hyper_scale=hyper.scale)
    elif isinstance(prior, (Normal, Laplace)):
        vectors["scale"] = prior.effective_scale()
    elif isinstance(prior, ElasticNet):
        vectors.update(l1=prior.l1, l2=prior.l2, log_normalizer=prior.log_normalizer())
    elif isinstance(prior, Horseshoe):
        vectors["factor"] = prior.factor
        if scale_group_labels(prior):  # the group horseshoe: one local scale per group
            vectors["group_of"] = group_number(prior.groups)
        scalars.update({} if prior.scale is None else {"scale": prior.scale})
    elif isinstance(prior, RegularizedHorseshoe):
        prior.check_dimension(n_features)
        vectors["factor"] = prior.factor
        scalars.update(expected_nonzero=prior.expected_nonzero, slab_scale=prior.slab_scale,
                       slab_df=prior.slab_df)
    elif isinstance(prior, BayesianLasso):
        scalars.update(r=prior.r, delta=prior.delta)
    elif isinstance(prior, R2D2):
        vectors.update(factor=prior.factor, concentration=prior.concentrations(n_features))
        scalars.update(r2_a=prior.r2_shape[0], r2_b=prior.r2_shape[1])
    elif isinstance(prior, GroupLaplace):  # per coefficient: its group, the group's rate c_g, log Z_g / m_g
        vectors.update(group_laplace_vectors(prior))
    else:
        raise TypeError(f"no model for prior {type(prior).__name__}")
    prior.check_n_features(n_features)
    data = {f"prior_{name}": np.broadcast_to(np.asarray(value, dtype=float), (n_features,)).copy()
            for name, value in vectors.items()}
    data.update({f"prior_{name}": np.array(float(value)) for name, value in scalars.items()})
    return data


def scale_group_labels(prior: Prior) -> tuple[str, ...]:
    """The labels of a learned scale's groups, in order of their first columns; ``()`` for one global scale."""
    groups = getattr(prior, "groups", None)
    if groups is None:
        return ()
    if isinstance(groups, str):
        raise ValueError(f"{prior} has groups={groups!r} still unresolved: the estimator fills in the formula's "
                         "terms; without a formula pass one label per column")
    return tuple(str(label) for label in dict.fromkeys(groups.tolist()))


def group_laplace_vectors(prior: GroupLaplace) -> dict[str, np.ndarray]:
    """GroupLaplace per coefficient: ``group_of`` (0, 1, ... as floats), ``group_rate`` ``c_g``,
    ``group_log_normalizer`` ``log Z_g / m_g``, and ``scale`` ``1 / c_g`` (the initial points' width)."""
    group_of, rate, log_normalizer = (np.empty(prior.groups.size) for _ in range(3))
    for g, (index, c) in enumerate(zip(prior.group_indices(), prior.group_rates())):
        zero = np.zeros(index.size)
        group_of[index], rate[index] = g, c
        log_normalizer[index] = (GroupLaplace(prior.scale, groups=[0] * index.size).neg_log_density(zero)
                                 / index.size)
    return {"group_of": group_of, "group_rate": rate, "group_log_normalizer": log_normalizer, "scale": 1.0 / rate}


def gaussian_data(X, y, fit_intercept: bool, sigma) -> dict[str, np.ndarray]:
    """Sufficient statistics of the Gaussian likelihood for in-memory ``X``, ``y``.

    ``n >= p``: through :func:`~bayesreg.data.statistics.array_statistics`, the same computation
    Dask input takes, so a fit on Dask and on NumPy data see the same numbers. ``n < p``: the
    thin SVD of the centred X (see :func:`_least_squares_factor`).

    ``X`` is taken in row-major order (a formula's design is column-major): BLAS sums the Gram
    matrix in an order that depends on the layout, and the same data must give the same statistics,
    hence the same draws for the same seed, whichever way they were built.
    """
    X = np.ascontiguousarray(X, dtype=float)
    n, p = X.shape
    if n >= p:
        return statistics_data(array_statistics(X, y), fit_intercept, sigma)
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(p)
    y_mean = float(y.mean()) if fit_intercept else 0.0
    Xc, yc = X - x_mean, y - y_mean
    # centring leaves rounding noise of order eps * |x_mean| in a rank-deficient direction
    factor, coef_ls = _least_squares_factor(Xc, yc, offset=math.sqrt(n) * float(np.abs(x_mean).max(initial=0.0)))
    residual = yc - Xc @ coef_ls
    return _gaussian_model_data(factor, coef_ls, x_mean, y_mean, float(residual @ residual), n,
                                sigma_prior_scale(y), sigma)


def statistics_data(statistics: GaussianStatistics, fit_intercept: bool, sigma) -> dict[str, np.ndarray]:
    """The Gaussian model's data from sufficient statistics (in-memory or Dask input alike).

    ``F`` keeps the rank-many rows of the eigendecomposition of the centred Gram matrix;
    ``RSS_min`` from statistics alone carries an absolute error of order ``eps y'y``.
    """
    about = statistics.about(fit_intercept)
    least_squares = about.least_squares()
    keep = least_squares.eigval > 0  # least_squares() zeroed those below the rank tolerance
    factor = np.sqrt(least_squares.eigval[keep])[:, None] * least_squares.eigvec[:, keep].T
    return _gaussian_model_data(np.ascontiguousarray(factor), least_squares.coef, about.x_mean, about.y_mean,
                                least_squares.rss, statistics.n, check_sigma_prior_scale(statistics.y_sd), sigma)


def _gaussian_model_data(factor, coef_ls, x_mean, y_mean, rss_min, n, y_sd, sigma) -> dict[str, np.ndarray]:
    return {
        "factor": factor,
        "coef_ls": coef_ls,
        "x_mean": np.asarray(x_mean, dtype=float),
        "y_mean": np.array(float(y_mean)),
        "rss_min": np.array(float(rss_min)),
        "n": np.array(float(n)),
        # only one of these two is used, by whether sigma is known
        "sigma_prior_scale": np.array(y_sd if sigma is None else 1.0),
        "sigma_known": np.array(1.0 if sigma is None else float(sigma)),
    }


def _least_squares_factor(Xc, yc, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``(F, w_ls)`` for ``n < p``: ``F`` (r x p) with ``F'F = Xc'Xc`` and the minimum-norm least squares fit.

    The thin SVD ``Xc = U S V'`` gives ``F = S V'`` directly in O(n^2 p); forming the p x p Gram
    matrix and decomposing it would cost O(p^3) (4.4 s at p = 3000). (``n >= p`` goes through the
    sufficient statistics instead.) Directions with singular values below the rank tolerance
    (numpy's ``matrix_rank`` rule, on the scale of the uncentred data, whose column means ``offset``
    bounds) are dropped: the likelihood is flat there.
    """
    n, p = Xc.shape
    U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    keep = s > (s.max(initial=0.0) + offset) * max(n, p) * np.finfo(float).eps
    s, U, Vt = s[keep], U[:, keep], Vt[keep]
    return np.ascontiguousarray(s[:, None] * Vt), Vt.T @ ((U.T @ yc) / s)


def bernoulli_data(X, y01, fit_intercept: bool) -> dict[str, np.ndarray]:
    mean = float(np.mean(y01))
    return {
        "X": np.ascontiguousarray(X, dtype=float),
        "y": np.ascontiguousarray(y01, dtype=float),
        "x_mean": X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1]),
        "n": np.array(float(len(y01))),
        # Piironen & Vehtari (2017), sec. 3.2: the pseudo-sigma of a Bernoulli likelihood
        "pseudo_sigma": np.array(1.0 / math.sqrt(mean * (1 - mean))),
        "intercept_prior_scale": np.array(LOGISTIC_INTERCEPT_PRIOR_SCALE),
    }


def collapsed_data(data: dict) -> dict[str, np.ndarray]:
    r"""The eigen-data of the collapsed model (Gaussian likelihood, ``w_j = tau c_j z_j``, ``z ~ N(0, I)``).

    With ``C = diag(c)`` and the thin SVD :math:`A = F C = U S V^\top` of the rescaled factor
    (so :math:`A^\top A = C X_c^\top X_c C`: one symmetric eigendecomposition of the centred,
    rescaled Gram matrix, from the same statistics as every Gaussian fit, Dask input included),
    the centred data in the eigenbasis are :math:`a = U^\top F \hat w` and the residual is
    :math:`R = \mathrm{RSS}_{\min}`. Integrating ``w`` and a flat intercept out gives
    :mod:`bayesreg.evidence`'s evidence with ``t = tau``, ``d = c``:

    .. math::
        \log p(y \mid \tau, \sigma) = -\tfrac12\Big[k\log 2\pi + \sum_i\log v_i
            + (k - r)\log\sigma^2 + \sum_i\frac{a_i^2}{v_i} + \frac{R}{\sigma^2}\Big]
            - \tfrac12\log n\,[\text{intercept}],\qquad v_i = \sigma^2 + \tau^2 s_i^2,

    ``k = n - 1`` with an intercept, else ``n``: O(r) per evaluation. Given ``(tau, sigma)``, the
    coefficients are Gaussian: in the basis ``V``, :math:`u_i = V_i^\top z` has mean
    :math:`\tau s_i a_i / v_i` and variance :math:`\sigma^2 / v_i`; ``z`` off ``span(V)`` keeps its
    prior N(0, 1) (:func:`bayesreg.sampling.conditional.normal_scale_coefficients`). Directions whose singular
    value is below the rank tolerance count as ``s_i = 0``: their ``a_i^2`` joins ``R``.
    """
    A = data["factor"] * data["prior_factor"]
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    projection = U.T @ (data["factor"] @ data["coef_ls"])
    keep = s > s.max(initial=0.0) * max(A.shape) * np.finfo(float).eps
    rss = float(data["rss_min"]) + float(np.sum(projection[~keep] ** 2))
    return {"spectrum_eigval": s[keep] ** 2, "spectrum_projection": projection[keep],
            "spectrum_eigvec": np.ascontiguousarray(Vt[keep]), "spectrum_rss": np.array(rss)}


def linear_inputs(X, y, prior: Prior, *, sigma, fit_intercept) -> tuple[ModelSpec, dict]:
    spec = ModelSpec.of("gaussian", prior, X.shape[1], fit_intercept, sigma is not None)
    return _integrated(spec, {**gaussian_data(X, y, fit_intercept, sigma), **prior_data(prior, X.shape[1])}, prior)


def linear_inputs_from_statistics(statistics: GaussianStatistics, prior: Prior, *, sigma,
                                  fit_intercept) -> tuple[ModelSpec, dict]:
    p = statistics.n_features
    spec = ModelSpec.of("gaussian", prior, p, fit_intercept, sigma is not None)
    return _integrated(spec, {**statistics_data(statistics, fit_intercept, sigma), **prior_data(prior, p)}, prior)


def mixture_data(data: dict, prior: Prior) -> dict[str, np.ndarray]:
    r"""The data of the scale-mixture samplers (:mod:`bayesreg.sampling.kernels.mixture` and
    :mod:`~bayesreg.sampling.kernels.global_local`): ``a = F w_hat`` (the centred data in the
    likelihood's rank-r factor) and the prior's per-coefficient factors ``c`` (ones for the Bayesian
    lasso, whose scale is ``sigma / lambda`` for every coefficient)."""
    factor = data["prior_factor"] if "prior_factor" in data else np.ones(data["factor"].shape[1])
    return {"mixture_projection": data["factor"] @ data["coef_ls"], "mixture_factor": factor}


def mixture_pays(rank: int, n_features: int, residual_dof: int) -> bool:
    """Whether a Laplace scale learned in linear regression is sampled as a scale mixture
    (coefficients integrated out, O(r^2 p) a gradient) rather than non-centred (O(r p)).

    ``residual_dof`` is ``n - r`` (``n - 1 - r`` with an intercept): the residual directions that
    pin sigma. With none (p >= n, or n = p + 1 with an intercept) the fit can interpolate, and the
    non-centred coefficients form a funnel with sigma that NUTS cannot cross in reasonable time.
    With even a few residual directions the non-centred sampler has no funnel, and its O(r p)
    gradient grows more slowly than the mixture's O(r^2 p); there the mixture is used only while a
    gradient stays cheap (``r^2 p <= 10^6``, a fraction of a millisecond), which covers small
    problems such as diabetes. The measurements are in ``docs/sampling.md``.
    """
    return residual_dof <= 0 or rank * rank * n_features <= MIXTURE_MAX_WORK


MIXTURE_MAX_WORK = 1_000_000
# sampled on their scales alone (bayesreg.sampling.kernels.global_local) where mixture_pays
GLOBAL_LOCAL = (Horseshoe, RegularizedHorseshoe, HorseshoePlus, R2D2)


def conjugate_pays(n_features: int, residual_dof: int) -> bool:
    """Whether a fixed Normal prior in linear regression with sigma estimated is sampled as NUTS on
    ``log sigma`` alone, the coefficients drawn exactly given sigma, rather than NUTS on
    ``(b, sigma, w)`` with the low-rank mass matrix. (With sigma known the posterior is Gaussian and
    always drawn exactly.)

    The one-dimensional sampler costs O(r) a gradient and O(r p) a conditional draw, after one SVD of
    the r x p factor; the joint one O(r p) a gradient, several a draw, and its adaptation must learn
    the coefficients' covariance. Measured ESS per second (``benchmarks/conjugate.py``, RESULTS.md;
    n = 400 unless said): 0.5x the joint sampler's at p = 3 (n = 50), 0.9x at p = 10 (and on
    diabetes), 1.0x at p = 20, 1.3x at p = 30, 4.3x at p = 50, 19x at p = 100, 2.5x with p > n
    (40 x 55). So: always without residual directions (p >= n, where sigma and the coefficients also
    form a funnel), and from ``p >= CONJUGATE_MIN_FEATURES``.
    """
    return residual_dof <= 0 or n_features >= CONJUGATE_MIN_FEATURES


CONJUGATE_MIN_FEATURES = 30


def conjugate_inputs(spec: ModelSpec, data: dict) -> tuple[ModelSpec, dict]:
    """A fixed Normal prior's Gaussian model, collapsed whatever :func:`conjugate_pays` says: the
    eigen-data of :func:`collapsed_data` at ``tau = 1`` with ``c_j = s_j`` (so ``D = diag(s^2)``)."""
    if spec.family != "gaussian" or spec.prior_type is not Normal or spec.scale_learned:
        raise ValueError(f"the conjugate sampler is for a fixed Normal prior in linear regression, got "
                         f"{spec.prior_type.__name__} in the {spec.family} family")
    data = {**data, "prior_factor": np.asarray(data["prior_scale"], dtype=float)}
    return replace(spec, collapsed=True), {**data, **collapsed_data(data)}


def _integrated(spec: ModelSpec, data: dict, prior: Prior) -> tuple[ModelSpec, dict]:
    """The spec and data of the sampler that integrates the coefficients out, where there is one."""
    if spec.collapsed:
        return spec, {**data, **collapsed_data(data)}
    if spec.family == "gaussian" and type(prior) is Normal and not spec.scale_learned:
        residual_dof = int(data["n"]) - spec.fit_intercept - data["factor"].shape[0]
        if spec.sigma_known or conjugate_pays(spec.n_features, residual_dof):
            return conjugate_inputs(spec, data)
        return spec, data
    mixture = spec.family == "gaussian" and not spec.scale_groups and (
        spec.scale_learned or isinstance(prior, (BayesianLasso, *GLOBAL_LOCAL)))
    rank = data["factor"].shape[0]
    if mixture and mixture_pays(rank, spec.n_features, int(data["n"]) - spec.fit_intercept - rank):
        return replace(spec, collapsed=True), {**data, **mixture_data(data, prior)}
    return spec, data


def quadratic_inputs(data: dict, prior: Prior, *, fit_intercept) -> tuple[ModelSpec, dict]:
    """The logistic surrogate's model: ``data`` from :func:`bayesreg.sampling.surrogate.expansion_data`."""
    p = len(data["coef_hat"])
    spec = ModelSpec.of("quadratic", prior, p, fit_intercept)
    return spec, {**data, "intercept_prior_scale": np.array(LOGISTIC_INTERCEPT_PRIOR_SCALE), **prior_data(prior, p)}


def logistic_inputs(X, y01, prior: Prior, *, fit_intercept) -> tuple[ModelSpec, dict]:
    spec = ModelSpec.of("bernoulli", prior, X.shape[1], fit_intercept)
    return spec, {**bernoulli_data(X, y01, fit_intercept), **prior_data(prior, X.shape[1])}

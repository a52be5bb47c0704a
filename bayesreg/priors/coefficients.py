"""Priors on regression coefficients: the Bayesian reading of a penalty.

Each prior is a small immutable specification with its density written out.
Nothing here knows about PyMC; :mod:`bayesreg.model.pymc` turns a specification
into PyMC random variables, and :mod:`bayesreg.solvers` uses the penalty form.

For a prior with density ``p(w)``, the MAP estimate minimises
``NLL(w) - log p(w)``; the ``-log p(w)`` term *is* the penalty:

========================  ======================================  ==================
prior                     ``-log p(w_j)`` (up to a constant)      penalty
========================  ======================================  ==================
``Normal(s)``             ``w_j**2 / (2 s**2)``                   ridge, lam = 1/(2s^2)
``Laplace(b)``            ``|w_j| / b``                           lasso, lam = 1/b
``ElasticNet(b, s)``      ``|w_j| / b + w_j**2 / (2 s**2)``       elastic net
``Horseshoe``             unbounded at ``w_j = 0``                none: no finite MAP
``RegularizedHorseshoe``  unbounded at ``w_j = 0``                none: no finite MAP
========================  ======================================  ==================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import Hyperprior, Prior, positive_number, positive_scale
from .groups import scale_groups

__all__ = [
    "Normal",
    "Laplace",
    "ElasticNet",
    "Horseshoe",
    "RegularizedHorseshoe",
]


_LEARNED_SCALE_MAP = (
    "a learned prior scale has no joint MAP over (coef, scale): the density is infinite at coef = 0 "
    "as the scale -> 0, so the mode is degenerate. Use method='nuts' for the posterior, or for "
    "LinearRegression with a Normal prior method='empirical_bayes' (the scale that maximises the "
    "marginal likelihood)."
)


def _init_autoscale_and_factor(prior) -> None:
    """Check and store the ``autoscale`` flag and the per-coefficient ``factor`` of ``prior``."""
    name = type(prior).__name__
    object.__setattr__(prior, "factor", positive_scale(f"{name} factor", prior.factor))
    if not isinstance(prior.autoscale, (bool, np.bool_)):
        raise TypeError(f"{name} autoscale must be True or False, got {prior.autoscale!r}")
    object.__setattr__(prior, "autoscale", bool(prior.autoscale))


class _ScaleMixture(Prior):
    """Shared by ``Normal`` and ``Laplace``: ``scale`` a number, an array, or a hyperprior.

    A hyperprior ``tau ~ H`` (see :mod:`bayesreg.priors.hyperpriors`) makes the prior hierarchical:
    ``coef_j = z_j * tau * factor_j`` with ``z_j`` the standard form of the prior; ``factor``
    is 1 unless ``autoscale=True`` was resolved into numbers at fit time.
    """

    @property
    def learned(self) -> bool:
        return isinstance(self.scale, Hyperprior)

    @property
    def has_map(self) -> bool:  # type: ignore[override]
        return not self.learned

    def no_map_reason(self) -> str:
        return _LEARNED_SCALE_MAP if self.learned else ""

    def _init_scale(self):
        name = type(self).__name__
        if not isinstance(self.scale, Hyperprior):
            object.__setattr__(self, "scale", positive_scale(f"{name} scale", self.scale))
        _init_autoscale_and_factor(self)

    def effective_scale(self):
        """``scale * factor``: coefficient j's scale (a number or an array). Fixed scales only."""
        if self.learned:
            raise TypeError(f"{self} has a learned scale; its scale given tau is tau * factor")
        return self.scale * self.factor

    def per_coefficient(self) -> dict:
        values = {"factor": self.factor}
        if not self.learned:
            values["scale"] = self.scale
        return values


@dataclass(frozen=True, eq=False)
class Normal(_ScaleMixture):
    r"""Gaussian prior ``w_j ~ N(0, s_j**2)`` with ``s_j = scale * factor_j``: ridge regression.

    .. math:: -\log p(w) = \sum_j \frac{w_j^2}{2 s_j^2} + \log(s_j\sqrt{2\pi})

    so the MAP minimises ``NLL(w) + sum_j w_j^2 / (2 s_j^2)`` (``Ridge`` on the columns
    ``x_j * s_j``, coefficients divided back by ``s_j``).

    Parameters
    ----------
    scale : positive number, 1-d array (one entry per feature), or hyperprior
        With a hyperprior (``HalfCauchy(s)``, ``HalfStudentT(nu, s)``) the global scale ``tau`` is
        learned. The hierarchical model, non-centred (in linear regression the sampler integrates
        ``w`` out and samples ``tau`` alone; :mod:`bayesreg.sampling.kernels.spectral`):

        .. math:: w_j = z_j\,\tau\,c_j,\quad z_j \sim N(0, 1),\quad \tau \sim H

        with ``c_j = factor_j`` (the autoscale factor below, else 1). ``tau`` is stored in the
        posterior as ``prior_scale``. There is no MAP (see :class:`~bayesreg.NoMAPError`).
    autoscale : bool, default False
        State ``scale`` in standardized units (rstanarm's convention): at fit time coefficient j
        gets ``scale * sd(y) / sd(x_j)`` in linear and ``scale / sd(x_j)`` in logistic regression
        (population sd, ddof=0, of the training data), so the prior means the same for any units
        of ``X`` and ``y``. The fitted estimator's ``prior_`` holds the resolved numbers.
    factor : positive number or 1-d array, default 1.0
        Per-coefficient multiplier ``c_j`` of the scale; autoscale fills it in for a learned scale.
    groups : None, ``"terms"``, or one label per column
        With a learned scale only: one scale per group instead of one for all (the hierarchical
        ridge R's bayesreg applies to a factor's dummies),

        .. math:: w_j = z_j\,\tau_{g(j)}\,c_j,\quad z_j \sim N(0, 1),\quad \tau_g \sim H
                  \text{ independently},

        ``tau`` stored as ``prior_scale`` with dim ``group``. ``"terms"``: each term of the
        estimator's formula is a group. NUTS through the non-centred kernel
        (:mod:`bayesreg.sampling.kernels.groups`); no MAP, as for any learned scale. One group of
        all columns is the learned Normal above; groups of one column each make every
        ``w_j ~ N(0, tau_j^2)``, ``tau_j ~ H`` independently: the horseshoe's local scales with its
        global scale fixed at 1 (for ``H = HalfCauchy(s)``: ``lambda_j * s``).
    """

    scale: object = 1.0
    autoscale: bool = False
    factor: object = 1.0
    groups: object = None

    def __post_init__(self):
        self._init_scale()
        object.__setattr__(self, "groups", scale_groups(self.groups, self.learned, "Normal"))

    def per_coefficient(self) -> dict:
        values = super().per_coefficient()
        if isinstance(self.groups, np.ndarray):
            values["groups"] = self.groups
        return values

    @property
    def l2(self):
        return self.l2_sqrt**2

    @property
    def l2_sqrt(self):
        return 1.0 / self.effective_scale()

    def neg_log_density(self, w) -> float:
        w = np.asarray(w, dtype=float)
        s = np.broadcast_to(self.effective_scale(), w.shape)
        return float(np.sum(w**2 / (2 * s**2) + np.log(s * math.sqrt(2 * math.pi))))


@dataclass(frozen=True, eq=False)
class Laplace(_ScaleMixture):
    r"""Laplace (double-exponential) prior ``w_j ~ Laplace(0, b_j)``, ``b_j = scale * factor_j``: the lasso.

    .. math:: -\log p(w) = \sum_j \frac{|w_j|}{b_j} + \log(2\,b_j)

    so the MAP minimises ``NLL(w) + sum_j |w_j| / b_j``. The MAP has exact zeros; posterior
    draws (with probability 1) and, in general, the posterior mean do not.

    Parameters are as in :class:`Normal`. With a hyperprior ``H`` on the scale:

    .. math:: w_j = z_j\,\tau\,c_j,\quad z_j \sim \mathrm{Laplace}(0, 1),\quad \tau \sim H,

    ``tau`` stored as ``prior_scale``. In linear regression with p >= n (and for small problems;
    :func:`bayesreg.model.spec.mixture_pays`), the sampler uses the Laplace as a scale mixture of
    Normals and integrates ``w`` out instead (:mod:`bayesreg.sampling.kernels.mixture`); the posterior is
    the same. For the lasso of Park & Casella (2008), whose scale is
    the noise sd over a Gamma-distributed rate, see :class:`~bayesreg.BayesianLasso`.
    """

    scale: object = 1.0
    autoscale: bool = False
    factor: object = 1.0

    def __post_init__(self):
        self._init_scale()

    @property
    def l1(self):
        return 1.0 / self.effective_scale()

    def neg_log_density(self, w) -> float:
        w = np.asarray(w, dtype=float)
        b = np.broadcast_to(self.effective_scale(), w.shape)
        return float(np.sum(np.abs(w) / b + np.log(2 * b)))


@dataclass(frozen=True, eq=False)
class ElasticNet(Prior):
    r"""Product of a Laplace and a Gaussian factor on each coefficient: the elastic net.

    .. math::
        p(w_j) = \frac{1}{Z_j}\exp\!\Big(-\frac{|w_j|}{b_j} - \frac{w_j^2}{2s_j^2}\Big),\qquad
        Z_j = s_j\sqrt{2\pi}\;\mathrm{erfcx}\!\Big(\frac{s_j}{\sqrt2\,b_j}\Big)

    with ``b = laplace_scale`` and ``s = normal_scale`` (numbers, or arrays with one entry per
    feature). The MAP minimises ``NLL(w) + sum_j |w_j| / b_j + w_j^2 / (2 s_j^2)``.
    ``autoscale=True`` multiplies both scales by ``sd(y) / sd(x_j)`` (linear) or ``1 / sd(x_j)``
    (logistic) at fit time, as for :class:`Normal`.
    """

    laplace_scale: object = 1.0
    normal_scale: object = 1.0
    autoscale: bool = False

    def __post_init__(self):
        object.__setattr__(self, "laplace_scale", positive_scale("ElasticNet laplace_scale", self.laplace_scale))
        object.__setattr__(self, "normal_scale", positive_scale("ElasticNet normal_scale", self.normal_scale))
        if not isinstance(self.autoscale, (bool, np.bool_)):
            raise TypeError(f"ElasticNet autoscale must be True or False, got {self.autoscale!r}")
        object.__setattr__(self, "autoscale", bool(self.autoscale))

    def per_coefficient(self) -> dict:
        return {"laplace_scale": self.laplace_scale, "normal_scale": self.normal_scale}

    @property
    def l1(self):
        return 1.0 / self.laplace_scale

    @property
    def l2(self):
        return self.l2_sqrt**2

    @property
    def l2_sqrt(self):
        return 1.0 / self.normal_scale

    def log_normalizer(self):
        """``log Z_j`` of each coefficient's density (a number, or an array; see the class docstring)."""
        s, b = self.normal_scale, self.laplace_scale
        value = np.log(s * math.sqrt(2 * math.pi)) + np.log(special.erfcx(s / (math.sqrt(2) * b)))
        return float(value) if np.ndim(value) == 0 else value

    def neg_log_density(self, w) -> float:
        w = np.asarray(w, dtype=float)
        kernel = np.abs(w) * self.l1 + w**2 * self.l2 / 2
        return float(np.sum(kernel + np.broadcast_to(self.log_normalizer(), w.shape)))


@dataclass(frozen=True, eq=False)
class Horseshoe(Prior):
    r"""Horseshoe prior (Carvalho, Polson & Scott, 2010).

    .. math::
        w_j \mid \lambda_j, \tau \sim N(0, \lambda_j^2 \tau^2), \quad
        \lambda_j \sim C^+(0, 1), \quad \tau \sim C^+(0, \tau_0)

    ``scale`` is the global scale ``tau_0``. ``None`` (the default) follows Carvalho et al.:
    ``tau_0 = sigma`` (the noise sd) in linear regression and ``tau_0 = 1`` in logistic
    regression. By Piironen & Vehtari's (2017) calculation that default expects *most*
    coefficients to be non-zero: at ``tau = sigma`` a fraction ``sqrt(n) / (1 + sqrt(n))`` of
    them, 91% at n = 100. For a sparse signal pass ``scale = p0 / (D - p0) * sigma / sqrt(n)``
    (``p0`` non-zero of ``D``), or use :class:`RegularizedHorseshoe` with ``expected_nonzero=p0``.

    ``autoscale=True`` (the default, as for :class:`Normal`) states the prior for the
    standardized columns ``x_j / sd(x_j)`` and outcome ``y / sd(y)`` (logistic: ``x_j / sd(x_j)``),
    so it means the same in any units: coefficient ``j`` is ``factor_j`` times a horseshoe draw,
    with ``factor_j = 1 / sd(x_j)`` and ``scale`` (when given) multiplied by ``sd(y)`` at fit time
    (logistic: ``scale`` unchanged), population sds of the training data. Then ``tau`` (stored as
    ``global_scale``) is in units of ``y`` per sd of each column, and ``tau_0 = sigma`` needs no
    conversion. ``autoscale=False`` puts the prior on the coefficients of the columns as given;
    ``factor`` (default 1) multiplies coefficient ``j``'s scale, one number or one per column.

    The marginal density of ``w_j`` is unbounded at 0, so there is no finite MAP:
    fit it with NUTS.

    ``groups`` (``"terms"``: the formula's terms, or one label per column) makes it the group
    horseshoe (Xu, Schmidt, Makalic & Schmidt 2016): one local scale per group,
    ``w_j = z_j lambda_g(j) tau c_j`` with ``lambda_g ~ C+(0, 1)``, so a factor's dummies are shrunk
    or kept together; ``local_scale`` is stored with dim ``group``
    (:mod:`bayesreg.sampling.kernels.groups`). Groups of one column each are the horseshoe.
    """

    scale: float | None = None
    autoscale: bool = True
    factor: object = 1.0
    groups: object = None

    has_map = False

    def __post_init__(self):
        if self.scale is not None:
            object.__setattr__(self, "scale", positive_number("Horseshoe scale", self.scale))
        _init_autoscale_and_factor(self)
        name = type(self).__name__
        if self.groups is not None and type(self) is not Horseshoe:
            raise TypeError(f"{name} takes no groups: the group horseshoe is Horseshoe(..., groups='terms')")
        object.__setattr__(self, "groups", scale_groups(self.groups, True, name))

    def per_coefficient(self) -> dict:
        values = {"factor": self.factor}
        if isinstance(self.groups, np.ndarray):
            values["groups"] = self.groups
        return values

    def no_map_reason(self) -> str:
        return (
            "the horseshoe prior has no finite MAP: its marginal density is unbounded at 0, "
            "so the posterior mode sits at w = 0 with infinite density. Use method='nuts'."
        )


@dataclass(frozen=True, eq=False)
class RegularizedHorseshoe(Prior):
    r"""Regularized ("Finnish") horseshoe of Piironen & Vehtari (2017).

    .. math::
        w_j = z_j\,\tau\,\tilde\lambda_j,\quad
        \tilde\lambda_j^2 = \frac{c^2\lambda_j^2}{c^2 + \tau^2\lambda_j^2},\quad
        \lambda_j \sim C^+(0,1),\quad
        c^2 \sim \mathrm{Inv\text{-}Gamma}(\nu/2,\ \nu s^2/2),\quad
        \tau \sim C^+(0, \tau_0),\quad
        \tau_0 = \frac{p_0}{D - p_0}\frac{\sigma}{\sqrt n}

    with ``p_0 = expected_nonzero`` (checked against the number of coefficients ``D`` at
    fit time: ``0 < p_0 < D``), ``s = slab_scale`` and ``nu = slab_df``. For logistic
    regression ``sigma`` is their pseudo-sigma ``1 / sqrt(mu (1 - mu))``.

    ``autoscale=True`` (the default, as for :class:`Normal`) states ``slab_scale`` in standardized
    units: coefficient ``j``'s slab is ``slab_scale * sd(y) / sd(x_j)`` (logistic:
    ``slab_scale / sd(x_j)``), population sds of the training data, so the default
    ``slab_scale=2`` allows large effects of about two sds of ``y`` per sd of ``x_j`` in any units.
    At fit time this becomes ``w_j = factor_j z_j tau lambda~_j`` with ``factor_j = 1 / sd(x_j)``
    and ``slab_scale`` multiplied by ``sd(y)`` (logistic: unchanged; the resolved prior is the
    estimator's ``prior_``): ``tau_0`` above is then in the units of ``y``, as written, and the
    posterior's ``global_scale`` and ``slab_scale`` are in units of ``y`` per sd of each column.
    ``autoscale=False`` puts the prior on the coefficients of the columns as given (``slab_scale``
    in the coefficients' own units); ``factor`` (default 1) multiplies coefficient ``j``'s scale.

    Like the horseshoe, it has no finite MAP.
    """

    expected_nonzero: float = 1.0
    slab_scale: float = 2.0
    slab_df: float = 4.0
    autoscale: bool = True
    factor: object = 1.0

    has_map = False

    def __post_init__(self):
        for name in ("expected_nonzero", "slab_scale", "slab_df"):
            value = positive_number(f"RegularizedHorseshoe {name}", getattr(self, name))
            object.__setattr__(self, name, value)
        _init_autoscale_and_factor(self)

    def per_coefficient(self) -> dict:
        return {"factor": self.factor}

    def no_map_reason(self) -> str:
        return (
            "the regularized horseshoe prior has no finite MAP: its marginal density is "
            "unbounded at 0. Use method='nuts'."
        )

    def check_dimension(self, n_features: int) -> None:
        if not self.expected_nonzero < n_features:
            raise ValueError(
                f"RegularizedHorseshoe expected_nonzero must be < the number of coefficients "
                f"({n_features}), got {self.expected_nonzero}"
            )

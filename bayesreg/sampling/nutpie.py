"""A model structure and its data, handed to nutpie's sampler as precompiled C callbacks.

:mod:`bayesreg.sampling.kernels.noncentred` holds one log density (and one "expand" function that turns an
unconstrained draw into the stored quantities) for every structure, compiled once per machine and
loaded from numba's disk cache afterwards. This module packs a :class:`ModelSpec` and its data
into the ``int64`` header those callbacks read (pointers to the caller's arrays, never copies of
X), lays out the unconstrained vector, and chooses valid initial points.

nutpie's private API in use (tested with nutpie 0.16.11, pinned in pyproject.toml):
``nutpie.sample.CompiledModel`` (subclassed) and ``nutpie._lib.{LogpFunc, ExpandFunc,
PyVariable, PyMcModel, PySampler.from_pymc}``, used exactly as ``nutpie.compile_pymc`` uses them;
the callback signatures are those of ``nutpie.compile_pymc._make_c_logp_func`` and
``_make_c_expand_func``. ``tests/test_compiled.py`` exercises every one of them.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

import numpy as np
from nutpie import _lib
from nutpie.sample import CompiledModel

from ..families.gaussian import SIGMA_PRIOR_NU
from ..model.spec import ModelSpec
from ..priors import (R2D2, BayesianLasso, ElasticNet, GroupLaplace, Horseshoe, HorseshoePlus, Laplace, Normal,
                      RegularizedHorseshoe)
from . import family_packing
from .kernels import groups as group_kernel
from .kernels import layout as ld
from .kernels import noncentred

_PRIOR_CODES = {Normal: ld.NORMAL, Laplace: ld.LAPLACE, ElasticNet: ld.ELASTICNET, Horseshoe: ld.HORSESHOE,
                RegularizedHorseshoe: ld.REG_HORSESHOE, BayesianLasso: ld.BAYESIAN_LASSO,
                HorseshoePlus: ld.HORSESHOE_PLUS, R2D2: ld.R2D2, GroupLaplace: group_kernel.GROUP_LAPLACE}
_LEARNED_CODES = {Normal: ld.NORMAL_LEARNED, Laplace: ld.LAPLACE_LEARNED}
_COLLAPSED_CODES = {Normal: ld.NORMAL_COLLAPSED, Laplace: ld.LAPLACE_MIXTURE, BayesianLasso: ld.BAYESIAN_LASSO_MIXTURE,
                    Horseshoe: ld.HORSESHOE_INTEGRATED, RegularizedHorseshoe: ld.REG_HORSESHOE_INTEGRATED,
                    HorseshoePlus: ld.HORSESHOE_PLUS_INTEGRATED, R2D2: ld.R2D2_INTEGRATED}
_INTEGRATED_LAYOUTS = {  # the global-local kernel's scale blocks, after log sigma (kernels/global_local.py)
    Horseshoe: [("global_scale_raw_log__", 1), ("local_scale_log__", None)],
    RegularizedHorseshoe: [("global_scale_raw_log__", 1), ("local_scale_log__", None), ("slab_sq_raw_log__", 1)],
    HorseshoePlus: [("global_scale_raw_log__", 1), ("local_scale_log__", None), ("local_scale_hyper_log__", None)],
    R2D2: [("r2_logodds__", 1), ("variance_share_raw_log__", None)]}
_INTEGRATED_EXPANDED = {Horseshoe: [("global_scale", ()), ("local_scale", None)],
                        RegularizedHorseshoe: [("global_scale", ()), ("local_scale", None), ("slab_scale", ())],
                        HorseshoePlus: [("global_scale", ()), ("local_scale", None), ("local_scale_hyper", None)],
                        R2D2: [("r2", ()), ("variance_share", None)]}
_INTEGRATED_CODES = (ld.HORSESHOE_INTEGRATED, ld.REG_HORSESHOE_INTEGRATED, ld.HORSESHOE_PLUS_INTEGRATED,
                     ld.R2D2_INTEGRATED)
_INITIAL_TRIES = 20


def unconstrained_layout(spec: ModelSpec) -> list[tuple[str, int]]:
    """``(name, size)`` of each block of the unconstrained vector, named as the PyMC model's value
    variables (so the two densities can be compared point for point)."""
    p = spec.n_features
    blocks = []
    if spec.collapsed:  # coefficients and intercept integrated out (the spectral and mixture kernels)
        blocks = [("sigma_log__", 1)] * (not spec.sigma_known)
        if spec.spectral:  # a fixed Normal (conjugate) has no scale to sample
            return blocks + [("prior_scale_log__", 1)] * (not spec.conjugate)
        if spec.prior_type in _INTEGRATED_LAYOUTS:
            return blocks + [(name, p if size is None else size) for name, size in _INTEGRATED_LAYOUTS[spec.prior_type]]
        return blocks + [("prior_scale_log__", 1), ("mixture_raw_log__", p)]
    if spec.fit_intercept:
        blocks.append(("intercept_c", 1))
    if spec.family == "gaussian" and not spec.sigma_known:
        blocks.append(("sigma_log__", 1))
    blocks += family_packing.aux_blocks(spec)  # count and robust families: log phi; log sigma, log nu
    if spec.prior_type in (Horseshoe, RegularizedHorseshoe):  # the group horseshoe: a local scale per group
        blocks += [("coef_raw", p), ("local_scale_log__", len(spec.scale_groups) or p), ("global_scale_raw_log__", 1)]
        if spec.prior_type is RegularizedHorseshoe:
            blocks.append(("slab_sq_raw_log__", 1))
    elif spec.prior_type is HorseshoePlus:
        blocks += [("coef_raw", p), ("local_scale_log__", p), ("global_scale_raw_log__", 1),
                   ("local_scale_hyper_log__", p)]
    elif spec.prior_type is R2D2:
        blocks += [("coef_raw", p), ("r2_logodds__", 1), ("variance_share_raw_log__", p)]
    elif spec.scale_learned:  # one scale, or one per group (kernels/groups.py)
        blocks += [("prior_scale_log__", len(spec.scale_groups) or 1), ("coef_raw", p)]
    elif spec.prior_type is BayesianLasso:
        blocks += [("prior_lambda_sq_log__", 1), ("coef_raw", p)]
    else:
        blocks.append(("coef", p))
    return blocks


def expanded_layout(spec: ModelSpec) -> list[tuple[str, tuple[int, ...]]]:
    """``(name, shape)`` of each stored quantity, in the order the kernels' ``expand`` writes them.

    The collapsed models' expand writes ``sigma`` and the prior's scales (and a Laplace's mixture
    variances); ``coef`` and ``intercept`` are drawn after sampling (:mod:`bayesreg.sampling.conditional`).
    """
    p = spec.n_features
    if spec.collapsed:
        layout = [("sigma", ())] * (not spec.sigma_known) + [("prior_scale", ())] * (not spec.conjugate)
        if spec.spectral:
            return layout
        if spec.prior_type in _INTEGRATED_EXPANDED:
            return (layout[:-1] + [(name, (p,) if shape is None else shape)
                                   for name, shape in _INTEGRATED_EXPANDED[spec.prior_type]]
                    + [("mixture_variance", (p,))])
        return layout + [("prior_lambda", ())] * (spec.prior_type is BayesianLasso) + [("mixture_variance", (p,))]
    layout = [("coef", (p,))]
    if spec.fit_intercept:
        layout.append(("intercept", ()))
    if spec.family == "gaussian" and not spec.sigma_known:
        layout.append(("sigma", ()))
    layout += family_packing.aux_stored(spec)
    if spec.prior_type in (Horseshoe, RegularizedHorseshoe):
        layout += [("global_scale", ()), ("local_scale", (len(spec.scale_groups) or p,))]
        if spec.prior_type is RegularizedHorseshoe:
            layout.append(("slab_scale", ()))
    elif spec.prior_type is HorseshoePlus:
        layout += [("global_scale", ()), ("local_scale", (p,)), ("local_scale_hyper", (p,))]
    elif spec.prior_type is R2D2:
        layout += [("r2", ()), ("variance_share", (p,))]
    elif spec.scale_learned:
        layout.append(("prior_scale", (len(spec.scale_groups),) if spec.scale_groups else ()))
    elif spec.prior_type is BayesianLasso:
        layout += [("prior_scale", ()), ("prior_lambda", ())]
    return layout


# scalar slot -> (data key, value when absent)
_SCALAR_KEYS = {
    ld.S_N: ("n", 0.0), ld.S_WEIGHT_SUM: ("weight_sum", 0.0), ld.S_RSS_MIN: ("rss_min", 0.0),
    ld.S_SIGMA: ("sigma_known", 1.0), ld.S_SIGMA_PRIOR_SCALE: ("sigma_prior_scale", 1.0),
    ld.S_PSEUDO_SIGMA: ("pseudo_sigma", 1.0), ld.S_INTERCEPT_SCALE: ("intercept_prior_scale", 1.0),
    ld.S_EXPECTED_NONZERO: ("prior_expected_nonzero", 0.0), ld.S_SLAB_SCALE: ("prior_slab_scale", 0.0),
    ld.S_SLAB_DF: ("prior_slab_df", 0.0), ld.S_HYPER_NU: ("prior_hyper_nu", 1.0),
    ld.S_HYPER_SCALE: ("prior_hyper_scale", 1.0), ld.S_LASSO_R: ("prior_r", 1.0), ld.S_LASSO_DELTA: ("prior_delta", 1.0),
    ld.S_R2_A: ("prior_r2_a", 1.0), ld.S_R2_B: ("prior_r2_b", 1.0),
}


def _scalars(spec: ModelSpec, data: dict) -> np.ndarray:
    scalars = np.zeros(ld.N_SCALARS)
    for slot, (name, default) in _SCALAR_KEYS.items():
        scalars[slot] = float(data[name]) if name in data else default
    # the surrogate's expansion point takes the Gaussian's ybar slot: both are "b_c at the optimum"
    centre = "intercept_hat" if spec.family == "quadratic" else "y_mean"
    scalars[ld.S_Y_MEAN] = float(data.get(centre, 0.0))
    scalars[ld.S_SIGMA_PRIOR_NU] = SIGMA_PRIOR_NU
    if spec.spectral:  # the residual off the rescaled design's numerical span
        scalars[ld.S_RSS_MIN] = float(data["spectrum_rss"])
    if spec.prior_type in (Horseshoe, HorseshoePlus):
        # Carvalho et al.: tau0 = sigma in linear regression (set in the density), 1 in logistic
        scalars[ld.S_TAU0] = float(data["prior_scale"]) if "prior_scale" in data else 1.0
    return scalars


def pack(spec: ModelSpec, data: dict) -> tuple[np.ndarray, tuple]:
    """The header the callbacks read, and the arrays it points to (keep them alive with it)."""
    n_dim = sum(size for _, size in unconstrained_layout(spec))
    arrays = {"scalars": _scalars(spec, data)}
    vectors = {ld.PTR_X: "X", ld.PTR_Y: "y", ld.PTR_FACTOR: "factor",
               ld.PTR_COEF_LS: "coef_hat" if spec.family == "quadratic" else "coef_ls", ld.PTR_X_MEAN: "x_mean"}
    if spec.spectral:
        vectors.update({ld.PTR_VEC1: "spectrum_eigval", ld.PTR_VEC2: "spectrum_projection"})
    elif spec.mixture:
        vectors.update({ld.PTR_VEC1: "mixture_projection", ld.PTR_VEC2: "mixture_factor"})
    elif spec.prior_type is ElasticNet:
        vectors.update({ld.PTR_VEC1: "prior_l1", ld.PTR_VEC2: "prior_l2", ld.PTR_VEC3: "prior_log_normalizer"})
    elif spec.scale_learned or spec.prior_type in (Horseshoe, RegularizedHorseshoe, HorseshoePlus, R2D2):
        vectors[ld.PTR_VEC1] = "prior_factor"
    elif spec.prior_type in (Normal, Laplace):
        vectors[ld.PTR_VEC1] = "prior_scale"
    elif spec.prior_type is GroupLaplace:
        vectors.update({group_kernel.PTR_GROUP_OF: "prior_group_of", group_kernel.PTR_GROUP_RATE: "prior_group_rate",
                        group_kernel.PTR_GROUP_LOG_NORMALIZER: "prior_group_log_normalizer"})
    if spec.scale_groups:
        vectors[group_kernel.PTR_GROUP_OF] = "prior_group_of"
    if spec.prior_type is R2D2:
        vectors[ld.PTR_VEC3] = "prior_concentration"
    header = np.zeros(ld.HEADER_LEN, dtype=np.int64)
    header[ld.PTR_SCALARS] = arrays["scalars"].ctypes.data
    for slot, name in vectors.items():
        if name in data:
            arrays[name] = np.ascontiguousarray(data[name], dtype=np.float64)
            header[slot] = arrays[name].ctypes.data
    header[ld.FAMILY] = {"gaussian": ld.GAUSSIAN, "bernoulli": ld.BERNOULLI, "quadratic": ld.QUADRATIC}.get(spec.family, -1)
    family_packing.pack_family(spec, data, header, arrays["scalars"], arrays)
    header[ld.PRIOR] = (_COLLAPSED_CODES if spec.collapsed else
                        _LEARNED_CODES if spec.scale_learned else _PRIOR_CODES)[spec.prior_type]
    if spec.conjugate:
        header[ld.PRIOR] = ld.NORMAL_CONJUGATE
    header[ld.FIT_INTERCEPT] = spec.fit_intercept
    header[ld.SIGMA_KNOWN] = spec.sigma_known
    header[ld.N_ROWS] = len(data["y"]) if "y" in data else 0
    header[ld.N_FEATURES] = spec.n_features
    rank_of = "spectrum_eigval" if spec.spectral else "factor"
    header[ld.RANK] = arrays[rank_of].shape[0] if rank_of in arrays else 0
    header[ld.N_DIM] = n_dim
    if spec.prior_type is GroupLaplace or spec.scale_groups:
        header[group_kernel.N_GROUPS] = int(np.max(data["prior_group_of"])) + 1
    if spec.scale_groups and not spec.collapsed:
        header[ld.PRIOR] = (group_kernel.GROUP_HORSESHOE if spec.prior_type is Horseshoe
                            else group_kernel.NORMAL_GROUP_SCALES)
    header[ld.INTERCEPT_PRIOR] = spec.intercept_prior
    header[ld.TAU0_FROM_NOISE] = spec.prior_type in (Horseshoe, HorseshoePlus) and not spec.global_scale_given and spec.family == "gaussian"
    return header, tuple(arrays.values())


def log_density(header: np.ndarray, theta: np.ndarray) -> tuple[float, np.ndarray]:
    """Value and gradient of the compiled density at ``theta`` (for checks and initial points).

    Called through the very C callback nutpie calls (by ctypes), not through numba's Python
    dispatcher, which would load a second compiled copy at the first fit (~0.3 s).
    """
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    grad = np.empty_like(theta)
    value = np.zeros(1)
    pointer = ctypes.POINTER(ctypes.c_double)
    _callbacks(header)[0].ctypes(theta.size, theta.ctypes.data_as(pointer), grad.ctypes.data_as(pointer),
                            value.ctypes.data_as(pointer), header.ctypes.data)
    return float(value[0]), grad


def _callbacks(header: np.ndarray):
    """The ``(logp, expand)`` C callbacks for the structure ``header`` describes (the collapsed
    kernels are imported, so loaded or compiled, only by the fits that use them)."""
    if header[ld.PRIOR] in (ld.NORMAL_COLLAPSED, ld.NORMAL_CONJUGATE):
        from .kernels import spectral as module
    elif header[ld.PRIOR] in (ld.LAPLACE_MIXTURE, ld.BAYESIAN_LASSO_MIXTURE):
        from .kernels import mixture as module
    elif header[ld.PRIOR] in _INTEGRATED_CODES:
        from .kernels import global_local as module
    else:
        module = noncentred
    return module.logp_callback, module.expand_callback


def _base_point(spec: ModelSpec, data: dict) -> tuple[np.ndarray, np.ndarray]:
    """The point initial points are jittered around, and the jitter's half-width per coordinate.

    As PyMC: uniform(-1, 1) jitter on the unconstrained scale, around the intercept's natural
    value, sigma at the sd of y, coefficients (raw or direct) at 0 with a jitter no wider than the
    prior's scale, and the horseshoes' log scales at 0.
    """
    point, width = [], []
    for name, size in unconstrained_layout(spec):
        centre, half = np.zeros(size), np.ones(size)
        family_centre = family_packing.base_point(spec, data, name)
        if family_centre is not None:
            centre[:] = family_centre
        elif name == "intercept_c":
            if spec.family == "gaussian":
                centre[:] = float(data["y_mean"])
            elif spec.family == "quadratic":
                centre[:] = float(data["intercept_hat"])
            else:
                mean = float(np.mean(data["y"]))
                centre[:] = np.log(mean / (1 - mean))
        elif name == "sigma_log__":
            centre[:] = np.log(float(data["sigma_prior_scale"]))
        elif name == "coef":
            scale = data["prior_scale"] if "prior_scale" in data else 1.0 / np.maximum(data["prior_l1"], 1e-300)
            half = np.minimum(1.0, np.asarray(scale, dtype=float)) * np.ones(size)
        elif name == "prior_scale_log__" and "prior_hyper_scale" in data:
            centre[:] = np.log(float(data["prior_hyper_scale"]))
        elif name == "prior_scale_log__":  # the Bayesian lasso's sigma / lambda, lambda^2 at its prior mean
            sigma = float(data["sigma_known"] if spec.sigma_known else data["sigma_prior_scale"])
            centre[:] = np.log(sigma) - 0.5 * np.log(float(data["prior_r"]) / float(data["prior_delta"]))
        elif name == "prior_lambda_sq_log__":
            centre[:] = np.log(float(data["prior_r"]) / float(data["prior_delta"]))  # the prior mean
        point.append(centre)
        width.append(half)
    return np.concatenate(point), np.concatenate(width)


def initial_point_function(spec: ModelSpec, data: dict, header: np.ndarray):
    """``seed -> x0``: a jittered point where the density and its gradient are finite.

    Where the jittered point is not finite (extreme data), the jitter is halved up to 20 times
    and finally dropped, so nutpie never starts from an invalid point (which it reports as a
    Rust panic).
    """
    centre, width = _base_point(spec, data)

    def initial_point(seed=None):
        rng = np.random.default_rng(seed)
        jitter = rng.uniform(-1.0, 1.0, size=centre.size) * width
        for attempt in range(_INITIAL_TRIES + 1):
            x = centre + jitter * (0.5**attempt if attempt < _INITIAL_TRIES else 0.0)
            value, grad = log_density(header, x)
            if np.isfinite(value) and np.all(np.isfinite(grad)):
                return x
        raise FloatingPointError(
            "the log posterior is not finite even at its central starting point: the data or prior "
            "scales are too extreme for double precision; standardize X and y")

    return initial_point


@dataclass(frozen=True)
class CompiledDensity(CompiledModel):
    """What ``nutpie.sample`` needs: the callbacks' addresses, the header and the variables."""

    header: np.ndarray
    arrays: tuple
    initial_point: Any
    var_names: list[str]
    var_shapes: list[tuple[int, ...]]
    _n_dim: int
    _coords: dict

    @property
    def n_dim(self):
        return self._n_dim

    @property
    def shapes(self):
        return dict(zip(self.var_names, self.var_shapes))

    @property
    def coords(self):
        return self._coords

    def _make_sampler(self, settings, init_mean, cores, progress_type, extra_callback, extra_callback_rate,
                      store):
        return _lib.PySampler.from_pymc(settings, cores, self._make_model(init_mean), progress_type,
                                        extra_callback, extra_callback_rate, store)

    def _make_model(self, init_mean):
        n_expanded = sum(int(np.prod(shape)) for shape in self.var_shapes)
        logp_callback, expand_callback = _callbacks(self.header)
        expand = _lib.ExpandFunc(self._n_dim, n_expanded, expand_callback.address, self.header.ctypes.data, self)
        logp = _lib.LogpFunc(logp_callback.address, self.header.ctypes.data, self)
        dim_sizes = {name: len(values) for name, values in self._coords.items()}
        variables = _lib.PyVariable.new_variables(self.var_names, ["float64"] * len(self.var_names),
                                                  [list(shape) for shape in self.var_shapes], dim_sizes, self.dims)
        return _lib.PyMcModel(logp, expand, variables, self._n_dim, dim_sizes, self._coords, self.initial_point,
                              None)


def compile_model(spec: ModelSpec, data: dict, feature_names) -> CompiledDensity:
    """The sampler-ready model for ``spec`` and ``data``: no compile, only packing."""
    header, arrays = pack(spec, data)
    layout = expanded_layout(spec)
    # a learned scale per group: Normal's prior_scale, the group horseshoe's local_scale
    grouped = {"prior_scale": ("group",), "local_scale": ("group",)} if spec.scale_groups else {}
    return CompiledDensity(
        dims={name: grouped.get(name, ("feature",)) for name, shape in layout if shape},
        header=header, arrays=arrays, initial_point=initial_point_function(spec, data, header),
        var_names=[name for name, _ in layout], var_shapes=[shape for _, shape in layout],
        _n_dim=int(header[ld.N_DIM]),
        _coords={"feature": list(feature_names), **({"group": list(spec.scale_groups)} if grouped else {})})

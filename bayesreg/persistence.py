"""Save and load fitted estimators: one ``.zip`` file holding an ArviZ DataTree in zarr.

The file is a zarr ``ZipStore``, a plain zip archive, so it is named ``.zip`` and ``save`` refuses
any other name (``fit.nc`` would promise NetCDF, which it is not; Keras refuses a wrong suffix the
same way, rather than appending one so that ``load`` of the name you typed would then fail).

The root group's attributes carry the estimator's class, its parameters (the prior as
``{"type": "Normal", "scale": 1.0}``) and its fitted point attributes as JSON; the posterior
groups (after NUTS) are stored as they are, so draws round-trip bit for bit. Nothing is
pickled, so loading a file runs no code from it.

The pointwise log-likelihood (draws x rows, for ArviZ's LOO) is left out unless asked for: it is
nearly all of the file (a 426-row logistic fit: 12.4 MiB with it, 1.2 MiB without;
benchmarks/RESULTS.md), it barely compresses, and :func:`add_log_likelihood` recomputes it
exactly from the training ``X`` and ``y``.

The estimator classes a file may name are those registered here (each public estimator registers
itself when :mod:`bayesreg.estimators` defines it), so this module never imports the estimators.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import warnings

import numpy as np
import xarray as xr

from . import results
from .data import formula_state
from .priors import (R2D2, BayesianLasso, ElasticNet, GroupLaplace, HalfCauchy, HalfStudentT, Horseshoe, HorseshoePlus,
                     Laplace, Normal, Params, RegularizedHorseshoe)
from .families import AuxPrior, Exponential, Gamma, HalfT
from .results import MAPEstimate

SUFFIX = ".zip"
FORMAT = "bayesreg-estimator"
VERSION = 1
_PRIORS = {cls.__name__: cls for cls in (Normal, Laplace, ElasticNet, Horseshoe, RegularizedHorseshoe, HalfCauchy,
                                          HalfStudentT, BayesianLasso, HorseshoePlus, R2D2, GroupLaplace)}
ESTIMATORS: dict[str, type] = {}  # class name -> class, filled by register()
_POINT_ATTRIBUTES = ("coef_", "intercept_", "sigma_", "n_features_in_", "feature_names_in_", "classes_",
                     "method_", "log_evidence_", "x_sd_", "y_sd_", "phi_", "nu_")
_AUX_PRIORS = {cls.__name__: cls for cls in (Exponential, Gamma, HalfT)}  # families' auxiliary priors (issue 21)


def register(cls: type) -> type:
    """Let files name ``cls`` (by its class name) as the estimator they hold."""
    ESTIMATORS[cls.__name__] = cls
    return cls


def save(estimator, path, log_likelihood: bool = False) -> None:
    """Write ``estimator`` to ``path`` (which must end in ``.zip``); ``log_likelihood=True`` keeps
    the pointwise log-likelihood group (else dropped: :func:`add_log_likelihood` after loading)."""
    if ESTIMATORS.get(type(estimator).__name__) is not type(estimator) or not hasattr(estimator, "coef_"):
        raise ValueError("only a fitted bayesreg estimator can be saved")
    _check_suffix(path)
    tree = estimator.idata_.copy() if estimator.idata_ is not None else xr.DataTree()
    if not log_likelihood and "log_likelihood" in tree.children:
        del tree["log_likelihood"]
    tree.attrs[FORMAT] = json.dumps({
        "version": VERSION,
        "class": type(estimator).__name__,
        "params": {k: _encode_prior(v) if k == "prior" or isinstance(v, AuxPrior) else v
                   for k, v in estimator.get_params(deep=False).items()},
        "fitted": {k: _to_json(getattr(estimator, k)) for k in _POINT_ATTRIBUTES if hasattr(estimator, k)},
        "prior_": _encode_prior(getattr(estimator, "prior_", None)),
        "map": None if estimator.map_ is None else {
            k: _to_json(v) for k, v in dataclasses.asdict(estimator.map_).items()},
        "has_posterior": estimator.idata_ is not None,
        # a formula fit: formulaic's model spec as JSON data (no pickle; data/formula_state.py) and its terms
        "formula": None if getattr(estimator, "model_spec_", None) is None else {
            "model_spec": formula_state.spec_to_json(estimator.model_spec_), "terms": estimator.terms_},
    })
    store = _zip_store(path, "w")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr's note that consolidated metadata is not in v3
            tree.to_zarr(store, consolidated=False)
    finally:
        store.close()


def load(path):
    """Load an estimator written by ``est.save(path)``.

    Its ``idata_`` has the pointwise log-likelihood only if it was saved with
    ``log_likelihood=True``; else ``add_log_likelihood(est, X, y)`` recomputes it (for ``az.loo``).
    """
    if not pathlib.Path(path).is_file():
        raise FileNotFoundError(f"no saved estimator at {path!s}")
    try:
        store = _zip_store(path, "r")
        try:
            tree = xr.open_datatree(store, engine="zarr", consolidated=False).load()
        finally:
            store.close()
    except Exception as exc:  # zip, zarr and xarray each fail their own way on a foreign file
        raise ValueError(f"cannot read {path!s} as a bayesreg save: {exc}") from exc
    if FORMAT not in tree.attrs:
        raise ValueError(f"{path!s} is not a bayesreg save (it has no {FORMAT!r} marker)")
    meta = json.loads(tree.attrs.pop(FORMAT))
    if meta.get("version") != VERSION:
        raise ValueError(f"{path!s} was saved in format version {meta.get('version')}; this bayesreg reads {VERSION}")
    klass = ESTIMATORS.get(meta["class"])
    if klass is None:
        raise ValueError(f"{path!s} holds an unknown estimator class {meta['class']!r}")
    params = dict(meta["params"])
    params["prior"] = _decode_prior(params["prior"])
    params.update({k: _decode_prior(v) for k, v in params.items() if k.endswith("_prior") and isinstance(v, dict)})
    estimator = klass(**params)
    for name, value in meta["fitted"].items():
        setattr(estimator, name, _from_json(name, value))
    estimator.map_ = None if meta["map"] is None else MAPEstimate(
        np.asarray(meta["map"]["coef"], dtype=float), meta["map"]["intercept"], meta["map"]["sigma"])
    if meta.get("prior_") is not None:
        estimator.prior_ = _decode_prior(meta["prior_"])
    estimator.idata_ = tree if meta["has_posterior"] else None
    if meta.get("formula") is not None:
        estimator.model_spec_ = formula_state.spec_from_json(meta["formula"]["model_spec"])
        estimator.terms_ = {term: list(columns) for term, columns in meta["formula"]["terms"].items()}
    return estimator


def add_log_likelihood(estimator, X, y):
    """Recompute ``idata_["log_likelihood"]``, ``log p(y_i | draw s)`` of every training row under
    every posterior draw, after a save that left it out. ``X`` and ``y`` must be the training data:
    ``y`` is checked against the saved ``observed_data``; ``X`` cannot be (it is not saved).
    The values are those the fit computed, bit for bit (the same function on the same draws).
    """
    estimator._require_posterior("the pointwise log-likelihood")
    X_arr = estimator._validated_X(X)
    y_arr = estimator._observed(y, len(X_arr))  # the estimator's own check of y (labels for logistic)
    if "observed_data" in estimator.idata_.children:
        observed = estimator.idata_["observed_data"]["y"].to_numpy()
        if observed.shape != y_arr.shape or not np.array_equal(observed, y_arr):
            raise ValueError("y is not the y this model was fitted on (its observed_data); the pointwise "
                             "log-likelihood is for the training data: pass the X and y given to fit")
    results.add_observation_groups(estimator.idata_, X_arr, y_arr, estimator._family, estimator.fit_intercept,
                                   estimator._known_sigma(), log_likelihood=True)
    return estimator


def _check_suffix(path) -> None:
    """One extension, so that the name says what the file is and ``load`` finds what ``save`` wrote."""
    path = pathlib.Path(path)
    if path.suffix.lower() != SUFFIX:
        hint = (" (.nc is NetCDF; for ArviZ's NetCDF of the draws use est.idata_.to_netcdf)"
                if path.suffix.lower() == ".nc" else "")
        raise ValueError(f"a bayesreg save is a zip file: name it {path.with_suffix(SUFFIX).name!r}, "
                         f"not {path.name!r}{hint}")


def _zip_store(path, mode):
    from zarr.storage import ZipStore

    return ZipStore(str(path), mode=mode)


def _encode_prior(prior):
    """A prior (or hyperprior) as JSON: its type and fields; arrays as lists, a hyperprior nested."""
    if prior is None:
        return None
    fields = {f.name: getattr(prior, f.name) for f in dataclasses.fields(prior)}
    return {"type": type(prior).__name__,
            **{k: _encode_prior(v) if isinstance(v, Params) else _to_json(v) for k, v in fields.items()}}


def _decode_prior(spec):
    if spec is None:
        return None
    fields = dict(spec)
    kind = fields.pop("type")
    if kind not in _PRIORS and kind not in _AUX_PRIORS:
        raise ValueError(f"unknown prior type {kind!r} in the saved file")
    return {**_PRIORS, **_AUX_PRIORS}[kind](**{k: _decode_prior(v) if isinstance(v, dict) else v for k, v in fields.items()})


def _to_json(value):
    return value.tolist() if isinstance(value, np.ndarray) else value


def _from_json(name, value):
    if name == "coef_":
        return np.asarray(value, dtype=float)
    if name in ("feature_names_in_",):
        return np.asarray(value, dtype=object)
    if name == "classes_":
        return np.asarray(value)
    return value

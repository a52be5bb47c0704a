"""Save and load fitted estimators: one zip file holding an ArviZ DataTree in zarr.

The root group's attributes carry the estimator's class, its parameters (the prior as
``{"type": "Normal", "scale": 1.0}``) and its fitted point attributes as JSON; the posterior
groups (after NUTS) are stored as they are, so draws round-trip bit for bit. Nothing is
pickled, so loading a file runs no code from it.

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

from .priors import (BayesianLasso, ElasticNet, HalfCauchy, HalfStudentT, Horseshoe, Laplace, Normal, Params,
                     RegularizedHorseshoe)
from .results import MAPEstimate

FORMAT = "bayesreg-estimator"
VERSION = 1
_PRIORS = {cls.__name__: cls for cls in (Normal, Laplace, ElasticNet, Horseshoe, RegularizedHorseshoe, HalfCauchy,
                                          HalfStudentT, BayesianLasso)}
ESTIMATORS: dict[str, type] = {}  # class name -> class, filled by register()
_POINT_ATTRIBUTES = ("coef_", "intercept_", "sigma_", "n_features_in_", "feature_names_in_", "classes_",
                     "method_", "log_evidence_", "x_sd_", "y_sd_")


def register(cls: type) -> type:
    """Let files name ``cls`` (by its class name) as the estimator they hold."""
    ESTIMATORS[cls.__name__] = cls
    return cls


def save(estimator, path) -> None:
    if ESTIMATORS.get(type(estimator).__name__) is not type(estimator) or not hasattr(estimator, "coef_"):
        raise ValueError("only a fitted bayesreg estimator can be saved")
    tree = estimator.idata_.copy() if estimator.idata_ is not None else xr.DataTree()
    tree.attrs[FORMAT] = json.dumps({
        "version": VERSION,
        "class": type(estimator).__name__,
        "params": {k: _encode_prior(v) if k == "prior" else v for k, v in estimator.get_params(deep=False).items()},
        "fitted": {k: _to_json(getattr(estimator, k)) for k in _POINT_ATTRIBUTES if hasattr(estimator, k)},
        "prior_": _encode_prior(getattr(estimator, "prior_", None)),
        "map": None if estimator.map_ is None else {
            k: _to_json(v) for k, v in dataclasses.asdict(estimator.map_).items()},
        "has_posterior": estimator.idata_ is not None,
    })
    store = _zip_store(path, "w")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr's note that consolidated metadata is not in v3
            tree.to_zarr(store, consolidated=False)
    finally:
        store.close()


def load(path):
    """Load an estimator written by ``est.save(path)``."""
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
    estimator = klass(**params)
    for name, value in meta["fitted"].items():
        setattr(estimator, name, _from_json(name, value))
    estimator.map_ = None if meta["map"] is None else MAPEstimate(
        np.asarray(meta["map"]["coef"], dtype=float), meta["map"]["intercept"], meta["map"]["sigma"])
    if meta.get("prior_") is not None:
        estimator.prior_ = _decode_prior(meta["prior_"])
    estimator.idata_ = tree if meta["has_posterior"] else None
    return estimator


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
    if kind not in _PRIORS:
        raise ValueError(f"unknown prior type {kind!r} in the saved file")
    return _PRIORS[kind](**{k: _decode_prior(v) if isinstance(v, dict) else v for k, v in fields.items()})


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

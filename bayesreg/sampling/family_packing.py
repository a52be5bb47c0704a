"""The count and robust families' part of packing a model for the compiled kernel: their
unconstrained and stored blocks, header entries and scalar slots
(:mod:`bayesreg.sampling.kernels.likelihoods`), and starting points. Kept apart so that
:mod:`bayesreg.sampling.nutpie` calls it in a few lines."""

from __future__ import annotations

import numpy as np

from ..model.glm_spec import GLM_FAMILIES, all_aux, free_aux, gaussian_sigma_prior
from .kernels import likelihoods as lk

CODES = {"poisson": lk.POISSON, "negative_binomial": lk.NEGATIVE_BINOMIAL, "student_t": lk.STUDENT_T}


def aux_blocks(spec) -> list[tuple[str, int]]:
    """The sampled auxiliary parameters, named as PyMC's value variables."""
    return [(f"{name}_log__", 1) for name in free_aux(spec)]


def aux_stored(spec) -> list[tuple[str, tuple]]:
    return [(name, ()) for name in all_aux(spec)]


def pack_family(spec, data: dict, header: np.ndarray, scalars: np.ndarray, arrays: dict) -> None:
    """Fill the family code, offset / weights pointers (the Bernoulli kernel reads them too; the
    Gaussian's are in its statistics), fixed-aux bits and auxiliary prior slots."""
    for slot, name in ((lk.PTR_OFFSET, "offset"), (lk.PTR_WEIGHTS, "weights")):
        if name in data:
            arrays[name] = np.ascontiguousarray(data[name], dtype=np.float64)
            header[slot] = arrays[name].ctypes.data
    if spec.family == "gaussian":  # its sigma prior takes the first auxiliary prior slots (kernels.likelihoods)
        for slot, value in zip(lk.S_AUX_PRIOR[0], gaussian_sigma_prior(data)):
            scalars[slot] = value
    if spec.family not in GLM_FAMILIES:
        return
    header[0] = CODES[spec.family]
    for k, name in enumerate(all_aux(spec)):
        if name in spec.aux_fixed:
            header[lk.AUX_FIXED] |= 1 << k
            scalars[lk.S_AUX_VALUE[k]] = float(data[f"aux_{name}"])
        else:
            for slot, key in zip(lk.S_AUX_PRIOR[k], ("kind", "a", "b")):
                scalars[slot] = float(data[f"aux_{name}_{key}"])


def base_point(spec, data: dict, name: str):
    """The centre of the initial jitter for the intercept and the log auxiliary parameters, or None."""
    if spec.family not in GLM_FAMILIES:
        return None
    y = data["y"]
    offset = data.get("offset", np.zeros(len(y)))
    if name == "intercept_c":
        if spec.family == "student_t":
            return float(np.median(y - offset))
        return float(np.log(max(np.mean(y), 0.5) / np.mean(np.exp(offset))))
    if name == "phi_log__":
        return 0.0
    if name == "sigma_log__":
        return float(np.log(np.std(y) or 1.0))
    if name == "nu_log__":
        return float(np.log(10.0))
    return None

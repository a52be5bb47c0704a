"""NUTS: run the sampler on a built model and return an ArviZ DataTree."""

from __future__ import annotations

import pymc as pm


def sample_posterior(model: pm.Model, *, draws: int, tune: int, chains: int, random_seed, progressbar: bool,
                     **sampler_kwargs):
    """Sample ``model`` with NUTS; returns the ``DataTree`` of :func:`pymc.sample`."""
    with model:
        return pm.sample(draws=draws, tune=tune, chains=chains, random_seed=random_seed,
                         progressbar=progressbar, **sampler_kwargs)

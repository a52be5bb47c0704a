"""The log densities NUTS samples, written in numba and compiled once per machine. No PyMC here.

``layout``      the header and scalar slots every kernel reads, pointers, callback signatures,
                the status report and the half-t density that several kernels use.
``noncentred``  every model but the two below: Gaussian, Bernoulli and the logistic surrogate's
                quadratic likelihood, times every prior (non-centred where a scale is learned).
``spectral``    a learned Normal scale in linear regression, coefficients integrated out (O(r)).
``mixture``     a learned Laplace scale or the Bayesian lasso in linear regression, as a scale
                mixture of Normals with the coefficients integrated out (O(r^2 p)).

The cache and the helpers shared across files
    numba caches each compiled function keyed on the content of the one file that defines it.
    A kernel that calls a helper or reads a constant from ``layout`` has that code compiled into
    its own cache entry, so a change to ``layout`` alone would leave ``noncentred``, ``spectral``
    and ``mixture`` running the old code from their caches. Importing this package therefore
    compares a digest of every ``*.py`` file here with the one stored beside numba's cache and,
    when they differ, deletes this package's cache entries before any kernel loads (one
    recompile per machine). ``tests/test_kernel_cache.py`` checks the digest, the deletion and
    that the stored digest matches the sources in use.
"""

from __future__ import annotations

import hashlib
import pathlib

DIRECTORY = pathlib.Path(__file__).resolve().parent
DIGEST_FILE = "bayesreg-kernels.sha256"


def source_digest(directory: pathlib.Path = DIRECTORY) -> str:
    """SHA-256 over the names and contents of every ``*.py`` file in ``directory``."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_directory() -> pathlib.Path:
    """Where numba writes this package's cache: the first of numba's own locators that accepts a
    file here (``NUMBA_CACHE_DIR``, then ``__pycache__`` beside it, then the user's cache)."""
    from numba.core import caching

    implementation = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # named so since numba 0.62
    for locator_class in implementation._locator_classes:
        locator = locator_class.from_function(source_digest, str(DIRECTORY / "layout.py"))
        if locator is not None:
            return pathlib.Path(locator.get_cache_path())
    raise RuntimeError(f"numba finds no writable cache directory for {DIRECTORY}")


def drop_stale_cache(directory: pathlib.Path, digest: str) -> bool:
    """Delete numba's cache files (``*.nbi``, ``*.nbc``) in ``directory`` unless the stored digest is
    ``digest``, then store it. Returns whether anything was stale. The directory holds only this
    package's entries (numba keeps one per source directory)."""
    stamp = directory / DIGEST_FILE
    if stamp.is_file() and stamp.read_text() == digest:
        return False
    for pattern in ("*.nbi", "*.nbc"):
        for path in directory.glob(pattern):
            path.unlink(missing_ok=True)
    stamp.write_text(digest)
    return True


drop_stale_cache(cache_directory(), source_digest())

"""numba's cache of the kernels can never run code older than the kernels' sources.

numba keys each cached function on the file that defines it, so a kernel compiled with a helper or
constant from ``kernels/layout.py`` would keep the old one after ``layout.py`` changed.
``bayesreg.sampling.kernels`` stores a digest of every kernel source beside the cache and drops the
cache when it differs (see its docstring). These tests check the three parts: the digest sees
every file, a mismatch deletes the cache files and a match keeps them, and on this machine the
stored digest is that of the sources in use (so no stale entry can be loaded here).
"""

from __future__ import annotations

import shutil

from bayesreg.sampling import kernels


def test_the_digest_changes_with_any_kernel_source(tmp_path):
    copy = tmp_path / "kernels"
    shutil.copytree(kernels.DIRECTORY, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = kernels.source_digest(copy)
    assert before == kernels.source_digest()
    for name in sorted(p.name for p in copy.glob("*.py")):
        path = copy / name
        text = path.read_text()
        path.write_text(text + "\n# a change\n")
        assert kernels.source_digest(copy) != before, name
        path.write_text(text)
    assert kernels.source_digest(copy) == before


def test_a_stale_cache_is_dropped_and_a_fresh_one_kept(tmp_path):
    cached = [tmp_path / "noncentred.log_density-300.py313.nbi", tmp_path / "noncentred.log_density-300.py313.1.nbc",
              tmp_path / "layout.report-80.py313.nbi"]
    for path in cached:
        path.write_bytes(b"machine code")
    other = tmp_path / "layout.cpython-313.pyc"  # not numba's: left alone
    other.write_bytes(b"bytecode")
    (tmp_path / kernels.DIGEST_FILE).write_text("the digest of older sources")

    assert kernels.drop_stale_cache(tmp_path, "now") is True
    assert not any(path.exists() for path in cached) and other.exists()
    assert (tmp_path / kernels.DIGEST_FILE).read_text() == "now"

    for path in cached:
        path.write_bytes(b"machine code compiled from the sources in use")
    assert kernels.drop_stale_cache(tmp_path, "now") is False
    assert all(path.exists() for path in cached)


def test_the_cache_in_use_was_built_from_the_sources_in_use():
    """Importing the kernels checked (and if need be dropped) the cache numba uses on this machine."""
    stamp = kernels.cache_directory() / kernels.DIGEST_FILE
    assert stamp.read_text() == kernels.source_digest()

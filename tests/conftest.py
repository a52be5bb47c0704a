"""Shared fixtures, and the seed shift every test seed goes through.

``BAYESREG_TEST_SEED_SHIFT`` (an integer >= 0, default 0) is read once, by tests/seeds.py, which
every test module imports: ``shifted(k)`` is ``k`` plus the shift, and every literal seed in tests/
(NUTS ``random_seed=``, ``np.random.default_rng(...)`` for simulated data, the CLI's ``--seed``) is
written through it; tests/notebook_runs.py moves each notebook's ``SEED = <int>`` line by the same
amount. ``BAYESREG_TEST_SEED_SHIFT=1 pytest tests/test_nuts.py`` reruns a test on other data and
other draws: a statistical assertion must hold there too, at the false-alarm rate its docstring
states. Exempt (a ``# seed fixed:`` comment says why; tests/test_seeds.py checks the rest): seeds of
stored reference data (tests/data/README.md). Tests that compare two fits with the same seed stay
valid under any shift, as both use the shifted seed. The header of a pytest run shows the shift.
"""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler
from seeds import SEED_SHIFT, shifted


@pytest.fixture(scope="session")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y


@pytest.fixture(scope="session")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def wide_problem():
    """p > n with a sparse truth."""
    rng = np.random.default_rng(shifted(7))
    n, p = 40, 120
    X = rng.normal(size=(n, p))
    w = np.zeros(p)
    w[:4] = [3.0, -2.0, 1.5, 1.0]
    return X, 1.0 + X @ w + rng.normal(scale=0.5, size=n)


@pytest.fixture(scope="module")
def client():
    """A 2-worker Dask cluster in this process (threads: cheap on a shared 2-core machine)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


def pytest_report_header(config):
    return f"BAYESREG_TEST_SEED_SHIFT={SEED_SHIFT} (tests/seeds.py)"

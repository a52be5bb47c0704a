import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler
from seeds import shifted


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

"""A fitted estimator survives save and load unchanged; foreign files are refused clearly."""

import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import bayesreg as br
from bayesreg.sampling import SamplingWarning
from seeds import shifted


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(shifted(8))
    X = pd.DataFrame(rng.normal(size=(50, 3)), columns=["a", "b", "c"])
    y = 1.0 + X.to_numpy() @ [1.0, 0.0, -2.0] + rng.normal(size=50)
    return X, y


def test_nuts_fit_round_trips(tmp_path, data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        fit = br.LinearRegression(br.Laplace(2.0)).fit(X, y, draws=200, tune=200, chains=2, random_seed=shifted(1),
                                                       progressbar=False)
    fit.save(tmp_path / "fit.zip", log_likelihood=True)
    back = br.load(tmp_path / "fit.zip")
    assert back.get_params() == fit.get_params()
    for group in ("posterior", "sample_stats", "log_likelihood", "observed_data"):
        assert back.idata_[group].to_dataset().equals(fit.idata_[group].to_dataset()), group
    pd.testing.assert_frame_equal(back.summary(), fit.summary())
    np.testing.assert_array_equal(back.predict(X), fit.predict(X))
    assert back.feature_names_ == ["a", "b", "c"]


def test_map_classifier_round_trips(tmp_path, breast_cancer):
    X, y = breast_cancer
    labels = np.where(y == 1, "benign", "malignant")
    fit = br.LogisticRegression(br.Laplace(0.5)).fit(X, labels, method="map")
    fit.save(tmp_path / "clf.zip")
    back = br.load(tmp_path / "clf.zip")
    np.testing.assert_array_equal(back.coef_, fit.coef_)
    np.testing.assert_array_equal(back.predict_proba(X), fit.predict_proba(X))
    assert list(back.classes_) == ["benign", "malignant"]
    assert back.idata_ is None and back.map_.intercept == fit.map_.intercept


def test_foreign_and_corrupted_files(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("hello.txt", "not a model")
    with pytest.raises(ValueError, match="bayesreg save"):
        br.load(tmp_path / "other.zip")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="cannot read .* as a bayesreg save"):
        br.load(tmp_path / "broken.zip")
    with pytest.raises(FileNotFoundError):
        br.load(tmp_path / "missing.zip")


def test_unfitted_estimator_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="fitted"):
        br.LinearRegression().save(tmp_path / "x.zip")


def test_empirical_bayes_fit_with_array_and_learned_priors_round_trips(tmp_path, data):
    X, y = data
    fit = br.LinearRegression(br.Normal(1.0, autoscale=True)).fit(X, y, method="empirical_bayes")
    fit.save(tmp_path / "eb.zip")
    back = br.load(tmp_path / "eb.zip")
    assert back.prior_ == fit.prior_ and back.prior_.scale.shape == (3,)
    assert back.log_evidence_ == fit.log_evidence_ and back.method_ == "empirical_bayes"
    np.testing.assert_array_equal(back.predict(X), fit.predict(X))


@pytest.mark.parametrize("family", [br.Laplace, br.Normal])  # the two collapsed samplers: mixture, Normal
def test_learned_scale_fit_round_trips(tmp_path, data, family):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        fit = br.LinearRegression(family(br.HalfStudentT(3.0, 0.5), autoscale=True)).fit(
            X, y, draws=200, tune=200, chains=2, random_seed=shifted(1), progressbar=False)
    fit.save(tmp_path / "learned.zip")
    back = br.load(tmp_path / "learned.zip")
    assert back.prior == fit.prior and back.prior_ == fit.prior_  # the hyperprior and the resolved factors
    assert back.prior_.scale == br.HalfStudentT(3.0, 0.5) and back.prior_.factor.shape == (3,)
    pd.testing.assert_frame_equal(back.summary(), fit.summary())


@pytest.fixture(scope="module")
def logistic_fit(breast_cancer):
    X, y = breast_cancer
    labels = np.where(y == 1, "benign", "malignant")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        fit = br.LogisticRegression().fit(X, labels, draws=100, tune=100, chains=2, random_seed=shifted(1),
                                          progressbar=False, log_likelihood=True)
    return X, labels, fit


def test_log_likelihood_is_left_out_unless_asked_and_recomputes_exactly(tmp_path, logistic_fit):
    """Issue 20: a 426-row logistic fit saved 12.5 MB, nearly all of it the pointwise
    log-likelihood. Saved by default without it, the file is several times smaller; every other
    group round-trips bit for bit, and add_log_likelihood gives back the very values the fit
    computed (the same function on the same draws)."""
    X, labels, fit = logistic_fit
    fit.save(tmp_path / "small.zip")
    fit.save(tmp_path / "full.zip", log_likelihood=True)
    assert (tmp_path / "small.zip").stat().st_size * 3 < (tmp_path / "full.zip").stat().st_size
    back = br.load(tmp_path / "small.zip")
    assert "log_likelihood" not in back.idata_.children and "log_likelihood" in fit.idata_.children
    for group in ("posterior", "sample_stats", "observed_data"):
        assert back.idata_[group].to_dataset().equals(fit.idata_[group].to_dataset()), group
    assert br.persistence.add_log_likelihood(back, X, labels) is back
    assert back.idata_["log_likelihood"].to_dataset().equals(fit.idata_["log_likelihood"].to_dataset())
    assert "log_likelihood" in br.load(tmp_path / "full.zip").idata_.children


def test_log_likelihood_needs_the_training_y(tmp_path, logistic_fit, data):
    X, labels, fit = logistic_fit
    fit.save(tmp_path / "small.zip")
    back = br.load(tmp_path / "small.zip")
    with pytest.raises(ValueError, match="not the y this model was fitted on"):
        br.persistence.add_log_likelihood(back, X, labels[::-1])
    map_fit = br.LinearRegression().fit(*data, method="map")
    with pytest.raises(ValueError, match="needs a posterior"):
        br.persistence.add_log_likelihood(map_fit, *data)


@pytest.mark.parametrize("name", ["ridge.nc", "ridge", "ridge.zarr", "ridge.zip.bak"])
def test_save_refuses_other_extensions_and_names_the_right_one(tmp_path, data, name):
    """Issue 20: est.save("ridge.nc") wrote a zip under a NetCDF name."""
    fit = br.LinearRegression().fit(*data, method="map")
    stem = name.split(".")[0] if name != "ridge.zip.bak" else "ridge.zip"
    with pytest.raises(ValueError, match=f"name it '{stem}.zip', not '{name}'"):
        fit.save(tmp_path / name)
    assert not (tmp_path / name).exists()
    fit.save(tmp_path / "RIDGE.ZIP")  # the extension's case does not matter
    np.testing.assert_array_equal(br.load(tmp_path / "RIDGE.ZIP").coef_, fit.coef_)

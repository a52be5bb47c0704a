"""Size of a saved logistic NUTS fit, with and without the pointwise log-likelihood (issue 20).

The case of the issue: breast cancer's 75% training split (426 rows x 30), the default prior,
4 chains x 1000 draws. Also how far zarr compression alone would shrink the log-likelihood group
(Blosc zstd level 9 with byte shuffle, against the default codec), to show why it is dropped by
default rather than compressed. Run: ``.venv/bin/python benchmarks/save_size.py``.
"""

import pathlib
import tempfile
import warnings

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from zarr.codecs import BloscCodec

import bayesreg as br

MiB = 2**20


def folder_size(path: pathlib.Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, _, y_train, _ = train_test_split(X, y, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = br.LogisticRegression().fit(X_train, y_train, random_seed=1, progressbar=False)
    log_likelihood = est.idata_["log_likelihood"].to_dataset()
    print(f"{len(y_train)} rows x {X_train.shape[1]}; log-likelihood in memory {log_likelihood.nbytes / MiB:.2f} MiB")
    with tempfile.TemporaryDirectory() as folder:
        out = pathlib.Path(folder)
        est.save(out / "default.zip")
        est.save(out / "with_ll.zip", log_likelihood=True)
        log_likelihood.to_zarr(out / "ll_default.zarr", consolidated=False)
        blosc = {"y": {"compressors": [BloscCodec(cname="zstd", clevel=9, shuffle="shuffle")]}}
        log_likelihood.to_zarr(out / "ll_zstd9.zarr", encoding=blosc, consolidated=False)
        print("| what | MiB |\n|---|---:|")
        for label, size in (("est.save(path) (default: no log-likelihood)", (out / "default.zip").stat().st_size),
                            ("est.save(path, log_likelihood=True)", (out / "with_ll.zip").stat().st_size),
                            ("log-likelihood group alone, zarr's default codec", folder_size(out / "ll_default.zarr")),
                            ("log-likelihood group alone, Blosc zstd 9 + shuffle", folder_size(out / "ll_zstd9.zarr"))):
            print(f"| {label} | {size / MiB:.2f} |")


if __name__ == "__main__":
    main()

"""How long the first posterior takes in a new process: the compiled path against nutpie's PyMC path.

Each case runs in a fresh Python process that imports bayesreg and reads the data first, then
times one ``fit`` (4 chains x 1000 draws after 1000 tune): the time a user waits inside ``fit``.
The baseline, in the same run, is what ``fit`` did before: ``nutpie.compile_pymc_model`` on the
same PyMC model (``est.pymc_model``) and ``nutpie.sample`` with the same settings, timed from the
model build to the draws (the MAP and summary, a few ms, are left out of the baseline, so it is
flattered slightly).

"warm": the machine has run bayesreg before (numba's cache of bayesreg.sampling.kernels.noncentred and PyTensor's
compile cache are populated by an untimed run of each case first). "cold": a new machine, emulated with empty
``NUMBA_CACHE_DIR`` and PyTensor ``base_compiledir``; the first compiled-path case then pays the
one-time compile of every structure (one generic density serves them all).

    .venv/bin/python benchmarks/first_fit.py [--rounds 3] [--cold]

``--families`` (issue 21's target "first Poisson NUTS fit in a new process, caches warm: no slower
than the logistic one"): the compiled path only, the wells logistic fit against a Poisson fit on
the same 3020 rows and 4 predictors (counts drawn once from a fixed seed, so the two differ in the
likelihood only) and on the roach-trap counts with their exposure offset; rounds alternate between
the cases, so load drifts hit each alike.

    .venv/bin/python benchmarks/first_fit.py --families [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]

CASE_SETUP = {
    "diabetes Normal": "from sklearn.datasets import load_diabetes\n"
                       "X, y = load_diabetes(return_X_y=True)\nest = br.LinearRegression(br.Normal(100.0))",
    "diabetes Laplace": "from sklearn.datasets import load_diabetes\n"
                        "X, y = load_diabetes(return_X_y=True)\nest = br.LinearRegression(br.Laplace(100.0))",
    "wells logistic Normal, 4 predictors": (
        "import pandas as pd\nframe = pd.read_csv(%r)\n"
        "X = frame[['dist100', 'arsenic', 'assoc', 'educ4']].to_numpy(float); y = frame['switch'].to_numpy()\n"
        "est = br.LogisticRegression(br.Normal(2.5))" % str(ROOT / "notebooks" / "data" / "wells.csv")),
    "diabetes regularized horseshoe": (
        "from sklearn.datasets import load_diabetes\nX, y = load_diabetes(return_X_y=True)\n"
        "est = br.LinearRegression(br.RegularizedHorseshoe(expected_nonzero=3, slab_scale=float(y.std() / X.std(0).mean()), autoscale=False))"),
}

WELLS = ("import pandas as pd\nframe = pd.read_csv(%r)\n"
         "X = frame[['dist100', 'arsenic', 'assoc', 'educ4']].to_numpy(float)\n"
         % str(ROOT / "notebooks" / "data" / "wells.csv"))
FAMILY_SETUP = {
    "wells logistic Normal, 4 predictors": CASE_SETUP["wells logistic Normal, 4 predictors"],
    "wells rows, Poisson Normal, 4 predictors": (
        WELLS + "rate = np.exp(0.3 + X @ np.array([-0.4, 0.2, -0.1, 0.1]))\n"
        "y = np.random.default_rng(21).poisson(rate)  # seed fixed: the benchmark's data\n"
        "est = br.PoissonRegression(br.Normal(2.5))"),
    "roaches Poisson Normal, exposure offset": (
        "import pandas as pd\nframe = pd.read_csv(%r)\n"
        "X = np.column_stack([frame.roach1 / 100, frame.treatment, frame.senior]); y = frame.y.to_numpy()\n"
        "fit_options = {'offset': np.log(frame.exposure2.to_numpy())}\n"
        "est = br.PoissonRegression(br.Normal(2.5))" % str(ROOT / "notebooks" / "data" / "roaches.csv")),
}

TIMED = {
    "compiled": """
started = time.perf_counter()
est.fit(X, y, draws=1000, tune=1000, chains=4, random_seed=1, progressbar=False, **globals().get("fit_options", {}))
seconds = time.perf_counter() - started
ess = float(est.summary()["ess_bulk"].min())
""",
    "pymc-path": """
import nutpie
from bayesreg.model import ModelSpec
from bayesreg.sampling import default_settings
family = "gaussian" if isinstance(est, br.LinearRegression) else "bernoulli"
settings = default_settings(ModelSpec.of(family, est.prior, X.shape[1], True))
started = time.perf_counter()
model = est.pymc_model(X, y)
compiled = nutpie.compile_pymc_model(model)
idata = nutpie.sample(compiled, draws=1000, tune=1000, chains=4, seed=1, progress_bar=False,
                      save_warmup=False, **settings)
seconds = time.perf_counter() - started
import arviz as az
ess = float(az.summary(idata, var_names=["coef"], kind="diagnostics")["ess_bulk"].min())
""",
}


def run_case(case: str, path: str, env: dict) -> dict:
    setup = {**CASE_SETUP, **FAMILY_SETUP}[case]
    script = ("import time, warnings\nwarnings.simplefilter('ignore')\nimport numpy as np\nimport bayesreg as br\n"
              + setup + TIMED[path] + "print(__import__('json').dumps({'seconds': seconds, 'ess': ess}))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"{case} / {path} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="empty numba and PyTensor caches for every process")
    parser.add_argument("--families", action="store_true", help="Poisson against logistic, compiled path, warm")
    args = parser.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    if args.families:
        families(args.rounds, env)
        return
    print(f"{'case':40s} {'path':10s} seconds inside fit (each round)        min ESS")
    for case in CASE_SETUP:
        for path in ("compiled", "pymc-path"):
            times, ess = [], None
            if not args.cold:
                run_case(case, path, env)  # populate the caches: a machine that has run bayesreg before
            for _ in range(args.rounds):
                run_env = env
                if args.cold:
                    fresh = tempfile.mkdtemp(prefix="bayesreg-cold-")
                    run_env = dict(env, NUMBA_CACHE_DIR=fresh, PYTENSOR_FLAGS=f"base_compiledir={fresh}/pytensor")
                result = run_case(case, path, run_env)
                times.append(result["seconds"])
                ess = result["ess"]
            print(f"{case:40s} {path:10s} median {statistics.median(times):6.2f}  "
                  f"({', '.join(f'{t:.2f}' for t in times)})  {ess:7.0f}", flush=True)


def families(rounds: int, env: dict) -> None:
    """Each case warm (one untimed run first), then ``rounds`` rounds alternating between the cases."""
    print(f"load {os.getloadavg()[0]:.1f}; compiled path, caches warm, seconds inside fit")
    for case in FAMILY_SETUP:
        run_case(case, "compiled", env)
    times = {case: [] for case in FAMILY_SETUP}
    ess = {}
    for _ in range(rounds):
        for case in FAMILY_SETUP:
            result = run_case(case, "compiled", env)
            times[case].append(result["seconds"])
            ess[case] = result["ess"]
    logistic = statistics.median(times["wells logistic Normal, 4 predictors"])
    for case, values in times.items():
        print(f"{case:42s} median {statistics.median(values):6.2f}  ({', '.join(f'{t:.2f}' for t in values)})  "
              f"min ESS {ess[case]:6.0f}  / logistic {statistics.median(values) / logistic:.2f}", flush=True)
    print(f"load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

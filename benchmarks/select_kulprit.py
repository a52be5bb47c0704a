"""kulprit as the speed anchor for projection predictive selection (issue 23), on the data sets
benchmarks/select_simulation.py saved (``--save DIR``).

kulprit is not a dependency of bayesreg: run this with the Python of a separate environment,
e.g. ``python -m venv /tmp/kulprit-venv && /tmp/kulprit-venv/bin/pip install kulprit``. It does not
import bayesreg. The reference is a Bambi model with Bambi's default priors (kulprit projects Bambi
models; the regularized horseshoe is not among Bambi's built-in priors), sampled as
select_simulation.py samples its reference (500 draws + 500 tune x 2 chains, one core). The
selection is kulprit's forward search (its defaults: 400 draws, 20 clusters in the search) up to 20
terms, then ``select(criterion="se")``: projpred's one-SE rule, the rule ``suggest_size`` applies.

Usage: OPENBLAS_NUM_THREADS=1 /tmp/kulprit-venv/bin/python benchmarks/select_kulprit.py DIR n p seed [seed ...]
"""

import os
import sys
import time
import warnings


def main(folder, n, p, seeds):
    import bambi as bmb
    import kulprit as kpt
    import numpy as np
    import pandas as pd

    print(f"kulprit {kpt.__version__}, bambi {bmb.__version__}; load average before: {os.getloadavg()}", flush=True)
    for seed in seeds:
        data = np.load(os.path.join(folder, f"sim_n{n}_p{p}_seed{seed}.npz"))
        columns = [f"x{j}" for j in range(p)]
        frame = pd.DataFrame(data["X"], columns=columns).assign(y=data["y"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            model = bmb.Model("y ~ " + " + ".join(columns), frame)
            idata = model.fit(draws=500, tune=500, chains=2, cores=1, random_seed=seed, progressbar=False,
                              idata_kwargs={"log_likelihood": True})
            fitted = time.perf_counter()
            projector = kpt.ProjectionPredictive(model, idata)
            projector.project(early_stop=min(p, 20))
            chosen = projector.select(criterion="se")
            done = time.perf_counter()
        truth = {f"x{j}" for j in data["truth"]}
        path = [term for sub in projector._list_of_submodels for term in sub.term_names if term in columns]
        order = list(dict.fromkeys(path))
        size = None if chosen is None else len([t for t in chosen.term_names if t in columns])
        print(f"  n={n} p={p} seed={seed}: true 5 first {set(order[:5]) == truth}, selected size {size}, "
              f"fit {fitted - start:.2f} s, select {done - fitted:.2f} s, load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [int(s) for s in sys.argv[4:]])

# Two entry points: `make demo` and `make test`. Both create .venv from a
# working Python >= 3.12 if it is missing and (re)install the project when
# pyproject.toml changes.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench clean

demo: $(STAMP)
	$(VENV)/bin/bayesreg demo

# One BLAS thread per process: pytest-xdist already runs a worker per core (and each notebook a
# kernel), and OpenBLAS's spinning threads oversubscribed made a 1-second fit take 54 s.
test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n 2 --durations=15

bench: $(STAMP)
	$(PY) benchmarks/map_speed.py

$(PY):
	@python=$$(tools/find-python) || exit 1; \
	echo "creating $(VENV) with $$python"; \
	"$$python" -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

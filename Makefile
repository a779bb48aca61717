# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test fuzz lint bench-evidence bench-select bench-paper clean

install: $(STAMP)

# Torch first, pinned to the CPU build on these machines (an open range pulls a multi-GB CUDA build).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	bash scripts/install-system-deps.sh
	touch $(STAMP)

demo: install
	$(VENV)/bin/autoal demo --out demo-output

test: install
	$(PY) -m pytest -q
	$(VENV)/bin/ruff check src tests benchmarks

# The property and fault tests with many more examples (minutes); see tests/_hypothesis_profiles.py.
fuzz: install
	AUTOAL_HYPOTHESIS_PROFILE=fuzz AUTOAL_FAULT_ROUNDS=12 $(PY) -m pytest -q \
		--hypothesis-show-statistics tests/test_property_*.py tests/test_faults_*.py

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

bench-evidence: install
	$(PY) benchmarks/evidence_cost.py

# The committed comparisons (hours on 2 cores); re-running resumes, skipping finished cells.
bench-select: install
	$(VENV)/bin/autoal bench benchmarks/select.toml --out results/select

bench-paper: install
	$(VENV)/bin/autoal bench benchmarks/paper-cpu.toml --out results/paper-cpu

clean:
	rm -rf $(VENV) demo-output .pytest_cache

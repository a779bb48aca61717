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
	$(PY) -m pip install -q -e '.[dev,ray]'
	bash scripts/install-system-deps.sh
	touch $(STAMP)

demo: install
	$(VENV)/bin/autoal demo --out demo-output
	@echo "The autoal command is in $(VENV)/bin: run 'source $(VENV)/bin/activate' (or call $(VENV)/bin/autoal)."

# Ray's tests run in a loopback-only network namespace (scripts/netns-pytest.sh): Ray binds
# some agents to the machine's interface address otherwise.
test: install
	$(PY) -m pytest -q -m "not ray"
	PY=$(PY) bash scripts/netns-pytest.sh -q -m ray
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy src

# The property and fault tests with many more examples (minutes); see tests/_hypothesis_profiles.py.
fuzz: install
	AUTOAL_HYPOTHESIS_PROFILE=fuzz AUTOAL_FAULT_ROUNDS=12 $(PY) -m pytest -q \
		--hypothesis-show-statistics tests/unit/test_property_*.py tests/integration/test_property_*.py \
		tests/integration/test_faults_*.py

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy src

bench-evidence: install
	$(PY) benchmarks/evidence_cost.py

# The committed comparisons (hours on 2 cores); re-running resumes, skipping finished cells.
bench-select: install
	$(VENV)/bin/autoal bench benchmarks/select.toml --out results/select

bench-paper: install
	$(VENV)/bin/autoal bench benchmarks/paper-cpu.toml --out results/paper-cpu

clean:
	rm -rf $(VENV) demo-output .pytest_cache

# All set-up happens here: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SAMPLE := build/sample.tar

.PHONY: install demo test check lint typecheck imports unit bench clean check-installed \
	verify-packages verify-diff verify-advisor verify-security rules-doc fuzz corpus

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "layerscope needs Python 3.11 or newer as $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(SAMPLE): $(STAMP) scripts/make_sample.py scripts/imagebuilder.py
	$(PY) scripts/make_sample.py $(SAMPLE)

demo: $(SAMPLE)
	env -u CI $(VENV)/bin/layerscope $(SAMPLE)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts bench
	$(VENV)/bin/ruff format --check src tests scripts bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

imports: $(STAMP)
	$(VENV)/bin/lint-imports

unit: $(STAMP)
	$(PY) -m pytest -q

check: lint typecheck imports unit

test: check

# Build the sdist and wheel, install the wheel (not editable) in a fresh venv, use it for real.
check-installed: $(SAMPLE)
	$(PY) scripts/check_installed.py $(SAMPLE)

# `make bench QUICK=1`: only the synthetic image's docker-archive and gzip OCI archive (~2 min).
bench: $(STAMP)
	$(PY) bench/run.py $(if $(QUICK),--quick) $(ARGS)
	$(if $(QUICK),,$(PY) bench/tui.py --dive-timeout 60)
	$(if $(QUICK),,$(PY) bench/registry.py)
	$(if $(QUICK),,$(PY) bench/fleet.py)
	$(if $(QUICK),,$(PY) bench/packages.py)
	$(if $(QUICK),,$(PY) bench/security.py)
	$(if $(QUICK),,$(PY) bench/diff.py)
	$(if $(QUICK),,$(PY) bench/advisor.py)

# Package attribution on the pyapp images ($$LAYERSCOPE_PYAPP, default ../pyapp-out).
verify-packages: $(STAMP)
	$(PY) scripts/verify_packages.py

# Coverage-guided fuzzing of the archive, layer and manifest readers (atheris); crashes are
# written as build/fuzz-crash-* and become cases of scripts/make_corpus.py.
FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	mkdir -p build/fuzz-corpus
	$(PY) scripts/fuzz.py -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
		-artifact_prefix=build/fuzz- build/fuzz-corpus

# The malformed-image corpus the suite runs (tests/test_corpus.py), written out to look at.
corpus: $(STAMP)
	$(PY) scripts/make_corpus.py build/corpus

# layerscope diff on the pyapp build ($$LAYERSCOPE_PYAPP), checked against each image's analysis.
verify-diff: $(STAMP)
	$(PY) scripts/verify_diff.py $(LAYERSCOPE_PYAPP)

# The advisor on the real pyapp build (root, dockerd, the package mirrors); PYAPP_OUT=DIR uses an
# existing build instead of building one; ARGS=--no-build skips building the --fix result.
verify-advisor: $(STAMP)
	$(PY) scripts/verify_advisor.py $(ARGS)

rules-doc: $(STAMP)
	$(PY) -m layerscope.findings.registry > docs/rules.md

# The security findings on the real pyapp build ($$LAYERSCOPE_PYAPP, default ../pyapp-out).
verify-security: $(STAMP)
	$(PY) scripts/verify_security.py

clean:
	rm -rf $(VENV) build bench/out

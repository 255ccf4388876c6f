# ExplainLab: `make demo` runs the platform locally, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint bench worker install clean fuzz stack

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo ""
	@echo "  Participant link: http://$(HOST):$(PORT)/s/demo/"
	@echo "    (as from Prolific: http://$(HOST):$(PORT)/s/demo/?PROLIFIC_PID=5f0c0ffee0000000000000a1&STUDY_ID=demo&SESSION_ID=s1)"
	@echo "  Researcher link:  http://$(HOST):$(PORT)/r/demo/"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy explainers experiments analysis studyapp deploy

bench: $(STAMP)
	$(PY) benchmarks/bench_explainers.py
	$(PY) benchmarks/bench_mixed.py

# The production stack on this machine: nginx → gunicorn → Django, Celery worker and beat,
# PostgreSQL and Redis from DATABASE_URL / CELERY_BROKER_URL / CACHE_URL (local defaults).
STACK_PORT ?= 8080
stack: $(STAMP)
	$(PY) deploy/stack.py --port $(STACK_PORT)

worker: $(STAMP)
	$(VENV)/bin/celery -A studyapp worker --loglevel=INFO --concurrency=2

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

# Fault runs at launch size (gunicorn/PostgreSQL/Redis/Celery broken mid-run, then the export
# reconciled); one scenario: `$(PY) benchmarks/faults.py pg_restart --bots 20`.
.PHONY: faults
faults: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) benchmarks/faults.py all --bots 100

# Bad input at full strength: the API fuzzed from its OpenAPI schema, property tests of
# randomisation and assignment, hostile specs and uploads, with the `fuzz` Hypothesis profile
# (400 examples each) and a fixed seed, so a run is repeatable: `make fuzz FUZZ_SEED=7`
# explores other inputs. The suite (`make test`) runs the same tests with 25 examples.
FUZZ_SEED ?= 0
FUZZ_TESTS := tests/studyapp/test_api_fuzz.py tests/studyapp/test_assignment_properties.py \
	tests/experiments/test_randomisation_properties.py tests/experiments/test_spec_hostile.py \
	tests/studyapp/test_hostile_uploads.py

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -q \
		-p tests.studyapp.fuzz_figures --hypothesis-seed=$(FUZZ_SEED) \
		--hypothesis-show-statistics $(FUZZ_TESTS)

# Launch-day load: the demo study played by 300 bots at once over gunicorn and PostgreSQL;
# prints latency per page type (with a one-participant floor), answers/s, where the CPU went,
# and the export reconciled. It DROPS and recreates DATABASE_URL (default postgres://postgres@
# 127.0.0.1:5432/h_load) and refuses one holding real participants. Options, e.g.:
# `make loadtest LOADTEST_ARGS="--participants 100 --think 1 4 --profile var/profile"`.
.PHONY: loadtest
LOADTEST_ARGS ?=
loadtest: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) benchmarks/loadtest.py $(LOADTEST_ARGS)

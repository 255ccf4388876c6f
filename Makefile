# ExplainLab: `make demo` runs the platform locally, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint bench worker install clean

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
	$(VENV)/bin/mypy explainers experiments analysis studyapp

bench: $(STAMP)
	$(PY) benchmarks/bench_explainers.py
	$(PY) benchmarks/bench_mixed.py

worker: $(STAMP)
	$(VENV)/bin/celery -A studyapp worker --loglevel=INFO --concurrency=2

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

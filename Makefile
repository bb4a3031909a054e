# The two commands of the README, plus a few conveniences. Each target is a thin wrapper over
# the project's own Python entry points; the virtualenv is created on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: dev test bench bench-analytics bench-console bench-load bench-scale bench-storm chaos migrate worker api clean-data

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,test]'
	@touch $(STAMP)

dev: $(STAMP)            ## start the whole stack (Ctrl-C stops it)
	$(PY) -m devstack

test: $(STAMP)           ## run the whole test suite
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)          ## appeals through the API vs the bare Temporal floor (BENCH_ARGS="-n 300 -c 25 --rounds 3")
	$(PY) -m bench $(BENCH_ARGS)

bench-analytics: $(STAMP)  ## assessment and analytics endpoints over N generated appeals (BENCH_ARGS="-n 1000000 -r 30")
	$(PY) -m bench.analytics $(BENCH_ARGS)

bench-console: $(STAMP)  ## every console page as each role over N generated appeals (BENCH_ARGS="-n 1000000 -r 30"; "--quick")
	$(PY) -m bench.console $(BENCH_ARGS)

bench-load: $(STAMP)     ## latency at steady open-loop rates, the knee, the floor (BENCH_ARGS="--rates 1,5,20 --duration 60")
	$(PY) -m bench.load $(BENCH_ARGS)

bench-scale: $(STAMP)    ## N open appeals: bytes, memory, cache, actions, restart, extrapolated (BENCH_ARGS="--checkpoints 10000,25000,50000")
	$(PY) -m bench.scale $(BENCH_ARGS)

bench-storm: $(STAMP)    ## K limits due in the same minute: lag to the timeline, actions meanwhile (BENCH_ARGS="-k 20000")
	$(PY) -m bench.storm $(BENCH_ARGS)

chaos: $(STAMP)          ## kill and restart each piece under load, then check every appeal (CHAOS_ARGS="-n 200 -r 2")
	$(PY) -m chaos $(CHAOS_ARGS)

migrate: $(STAMP)        ## migrate DATABASE_URL to head and load the reference data
	$(PY) -m db.migrate

worker: $(STAMP)
	$(PY) worker.py

api: $(STAMP)
	$(PY) -m uvicorn api.main:app

clean-data:              ## delete the dev stack's data folder (stop the stack first)
	rm -rf .data

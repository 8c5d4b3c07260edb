# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
DEMO_ERP_PORT ?= 8001
PORT ?= 8000

TRYTON_PORT ?= 8010

.PHONY: run test install install-test demo-tryton bench benchmark messages clean

$(VENV)/bin/python:
	@BASE=$$(scripts/find-python) && echo "Using $$BASE" && "$$BASE" -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml examples/example_connector/pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e ".[test]" -e examples/example_connector
	@touch $@ $(VENV)/.installed $(VENV)/.installed-example

# make run shows the example plugin (and its deliberately broken entry point) too.
$(VENV)/.installed-example: examples/example_connector/pyproject.toml | $(VENV)/.installed
	$(PIP) install -e examples/example_connector
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: set up, migrate, load demo data, start the demo ERP, a task worker, the health-check
## schedule and the app on 127.0.0.1:$(PORT)
run: install $(VENV)/.installed-example
	DEBUG=true $(PY) manage.py migrate --no-input -v 0
	DEBUG=true $(PY) manage.py createcachetable
	DEBUG=true $(PY) manage.py load_demo_data --demo-erp-url http://127.0.0.1:$(DEMO_ERP_PORT)/
	@echo "Demo ERP on http://127.0.0.1:$(DEMO_ERP_PORT)/  -  application on http://127.0.0.1:$(PORT)/"
	@echo "Health checks every $${ERP_HEALTH_INTERVAL:-15} minutes: a worker (db_worker) and the schedule run beside the app."
	@$(PY) -m connectors.demo_erp --port $(DEMO_ERP_PORT) & DEMO_PID=$$!; \
	DEBUG=true ERP_ALLOW_PRIVATE_NETWORKS=true $(PY) manage.py db_worker --no-reload -v 0 & WORKER_PID=$$!; \
	(sleep 3; DEBUG=true exec $(PY) manage.py check_erp_connections --loop) & SCHEDULE_PID=$$!; \
	trap 'kill $$DEMO_PID $$WORKER_PID $$SCHEDULE_PID 2>/dev/null' EXIT INT TERM; \
	DEBUG=true ERP_ALLOW_PRIVATE_NETWORKS=true $(PY) manage.py runserver 127.0.0.1:$(PORT)

## make test: install the test extras and run the whole suite (browser tests included)
test: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/pytest

## make demo-tryton: a seeded Tryton 8.2 server on 127.0.0.1:$(TRYTON_PORT) to connect to from the
## dialog (connector "Tryton ERP"); it prints the Server URL, Database and API key. ~30 s to start.
demo-tryton: install-test
	$(PY) -m tests.tryton_server --port $(TRYTON_PORT)

## make bench: seed a throwaway database (SQLite, or PostgreSQL when DATABASE_URL says so),
## start the app as deployed (gunicorn.conf.py) and a fake ERP on 127.0.0.1, measure, and
## write the table to docs/benchmarks.md. BENCH_ARGS="--rounds 20" for a shorter run.
bench: install
	$(PY) scripts/bench.py $(BENCH_ARGS)

benchmark: bench

messages: install
	$(PY) manage.py makemessages -l nl --no-obsolete --no-location --ignore=.venv --ignore=tests --ignore=staticfiles --ignore=scripts --ignore=build
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

# Huifang: `make demo` runs it with demo data, `make test` runs the whole test suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_ENV := DJANGO_DEBUG=1 PORT=$(PORT)

.PHONY: demo test install install-dev serve lint messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput -v0
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Huifang is running at http://127.0.0.1:$(PORT)/  (Ctrl-C stops it)"
	@echo "Demo logins: agent, agent2, supervisor, admin — password huifang-demo"
	@echo ""
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT) --noreload

# With DATABASE_URL / REDIS_URL set, the suite runs against them; without, on SQLite with jobs inline.
# RQ_ASYNC=0 makes jobs run synchronously (through Redis when REDIS_URL is set).
test: $(VENV)/.installed-dev
	DJANGO_DEBUG=1 RQ_ASYNC=0 $(BIN)/pytest $(PYTEST_ARGS)

# Production-style server (set SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL first).
serve: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/gunicorn config.wsgi --bind 0.0.0.0:$(PORT) --workers $${WEB_CONCURRENCY:-3} --access-logfile -

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

messages: $(VENV)/.installed-dev
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --no-location -i ".venv/*" -i "bench/*"
	DJANGO_DEBUG=1 $(BIN)/python manage.py compilemessages -l zh_Hans -i ".venv"

bench: $(VENV)/.installed-dev
	$(BIN)/pip install -q -e ".[bench]"
	DJANGO_DEBUG=1 $(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/huifang.sqlite3* var/static

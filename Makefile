# Two commands: `make run` (demo on SQLite at http://127.0.0.1:8000) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
TEST_ENV := KIUNGO_ENV=test

.PHONY: run test install lint migrations-check test-sqlite test-postgres messages clean

$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Kiungo needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

install: $(INSTALLED)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo
	@echo "Kiungo is starting at http://127.0.0.1:8000 (Ctrl-C stops everything)"
	exec $(VENV)/bin/honcho start -f Procfile

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

migrations-check: install
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

test-sqlite: install
	$(TEST_ENV) $(PY) -m pytest -n 2

test-postgres: install
	$(TEST_ENV) scripts/with-postgres.sh $(PY) -m pytest -n 2

test: lint migrations-check test-sqlite test-postgres

# After changing user-facing strings: update the French catalogue, translate, compile.
messages: install
	cd kiungo && ../$(PY) ../manage.py makemessages -l fr --no-obsolete
	cd kiungo && ../$(PY) ../manage.py compilemessages -l fr

clean:
	rm -rf $(VENV) data

# Intake throughput on SQLite and PostgreSQL (BENCH_SECONDS per case, default 15); writes
# docs/benchmarks.md. See bench/intake.py.
.PHONY: bench-intake
bench-intake: install
	$(PY) bench/intake.py

# Delay from a missed deadline to its escalation SMS and e-mail while intake runs at full
# speed, on SQLite and PostgreSQL (BENCH_SECONDS per case, default 15); writes
# docs/benchmarks.md. See bench/escalation.py. `make bench` runs both benchmarks, one after
# the other (never at once: they would share the CPUs they measure).
.PHONY: bench-escalation bench
bench-escalation: install
	$(PY) bench/escalation.py

bench: install
	$(MAKE) bench-intake
	$(MAKE) bench-escalation

# Time to assemble the MONUSCO consolidated daily report of the demo and to produce its PDF
# and DOCX (median of BENCH_RUNS, default 5; SQLite); writes docs/benchmarks.md. See
# bench/consolidated.py.
.PHONY: bench-consolidated
bench-consolidated: install
	$(PY) bench/consolidated.py

# Surge and crash tests (gunicorn SIGKILL, PostgreSQL crash) on SQLite and PostgreSQL: lost = 0
# and duplicated = 0 for each; writes docs/reliability.md. See bench/reliability.py. Then the
# worker crash and disk-full tests (bench/reliability_worker.py), when present.
.PHONY: reliability
reliability: install
	$(PY) bench/reliability.py
	if test -f bench/reliability_worker.py; then $(PY) bench/reliability_worker.py; fi

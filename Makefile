# The first command on a fresh machine can be `make run` or `make test`: both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run app app-screenshots lint test test-sqlite test-guide-app schema bench bench-identity bench-surge bench-crash bench-nearby bench-checkout bench-attribution bench-instructions clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/irs seed demo
	$(BIN)/irs serve --host 127.0.0.1 --port 8000

# The guide app against IRS_SERVER_URL (default http://127.0.0.1:8000; start it with `make run`).
app: install
	$(BIN)/python -m guide_app

# Every guide-app screen drawn offscreen against a seeded test server (the UI test), as small PNGs in
# docs/screenshots/ for the README. Needs the UI test's Debian packages (see README, "Guide app").
app-screenshots: install
	IRS_SCREENSHOT_DIR=docs/screenshots SDL_VIDEODRIVER=offscreen $(BIN)/pytest -q -p no:randomly tests/guide_app/test_ui.py

# Format, lint, dependency and type gates; `make test` runs them first, so CI fails on any.
lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: install lint
	$(BIN)/pytest

test-guide-app: install
	$(BIN)/pytest tests/guide_app -q

# Without PostgreSQL: only the SQLite half of the database tests.
test-sqlite: install
	IRS_TEST_DATABASES=sqlite $(BIN)/pytest

schema: install
	$(BIN)/irs export-schema

bench: install
	$(BIN)/python bench/graphql_throughput.py

bench-identity: install
	$(BIN)/python bench/identity_ingest.py

bench-surge: install
	$(BIN)/python bench/livestream_surge.py

bench-crash: install
	$(BIN)/python bench/surge_crash.py

bench-nearby: install
	$(BIN)/python bench/nearby_stores.py

# Checkouts, a coupon's redemption race and a claim surge over HTTP on PostgreSQL and Redis (127.0.0.1).
bench-checkout: install
	@$(BIN)/python bench/checkout.py

# The ledger built for 100,000 paid orders, a leaderboard over 600 guides, 200 liveDashboard subscribers during a
# 5,000-booking surge (PostgreSQL and Redis on 127.0.0.1).
bench-attribution: install
	@$(BIN)/python bench/attribution.py

# Instructions per `{ __typename }`, `me` and booking, counted by valgrind's callgrind: repeatable on a noisy
# machine (PostgreSQL and Redis on 127.0.0.1; apt-get install valgrind).
bench-instructions: install
	@$(BIN)/python bench/instructions.py

clean:
	rm -rf $(VENV) var .pytest_cache

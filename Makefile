# evdms: two commands on a fresh machine with Python 3.11.
#   make run    set up everything, load the demo and start the platform
#   make test   the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock | cksum | cut -d' ' -f1)
CHROMIUM := /usr/bin/chromium

.PHONY: run test test-fast lint format lock chromium migrate translations messages
.PHONY: bench-drivers bench-invitations bench-reports bench-dashboard bench-statements bench-installations
.PHONY: bench-ocpp bench-ocpp-frames bench-ocpp-saturated bench-ocpp-10k bench-ocpp-soak bench-ocpp-storm bench-ocpp-two-gateways
.PHONY: bench-ocpi-authorize bench-ocpi-token-list bench-ocpi-cdrs bench-invoices bench-invoice-pdf

$(STAMP): requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "ERROR: $(PYTHON) is required (Python 3.11)." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

migrate: translations
	$(BIN)/python manage.py migrate --noinput

# The message files (evdms/*/locale/*/LC_MESSAGES/django.po) compiled with Babel.
translations: $(STAMP)
	@$(BIN)/python manage.py compile_translations | tail -1

# A developer's step after changing user-facing strings: extract them into each app's
# message files (needs GNU gettext's xgettext), then translate the new entries.
TRANSLATED_APPS := accounts audit charging connections enrolment installations invoicing \
	notifications public_charging reimbursements reports ui web
messages: $(STAMP)
	@command -v xgettext >/dev/null || { echo "ERROR: make messages needs GNU gettext (apt-get install gettext)." >&2; exit 1; }
	for app in $(TRANSLATED_APPS); do \
	  (cd evdms/$$app && mkdir -p locale && ../../$(BIN)/python ../../manage.py makemessages \
	    -l nl -l de -l fr --add-location file --no-obsolete -i tests -i migrations) || exit 1; \
	done
	$(MAKE) translations

run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py serve

# Browser tests drive Debian's Chromium; install it when we can, fail loudly when not.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || exit 1; \
	  else \
	    echo "ERROR: the browser tests need Chromium at $(CHROMIUM)." >&2; \
	    echo "       Install it as root: apt-get install chromium" >&2; exit 1; \
	  fi; \
	fi

test: translations chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Without the browser tests, for a quick loop while coding.
test-fast: translations
	$(BIN)/python -m pytest -n 2 -m "not browser"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy evdms

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-pin every dependency after editing pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

# Benchmarks (figures in docs/benchmarks.md). Each builds its own data.
bench-drivers: $(STAMP)
	$(BIN)/python bench/drivers_page.py --drivers 100000

bench-invitations: $(STAMP)
	$(BIN)/python bench/invitations.py --addresses 10000

# CPU per message in the ocpp package's own handling, its schema checks against ours.
bench-ocpp-frames: $(STAMP)
	$(BIN)/python bench/ocpp_frames.py

bench-ocpp: $(STAMP)
	$(BIN)/python bench/ocpp_gateway.py --chargers 2000 --rate 1000 --seconds 15

# Closed loop (no rate cap) at 100, 2,000 and 10,000 chargers, gateway vs bare each time.
bench-ocpp-saturated: $(STAMP)
	$(BIN)/python bench/ocpp_gateway.py --chargers 100 --closed-loop --seconds 15
	$(BIN)/python bench/ocpp_gateway.py --chargers 2000 --closed-loop --seconds 15 --processes 2 --connect-parallel 50
	$(BIN)/python bench/ocpp_gateway.py --chargers 10000 --closed-loop --seconds 15 --processes 2 --connect-parallel 50

# Issue #13 point 2: 10,000 connected, one MeterValues each every 10 s (1,000/s).
bench-ocpp-10k: $(STAMP)
	$(BIN)/python bench/ocpp_gateway.py --chargers 10000 --interval 10 --seconds 60 --processes 2 --connect-parallel 50

bench-ocpp-soak: $(STAMP)
	$(BIN)/python bench/ocpp_soak.py --chargers 2000 --minutes 10 --admins 20

bench-ocpp-storm: $(STAMP)
	$(BIN)/python bench/ocpp_storm.py --chargers 2000

# Two gateway processes on one database, chargers moving between them (issue #13, point 3).
bench-ocpp-two-gateways: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/evdms_bench_two} $(BIN)/python bench/ocpp_two_gateways.py --chargers 2000 --seconds 60

bench-reports: $(STAMP)
	$(BIN)/python bench/reports.py --sessions 1000000 --drivers 100000

# The dashboard at 1,000,000 sessions (SQLite; DATABASE_URL=postgres://… for PostgreSQL).
bench-dashboard: $(STAMP)
	$(BIN)/python bench/dashboard.py --sessions 1000000 --drivers 100000

bench-statements: $(STAMP)
	$(BIN)/python bench/statements.py --drivers 100000 --sessions-per-driver 30

# Invoice PDFs (PDF/A-3 + Factur-X) in one worker: a 10-line and a 2,000-line invoice
bench-invoice-pdf: $(STAMP)
	$(BIN)/python bench/invoice_pdf.py --repeat 5 --sessions 2000

# The monthly run, statements then invoices (issue #16): 1,000 organisations, 100,000
# drivers, 3,000,000 home sessions, 1,000,000 public CDRs; on SQLite, then PostgreSQL
# (its database created when missing and emptied first). SCALE=0.01 for a quick check.
SCALE ?= 1
bench-invoices: $(STAMP)
	$(BIN)/python bench/invoice_run.py --scale $(SCALE)
	DATABASE_URL=$${INVOICES_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/evdms_bench_invoices} $(BIN)/python bench/invoice_run.py --scale $(SCALE)

# The Home Charger Installation Report with 100,000 jobs, on SQLite then PostgreSQL
# (issue #14); the PostgreSQL database is created when missing and emptied first.
bench-installations: $(STAMP)
	$(BIN)/python bench/installations_report.py --jobs 100000
	DATABASE_URL=$${INSTALLATIONS_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/evdms_bench_installations} $(BIN)/python bench/installations_report.py --jobs 100000

# OCPI tokens: real-time authorize at 200 requests/s against gunicorn with gunicorn.conf.py
# (p50/p99, server CPU per request),
# and the token list with 100,000 tokens (queries and ms per page).
bench-ocpi-authorize: $(STAMP)
	$(BIN)/python bench/ocpi_authorize.py --rate 200 --seconds 20

bench-ocpi-token-list: $(STAMP)
	$(BIN)/python bench/ocpi_token_list.py --tokens 100000
# OCPI CDR ingest over HTTP (gunicorn): at least 500 CDRs/s, every CDR stored once.
bench-ocpi-cdrs: $(STAMP)
	$(BIN)/python bench/ocpi_cdrs.py --cdrs 5000 --drivers 500
	DATABASE_URL=$${CDRS_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/evdms_bench_cdrs} $(BIN)/python bench/ocpi_cdrs.py --cdrs 5000 --drivers 500

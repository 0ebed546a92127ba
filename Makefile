# Ledgerwhisk: `make run` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
PY := .venv/bin/python
INVOKERS ?= 1
export INVOKERS
# Brokers of the local Kafka cluster (3: a KRaft quorum of three, three replicas).
KAFKA_BROKERS ?= 1
export KAFKA_BROKERS

.PHONY: run up down status test unit integration check bench install images clean

install:  ## install everything the stack needs (idempotent, cached)
	@scripts/python.sh
	@scripts/services.sh install
	@scripts/nginx.sh install
	@runtimes/build.sh

run:  ## start the whole stack in the foreground on http://127.0.0.1:3233
	@scripts/python.sh
	@scripts/stack.sh run

up:  ## start the stack in the background; return when ready
	@scripts/python.sh
	@scripts/stack.sh up

down:  ## stop everything `make up` started
	@scripts/stack.sh down

status:
	@scripts/stack.sh status

images:  ## build the runtime images
	@runtimes/build.sh

test:  ## install what is missing, start a test stack, run every test, stop it
	@scripts/test.sh

unit:
	@scripts/python.sh
	@$(PY) -m pytest tests/unit -q

check:  ## format check, lint, types
	@scripts/python.sh
	@.venv/bin/ruff format --check streams api invoker projections store runtimes feeds tests bench
	@.venv/bin/ruff check streams api invoker projections store runtimes feeds tests bench
	@.venv/bin/mypy
	@.venv/bin/vulture streams api invoker projections store runtimes feeds bench tests/vulture_whitelist.py --min-confidence 80
	@if command -v node >/dev/null; then node --check api/dashboard/dashboard.js; \
	else echo "check: node is not installed yet (make up installs it): dashboard.js not checked"; fi

bench:  ## benchmarks against the physical floor (starts the stack if needed)
	@scripts/python.sh
	@scripts/bench.sh

clean:
	rm -rf .state

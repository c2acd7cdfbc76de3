# Kudos Cloud Interaction for Magento 2: developer and operator entry points.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SCENARIOS ?= 200
SEED ?= 1
PYTEST_WORKERS ?= 2

.PHONY: install lock demo local test test-ci-office lint typecheck chaos mutate bench bench-quick clean

$(STAMP): pyproject.toml layers/kudos_sync/requirements.txt
	@py=$$(scripts/find-python312.sh) || exit 1; \
	  [ -x $(PY) ] || $$py -m venv $(VENV); \
	  $(PY) -m pip install --quiet --upgrade pip setuptools wheel && \
	  $(PY) -m pip install --quiet --require-hashes -r layers/kudos_sync/requirements.txt && \
	  $(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The runtime dependencies come from the hash-locked file the Lambda layer ships, so tests run on
# exactly what `sam build` installs (tests/deploy/test_supply_chain.py checks both agree).
install: $(STAMP)

# Re-resolve the layer's lock after changing [project.dependencies] in pyproject.toml.
lock: $(STAMP)
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links --output-file layers/kudos_sync/requirements.txt pyproject.toml

demo: $(STAMP)
	$(VENV)/bin/kudos-sync demo

# Local AWS, a Magento sandbox and a seeded CI Office until Ctrl-C; prints the environment to export.
local: $(STAMP)
	$(PY) -m sandbox.local

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check layers functions sandbox tests benchmarks
	$(VENV)/bin/lint-imports
	$(PY) scripts/check_module_size.py

typecheck: $(STAMP)
	$(VENV)/bin/mypy layers/kudos_sync/kudos_sync
	$(VENV)/bin/mypy functions/push/app.py
	$(VENV)/bin/mypy functions/pull/app.py

test: $(STAMP) lint typecheck
	$(PY) -m pytest -n $(PYTEST_WORKERS) --timeout=600 tests

# Every CI Office test (gateway, demo data generator, ledger, SQL parameters) on SQLite, PostgreSQL and
# the SQL Server-like PostgreSQL; with CI_OFFICE_TEST_URL=<SQLAlchemy URL> (an empty scratch database,
# a real SQL Server say) on that database alone, labelled by its dialect (e.g. [mssql-url]).
test-ci-office: $(STAMP)
	$(PY) -m pytest tests/ci_office tests/badinput/test_sql_parameters.py

chaos: $(STAMP)
	$(PY) -m tests.chaos.run --scenarios $(SCENARIOS) --seed $(SEED)

# Mutation testing (not in CI): mutants of the core (domain/, sync/) and the ledger, each run against
# the unit and ledger tests that cover it. mutmut works on a scratch copy of the library (.mutation/),
# so the worktree is never mutated. All of it takes hours on 2 cores; MUTATE picks files, e.g. the
# subset docs/reliability.md records (~30 min):
#   make mutate MUTATE="kudos_sync/domain/money.py kudos_sync/domain/pull_mapping.py"
# Then `cd .mutation && ../$(VENV)/bin/mutmut show <name>` shows a survivor.
MUTATE ?= kudos_sync/domain/* kudos_sync/sync/* kudos_sync/ci_office/ledger.py
mutate: $(STAMP)
	rm -rf .mutation && mkdir -p .mutation
	cp -r layers/kudos_sync/kudos_sync .mutation/kudos_sync
	cp tests/mutation/setup.cfg pyproject.toml .mutation/
	set -f; printf 'only_mutate =\n' >> .mutation/setup.cfg; \
	  for path in $(MUTATE); do printf '    %s\n' "$$path" >> .mutation/setup.cfg; done
	cd .mutation && ../$(VENV)/bin/mutmut run --max-children 2; ../$(VENV)/bin/python ../tests/mutation/score.py

bench: $(STAMP)
	$(PY) -m benchmarks.run

bench-quick: $(STAMP)
	$(PY) -m benchmarks.run --quick

clean:
	rm -rf $(VENV) .venv-sam .aws-sam .pytest_cache .mypy_cache .ruff_cache .mutation

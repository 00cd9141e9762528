# PledgeWatch: every target creates the virtual environment itself on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXTRAS := airflow,analysis,test
STAMP  := $(VENV)/.installed-$(EXTRAS)

.PHONY: run test demo lint format bench venv clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -U "pip>=24"
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

venv: $(STAMP)

## The main job: Airflow standalone with the PledgeWatch DAGs (Ctrl-C stops everything).
run: venv
	./scripts/run-airflow.sh

## The tests: lint, format check, the compose file against the Compose spec, then the suite (SQLite; PostgreSQL too when
## PLEDGEWATCH_TEST_DATABASE_URL is set, as .ci/run does).
test: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(BIN)/pytest $(PYTEST_ARGS)

## One full pass over a bundled demo site, offline, in under a minute.
demo: venv
	$(BIN)/pledgewatch demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[$(EXTRAS),bench]"
	@command -v chromium >/dev/null || echo "note: bench/dashboard_screenshot.py needs Debian's chromium (apt-get install -y chromium)"
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

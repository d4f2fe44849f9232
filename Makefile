# source-twilio: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: venv demo test lint unit e2e bench docker-test schemas constraints clean

$(INSTALLED): setup.py constraints.txt metadata.yaml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[tests]'
	touch $(INSTALLED)

venv: $(INSTALLED)

## make demo: a full sync of every stream against the built-in Twilio emulator (no credentials needed)
demo: venv
	$(PY) tools/demo.py

## make test: lint, unit, end-to-end and the CDK's standard tests
test: venv lint
	$(VENV)/bin/pytest

lint: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

unit: venv
	$(VENV)/bin/pytest unit_tests

e2e: venv
	$(VENV)/bin/pytest integration_tests

bench: venv
	$(PY) tools/bench.py

## make docker-test: build the Docker image on a local Debian base and check it against the virtualenv
docker-test: venv
	bash tools/docker/check.sh

## make schemas: regenerate source_twilio/schemas from vendor/twilio-oai
schemas: venv
	$(PY) tools/generate_schemas.py

## make constraints: re-pin constraints.txt after changing install_requires in setup.py
constraints:
	bash tools/docker/freeze_constraints.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache output

# Build and test entry points of the entra.sync collection.  Every target sets itself up (make venv first).
# The logic lives in small scripts under tests/tools/; `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.requirements-stamp
COLLECTIONS := $(CURDIR)/.build/collections

export PATH := $(BIN):$(PATH)
export ANSIBLE_NOCOLOR ?= 1

.PHONY: help venv sanity lint ruff ee build units integration live test matrix demo chaos bench changelog-lint docs docs-lint release clean distclean eda-test heal-demo soak

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

$(VENV_STAMP): tests/requirements-dev.txt requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q -r tests/requirements-dev.txt
	touch $@

venv: $(VENV_STAMP)  ## create .venv (pip runs again only when a requirements file changed)
	@$(BIN)/python tests/tools/ansible_test_pip_standin.py

sanity: venv  ## ansible-test sanity on a copy of the git-listed files (.build/sanity)
	bash tests/tools/sanity.sh

lint: venv  ## ansible-lint (production profile) and ruff
	bash tests/tools/lint.sh
	ruff check

ruff: venv  ## ruff over the Python code (ruff.toml)
	ruff check

ee: venv  ## execution environment: ansible-builder introspect + create on extensions/ee, checked (.build/ee)
	bash tests/tools/ee.sh

build: venv  ## build the tarball into .build/dist, install it into .build/collections, render each module's doc
	bash tests/tools/build.sh

units: venv  ## pytest tests/unit
	bash tests/tools/pytest.sh tests/unit

integration: build  ## pytest tests/integration against the installed tarball
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) bash tests/tools/pytest.sh tests/integration

eda-test: build  ## self-heal end to end: real ansible-rulebook (.build/eda, tests/requirements-eda.txt; needs Java 17), the installed tarball, the sandbox
	bash tests/tools/eda.sh

heal-demo: venv build  ## self-heal live: the sandbox and the entra.sync.self_heal rulebook, quarantines, restarts and escalations as they happen
	bash tests/tools/heal_demo.sh

soak: venv build  ## the event source for 30 min (SOAK_MINUTES), 1,000 jobs, 1 poll/s, chaos faults: RSS stays flat, history pruned
	bash tests/tools/soak.sh

live: build  ## the live-tenant tests against the tenant ENTRA_SYNC_LIVE_* name (docs/live-tenant.md); read-only unless ENTRA_SYNC_LIVE_ALLOW_RESTART=1
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) bash tests/tools/pytest.sh tests/integration/live -mlive -rs

test: venv  ## what CI runs: sanity, lint, build, then one pytest run (units + integration); FAIL_FAST=1 stops early
	bash tests/tools/test.sh

matrix:  ## sanity + units on ansible-core 2.17-2.21, integration on 2.17 and 2.21, one venv each in .build/matrix; a results table (see tests/tools/matrix.sh)
	bash tests/tools/matrix.sh

demo: venv build  ## run playbooks/demo.yml against a local sandbox tenant
	bash tests/tools/demo.sh

chaos: venv  ## the 5,000-job fleet run under injected faults, invariants from the sandbox's counters (CHAOS_JOBS=N)
	bash tests/chaos/run.sh

bench: venv build  ## the fleet benchmark (tests/bench/bench.py, about 26 min): prints the table, writes tests/bench/results/latest.json; BENCH_ARGS=--plan quick|full
	PYTHONPATH=tests/sandbox ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/python tests/bench/bench.py $(BENCH_ARGS)

changelog-lint: venv  ## antsibull-changelog lint
	antsibull-changelog lint

docs: venv  ## the docs site (guides + plugin reference by antsibull-docs) into .build/docs/html; checks the module pages
	bash tests/tools/docs.sh

docs-lint: venv  ## antsibull-docs lint-collection-docs --plugin-docs (in make test)
	bash tests/tools/docs.sh --lint

release: venv  ## VERSION=x.y.z: check it, set galaxy.yml, antsibull-changelog release, tarball into .build/release
	bash tests/tools/release.sh "$(VERSION)"

clean:  ## remove build and test output (keeps .venv)
	rm -rf .build tests/output .pytest_cache .hypothesis
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean  ## clean, and remove .venv too
	rm -rf .venv

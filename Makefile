# Build and test entry points of the entra.sync collection.  Every target sets itself up (make venv-runtime or venv first).
# The logic lives in small scripts under tests/tools/; `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
# Two stamps in the one .venv: the runtime set (`make demo`) and, on top of it, the test tools (`make venv`).
RUNTIME_STAMP := $(VENV)/.runtime-stamp
VENV_STAMP := $(VENV)/.requirements-stamp
COLLECTIONS := $(CURDIR)/.build/collections

export PATH := $(BIN):$(PATH)
export ANSIBLE_NOCOLOR ?= 1

.PHONY: help venv-runtime venv sanity lint ruff ee build units integration conformance live test matrix demo rotate-demo report-demo ara-test chaos bench changelog-lint docs docs-lint release clean distclean eda-test heal-demo soak soak-week

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

# pip shows what it collects and installs (no -q): the first run takes a while.
$(RUNTIME_STAMP): tests/requirements-demo.txt requirements.txt
	@echo "venv: creating $(VENV) and installing the runtime set (tests/requirements-demo.txt)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# A current pip: the one Python's ensurepip gives (23.x) cannot do the resolver check of `make ee`.
	$(BIN)/python -m pip install --progress-bar on -U pip
	$(BIN)/python -m pip install --progress-bar on -r tests/requirements-demo.txt
	touch $@

$(VENV_STAMP): $(RUNTIME_STAMP) tests/requirements-dev.txt
	@echo "venv: installing the test tools (tests/requirements-dev.txt)"
	$(BIN)/python -m pip install --progress-bar on -r tests/requirements-dev.txt
	touch $@

venv-runtime: $(RUNTIME_STAMP)  ## create .venv with what the demo needs: ansible-core, requirements.txt, the sandbox's libraries

venv: $(VENV_STAMP)  ## venv-runtime plus the test tools (tests/requirements-dev.txt); pip runs again only when a requirements file changed

sanity: venv  ## ansible-test sanity on a copy of the git-listed files (.build/sanity)
	bash tests/tools/sanity.sh

lint: venv  ## ansible-lint (production profile) and ruff
	bash tests/tools/lint.sh
	ruff check

ruff: venv  ## ruff over the Python code (ruff.toml)
	ruff check

ee: venv  ## execution environment: ansible-builder introspect + create on extensions/ee, checked (.build/ee)
	bash tests/tools/ee.sh

build: venv  ## build the tarball into .build/dist, install it into .build/collections, render each plugin's doc with ansible-doc
	bash tests/tools/build.sh

units: venv  ## pytest tests/unit
	bash tests/tools/pytest.sh tests/unit

integration: build  ## pytest tests/integration against the installed tarball
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) bash tests/tools/pytest.sh tests/integration

conformance: build  ## msgraph-sdk + azure-identity against the sandbox, and the collection's requests against the SDK's (own venv in .build/conformance)
	bash tests/tools/conformance.sh

eda-test: build  ## self-heal end to end: real ansible-rulebook (.build/eda, tests/requirements-eda.txt; needs Java 17), the installed tarball, the sandbox
	bash tests/tools/eda.sh

ara-test: build  ## the fleet report in ARA: merge_reports with ARA's callback on (.build/ara, tests/requirements-ara.txt), the records read back
	bash tests/tools/ara.sh

heal-demo: venv-runtime  ## self-heal live: the sandbox and the entra.sync.self_heal rulebook, quarantines, restarts and escalations as they happen (installs what make demo does, plus ansible-rulebook in .build/eda)
	bash tests/tools/build.sh
	bash tests/tools/heal_demo.sh

soak: venv build  ## the event source for 30 min (SOAK_MINUTES), 1,000 jobs, 1 poll/s, chaos faults: RSS stays flat, history pruned
	bash tests/tools/soak.sh

soak-week: venv build  ## a compressed week: as soak, with a discovery every 10 s; RSS within 5%, polls within 1.5x, state file bounded
	SOAK_MODE=week bash tests/tools/soak.sh

live: build  ## the live-tenant tests against the tenant ENTRA_SYNC_LIVE_* name (docs/live-tenant.md); read-only unless ENTRA_SYNC_LIVE_ALLOW_RESTART=1
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) bash tests/tools/pytest.sh tests/integration/live -mlive -rs

test: venv  ## what CI runs (tests/tools/test.sh): sanity, ansible-lint, ruff, build, ee, docs lint, docs site, then one pytest run (units + integration); FAIL_FAST=1 stops early
	bash tests/tools/test.sh

matrix:  ## sanity + units on ansible-core 2.17-2.21, the integration smoke set on 2.17 and 2.21, one venv each in .build/matrix; a results table (see tests/tools/matrix.sh)
	bash tests/tools/matrix.sh

demo: venv-runtime  ## build and install the tarball, then run entra.sync.restart_jobs against a local sandbox tenant of 2,000 service principals
	bash tests/tools/build.sh
	bash tests/tools/demo.sh

rotate-demo: venv-runtime  ## credential rotation: five jobs quarantined by a revoked token, entra.sync.rotate_credentials tests, saves and restarts four, refuses the stale one; the report
	bash tests/tools/build.sh
	DEMO_SETUP=tests/tools/rotate_demo.py DEMO_PLAYBOOK=entra.sync.rotate_credentials bash tests/tools/demo.sh

report-demo: venv-runtime  ## a fleet run with trouble (3 tenants, failed and unknown jobs, a failed sign-in) into .build/report-demo; with Chromium, its report.html's picture for docs/fleet.md (docs/images/fleet-report.png)
	bash tests/tools/build.sh
	PYTHONPATH=tests/sandbox ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/python tests/tools/report_demo.py --state-dir .build/report-demo \
		$$(command -v chromium > /dev/null && echo --screenshot docs/images/fleet-report.png)

chaos: venv  ## the 5,000-job fleet run under injected faults, invariants from the sandbox's counters (CHAOS_JOBS=N)
	bash tests/chaos/run.sh

bench: venv build  ## the fleet benchmark (tests/bench/bench.py, about 14 min; with the 100-tenant row and CPU, tasks, module runs per tenant): prints the table, writes tests/bench/results/latest.json; BENCH_ARGS=--plan quick|full
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

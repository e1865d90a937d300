# One entry point for the AWS Payments Blueprint. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# uv from the PATH when there is one; otherwise the Makefile installs this pinned uv into its own
# tool environment (.tools/), so a fresh machine needs nothing but Python and Terraform.
UV_VERSION    := 0.13.9
TOOLS         := .tools
UV            ?= $(shell command -v uv 2>/dev/null || echo "$(TOOLS)/bin/uv")
VENV          := .venv
PY            := $(VENV)/bin/python
ENV           ?= local
KEEP          ?= 0
SCAN          ?=
PAYMENTS      ?= 10000
CONCURRENCY   ?= 8
FAULT_RATE    ?= 0.1
LOAD_PAYMENTS ?= 64
LOCAL_AWS_PORT ?= 4566
LOCAL_API_PORT ?= 8080
# The integration and end-to-end folders each get a worker (and an emulator); unit tests fill in.
PYTEST_WORKERS ?= 3
# The deploy workflows users run (actionlint in `make lint`). The project's own ci.yml is left
# out until its actions move off node20, which GitHub has deprecated and actionlint flags.
USER_WORKFLOWS := $(filter-out .github/workflows/ci.yml,$(wildcard .github/workflows/*.yml))
# Root modules with tests too (environments/bootstrap): mock-provider plans, a few seconds each.
MODULES_WITH_TESTS := $(sort $(patsubst %/tests/,%,$(dir $(wildcard modules/*/tests/*.tftest.hcl environments/*/tests/*.tftest.hcl))))

export LOCAL_AWS_PORT LOCAL_API_PORT UV
export TF_IN_AUTOMATION := 1
export CHECKPOINT_DISABLE := 1
export TF_CLI_CONFIG_FILE := $(CURDIR)/.terraform.d/terraform.rc
# The plugin cache of `make tftest`: Terraform's cache is not safe for concurrent installs, and
# `make test` runs tftest beside pytest, which inits with the shared one.
TFTEST_PLUGIN_CACHE := $(CURDIR)/.terraform.d/plugin-cache-tftest

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(TOOLS)/bin/uv:
	@echo "uv is not on the PATH: installing uv $(UV_VERSION) into $(TOOLS)/"
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(filter $(TOOLS)/bin/uv,$(UV))
	$(UV) sync --frozen --quiet
	@touch $@

.PHONY: venv
venv: $(VENV)/.synced ## create the Python environment from uv.lock
	@$(PY) -m local.toolchain >/dev/null

.PHONY: build
build: venv ## build the Lambda zips (AWS target and local-emulator target), each with its CycloneDX SBOM beside it
	$(PY) -m local.build_lambda

.PHONY: up
up: build ## start the local AWS emulator and apply environments/local
	$(PY) -m local.cli up

.PHONY: down
down: venv ## stop the local AWS emulator started by `make up`
	$(PY) -m local.cli down

.PHONY: demo
demo: build ## the main job: emulator up, apply, run scripted payments, print a summary, stop (KEEP=1 leaves it up)
	$(PY) -m local.cli demo $(if $(filter 1,$(KEEP)),--keep,)

.PHONY: reconcile
reconcile: venv ## reconcile payments, ledger and events on the running emulator (REPAIR=1 repairs)
	$(PY) -m local.cli reconcile $(if $(filter 1,$(REPAIR)),--repair,)

.PHONY: merchant
merchant: venv ## create a merchant on the running local environment and print {"merchant_id", "api_key"} (ID=m_1)
	@$(if $(ID),,$(error ID is required: make merchant ID=m_1))$(PY) -m local.cli merchant create --id '$(ID)' --json

.PHONY: collect-bnpl
collect-bnpl: venv ## charge the BNPL instalments due on the running emulator, as the schedule does on AWS (TODAY=YYYY-MM-DD)
	$(PY) -m local.bnpl_collections $(if $(TODAY),--today '$(TODAY)',)

.PHONY: chaos
chaos: build ## payments under injected faults, then the money invariants (PAYMENTS=10000 CONCURRENCY=8 FAULT_RATE=0.1)
	$(PY) -m local.cli chaos --payments $(PAYMENTS) --concurrency $(CONCURRENCY) --fault-rate $(FAULT_RATE)

.PHONY: load
load: build ## load test of the local API at concurrency 1, 4 and 16: payments/s, p50/p99, CPU split (LOAD_PAYMENTS=64 per level)
	$(PY) -m local.load --payments $(LOAD_PAYMENTS)

.PHONY: lake-query
# SQL reaches the command through the environment, so its quotes survive the shell.
lake-query: export LAKE_SQL = $(SQL)
lake-query: venv ## a lake query on the running emulator: NAME=<modules/data_lake/queries/NAME.sql> or SQL='...' (PARAMS=a,b)
	$(PY) -m local.lake_query $(if $(NAME),--name '$(NAME)',--sql "$$LAKE_SQL") $(if $(PARAMS),--params '$(PARAMS)',)

.PHONY: lint
lint: venv ## ruff, mypy, terraform fmt and the module READMEs' generated tables
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m local.tfdocs --check
	$(VENV)/bin/actionlint $(USER_WORKFLOWS)
	terraform fmt -check -recursive modules environments tests
# No `terraform validate` here: every environment is planned by `make tftest` (bootstrap, dev,
# staging, prod) or applied by the e2e tests (local), and a plan validates first.

.PHONY: docs
docs: venv ## regenerate the input/output tables of modules/*/README.md from variables.tf and outputs.tf
	$(PY) -m local.tfdocs

.PHONY: secrets
secrets: venv ## secret scan of the tracked files against .secrets.baseline (detect-secrets, offline; part of `make test`)
	$(PY) -m local.secret_scan

.PHONY: audit
audit: venv ## known vulnerabilities in uv.lock's pins (pip-audit; needs PyPI's vulnerability API, so not in `make test`)
	$(PY) -m local.dependency_audit

.PHONY: tftest
# Every module runs; any failure fails the target, and the failed modules are named at the end.
tftest: export TF_PLUGIN_CACHE_DIR := $(TFTEST_PLUGIN_CACHE)
tftest: venv ## `terraform test` in every module that has tests
	@mkdir -p $(TFTEST_PLUGIN_CACHE); failed=""; \
	for dir in $(MODULES_WITH_TESTS); do \
	  echo "== terraform test $$dir"; \
	  start=$$(date +%s); \
	  if terraform -chdir=$$dir init -backend=false -input=false >/dev/null \
	     && terraform -chdir=$$dir test; then :; else failed="$$failed $$dir"; fi; \
	  echo "== $$dir: $$(( $$(date +%s) - start )) s"; \
	done; \
	if [ -n "$$failed" ]; then echo "terraform test failed in:$$failed"; exit 1; fi

.PHONY: pytest
pytest: build ## pytest: unit, policy, integration (emulator) and end-to-end tests
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=40

.PHONY: test
# Two jobs: pytest, the longest, starts at once; lint and then `terraform test` take the other
# core while pytest waits on the emulator. The environment is built first so the two jobs do not
# both sync it. --output-sync prints each job's output whole, when it ends.
test: venv ## the whole suite (what .ci/run calls)
	@$(MAKE) --no-print-directory -j2 --output-sync=target pytest static

.PHONY: static
static: ## lint, the secret scan, then `terraform test`
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory secrets
	@$(MAKE) --no-print-directory tftest

.PHONY: compliance
compliance: venv ## PCI DSS scan with the project's checkov policies (SCAN=<dir> for another tree)
	$(if $(SCAN),,$(PY) -m local.cli plan-json)
	$(PY) -m compliance.scan $(if $(SCAN),--scan $(SCAN),)

.PHONY: compliance-gate
compliance-gate: build ## CI's PCI gate: apply environments/local on the emulator, then scan its plan JSON (nothing in scope may stay unevaluated) with the HCL of modules/ and environments/*
	$(PY) -m local.cli up && $(PY) -m local.cli plan-json; status=$$?; $(PY) -m local.cli down; exit $$status
	$(PY) -m compliance.scan --plan-json environments/local/tfplan.json --require-resolved-plans

.PHONY: bench
bench: build ## benchmarks; writes bench/results.json
	$(PY) -m bench.run

.PHONY: openapi
openapi: venv ## write docs/openapi.json and the API Gateway request models from the code (CHECK=1: fail if they differ)
	$(PY) -m local.openapi $(if $(filter 1,$(CHECK)),--check,)

.PHONY: train-fraud
train-fraud: venv ## rebuild the fraud model artefact from its seed and the model card's figures (CHECK=1: fail if it changes)
	$(PY) -m ml.fraud train $(if $(filter 1,$(CHECK)),--check,)

.PHONY: train-credit
train-credit: venv ## rebuild the BNPL credit scorecard from its seed and its model card's figures (CHECK=1: fail if it changes)
	$(PY) -m ml.credit $(if $(filter 1,$(CHECK)),--check,)

.PHONY: model-report
model-report: venv ## the fraud model on the real ULB data set (downloaded into .cache/), into the model card
	$(PY) -m ml.fraud report

.PHONY: cost
cost: venv ## the cost model: USD per million payments, fixed floor per environment (REGION=us-east-1)
	$(PY) -m bench.cost $(if $(REGION),--region $(REGION),)

.PHONY: plan
plan: build ## terraform plan for ENV, saved for `make apply` (needs AWS credentials and backend.hcl unless ENV=local)
	$(PY) -m local.cli tf plan --env $(ENV)

.PHONY: apply
apply: build ## terraform apply of the plan `make plan` saved for ENV (ENV=local plans and applies at once)
	$(PY) -m local.cli tf apply --env $(ENV)

.PHONY: destroy
destroy: build ## plan the destruction of ENV and save it: `make apply ENV=…` carries it out after review (not ENV=local: make down)
	$(PY) -m local.cli tf destroy --env $(ENV)

.PHONY: backend-config
backend-config: venv ## write environments/<env>/backend.hcl from the applied environments/bootstrap's outputs
	$(PY) -m local.backend_config

.PHONY: clean
clean: ## remove build output and local state
	rm -rf build .local bench/results.json compliance/reports

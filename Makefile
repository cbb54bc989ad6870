# axes: brute-force login protection for Go web apps.
# `make help` lists the targets.

EXAMPLE ?= nethttp
FUZZTIME ?= 20s

.PHONY: help run test bench fuzz tidy-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

run: ## start the demo login app (EXAMPLE=nethttp|gin|echo|fiber) on the embedded memory store
	go run ./examples/$(EXAMPLE)

test: ## install and start Redis, PostgreSQL and Chromium as needed, run every check and test, stop them
	scripts/test.sh

bench: ## run the benchmarks (ours and peers') against local Redis and PostgreSQL, print the table
	scripts/bench.sh

fuzz: ## run every fuzz target for FUZZTIME each
	scripts/fuzz.sh $(FUZZTIME)

tidy-check: ## fail when go.mod or go.sum are not tidy
	go mod tidy -diff

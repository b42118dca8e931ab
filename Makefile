# InferPi build and test entry points. `make help` lists them.
GO ?= go
export CGO_ENABLED = 0

.PHONY: help deps vet test test-go demo

help:
	@echo "make demo   build and chat with the bundled demo models"
	@echo "make test   every test (installs what it needs first)"

deps:
	@./scripts/install-deps.sh

vet:
	$(GO) vet ./...

# Tests that need mkfs.fat/mtools skip without them when run by hand; here they must run.
test-go:
	INFERPI_REQUIRE_TOOLS=1 $(GO) test ./...

test: deps vet test-go

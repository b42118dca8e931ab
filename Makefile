# InferPi build and test entry points. `make help` lists them.
GO ?= go
export CGO_ENABLED = 0

.PHONY: help deps vet test test-go test-arm64 demo

help:
	@echo "make demo   build and chat with the bundled demo models"
	@echo "make test   every test (installs what it needs first)"
	@echo "make test-arm64   the arm64 (NEON) kernels' tests under qemu-user"

deps:
	@./scripts/install-deps.sh

vet:
	$(GO) vet ./...

# Tests that need mkfs.fat/mtools skip without them when run by hand; here they must run.
test-go:
	INFERPI_REQUIRE_TOOLS=1 $(GO) test ./...

# The arm64 kernels (NEON assembly) run under qemu-user on any host. qemu-aarch64 comes
# from Debian's qemu-user, qemu-aarch64-static from qemu-user-static; either will do.
QEMU_AARCH64 ?= $(shell command -v qemu-aarch64 || command -v qemu-aarch64-static)
test-arm64: deps
	GOARCH=arm64 $(GO) test -exec "$(or $(QEMU_AARCH64),qemu-aarch64)" ./engine/kernels/

test: deps vet test-go test-arm64

# The main job, until the firmware exists: the hosted chat (the console the firmware
# will show on its UART) with the bundled Llama demo model.
demo:
	$(GO) build -o build/inferpi ./cmd/inferpi
	./build/inferpi chat models/llama-demo

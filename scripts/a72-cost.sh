#!/usr/bin/env bash
# The Cortex-A72 cost model of the NEON kernels (docs/a72-cost-model.md): builds
# engine/kernels for arm64 and runs each kernel's main loop through llvm-mca.
# Installs Debian 12's llvm (llvm-mca, llvm-objdump) first when it is missing.
# Arguments go to cmd/a72cost (e.g. -ref TYPE=CYCLES,... for llama.cpp's figures).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v llvm-mca >/dev/null 2>&1 || ! command -v llvm-objdump >/dev/null 2>&1; then
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends llvm >/dev/null
fi
exec go run ./cmd/a72cost "$@"

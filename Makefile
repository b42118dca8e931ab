# InferPi build and test entry points. `make help` lists them.
GO ?= go
export CGO_ENABLED = 0

.PHONY: help deps vet test test-go test-arm64 test-qemu fuzz bench a72-cost demo demo-usb e2e firmware firmware-virt qemu-selftest qemu-sd qemu-usb qemu-console sdcard

help:
	@echo "make demo   boot the firmware in QEMU (Raspberry Pi 4) and chat with the demo models on its UART"
	@echo "make demo-usb  the same on QEMU virt with the models on a USB stick (PCIe, xHCI, mass storage)"
	@echo "make e2e    the firmware end to end in QEMU: menu, the three demo models (one a GGUF file), /exit, corrupt models, load/exit cycles"
	@echo "make test   every test (installs what it needs first)"
	@echo "make test-arm64   the arm64 (NEON) kernels' tests, and the engines on them against the oracles, under qemu-user"
	@echo "make fuzz   every go test -fuzz target, one at a time, FUZZTIME each (default 30s; FUZZ=regexp picks some)"
	@echo "make bench  decode/prefill speed of the 286M GPT and 50M Llama shapes in every encoding, against this machine's read bandwidth,"
	@echo "            then beside llama.cpp on the same GGUF files when a llama-bench is on PATH or in INFERPI_LLAMA_BENCH"
	@echo "make a72-cost  cycles per weight of every NEON kernel on llvm-mca's Cortex-A72, and the Pi 4 tokens/s they imply"
	@echo "make firmware     build/inferpi.elf and build/kernel8.img for the Raspberry Pi 4"
	@echo "make sdcard       a ready-to-copy Pi 4 boot partition in build/sdcard/"
	@echo "make qemu-selftest  the bare-metal self-test firmware on QEMU raspi4b and virt"
	@echo "make qemu-sd        the SD card test firmware on QEMU raspi4b (list, read, checksum)"
	@echo "make qemu-usb       the USB test firmware on QEMU virt (stick, hub, pulled stick, no stick)"
	@echo "make qemu-console   the platform demo (echo, cores, memory map, clocks) on QEMU raspi4b"

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
# The arm64 (NEON) kernels' own tests, the bare-metal kernel's on arm64 (its system
# call numbers against the standard library's), then both engines on the NEON kernels
# against the run.c and nanochat oracles, the demo chats and llama.cpp's logits of every GGUF
# fixture variant (a subset: emulation is slow).
ARM64_ENGINE_TESTS = ^(TestGreedyFP32MatchesRunC|TestGreedyFP16MatchesRunCOnRoundedWeights|TestSampledMatchesRunC|TestContextFullStopsLikeRunC|TestUntiedMatchesRunC|TestDemoQ8KeepsTheExamples|TestDemoQ4Examples|TestCompletionFP32|TestCompletionFP16|TestDebugActivations|TestChat|TestQuantizedDemoChats|TestGGUFMatchesLlamaCpp|TestGGUFBatchedPrefillMatchesOneByOne)$$
test-arm64: deps
	GOARCH=arm64 $(GO) test -exec "$(or $(QEMU_AARCH64),qemu-aarch64)" ./engine/kernels/ ./metal/kernel/
	GOARCH=arm64 $(GO) test -exec "$(or $(QEMU_AARCH64),qemu-aarch64)" -run '$(ARM64_ENGINE_TESTS)' ./engine/llama/ ./engine/gpt/

test: deps vet test-go test-arm64 test-qemu

# The firmware under QEMU (raspi4b and virt): run alone, after the other tests, so
# that emulation timings are not disturbed by parallel test binaries.
test-qemu: deps
	INFERPI_QEMU=1 INFERPI_REQUIRE_TOOLS=1 $(GO) test -count=1 -p 1 -timeout 30m ./test/qemu/

# Every fuzz target of the repository, one after another, FUZZTIME each; stops at
# the first failure (scripts/fuzz.sh, docs/testing.md#fuzzing).
FUZZTIME ?= 30s
fuzz:
	GO="$(GO)" FUZZTIME="$(FUZZTIME)" ./scripts/fuzz.sh

# Speed (docs/speed.md): synthesize the seed's two model shapes in every encoding into
# build/synth/ (random weights, seeded; kept between runs: rm -rf build/synth to remake
# them), then one table of decode and prefill tokens/s and the ratio to this machine's
# read bandwidth measured in the same run. llama2.c's run.c is timed on the fp32 Llama
# too when a `run` binary is on PATH or INFERPI_RUNC names one (optional).
BENCH_PRESETS ?= gpt-286m llama-50m
BENCH_DTYPES ?= fp32 fp16 q8_0 q4_0
BENCH_FLAGS ?=
INFERPI_RUNC ?= $(shell command -v run)
#
# Then InferPi beside llama.cpp (docs/bench.md): when a llama-bench is on PATH or
# INFERPI_LLAMA_BENCH names one (optional: built from llama.cpp by you, never by the
# project), both engines run the same GGUF files in alternating rounds: decode, decode
# after a 512-token prompt, prefill of 512, with the ratio of each. BENCH_GGUF lists
# the files; those named build/synth/PRESET.TYPE.gguf are synthesized (inferpi synth
# --gguf) when missing, the others must exist (e.g. a downloaded model).
BENCH_GGUF ?= $(foreach t,F32 F16 Q8_0 Q4_0 Q4_K_M Q6_K,build/synth/llama-50m.$(t).gguf)
BENCH_SIDE_FLAGS ?= --reps 5
INFERPI_LLAMA_BENCH ?= $(shell command -v llama-bench)
bench:
	$(GO) build -o build/inferpi ./cmd/inferpi
	@for p in $(BENCH_PRESETS); do for d in $(BENCH_DTYPES); do \
		[ -f build/synth/$$p-$$d/model.bin ] || build/inferpi synth --preset $$p --dtype $$d --output-dir build/synth/$$p-$$d || exit 1; \
	done; done
	build/inferpi bench $(BENCH_FLAGS) $(if $(INFERPI_RUNC),--runc $(INFERPI_RUNC)) \
		$(foreach p,$(BENCH_PRESETS),$(foreach d,$(BENCH_DTYPES),build/synth/$(p)-$(d)))
ifeq ($(INFERPI_LLAMA_BENCH),)
	@echo
	@echo "No llama-bench for the table beside llama.cpp: build llama.cpp's llama-bench (docs/bench.md),"
	@echo "then put it on PATH or run 'make bench INFERPI_LLAMA_BENCH=/path/to/llama-bench'."
else
	@for f in $(BENCH_GGUF); do case $$f in build/synth/*.*.gguf) \
		n=$${f#build/synth/}; t=$${n#*.}; \
		[ -f $$f ] || build/inferpi synth --gguf --preset $${n%%.*} --dtype $${t%.gguf} --output-dir build/synth || exit 1;; \
	esac; done
	build/inferpi bench --llama-bench $(INFERPI_LLAMA_BENCH) $(BENCH_SIDE_FLAGS) $(BENCH_GGUF)
endif

# The Cortex-A72 cost model (docs/a72-cost-model.md): each NEON kernel's main loop
# through llvm-mca (scripts/a72-cost.sh installs Debian's llvm when missing), beside
# llama.cpp's cycles for its kernels of the same types (A72_REF: measured as the doc
# says, outside the repository).
A72_REF ?= F32=16.03,F16=32.05,BF16=416.61,Q8_0=10.52,Q4_0=11.77,Q4_1=12.52,Q5_0=18.02,Q5_1=19.52,Q4_K=11.25,Q5_K=14.01,Q6_K=14.01
a72-cost:
	./scripts/a72-cost.sh -ref $(A72_REF)

# Firmware images (stock Go toolchain, GOOS=linux GOARCH=arm64; see internal/fwbuild).
firmware:
	$(GO) run ./cmd/mkfirmware -board rpi4 -o build

firmware-virt:
	$(GO) run ./cmd/mkfirmware -board virt -o build

# The bare-metal self-test (issue: goroutines on 4 cores, GC, preemption, signals, ...).
qemu-selftest: deps
	INFERPI_QEMU=1 $(GO) test -count=1 -v -run 'TestSelftest' ./test/qemu/

# The SD card path on QEMU raspi4b (cmd/sdtest): card bring-up, FAT32 listing and a
# byte-exact read of a file on images made by sfdisk/mkfs.fat/mtools, no card, FAT16, garbage.
qemu-sd: deps
	INFERPI_QEMU=1 INFERPI_REQUIRE_TOOLS=1 $(GO) test -count=1 -v -run 'TestSDRaspi4b' ./test/qemu/

# The USB path on QEMU virt (cmd/usbtest): PCIe enumeration, qemu-xhci, usb-storage on a
# FAT32 image (on a root port and behind a usb-hub) listed and a 64 MB file read byte-exact,
# the stick pulled mid-read and plugged back, no stick, no controller; and the Pi 4 build on
# raspi4b (no PCIe there) failing cleanly.
qemu-usb: deps
	INFERPI_QEMU=1 INFERPI_REQUIRE_TOOLS=1 $(GO) test -count=1 -v -run 'TestUSB' ./test/qemu/

# The platform demo (cmd/metal-demo: echo, cores, memory map, clocks) on QEMU raspi4b
# with this terminal attached to its UART (Ctrl-A X quits).
qemu-console: deps
	$(GO) run ./cmd/mkfirmware -board rpi4 -pkg ./cmd/metal-demo -name metal-demo -o build
	qemu-system-aarch64 -M raspi4b -smp 4 -kernel build/metal-demo.img -display none -no-reboot -serial mon:stdio

# A Raspberry Pi 4 boot partition: GPU firmware from Debian's raspi-firmware package,
# sdcard/config.txt and kernel8.img, in build/sdcard/.
sdcard: firmware
	./scripts/sdcard.sh

# The main job: build the firmware, write an SD card image with the demo models (both model
# directories and llama-demo as a Q8_0 GGUF file, written at build time), boot
# QEMU raspi4b with this terminal on the Pi's UART, and land in the model menu
# (cmd/qemu-demo; Ctrl-A X quits QEMU).
demo: deps
	$(GO) run ./cmd/qemu-demo -board rpi4 -o build

# The main job over the USB path: QEMU virt, the demo models on a USB stick behind qemu-xhci.
demo-usb: deps
	$(GO) run ./cmd/qemu-demo -board virt -o build

# The firmware end to end: boot, menu (a corrupt model and a cut GGUF file listed as not loadable,
# a GGUF file declaring 131072 positions given 4096), chat with the three demo models and the long
# one picked by name (replies compared with the hosted engine), /exit, then load/exit cycles checking the kernel's free memory (20 on virt, 3 on raspi4b); over the SD
# card on QEMU raspi4b and over USB on QEMU virt.
e2e: deps
	INFERPI_QEMU=1 INFERPI_REQUIRE_TOOLS=1 $(GO) test -count=1 -v -timeout 15m -run 'TestE2E' ./test/qemu/

// Command qemu-demo is `make demo`: it builds the firmware, writes an SD card
// image holding the demo models, and boots QEMU's Raspberry Pi 4 (raspi4b) with
// this terminal attached to the Pi's UART, so you land in the firmware's model
// menu as a Pi 4 owner with a serial cable would. Ctrl-A X quits QEMU.
//
//	go run ./cmd/qemu-demo [-board rpi4|virt] [-o build] [MODEL_DIR|FILE.gguf ...]
//
// The models default to the bundled demo models: both model directories, and
// llama-demo written as a Q8_0 GGUF file (sdimage.Demo). Model directories go
// onto the card as directories, GGUF files at its top level. With -board virt
// the image is attached as a USB stick behind QEMU's xHCI instead (the USB path).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/firmware/sdimage"
	"github.com/inferpi/inferpi/internal/fwbuild"
	"github.com/inferpi/inferpi/internal/qemu"
)

func main() {
	board := flag.String("board", "rpi4", "machine: rpi4 (QEMU raspi4b, models on the SD card) or virt (models on a USB stick)")
	out := flag.String("o", "build", "directory for the firmware and the disk image")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: qemu-demo [-board rpi4|virt] [-o DIR] [MODEL_DIR|FILE.gguf ...]")
		fmt.Fprintln(os.Stderr, "Builds the firmware and a disk image with the models (default: the demo models),")
		fmt.Fprintln(os.Stderr, "then boots QEMU with this terminal on the UART. Ctrl-A X quits QEMU.")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*board, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "qemu-demo:", err)
		os.Exit(1)
	}
}

func run(board, out string, models []string) error {
	b, ok := fwbuild.Boards[board]
	if !ok {
		return fmt.Errorf("unknown board %q (rpi4 or virt)", board)
	}
	if _, err := exec.LookPath("qemu-system-aarch64"); err != nil {
		return errors.New("qemu-system-aarch64 not found: run scripts/install-deps.sh (make deps)")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	fmt.Printf("qemu-demo: building the firmware for %s\n", board)
	o := fwbuild.Options{Board: b, Package: "./cmd/firmware",
		OutELF: filepath.Join(out, "inferpi-demo-"+board+".elf"), OutImg: filepath.Join(out, "inferpi-demo-"+board+".img")}
	if err := fwbuild.Build(o); err != nil {
		return err
	}
	files, what, err := cardFiles(models)
	if err != nil {
		return err
	}
	image := filepath.Join(out, "demo-"+board+".img")
	fmt.Printf("qemu-demo: writing %s with %s\n", image, what)
	if err := sdimage.Build(image, files, sdimage.Options{}); err != nil {
		return err
	}
	cfg := qemu.Config{Board: board, Kernel: o.OutImg, SD: image}
	if board == "virt" {
		cfg = qemu.Config{Board: board, Kernel: o.OutELF, USB: image}
	}
	// mon:stdio multiplexes QEMU's monitor onto the UART: the terminal goes raw,
	// Ctrl-C reaches the firmware (it stops a reply), Ctrl-A X quits.
	args := append(qemu.Args(cfg), "-serial", "mon:stdio")
	fmt.Printf("qemu-demo: booting qemu-system-aarch64 %s\n", strings.Join(args, " "))
	fmt.Println("qemu-demo: the model menu appears after boot; Ctrl-A X quits QEMU.")
	cmd := exec.Command("qemu-system-aarch64", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}

// cardFiles are the files of the card for the models given (directories and
// GGUF files), or the demo card's; what names them for the log.
func cardFiles(models []string) (files []sdimage.File, what string, err error) {
	if len(models) == 0 {
		files, err = sdimage.Demo("models")
		return files, "the demo models (" + strings.Join(sdimage.DemoModels, ", ") + ", " + sdimage.DemoGGUF + ")", err
	}
	for _, m := range models {
		if modeldir.IsGGUF(m) {
			files = append(files, sdimage.File{Path: filepath.Base(m), Local: m})
			continue
		}
		f, err := sdimage.ModelDir(m, filepath.Base(filepath.Clean(m)))
		if err != nil {
			return nil, "", fmt.Errorf("model directory %s: %w", m, err)
		}
		files = append(files, f...)
	}
	return files, strings.Join(models, ", "), nil
}

// Command mkfirmware builds an InferPi firmware: the ELF (for QEMU and debuggers)
// and the flat kernel8.img that a Raspberry Pi 4 boots.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/inferpi/inferpi/internal/fwbuild"
)

func main() {
	board := flag.String("board", "rpi4", "target: "+strings.Join(boardNames(), ", "))
	pkg := flag.String("pkg", "./cmd/firmware", "the firmware's main package")
	out := flag.String("o", "build", "output directory")
	name := flag.String("name", "", "base name of the outputs: NAME.elf and NAME.img (default: inferpi.elf and\nkernel8.img for rpi4, inferpi-virt.elf and inferpi-virt.img for virt)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mkfirmware [-board rpi4|virt] [-pkg PKG] [-o DIR] [-name NAME]")
		fmt.Fprintln(os.Stderr, "Builds PKG for bare metal with the stock Go toolchain (GOOS=linux GOARCH=arm64).")
		flag.PrintDefaults()
	}
	flag.Parse()
	b, ok := fwbuild.Boards[*board]
	if !ok {
		fmt.Fprintf(os.Stderr, "mkfirmware: unknown board %q\n", *board)
		os.Exit(2)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "mkfirmware:", err)
		os.Exit(1)
	}
	elfName, imgName := *name+".elf", *name+".img"
	switch {
	case *name != "":
	case b.Name == "rpi4":
		elfName, imgName = "inferpi.elf", "kernel8.img"
	default:
		elfName, imgName = "inferpi-"+b.Name+".elf", "inferpi-"+b.Name+".img"
	}
	img := filepath.Join(*out, imgName)
	opts := fwbuild.Options{Board: b, Package: *pkg, OutELF: filepath.Join(*out, elfName), OutImg: img}
	if err := fwbuild.Build(opts); err != nil {
		fmt.Fprintln(os.Stderr, "mkfirmware:", err)
		os.Exit(1)
	}
	fmt.Printf("built %s and %s\n", opts.OutELF, opts.OutImg)
}

func boardNames() []string {
	var n []string
	for k := range fwbuild.Boards {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

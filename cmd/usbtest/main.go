//go:build linux && arm64

// Command usbtest is a firmware image that checks the USB storage path end to
// end: it brings USB up through platform/storage (the start-up the main
// firmware uses: PCIe, xHCI, hubs, mass storage), mounts the FAT32 volume of
// the first stick, lists the root and each directory in it, then reads files
// and prints their size, SHA-256 and read throughput. It runs on QEMU virt
// (qemu-xhci) and on a Raspberry Pi 4 (VL805).
//
// At its prompt a person (or the QEMU test) types a path to read; Enter reads
// /check/data64.bin, which is also read once by itself if nothing is typed
// within 20 s of the first prompt. A failed read (a pulled stick, a bad
// sector) prints "usbtest: error: " and the reason and comes back to the
// prompt; "usb" restarts USB (after re-plugging), "ls DIR" lists a directory,
// "reboot" resets the board (QEMU run with -no-reboot exits).
//
// Output, one fact per line (the QEMU test parses it):
//
//	usbtest: ls /check
//	-	67108864	data64.bin
//	usbtest>
//	usbtest: reading /check/data64.bin, 67108864 bytes
//	usbtest: 16 MiB
//	usbtest: read /check/data64.bin: 67108864 bytes in 1.234 s, 54.38 MB/s
//	usbtest: sha256 <64 hex digits>
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/inferpi/inferpi/cmd/internal/filecheck"
	"github.com/inferpi/inferpi/console/serial"
	_ "github.com/inferpi/inferpi/metal/kernel"
	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/platform/storage"
	"github.com/inferpi/inferpi/storage/fat32"
)

const (
	defaultPath = "/check/data64.bin"
	askTimeout  = 20 * time.Second
	prompt      = "usbtest> "
)

// check lists and reads; a long read reports every 16 MiB how far it got: a person
// sees it move, and the QEMU test knows when to pull the stick.
var check = filecheck.Checker{Prog: "usbtest", Device: "USB", ProgressStep: 16 << 20}

// session is the USB start-up in use and its mounted volume (nil when USB did
// not come up).
type session struct {
	usb  *storage.USB
	fsys *fat32.FS
}

func main() {
	info, err := sys.Info()
	if err != nil {
		fmt.Println("usbtest: sys.Info:", err)
	}
	fmt.Printf("usbtest: USB storage check on %s, %d cores\n", sys.BoardName(&info), info.Cores)
	var s session
	s.start()
	lines := make(chan string)
	go readLines(serial.New(os.Stdin, os.Stdout), lines)
	first := true
	for {
		fmt.Printf("usbtest: type a path to read (Enter: %s), ls DIR, usb (restart USB) or reboot\n", defaultPath)
		fmt.Print(prompt)
		line := nextLine(lines, first)
		first = false
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd {
		case "reboot":
			s.stop()
			exit(0)
		case "usb":
			s.stop()
			s.start()
		case "ls":
			if s.fsys == nil {
				fmt.Println("usbtest: error: no USB volume (type usb to try again)")
				break
			}
			if _, err := check.List(s.fsys, filecheck.Path(arg)); err != nil {
				fmt.Println("usbtest: error:", err)
			}
		default:
			if s.fsys == nil {
				fmt.Println("usbtest: error: no USB volume (type usb to try again)")
				break
			}
			path := strings.TrimSpace(line)
			if path == "" {
				path = defaultPath
			}
			if err := check.ReadAndHash(s.fsys, path); err != nil {
				fmt.Println("usbtest: error:", err)
			}
		}
	}
}

// readLines edits lines on the UART and hands them over one at a time.
func readLines(in *serial.Editor, lines chan<- string) {
	for {
		s, err := in.ReadLine()
		if err != nil {
			fmt.Println("\nusbtest: console:", err)
			time.Sleep(100 * time.Millisecond) // a console that keeps failing must not spin
			continue
		}
		lines <- s
	}
}

// nextLine waits for a line; the first prompt gives up after askTimeout and
// answers the default, so a board nobody types at still reports one read.
func nextLine(lines <-chan string, first bool) string {
	if !first {
		return <-lines
	}
	select {
	case s := <-lines:
		return s
	case <-time.After(askTimeout):
		fmt.Printf("(nothing typed for %v)\n", askTimeout)
		return ""
	}
}

// start brings USB up and mounts the first disk's FAT32 volume, listing it.
// Failures are printed; the prompt stays.
func (s *session) start() {
	u, err := storage.OpenUSB(os.Stdout)
	if err != nil {
		fmt.Println("usbtest: error:", err)
		if errors.Is(err, storage.ErrNoUSBDisk) {
			fmt.Println("usbtest: plug a FAT32 USB stick in and type usb")
		}
		return
	}
	s.usb = u
	d := u.Disks[0]
	fsys, _, err := storage.MountFAT(os.Stdout, d, d.Name())
	if err != nil {
		fmt.Println("usbtest: error:", err)
		return
	}
	s.fsys = fsys
	root, err := check.List(fsys, ".")
	if err != nil {
		fmt.Println("usbtest: error:", err)
		return
	}
	for _, e := range root {
		if e.IsDir() {
			if _, err := check.List(fsys, e.Name()); err != nil {
				fmt.Println("usbtest: error:", err)
			}
		}
	}
}

func (s *session) stop() {
	if s.usb != nil {
		s.usb.Close()
	}
	*s = session{}
}

func exit(code int) {
	os.Stdout.Sync()
	time.Sleep(100 * time.Millisecond) // let the UART drain before the reset
	os.Exit(code)
}

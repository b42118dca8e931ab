//go:build linux && arm64

// Command sdtest is a firmware image that checks the SD card path end to end:
// it brings the card up through platform/storage (the same start-up the main
// firmware uses), mounts the FAT32 partition, lists the root and each
// directory in it, then reads one file and prints its size, SHA-256 and read
// throughput. The file is the path typed on the UART, or /check/data.bin after
// 20 s without input. Then it exits, which resets the board (QEMU run with
// -no-reboot exits).
//
// Output, one fact per line (the QEMU test parses it):
//
//	sdtest: ls /check
//	-	6291579	A long name for the random test data.bin
//	sdtest: read /check/...: 6291579 bytes in 1.234 s, 5.10 MB/s
//	sdtest: sha256 <64 hex digits>
//	sdtest: done
//
// Failures print "sdtest: error: " and the reason, and exit with status 1.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/inferpi/inferpi/cmd/internal/filecheck"
	"github.com/inferpi/inferpi/console/serial"
	_ "github.com/inferpi/inferpi/metal/kernel"
	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/platform/storage"
)

const (
	defaultPath = "/check/data.bin"
	askTimeout  = 20 * time.Second
)

var check = filecheck.Checker{Prog: "sdtest", Device: "SD card"}

func main() {
	info, err := sys.Info()
	if err != nil {
		fmt.Println("sdtest: sys.Info:", err)
	}
	fmt.Printf("sdtest: SD card check on %s, %d cores\n", sys.BoardName(&info), info.Cores)
	reportFirmware()
	if err := run(); err != nil {
		fmt.Println("sdtest: error:", err)
		exit(1)
	}
	fmt.Println("sdtest: done")
	exit(0)
}

func run() error {
	dev, err := storage.OpenSD(os.Stdout)
	if err != nil {
		return err
	}
	fsys, _, err := storage.MountFAT(os.Stdout, dev, "SD card")
	if err != nil {
		return err
	}
	root, err := check.List(fsys, ".")
	if err != nil {
		return err
	}
	for _, e := range root {
		if e.IsDir() {
			if _, err := check.List(fsys, e.Name()); err != nil {
				return err
			}
		}
	}
	return check.ReadAndHash(fsys, askPath())
}

// askPath waits for a line on the UART naming the file to read.
func askPath() string {
	fmt.Printf("sdtest: type a path to read (Enter, or nothing for %v: %s)\n", askTimeout, defaultPath)
	line := make(chan string, 1)
	go func() {
		// The console's line editor: echo, backspace, CR, LF or CRLF.
		s, _ := serial.New(os.Stdin, os.Stdout).ReadLine()
		line <- s
	}()
	select {
	case s := <-line:
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	case <-time.After(askTimeout):
	}
	return defaultPath
}

func exit(code int) {
	os.Stdout.Sync()
	time.Sleep(100 * time.Millisecond) // let the UART drain before the reset
	os.Exit(code)
}

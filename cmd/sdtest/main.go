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
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/inferpi/inferpi/console/serial"
	_ "github.com/inferpi/inferpi/metal/kernel"
	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/platform/storage"
	"github.com/inferpi/inferpi/storage/fat32"
)

const (
	defaultPath = "/check/data.bin"
	askTimeout  = 20 * time.Second
)

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
	root, err := list(fsys, ".")
	if err != nil {
		return err
	}
	for _, e := range root {
		if e.IsDir() {
			if _, err := list(fsys, e.Name()); err != nil {
				return err
			}
		}
	}
	return readAndHash(fsys, askPath())
}

// list prints a directory the way `inferpi disk ls` does: type, size, name.
func list(fsys *fat32.FS, dir string) ([]fs.DirEntry, error) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("SD card: %w", err)
	}
	fmt.Printf("sdtest: ls %s\n", display(dir))
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			fmt.Println(fat32.ListLine(fi))
		}
	}
	return entries, nil
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

// readAndHash reads a whole file into a kernel buffer (as the model loader
// does) and prints its size, SHA-256 and the read rate.
func readAndHash(fsys *fat32.FS, name string) error {
	p := fsPath(name)
	st, err := fsys.Stat(p)
	if err != nil {
		return fmt.Errorf("SD card: %w", err)
	}
	if st.IsDir() {
		return fmt.Errorf("SD card: %s is a directory", display(p))
	}
	var buf []byte
	if st.Size() > 0 {
		if buf, err = sys.AllocBuffer(int(st.Size())); err != nil {
			return fmt.Errorf("buffer for %s: %w", display(p), err)
		}
		defer sys.FreeBuffer(buf)
	}
	start := time.Now()
	n, err := fsys.ReadFileInto(p, buf, nil)
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("SD card: %w", err)
	}
	mbps := float64(n) / 1e6 / max(elapsed.Seconds(), 1e-9)
	fmt.Printf("sdtest: read %s: %d bytes in %.3f s, %.2f MB/s\n", display(p), n, elapsed.Seconds(), mbps)
	fmt.Printf("sdtest: sha256 %x\n", sha256.Sum256(buf[:n]))
	return nil
}

// fsPath turns what a person types ("/check/data.bin", "check\data.bin")
// into an io/fs path.
func fsPath(s string) string {
	s = strings.ReplaceAll(s, `\`, "/")
	s = strings.Trim(path.Clean("/"+s), "/")
	if s == "" {
		return "."
	}
	return s
}

func display(p string) string {
	if p == "." {
		return "/"
	}
	return "/" + p
}

func exit(code int) {
	os.Stdout.Sync()
	time.Sleep(100 * time.Millisecond) // let the UART drain before the reset
	os.Exit(code)
}

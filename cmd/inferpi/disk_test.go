package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/storage/imagetest"
)

// diskImage makes a GPT image whose FAT32 partition holds a small model tree.
func diskImage(t *testing.T) (string, map[string][]byte) {
	imagetest.NeedTools(t, "sfdisk", "mkfs.fat", "mcopy", "mmd")
	img := t.TempDir() + "/stick.img"
	const start, sectors = 2048, 150_000
	imagetest.Sparse(t, img, (start+sectors+2048)*512)
	imagetest.Partition(t, img, "label: gpt\nstart=2048, size=150000, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n")
	v := imagetest.Volume{Image: img, Offset: start * 512}
	imagetest.Format(t, v, 32, 1, sectors*512)
	v.Mkdir(t, "TinyLlama 15M", "empty dir")
	files := map[string][]byte{
		"TinyLlama 15M/model.bin":     imagetest.Bytes(1, 200_000),
		"TinyLlama 15M/tokenizer.bin": imagetest.Bytes(2, 4321),
		"readme.txt":                  []byte("hello\n"),
	}
	for name, data := range files {
		v.Put(t, name, data)
	}
	return img, files
}

func runDisk(args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := diskMain(args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestDiskLsCat(t *testing.T) {
	img, files := diskImage(t)

	out, _, err := runDisk("ls", img)
	if want := "d\t0\tTinyLlama 15M\nd\t0\tempty dir\n-\t6\treadme.txt\n"; err != nil || out != want {
		t.Errorf("ls /: %q, %v; want %q", out, err, want)
	}
	out, _, err = runDisk("ls", img, "/tinyllama 15m/")
	if want := "-\t200000\tmodel.bin\n-\t4321\ttokenizer.bin\n"; err != nil || out != want {
		t.Errorf("ls dir: %q, %v; want %q", out, err, want)
	}
	out, _, err = runDisk("ls", img, "TinyLlama 15M/model.bin")
	if want := "-\t200000\tmodel.bin\n"; err != nil || out != want {
		t.Errorf("ls file: %q, %v; want %q", out, err, want)
	}
	out, _, err = runDisk("ls", img, "empty dir")
	if err != nil || out != "" {
		t.Errorf("ls empty dir: %q, %v", out, err)
	}
	for name, data := range files {
		out, _, err := runDisk("cat", img, name)
		if err != nil || out != string(data) {
			t.Errorf("cat %s: %d bytes, %v; want the %d bytes written", name, len(out), err, len(data))
		}
	}
	out, _, err = runDisk("info", img)
	if err != nil || !strings.Contains(out, "partition table: GPT") || !strings.Contains(out, "using partition 1: FAT32") {
		t.Errorf("info: %q, %v", out, err)
	}
}

// TestDiskExitStatus runs the real main (this test binary re-executed) to check
// what a user sees: bytes on stdout, errors on stderr, and the exit status.
func TestDiskExitStatus(t *testing.T) {
	img, files := diskImage(t)
	notFAT := t.TempDir() + "/zeros.img"
	imagetest.Sparse(t, notFAT, 1<<20)

	for _, tc := range []struct {
		args      []string
		code      int
		stdout    string
		stderrHas string
	}{
		{[]string{"cat", img, "readme.txt"}, 0, string(files["readme.txt"]), ""},
		{[]string{"cat", img, "missing.bin"}, 1, "", "inferpi disk: " + img + ": open missing.bin: file does not exist"},
		{[]string{"cat", img, "TinyLlama 15M"}, 1, "", "is a directory"},
		{[]string{"ls", img, "nope"}, 1, "", "stat nope: file does not exist"},
		{[]string{"ls", notFAT}, 1, "", notFAT + ": no FAT volume: no partition table and no FAT boot sector"},
		{[]string{"ls", t.TempDir() + "/absent.img"}, 1, "", "no such file or directory"},
		{[]string{"ls"}, 2, "", "usage:"},
		{[]string{"--help"}, 0, diskUsage, ""},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDiskMainHelper$")
		cmd.Env = append(os.Environ(), "INFERPI_DISK_MAIN_ARGS="+strings.Join(tc.args, "\x1f"))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || stdout.String() != tc.stdout || !strings.Contains(stderr.String(), tc.stderrHas) || (tc.stderrHas == "" && stderr.Len() != 0) {
			t.Errorf("inferpi disk %q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
				tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderrHas)
		}
	}
}

// TestDiskMainHelper is main() when TestDiskExitStatus re-executes this binary.
func TestDiskMainHelper(t *testing.T) {
	args, ok := os.LookupEnv("INFERPI_DISK_MAIN_ARGS")
	if !ok {
		t.Skip("helper for TestDiskExitStatus")
	}
	os.Args = append([]string{"inferpi", "disk"}, strings.Split(args, "\x1f")...)
	if args == "" {
		os.Args = os.Args[:2]
	}
	main()
	os.Exit(0)
}

// Package testfile reads the repository's test fixtures (testdata/) for tests:
// files the repository keeps gzipped, JSON oracles, float32 arrays, the sha256
// sums the oracles give, and copies of model directories. Every failure fails
// the test, naming the file.
package testfile

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Read returns a fixture's contents: a file named *.gz gunzipped, and a file
// that is absent read from its gzipped copy, path.gz, when the repository keeps
// only that.
func Read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !strings.HasSuffix(path, ".gz") {
		path += ".gz"
		b, err = os.ReadFile(path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		b = gunzip(t, path, b)
	}
	return b
}

func gunzip(t testing.TB, path string, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// JSON decodes the JSON fixture at path (read as Read reads it) into v.
func JSON(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(Read(t, path), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Float32s reads a file of little-endian float32 values (the oracles' logits).
func Float32s(t testing.TB, path string) []float32 {
	t.Helper()
	b := Read(t, path)
	if len(b)%4 != 0 {
		t.Fatalf("%s: %d bytes are not float32 values", path, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// SHA256 is b's sha256 in hex, as the oracles give a file's or a tensor's.
func SHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// SHA256Float32s is the SHA256 of v as little-endian float32: an oracle's sum of
// a float32 tensor.
func SHA256Float32s(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return SHA256(b)
}

// CopyDir copies the files of the directory src (not its subdirectories) to a
// temporary directory of the same name, gunzipping *.gz, and returns its path:
// a model directory as its owner has it, from the repository's leaner copy.
func CopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		b := Read(t, filepath.Join(src, name))
		if err := os.WriteFile(filepath.Join(dst, strings.TrimSuffix(name, ".gz")), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

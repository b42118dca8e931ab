package testfile

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

func writeGzip(t *testing.T, path string, data []byte) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Read takes a file as it is, gunzips a .gz one, and falls back to the .gz copy
// of a file that is absent.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"n": 3}`), 0o644)
	writeGzip(t, filepath.Join(dir, "weights.bin.gz"), []byte("weights"))
	for path, want := range map[string]string{
		"config.json":    `{"n": 3}`,
		"weights.bin.gz": "weights",
		"weights.bin":    "weights",
	} {
		if got := Read(t, filepath.Join(dir, path)); string(got) != want {
			t.Errorf("Read(%s) = %q, want %q", path, got, want)
		}
	}
}

// CopyDir copies a directory's files, gunzipped, and leaves its subdirectories.
func TestCopyDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "model")
	os.MkdirAll(filepath.Join(dir, "oracle"), 0o755)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"n": 3}`), 0o644)
	writeGzip(t, filepath.Join(dir, "weights.bin.gz"), []byte("weights"))
	os.WriteFile(filepath.Join(dir, "oracle", "x"), nil, 0o644)
	cp := CopyDir(t, dir)
	if filepath.Base(cp) != "model" {
		t.Errorf("CopyDir made %s", cp)
	}
	entries, _ := os.ReadDir(cp)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "config.json" || names[1] != "weights.bin" {
		t.Errorf("CopyDir copied %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(cp, "weights.bin")); string(b) != "weights" {
		t.Errorf("weights.bin holds %q", b)
	}
}

func TestFloat32s(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.f32")
	os.WriteFile(path, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, 0o644)
	if v := Float32s(t, path); len(v) != 2 || v[0] != 1 || v[1] != -2 {
		t.Errorf("Float32s = %v, want [1 -2]", v)
	}
}

func TestSHA256(t *testing.T) {
	const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := SHA256(nil); got != empty {
		t.Errorf("SHA256(nil) = %s", got)
	}
	if got, want := SHA256Float32s([]float32{1, -2}), SHA256([]byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}); got != want {
		t.Errorf("SHA256Float32s = %s, want %s", got, want)
	}
}

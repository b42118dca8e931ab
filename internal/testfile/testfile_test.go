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

package engine

import "testing"

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1 << 10: "1.0 KB", 3174: "3.1 KB",
		1 << 20: "1.0 MB", 157286400: "150.0 MB", 1 << 30: "1.0 GB", 5 << 30: "5.0 GB",
	} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

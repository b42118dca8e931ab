package block

import (
	"bytes"
	"errors"
	"testing"
)

func TestWindow(t *testing.T) {
	img := make([]byte, 10*512)
	for i := range img {
		img[i] = byte(i / 512)
	}
	dev := NewFile(bytes.NewReader(img), int64(len(img)), 512)
	w, err := NewWindow(dev, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2*512)
	if err := w.ReadBlocks(1, buf); err != nil || buf[0] != 4 || buf[512] != 5 {
		t.Fatalf("window sectors 1-2 read %d,%d (%v); want device sectors 4,5", buf[0], buf[512], err)
	}
	if err := w.ReadBlocks(3, buf); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("read across the window's end: %v, want ErrOutOfRange", err)
	}
	if _, err := NewWindow(dev, 8, 3); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("window past the device: %v, want ErrOutOfRange", err)
	}
}

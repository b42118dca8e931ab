package gguf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestReadThroughSmallWindows reads real files through windows of a few bytes
// (every value straddles one) and of a few KiB: the same as Parse.
func TestReadThroughSmallWindows(t *testing.T) {
	for _, path := range []string{"models/qwen3-bpe/qwen3-bpe.Q4_K_M.gguf", "tokenizer/ggml-vocab-llama-spm.gguf"} {
		data, err := os.ReadFile("../../testdata/gguf/" + path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse(data, path)
		if err != nil {
			t.Fatal(err)
		}
		for _, window := range []int64{1, 7, 4096} {
			got, err := read(newReaderSource(bytes.NewReader(data), int64(len(data)), path, window), path)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s through %d-byte windows: %v", path, window, err)
			}
		}
	}
}

// TestLenientLayout checks layouts gguf.cpp's writer does not produce but that
// are safe to read: tensors whose data is not in table order, gaps between
// them, no dimensions, an empty row; and GGUF version 2.
func TestLenientLayout(t *testing.T) {
	r := baseFile()
	r.version = 2
	r.tensors = []rawTensor{
		{"late", []int64{8}, uint32(F32), 256},
		{"early", []int64{32, 2}, uint32(Q8_0), 64},
		{"scalar", nil, uint32(I64), 0},
		{"empty", []int64{0, 3}, uint32(Q4_K), 32},
	}
	r.data = 256 + 32
	f, err := Parse(r.bytes(), "model.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 {
		t.Errorf("version %d", f.Version)
	}
	for i, want := range []struct{ off, bytes, elements int64 }{{256, 32, 8}, {64, 68, 64}, {0, 8, 1}, {32, 0, 0}} {
		ten := f.Tensors[i]
		if ten.Offset != f.DataOffset+want.off || ten.Bytes != want.bytes || ten.Elements() != want.elements {
			t.Errorf("%s: offset %d, %d bytes, %d elements; want %+v", ten.Name, ten.Offset-f.DataOffset, ten.Bytes, ten.Elements(), want)
		}
	}
}

// shortReader is a file that ends before the size its caller believes.
type shortReader struct{ data []byte }

func (s shortReader) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(s.data).ReadAt(p, off)
}

type failingReader struct{}

func (failingReader) ReadAt(p []byte, off int64) (int, error) { return 0, errors.New("USB stall") }

func TestReadErrors(t *testing.T) {
	data := baseFile().bytes()
	if _, err := Read(shortReader{data[:100]}, int64(len(data)), "model.gguf"); err == nil ||
		!strings.HasPrefix(err.Error(), "model.gguf: ") || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a file shorter than its size: %v", err)
	}
	if _, err := Read(failingReader{}, int64(len(data)), "model.gguf"); err == nil || err.Error() != fmt.Sprintf("model.gguf: reading %d bytes at offset 0: USB stall", len(data)) {
		t.Errorf("a failing device: %v", err)
	}
	if _, err := Read(bytes.NewReader(data), -1, "model.gguf"); err == nil || err.Error() != "model.gguf: negative file size -1" {
		t.Errorf("negative size: %v", err)
	}
}

// failsAfter is a device that fails every read beyond its first limit bytes.
type failsAfter struct {
	data  []byte
	limit int64
}

func (f failsAfter) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.limit {
		return 0, errors.New("USB stall")
	}
	return bytes.NewReader(f.data).ReadAt(p, off)
}

// TestReadErrorMidway checks that a read error part-way through the header is
// what Read reports, not what the bytes it could not read would have meant.
func TestReadErrorMidway(t *testing.T) {
	r := baseFile()
	r.kvs[1] = pair("tokenizer.ggml.tokens", []string{strings.Repeat("x", 2*windowSize), "y"})
	data := r.bytes()
	for _, limit := range []int64{windowSize, 2 * windowSize, int64(len(data)) - 1} {
		_, err := Read(failsAfter{data, limit}, int64(len(data)), "model.gguf")
		if err == nil || !strings.HasPrefix(err.Error(), "model.gguf: reading ") || !strings.HasSuffix(err.Error(), ": USB stall") {
			t.Errorf("reads failing after byte %d: %v", limit, err)
		}
	}
}

// TestLargeStringThroughRead reads a string longer than Read's window.
func TestLargeStringThroughRead(t *testing.T) {
	r := baseFile()
	long := strings.Repeat("0123456789abcdef", 3*windowSize/16+1)
	r.kvs[0] = pair("tokenizer.chat_template", long)
	data := r.bytes()
	f, err := Read(bytes.NewReader(data), int64(len(data)), "model.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := f.GetString("tokenizer.chat_template"); s != long {
		t.Errorf("a %d-byte string came back as %d bytes", len(long), len(s))
	}
}

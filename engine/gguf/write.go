package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Writer writes a GGUF v3 file laid out as llama.cpp's writers lay it out
// (gguf.cpp gguf_write_to_buf, gguf-py GGUFWriter): the header, the key-value
// pairs in the order added, the tensor infos in the order added with each offset
// the previous one's plus its size padded to the alignment, zeros up to the
// alignment, then each tensor's data followed by zeros up to the alignment. The
// alignment is 32, or the value of a general.alignment pair added.
//
// Tensors are declared first (AddTensor), then their data is streamed in the same
// order (WriteTensorData), so memory is bounded by one tensor. A file without
// tensors ends right after its key-value pairs, as convert_hf_to_gguf.py
// --vocab-only writes it (gguf.cpp would pad it to the alignment; both read it).
type Writer struct {
	w         io.Writer
	kvs       []KV
	keys      map[string]bool
	tensors   []Tensor // Offset relative to the data section
	names     map[string]bool
	alignment int64
	header    bool  // written
	next      int   // the tensor whose data is due
	err       error // the first write error, returned by every later call
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, keys: map[string]bool{}, names: map[string]bool{}, alignment: DefaultAlignment}
}

// AddKV adds a key-value pair; value has one of the Go types listed at KV.Value.
// The Writer keeps value (not a copy) until WriteHeader.
func (w *Writer) AddKV(key string, value any) error {
	if w.header {
		return fmt.Errorf("gguf: key %s: added after WriteHeader", key)
	}
	if key == "" {
		return errors.New("gguf: a key must not be empty")
	}
	if w.keys[key] {
		return fmt.Errorf("gguf: key %s: added twice", key)
	}
	if _, _, err := typeOf(value); err != nil {
		return fmt.Errorf("gguf: key %s: %v", key, err)
	}
	if key == AlignmentKey {
		a, ok := value.(uint32)
		if !ok || a == 0 || a&(a-1) != 0 {
			return fmt.Errorf("gguf: key %s: %v of type %s, want a u32 power of two", key, value, describe(value))
		}
		w.alignment = int64(a)
	}
	w.keys[key] = true
	w.kvs = append(w.kvs, KV{key, value})
	return nil
}

// AddTensor declares the next tensor: its name, type and dimensions (ggml's ne,
// the row length first; written as given, trailing 1s included).
func (w *Writer) AddTensor(name string, typ Type, dims []int64) error {
	if w.header {
		return fmt.Errorf("gguf: tensor %s: added after WriteHeader", name)
	}
	if name == "" {
		return errors.New("gguf: a tensor name must not be empty")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("gguf: tensor %s: name of %d bytes is longer than ggml's limit of %d", name, len(name), MaxNameLen)
	}
	if w.names[name] {
		return fmt.Errorf("gguf: tensor %s: added twice", name)
	}
	bytes, err := measure(typ, dims)
	if err != nil {
		return fmt.Errorf("gguf: tensor %s: %v", name, err)
	}
	w.names[name] = true
	w.tensors = append(w.tensors, Tensor{Name: name, Type: typ, Dims: append([]int64(nil), dims...), Bytes: bytes})
	return nil
}

// WriteHeader writes everything before the tensor data. No pairs or tensors can
// be added afterwards.
func (w *Writer) WriteHeader() error {
	if w.header {
		return errors.New("gguf: WriteHeader called twice")
	}
	w.header = true
	le := binary.LittleEndian
	b := []byte(Magic)
	b = le.AppendUint32(b, 3)
	b = le.AppendUint64(b, uint64(len(w.tensors)))
	b = le.AppendUint64(b, uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		b = appendString(b, kv.Key)
		b = appendValue(b, kv.Value)
	}
	w.kvs = nil
	off := int64(0)
	for i := range w.tensors {
		t := &w.tensors[i]
		t.Offset = off
		off += pad(t.Bytes, w.alignment)
		b = appendString(b, t.Name)
		b = le.AppendUint32(b, uint32(len(t.Dims)))
		for _, d := range t.Dims {
			b = le.AppendUint64(b, uint64(d))
		}
		b = le.AppendUint32(b, uint32(t.Type))
		b = le.AppendUint64(b, uint64(t.Offset))
	}
	if len(w.tensors) > 0 {
		b = append(b, make([]byte, pad(int64(len(b)), w.alignment)-int64(len(b)))...)
	}
	return w.write(b)
}

// WriteTensorData writes the data of the next declared tensor, which must be
// exactly its size, and the padding after it.
func (w *Writer) WriteTensorData(data []byte) error {
	if !w.header {
		return errors.New("gguf: WriteTensorData before WriteHeader")
	}
	if w.next == len(w.tensors) {
		return fmt.Errorf("gguf: WriteTensorData: all %d tensors are written", len(w.tensors))
	}
	t := &w.tensors[w.next]
	if int64(len(data)) != t.Bytes {
		return fmt.Errorf("gguf: tensor %s: %d bytes of data, want %d (%s %v)", t.Name, len(data), t.Bytes, t.Type, t.Dims)
	}
	w.next++
	if err := w.write(data); err != nil {
		return err
	}
	var zeros [64]byte
	for n := pad(t.Bytes, w.alignment) - t.Bytes; n > 0; n -= int64(len(zeros)) {
		if err := w.write(zeros[:min(n, int64(len(zeros)))]); err != nil {
			return err
		}
	}
	return nil
}

// Close writes the header if WriteHeader was not called (a file without tensors)
// and checks that every tensor's data was written. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if !w.header {
		if err := w.WriteHeader(); err != nil {
			return err
		}
	}
	if w.err != nil {
		return w.err
	}
	if w.next < len(w.tensors) {
		return fmt.Errorf("gguf: tensor %s: data not written (%d of %d tensors written)", w.tensors[w.next].Name, w.next, len(w.tensors))
	}
	return nil
}

func (w *Writer) write(b []byte) error {
	if w.err == nil {
		_, w.err = w.w.Write(b)
	}
	return w.err
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue appends a value's type and the value (typeOf has accepted it).
func appendValue(b []byte, v any) []byte {
	t, array, _ := typeOf(v)
	le := binary.LittleEndian
	if !array {
		b = le.AppendUint32(b, uint32(t))
	} else {
		b = le.AppendUint32(b, uint32(typeArray))
		b = le.AppendUint32(b, uint32(t))
	}
	switch x := v.(type) {
	case uint8:
		return append(b, x)
	case int8:
		return append(b, byte(x))
	case uint16:
		return le.AppendUint16(b, x)
	case int16:
		return le.AppendUint16(b, uint16(x))
	case uint32:
		return le.AppendUint32(b, x)
	case int32:
		return le.AppendUint32(b, uint32(x))
	case float32:
		return le.AppendUint32(b, math.Float32bits(x))
	case bool:
		return append(b, boolByte(x))
	case string:
		return appendString(b, x)
	case uint64:
		return le.AppendUint64(b, x)
	case int64:
		return le.AppendUint64(b, uint64(x))
	case float64:
		return le.AppendUint64(b, math.Float64bits(x))
	case []uint8:
		return append(le.AppendUint64(b, uint64(len(x))), x...)
	case []int8:
		return appendArray(b, x, func(b []byte, e int8) []byte { return append(b, byte(e)) })
	case []uint16:
		return appendArray(b, x, le.AppendUint16)
	case []int16:
		return appendArray(b, x, func(b []byte, e int16) []byte { return le.AppendUint16(b, uint16(e)) })
	case []uint32:
		return appendArray(b, x, le.AppendUint32)
	case []int32:
		return appendArray(b, x, func(b []byte, e int32) []byte { return le.AppendUint32(b, uint32(e)) })
	case []float32:
		return appendArray(b, x, func(b []byte, e float32) []byte { return le.AppendUint32(b, math.Float32bits(e)) })
	case []bool:
		return appendArray(b, x, func(b []byte, e bool) []byte { return append(b, boolByte(e)) })
	case []string:
		return appendArray(b, x, appendString)
	case []uint64:
		return appendArray(b, x, le.AppendUint64)
	case []int64:
		return appendArray(b, x, func(b []byte, e int64) []byte { return le.AppendUint64(b, uint64(e)) })
	case []float64:
		return appendArray(b, x, func(b []byte, e float64) []byte { return le.AppendUint64(b, math.Float64bits(e)) })
	}
	panic(fmt.Sprintf("gguf: appendValue(%T)", v))
}

// appendArray appends an array's length and its elements.
func appendArray[T any](b []byte, a []T, appendOne func([]byte, T) []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(a)))
	for _, e := range a {
		b = appendOne(b, e)
	}
	return b
}

func boolByte(x bool) byte {
	if x {
		return 1
	}
	return 0
}

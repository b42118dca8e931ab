package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// The least bytes a key-value pair and a tensor info take, which bound the counts
// a header may claim: a name length and a one-byte name, a value type and a
// one-byte value; a name length, a dimension count, a type and an offset.
const (
	minKVBytes     = 8 + 1 + 4 + 1
	minTensorBytes = 8 + 4 + 4 + 8
)

// Read reads and validates the header, metadata and tensor table of the GGUF file
// of size bytes behind r, without reading the tensor data. It reads in windows of
// 64 KiB. Everything is checked before it is allocated. name labels errors.
func Read(r io.ReaderAt, size int64, name string) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("%s: negative file size %d", name, size)
	}
	return read(newReaderSource(r, size, name, windowSize), name)
}

// Parse is Read over a byte slice holding the whole file; File.Data then returns
// views into it.
func Parse(data []byte, name string) (*File, error) {
	return read(newBufferSource(data, name), name)
}

// decoder reads one file's header into f.
type decoder struct {
	s *source
	f *File
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", d.f.Name, fmt.Sprintf(format, args...))
}

// short reports that what (a phrase) does not fit in the bytes left.
func (d *decoder) short(what string) error {
	return d.errorf("%s does not fit in the %d bytes left", what, d.s.left())
}

func read(s *source, name string) (*File, error) {
	d := &decoder{s: s, f: &File{Name: name, Size: s.size, Alignment: DefaultAlignment}}
	if err := d.decode(); s.err != nil {
		return nil, s.err // a read error, and not what the zeros read in its place led to
	} else if err != nil {
		return nil, err
	}
	return d.f, nil
}

func (d *decoder) decode() error {
	nTensors, nKV, err := d.header()
	if err != nil {
		return err
	}
	if err := d.kvs(nKV); err != nil {
		return err
	}
	if err := d.alignment(); err != nil {
		return err
	}
	if err := d.tensorInfos(nTensors); err != nil {
		return err
	}
	d.f.DataOffset = pad(d.s.off, d.f.Alignment)
	return d.layout()
}

// header reads the magic, the version and the two counts.
func (d *decoder) header() (nTensors, nKV uint64, err error) {
	s := d.s
	if s.size < 8 {
		return 0, 0, d.errorf("%d bytes are too short for a GGUF file", s.size)
	}
	b := s.next(8)
	if string(b[:4]) != Magic {
		return 0, 0, d.errorf("not a GGUF file (it starts with %q, not %q)", b[:4], Magic)
	}
	v := binary.LittleEndian.Uint32(b[4:])
	switch {
	case v == 1:
		return 0, 0, d.errorf("GGUF version 1 is not supported (its counts and lengths are 32-bit; convert the file with a current llama.cpp)")
	case v&0xffff == 0 && v != 0:
		return 0, 0, d.errorf("version field %#x: a big-endian GGUF file? Only little-endian files are supported", v)
	case v != 2 && v != 3:
		return 0, 0, d.errorf("GGUF version %d is not supported (only 2 and 3)", v)
	}
	d.f.Version = v
	if s.left() < 16 {
		return 0, 0, d.errorf("header: the tensor and key-value counts do not fit in the %d bytes left", s.left())
	}
	return s.u64(), s.u64(), nil
}

// kvs reads the key-value pairs.
func (d *decoder) kvs(n uint64) error {
	if n > uint64(d.s.left()/minKVBytes) {
		return d.errorf("header: %d key-value pairs (at least %d bytes each) do not fit in the %d bytes left", n, minKVBytes, d.s.left())
	}
	d.f.KVs = make([]KV, 0, n)
	d.f.keys = make(map[string]int, n)
	for i := range int(n) {
		key, err := d.name("key", i)
		if err != nil {
			return err
		}
		if j, dup := d.f.keys[key]; dup {
			return d.errorf("key %s: duplicate key (pairs %d and %d)", key, j, i)
		}
		if d.s.left() < 4 {
			return d.short("key " + key + ": its value type")
		}
		t := d.s.u32()
		var v any
		if valueType(t) == typeArray {
			v, err = d.array(key)
		} else {
			v, err = d.value(key, valueType(t))
		}
		if err != nil {
			return err
		}
		d.f.keys[key] = i
		d.f.KVs = append(d.f.KVs, KV{key, v})
	}
	return nil
}

// name reads the name of key or tensor i, which must not be empty (gguf.cpp
// asserts that a key is not; an empty tensor name is of no use to anyone).
func (d *decoder) name(what string, i int) (string, error) {
	s := d.s
	if s.left() < 8 {
		return "", d.short(fmt.Sprintf("%s %d: its name's length", what, i))
	}
	n := s.u64()
	switch {
	case n == 0:
		return "", d.errorf("%s %d: empty name", what, i)
	case n > uint64(s.left()):
		return "", d.short(fmt.Sprintf("%s %d: name of %d bytes", what, i, n))
	case what == "tensor" && n > MaxNameLen:
		return "", d.errorf("tensor %d: name of %d bytes is longer than ggml's limit of %d", i, n, MaxNameLen)
	}
	return s.str(n), nil
}

// value reads a single value of type t.
func (d *decoder) value(key string, t valueType) (any, error) {
	s := d.s
	size := t.size()
	switch {
	case size == 0:
		return nil, d.errorf("key %s: unknown value type %d", key, uint32(t))
	case int64(size) > s.left():
		return nil, d.short(fmt.Sprintf("key %s: %s value", key, t))
	case t != typeString:
		return scalar(t, s.next(int64(size))), nil
	}
	n := s.u64()
	if n > uint64(s.left()) {
		return nil, d.short(fmt.Sprintf("key %s: string of %d bytes", key, n))
	}
	return s.str(n), nil
}

// array reads an array's element type, count and elements.
func (d *decoder) array(key string) (any, error) {
	s := d.s
	if s.left() < 12 {
		return nil, d.short("key " + key + ": array header")
	}
	t32 := s.u32()
	n := s.u64()
	t := valueType(t32)
	size := t.size()
	switch {
	case t == typeArray:
		return nil, d.errorf("key %s: arrays of arrays are not supported (llama.cpp's gguf.cpp refuses them too)", key)
	case size == 0:
		return nil, d.errorf("key %s: array of unknown value type %d", key, t32)
	case n > uint64(s.left()/int64(size)):
		what := "strings"
		if t != typeString {
			what = t.String() + " values"
		}
		return nil, d.short(fmt.Sprintf("key %s: array of %d %s", key, n, what))
	}
	le := binary.LittleEndian
	switch t {
	case typeUint8:
		return readArray(s, n, 1, func(b []byte) uint8 { return b[0] }), nil
	case typeInt8:
		return readArray(s, n, 1, func(b []byte) int8 { return int8(b[0]) }), nil
	case typeUint16:
		return readArray(s, n, 2, le.Uint16), nil
	case typeInt16:
		return readArray(s, n, 2, func(b []byte) int16 { return int16(le.Uint16(b)) }), nil
	case typeUint32:
		return readArray(s, n, 4, le.Uint32), nil
	case typeInt32:
		return readArray(s, n, 4, func(b []byte) int32 { return int32(le.Uint32(b)) }), nil
	case typeFloat32:
		return readArray(s, n, 4, func(b []byte) float32 { return math.Float32frombits(le.Uint32(b)) }), nil
	case typeBool:
		return readArray(s, n, 1, func(b []byte) bool { return b[0] != 0 }), nil
	case typeUint64:
		return readArray(s, n, 8, le.Uint64), nil
	case typeInt64:
		return readArray(s, n, 8, func(b []byte) int64 { return int64(le.Uint64(b)) }), nil
	case typeFloat64:
		return readArray(s, n, 8, func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) }), nil
	}
	out := make([]string, n)
	for i := range out {
		if s.left() < 8 {
			return nil, d.short(fmt.Sprintf("key %s: length of string %d of %d", key, i, n))
		}
		k := s.u64()
		if k > uint64(s.left()) {
			return nil, d.short(fmt.Sprintf("key %s: string %d of %d (%d bytes)", key, i, n, k))
		}
		out[i] = s.str(k)
	}
	return out, nil
}

// readArray decodes n elements of size bytes each (already checked against the
// bytes left), a chunk at a time.
func readArray[T any](s *source, n uint64, size int, decode func([]byte) T) []T {
	out := make([]T, n)
	for i := 0; i < len(out); {
		k := min(len(out)-i, s.chunk()/size)
		b := s.next(int64(k * size))
		for j := range k {
			out[i+j] = decode(b[j*size:])
		}
		i += k
	}
	return out
}

// alignment applies general.alignment, which gguf.cpp reads as a uint32 and
// requires to be a power of two.
func (d *decoder) alignment() error {
	v, ok := d.f.Lookup(AlignmentKey)
	if !ok {
		return nil
	}
	a, ok := v.(uint32)
	if !ok {
		return d.errorf("key %s: type %s, want u32", AlignmentKey, describe(v))
	}
	if a == 0 || a&(a-1) != 0 {
		return d.errorf("key %s: %d is not a power of two", AlignmentKey, a)
	}
	d.f.Alignment = int64(a)
	return nil
}

// tensorInfos reads the tensor table; offsets are relative to the data section
// until layout makes them absolute.
func (d *decoder) tensorInfos(n uint64) error {
	s := d.s
	if n > uint64(s.left()/minTensorBytes) {
		return d.errorf("header: %d tensor infos (at least %d bytes each) do not fit in the %d bytes left", n, minTensorBytes, s.left())
	}
	d.f.Tensors = make([]Tensor, 0, n)
	d.f.tensors = make(map[string]int, n)
	for i := range int(n) {
		name, err := d.name("tensor", i)
		if err != nil {
			return err
		}
		if j, dup := d.f.tensors[name]; dup {
			return d.errorf("tensor %s: duplicate name (tensors %d and %d)", name, j, i)
		}
		if s.left() < 4 {
			return d.short("tensor " + name + ": its dimension count")
		}
		nd := s.u32()
		if nd > MaxDims {
			return d.errorf("tensor %s: %d dimensions, at most %d", name, nd, MaxDims)
		}
		if s.left() < 8*int64(nd)+4+8 {
			return d.errorf("tensor %s: %d dimensions, type and offset do not fit in the %d bytes left", name, nd, s.left())
		}
		t := Tensor{Name: name, Dims: make([]int64, nd)}
		for j := range t.Dims {
			t.Dims[j] = int64(s.u64())
		}
		t.Type = Type(s.u32())
		off := s.u64()
		if t.Bytes, err = measure(t.Type, t.Dims); err != nil {
			return d.errorf("tensor %s: %v", name, err)
		}
		if off > math.MaxInt64 {
			return d.errorf("tensor %s: offset %d is past the end of the file", name, off)
		}
		t.Offset = int64(off)
		d.f.tensors[name] = i
		d.f.Tensors = append(d.f.Tensors, t)
	}
	return nil
}

// pad rounds n up to a multiple of align (a power of two).
func pad(n, align int64) int64 { return (n + align - 1) &^ (align - 1) }

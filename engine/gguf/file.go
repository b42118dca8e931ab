package gguf

import "fmt"

// DefaultAlignment is the data alignment of a file without general.alignment.
const DefaultAlignment = 32

// AlignmentKey is the key that sets a file's data alignment (a uint32 power of two).
const AlignmentKey = "general.alignment"

// MaxDims is the most dimensions a tensor has (ggml.h GGML_MAX_DIMS).
const MaxDims = 4

// MaxNameLen is the longest tensor name ggml takes, in bytes (GGML_MAX_NAME 64,
// with the terminating NUL).
const MaxNameLen = 63

// File is the header of a GGUF file: its metadata and where each tensor's data is.
type File struct {
	Name       string   // the name errors use ("model.gguf")
	Version    uint32   // 2 or 3
	Alignment  int64    // general.alignment or 32
	KVs        []KV     // metadata in file order
	Tensors    []Tensor // in file order
	DataOffset int64    // absolute offset of the tensor data section (past Size in a file without tensors that ends unpadded)
	Size       int64    // file size

	keys    map[string]int // index of each key in KVs, as read
	tensors map[string]int // index of each tensor in Tensors, as read
}

// KV is one metadata entry. Value holds the Go type of the GGUF value type: uint8,
// int8, uint16, int16, uint32, int32, float32, bool, string, uint64, int64, float64;
// arrays as []uint8 ... []float64, []bool, []string. GGUF strings are bytes: a Go
// string here may hold invalid UTF-8.
type KV struct {
	Key   string
	Value any
}

// Tensor is one tensor info: what the tensor is and where its data lies.
type Tensor struct {
	Name   string
	Type   Type
	Dims   []int64 // ggml's ne: Dims[0] is the row length (contiguous), Dims[1] the rows, ...
	Offset int64   // absolute offset of the data in the file
	Bytes  int64
}

// Elements returns the number of weights in t (1 for a tensor without dimensions).
func (t *Tensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Rows returns the number of rows, the product of Dims[1:] (1 for a vector).
func (t *Tensor) Rows() int64 {
	n := int64(1)
	for _, d := range t.Dims[min(1, len(t.Dims)):] {
		n *= d
	}
	return n
}

// Lookup returns the value stored under key.
func (f *File) Lookup(key string) (any, bool) {
	if i, ok := f.keys[key]; ok && i < len(f.KVs) && f.KVs[i].Key == key {
		return f.KVs[i].Value, true
	}
	for _, kv := range f.KVs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (*Tensor, bool) {
	if i, ok := f.tensors[name]; ok && i < len(f.Tensors) && f.Tensors[i].Name == name {
		return &f.Tensors[i], true
	}
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

// Data returns t's bytes as a view into buf, which holds the file from byte 0
// (at least up to the end of t's data).
func (f *File) Data(buf []byte, t *Tensor) ([]byte, error) {
	if t.Offset < 0 || t.Bytes < 0 || t.Offset > int64(len(buf)) || t.Bytes > int64(len(buf))-t.Offset {
		return nil, fmt.Errorf("%s: tensor %s: data at %d..%d lies outside the %d bytes loaded",
			f.Name, t.Name, t.Offset, t.Offset+t.Bytes, len(buf))
	}
	return buf[t.Offset : t.Offset+t.Bytes : t.Offset+t.Bytes], nil
}

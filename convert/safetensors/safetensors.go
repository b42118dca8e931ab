// Package safetensors reads Hugging Face's safetensors files: an 8-byte
// little-endian header length, a JSON header mapping each tensor name to its
// dtype, shape and data_offsets [begin, end) within the data section (plus an
// optional "__metadata__" of string pairs), then the data section.
//
// Open reads and checks the header only; ReadFloat32s reads a run of a
// tensor's elements when asked, so memory is bounded by what the caller asks
// for, not by the file. Everything the header says is checked before it is
// used: the header length against the file, every shape against its byte
// range, every range against the data section and against the other ranges.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"

	"github.com/inferpi/inferpi/engine/kernels"
)

// MaxHeader is the largest header accepted, the limit of the safetensors
// library itself (100 MB): far above any real header, low enough that a
// corrupt length cannot make the reader allocate much.
const MaxHeader = 100_000_000

// maxDims bounds a tensor's rank.
const maxDims = 8

// File is an opened safetensors file.
type File struct {
	Name     string            // the name errors use
	Tensors  []*Tensor         // sorted by name
	Metadata map[string]string // the header's "__metadata__", or nil
	r        io.ReaderAt
	byName   map[string]*Tensor
}

// Tensor is one entry of the header. Its data stays in the file until read.
type Tensor struct {
	Name   string
	DType  DType
	Shape  []int64 // row-major, the last dimension contiguous
	Offset int64   // absolute offset of the data in the file
	Bytes  int64
}

// Elements is the number of elements (1 for a scalar).
func (t *Tensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// entry is a tensor as the header spells it.
type entry struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Open reads and checks the header of a safetensors file of size bytes. name
// labels errors.
func Open(r io.ReaderAt, size int64, name string) (*File, error) {
	if size < 8 {
		return nil, fmt.Errorf("%s: file is %d bytes, too short for the 8-byte header length of a safetensors file", name, size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > uint64(size-8) {
		return nil, fmt.Errorf("%s: header length %d runs past the end of the file (%d bytes after the length): truncated, or not a safetensors file", name, n, size-8)
	}
	if n > MaxHeader {
		return nil, fmt.Errorf("%s: header length %d is above the limit of %d bytes", name, n, MaxHeader)
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, fmt.Errorf("%s: reading the %d-byte header: %v", name, n, err)
	}
	dataStart := 8 + int64(n)
	f := &File{Name: name, r: r, byName: map[string]*Tensor{}}
	if err := f.parseHeader(header, dataStart, size-dataStart); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return f, nil
}

// parseHeader reads the JSON header; dataSize is the size of the data section,
// which starts at dataStart in the file.
func (f *File) parseHeader(header []byte, dataStart, dataSize int64) error {
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("the header is not a JSON object: truncated or corrupt header, or not a safetensors file")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("header JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("header JSON: %v where a tensor name belongs", tok)
		}
		if key == "__metadata__" {
			if f.Metadata != nil {
				return errors.New("header has __metadata__ twice")
			}
			if err := dec.Decode(&f.Metadata); err != nil {
				return fmt.Errorf("header __metadata__: %v (want an object of strings)", err)
			}
			if f.Metadata == nil {
				f.Metadata = map[string]string{}
			}
			continue
		}
		if _, dup := f.byName[key]; dup {
			return fmt.Errorf("tensor %s appears twice in the header", key)
		}
		var e entry
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("tensor %s: %v", key, err)
		}
		t, err := checkEntry(key, e, dataStart, dataSize)
		if err != nil {
			return fmt.Errorf("tensor %s: %v", key, err)
		}
		f.byName[key] = t
		f.Tensors = append(f.Tensors, t)
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("header JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the header has data after its JSON object")
	}
	sort.Slice(f.Tensors, func(i, j int) bool { return f.Tensors[i].Name < f.Tensors[j].Name })
	return checkOverlaps(f.Tensors)
}

// checkEntry checks one header entry against the data section.
func checkEntry(name string, e entry, dataStart, dataSize int64) (*Tensor, error) {
	if e.DType == "" {
		return nil, errors.New("no dtype")
	}
	d, ok := parseDType(e.DType)
	if !ok {
		return nil, fmt.Errorf("unknown dtype %q", e.DType)
	}
	if e.Shape == nil {
		return nil, errors.New("no shape")
	}
	if len(e.Shape) > maxDims {
		return nil, fmt.Errorf("shape %v has %d dimensions, more than %d", e.Shape, len(e.Shape), maxDims)
	}
	if len(e.DataOffsets) != 2 {
		return nil, fmt.Errorf("data_offsets %v: want [begin, end]", e.DataOffsets)
	}
	begin, end := e.DataOffsets[0], e.DataOffsets[1]
	if begin < 0 || end < begin || end > dataSize {
		return nil, fmt.Errorf("data_offsets [%d, %d] lie outside the data section of %d bytes (truncated file?)", begin, end, dataSize)
	}
	bytes, ok := byteSize(e.Shape, d.Size())
	if !ok || bytes != end-begin {
		return nil, fmt.Errorf("shape %v of %s needs %s bytes, data_offsets [%d, %d] hold %d", e.Shape, d, sizeText(e.Shape, d.Size()), begin, end, end-begin)
	}
	return &Tensor{Name: name, DType: d, Shape: e.Shape, Offset: dataStart + begin, Bytes: end - begin}, nil
}

// byteSize is the size of a tensor of this shape, false when a dimension is
// negative or the size does not fit in an int64.
func byteSize(shape []int64, elem int) (int64, bool) {
	n := uint64(elem)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = lo
	}
	return int64(n), true
}

func sizeText(shape []int64, elem int) string {
	if n, ok := byteSize(shape, elem); ok {
		return fmt.Sprint(n)
	}
	return "an impossible number of"
}

// checkOverlaps refuses two tensors sharing bytes of the data section.
func checkOverlaps(ts []*Tensor) error {
	byOffset := make([]*Tensor, 0, len(ts))
	for _, t := range ts {
		if t.Bytes > 0 {
			byOffset = append(byOffset, t)
		}
	}
	sort.Slice(byOffset, func(i, j int) bool { return byOffset[i].Offset < byOffset[j].Offset })
	for i := 1; i < len(byOffset); i++ {
		a, b := byOffset[i-1], byOffset[i]
		if b.Offset < a.Offset+a.Bytes {
			return fmt.Errorf("tensors %s and %s overlap in the data section", a.Name, b.Name)
		}
	}
	return nil
}

// Tensor returns the tensor stored under name.
func (f *File) Tensor(name string) (*Tensor, bool) {
	t, ok := f.byName[name]
	return t, ok
}

// ReadFloat32s reads elements start ... start+len(dst)-1 of t (in row-major
// order) into dst, widening BF16 and F16. Other types are refused by name.
func (f *File) ReadFloat32s(t *Tensor, start int64, dst []float32) error {
	if !t.DType.Readable() {
		return fmt.Errorf("%s: tensor %s is %s: only BF16, F16 and F32 weights can be converted", f.Name, t.Name, t.DType)
	}
	n := t.Elements()
	if start < 0 || start > n || int64(len(dst)) > n-start {
		return fmt.Errorf("%s: tensor %s: elements %d..%d asked of %d", f.Name, t.Name, start, start+int64(len(dst)), n)
	}
	size := int64(t.DType.Size())
	raw := make([]byte, int64(len(dst))*size)
	if _, err := f.r.ReadAt(raw, t.Offset+start*size); err != nil {
		return fmt.Errorf("%s: tensor %s: %v", f.Name, t.Name, err)
	}
	kernels.DecodeRow(t.DType.encoding(), raw, dst)
	return nil
}

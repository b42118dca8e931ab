// Package torchzip reads the tensors of a state dict saved by torch.save in the
// zip format (the default since torch 1.6, and what torch 2.x writes).
//
// The zip holds <archive>/data.pkl, a pickle (protocol 2) whose tensors refer to
// storages by persistent id, and one raw little-endian record per storage in
// <archive>/data/<key>. torch 2.x adds records such as byteorder,
// .data/serialization_id, .format_version and .storage_alignment; only byteorder
// matters here (a big-endian file is refused), the rest is ignored.
//
// Facts from torch/serialization.py (_save, _load) and torch/_utils.py
// (_rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter).
//
// Tensor data is read from the zip only when asked for, one tensor at a time, so a
// multi-gigabyte checkpoint never needs to fit in memory at once.
package torchzip

import (
	"archive/zip"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/inferpi/inferpi/convert/pickle"
)

// Checkpoint is an opened .pt file.
type Checkpoint struct {
	name    string // for error messages
	size    int64  // of the file: torch stores records uncompressed, so none is larger
	zip     *zip.Reader
	prefix  string // "<archive>/"
	Tensors []*Tensor
	byName  map[string]*Tensor
}

// Tensor is one entry of the state dict. Its data stays in the file until read.
type Tensor struct {
	Name   string
	DType  DType
	Shape  []int
	c      *Checkpoint
	store  *storage
	offset int   // in elements
	stride []int // in elements
}

type storage struct {
	key   string
	dtype DType // Unknown for an UntypedStorage (numel then counts bytes)
	numel int64
}

type storageClass struct{ dtype DType }

type dtypeValue struct{ dtype DType }

// Open reads the index of a checkpoint of size bytes. name labels errors.
func Open(r io.ReaderAt, size int64, name string) (*Checkpoint, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		if why := explainZip(r, size); why != "" {
			return nil, fmt.Errorf("%s: not a torch zip checkpoint: %s (%v)", name, why, err)
		}
		return nil, fmt.Errorf("%s: not a torch zip checkpoint: %v", name, err)
	}
	c := &Checkpoint{name: name, size: size, zip: zr, byName: map[string]*Tensor{}}
	var pkl *zip.File
	for _, f := range zr.File {
		dir, base, ok := strings.Cut(f.Name, "/")
		if ok && base == "data.pkl" && dir != "" {
			if pkl != nil {
				return nil, fmt.Errorf("%s: more than one data.pkl (%s and %s)", name, pickle.Quote(pkl.Name), pickle.Quote(f.Name))
			}
			pkl = f
			c.prefix = dir + "/"
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("%s: no <archive>/data.pkl record: not a torch.save zip file", name)
	}
	if order, err := c.record("byteorder"); err == nil {
		if s := strings.TrimSpace(string(order)); s != "little" {
			return nil, fmt.Errorf("%s: byteorder is %s; only little-endian checkpoints are supported", name, pickle.Quote(s))
		}
	}
	data, err := c.readAll(pkl)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", name, pickle.Quote(pkl.Name), err)
	}
	u := pickle.Unpickler{Find: c.find, PersistentLoad: c.persistentLoad}
	root, err := u.Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", name, pickle.Quote(pkl.Name), err)
	}
	dict, ok := root.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: the pickle holds a %s, want a state dict (key -> tensor)", name, pickle.TypeName(root))
	}
	for i := 0; i < dict.Len(); i++ {
		key, ok := dict.Key(i).(string)
		if !ok {
			return nil, fmt.Errorf("%s: state dict key %d is a %s, want str", name, i, pickle.TypeName(dict.Key(i)))
		}
		t, ok := dict.Value(i).(*Tensor)
		if !ok {
			return nil, fmt.Errorf("%s: %s is a %s, want a tensor", name, pickle.Quote(key), pickle.TypeName(dict.Value(i)))
		}
		if t.c != nil {
			return nil, fmt.Errorf("%s: %s is the same tensor object as %s", name, pickle.Quote(key), pickle.Quote(t.Name))
		}
		t.Name, t.c = key, c
		c.Tensors = append(c.Tensors, t)
		c.byName[key] = t
	}
	return c, nil
}

// Tensor returns the tensor stored under name, or nil.
func (c *Checkpoint) Tensor(name string) *Tensor { return c.byName[name] }

// record reads <archive>/<name>.
func (c *Checkpoint) record(name string) ([]byte, error) {
	f, err := c.open(name)
	if err != nil {
		return nil, err
	}
	return c.readAll(f)
}

func (c *Checkpoint) open(name string) (*zip.File, error) {
	for _, f := range c.zip.File {
		if f.Name == c.prefix+name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("no record %s", pickle.Quote(c.prefix+name))
}

// readAll reads a whole record. torch writes records uncompressed, so a record
// claiming more bytes than the file holds is corrupt (and must not be allocated).
// The record must hold exactly the bytes its header declares, with their CRC-32.
func (c *Checkpoint) readAll(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > uint64(c.size) {
		return nil, fmt.Errorf("record %s claims %d bytes in a file of %d", pickle.Quote(f.Name), f.UncompressedSize64, c.size)
	}
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("record %s: %v", pickle.Quote(f.Name), err)
	}
	defer r.Close()
	b := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(r, b); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("record %s: its data ends before the %d bytes its header declares", pickle.Quote(f.Name), len(b))
	} else if err != nil {
		return nil, fmt.Errorf("record %s: %v", pickle.Quote(f.Name), err)
	}
	// archive/zip checks the size and the CRC-32 only when read to the end: its
	// reader fails on the first byte past the declared size.
	if _, err := io.Copy(io.Discard, r); err != nil {
		if errors.Is(err, zip.ErrFormat) {
			return nil, fmt.Errorf("record %s: its data is longer than the %d bytes its header declares", pickle.Quote(f.Name), len(b))
		}
		return nil, fmt.Errorf("record %s: %v", pickle.Quote(f.Name), err)
	}
	// Without a data descriptor archive/zip takes a CRC-32 of 0 for "not set"; a
	// record's CRC-32 is only 0 when its data's is.
	if f.CRC32 == 0 && crc32.ChecksumIEEE(b) != 0 {
		return nil, fmt.Errorf("record %s: %v (its header's is 0)", pickle.Quote(f.Name), zip.ErrChecksum)
	}
	return b, nil
}

// find maps the globals a torch state dict uses to Go constructors.
func (c *Checkpoint) find(module, name string) (any, error) {
	switch module + "." + name {
	case "collections.OrderedDict":
		return pickle.Func(func(pickle.Tuple) (any, error) { return pickle.NewDict(), nil }), nil
	case "torch._utils._rebuild_tensor_v2":
		return pickle.Func(func(args pickle.Tuple) (any, error) { return rebuildTensor(args, false) }), nil
	case "torch._utils._rebuild_tensor_v3":
		return pickle.Func(func(args pickle.Tuple) (any, error) { return rebuildTensor(args, true) }), nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		// nn.Parameter(data, requires_grad, hooks[, state]): the data is what we need.
		return pickle.Func(func(args pickle.Tuple) (any, error) {
			if len(args) < 1 {
				return nil, errors.New("_rebuild_parameter without data")
			}
			return args[0], nil
		}), nil
	}
	if module == "torch" {
		if d, ok := storageDType(name); ok {
			return storageClass{d}, nil
		}
		if d, ok := torchDType(name); ok {
			return dtypeValue{d}, nil
		}
	}
	return nil, nil // recorded as a pickle.Global; a tensor built from it is refused later
}

// persistentLoad turns ('storage', storage_type, key, location, numel) into a storage.
func (c *Checkpoint) persistentLoad(pid any) (any, error) {
	t, ok := pid.(pickle.Tuple)
	if !ok || len(t) != 5 || t[0] != "storage" {
		return nil, fmt.Errorf("persistent id %s is not a ('storage', type, key, location, numel) tuple", pickle.Describe(pid))
	}
	cls, ok := t[1].(storageClass)
	if !ok {
		return nil, fmt.Errorf("storage type %s is not supported", pickle.TypeName(t[1]))
	}
	key, ok := t[2].(string)
	if !ok || key == "" || strings.ContainsAny(key, "/\\") {
		return nil, fmt.Errorf("storage key %s is not a plain name", pickle.Describe(t[2]))
	}
	numel, ok := pickle.Int(t[4])
	if !ok || numel < 0 {
		return nil, fmt.Errorf("storage %s has element count %s", pickle.Quote(key), pickle.Describe(t[4]))
	}
	return &storage{key: key, dtype: cls.dtype, numel: numel}, nil
}

// rebuildTensor is _rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
// backward_hooks[, metadata]) or, with dtype, _rebuild_tensor_v3(..., dtype[, metadata]).
func rebuildTensor(args pickle.Tuple, v3 bool) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("tensor rebuilt from %d arguments, want at least 4", len(args))
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("tensor storage is a %s", pickle.TypeName(args[0]))
	}
	dtype := st.dtype
	if v3 {
		if len(args) < 7 {
			return nil, errors.New("_rebuild_tensor_v3 without a dtype")
		}
		d, ok := args[6].(dtypeValue)
		if !ok {
			return nil, fmt.Errorf("tensor dtype %s is not supported", pickle.TypeName(args[6]))
		}
		dtype = d.dtype
	}
	if dtype == Unknown {
		return nil, errors.New("tensor over an untyped storage without a dtype")
	}
	offset, ok := pickle.Int(args[1])
	if !ok || offset < 0 {
		return nil, fmt.Errorf("storage offset %s", pickle.Describe(args[1]))
	}
	shape, err := ints(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := ints(args[3], "stride")
	if err != nil {
		return nil, err
	}
	if len(stride) != len(shape) {
		return nil, fmt.Errorf("size %v and stride %v differ in rank", shape, stride)
	}
	// The highest element the view touches must lie inside the storage.
	numel, extent := int64(1), offset+1
	for i := range shape {
		numel *= int64(shape[i])
		if numel > 1<<40 {
			return nil, fmt.Errorf("tensor of shape %v is too large", shape)
		}
		if shape[i] > 0 {
			extent += int64(shape[i]-1) * int64(stride[i])
		}
	}
	capacity := st.numel
	if st.dtype == Unknown { // untyped storages count bytes
		capacity = st.numel / int64(dtype.Size())
	}
	if numel > 0 && extent > capacity {
		return nil, fmt.Errorf("tensor of shape %v (offset %d, stride %v) reaches element %d of a storage of %d", shape, offset, stride, extent, capacity)
	}
	if numel > capacity {
		// Only overlapping views (stride 0, from expand) have more elements than
		// their storage; a state dict has none, and reading one could be huge.
		return nil, fmt.Errorf("tensor of shape %v has more elements than its storage (%d)", shape, capacity)
	}
	return &Tensor{DType: dtype, Shape: shape, store: st, offset: int(offset), stride: stride}, nil
}

func ints(v any, what string) ([]int, error) {
	t, ok := v.(pickle.Tuple)
	if !ok || len(t) > 16 {
		return nil, fmt.Errorf("tensor %s is %s, want a tuple of at most 16 ints", what, pickle.Describe(v))
	}
	out := make([]int, len(t))
	for i, x := range t {
		n, ok := pickle.Int(x)
		if !ok || n < 0 || n > 1<<40 {
			return nil, fmt.Errorf("tensor %s %s has a bad entry %s, want 0..2^40", what, pickle.Describe(t), pickle.Describe(x))
		}
		out[i] = int(n)
	}
	return out, nil
}

// Numel is the number of elements.
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Bytes reads the tensor's elements in row-major order, little-endian.
func (t *Tensor) Bytes() ([]byte, error) {
	es := t.DType.Size()
	f, err := t.c.open("data/" + t.store.key)
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %s: %v", t.c.name, pickle.Quote(t.Name), err)
	}
	need := int64(t.store.numel)
	if t.store.dtype != Unknown {
		need *= int64(es)
	}
	if f.UncompressedSize64 < uint64(need) {
		return nil, fmt.Errorf("%s: tensor %s: storage record %s holds %d bytes, the pickle says %d", t.c.name, pickle.Quote(t.Name), pickle.Quote(f.Name), f.UncompressedSize64, need)
	}
	raw, err := t.c.readAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %s: %v", t.c.name, pickle.Quote(t.Name), err)
	}
	n := t.Numel()
	if t.contiguous() {
		return raw[t.offset*es : (t.offset+n)*es], nil
	}
	// A strided view (a transpose or slice saved as is): gather it.
	out := make([]byte, 0, n*es)
	idx := make([]int, len(t.Shape))
	for k := 0; k < n; k++ {
		at := t.offset
		for i, j := range idx {
			at += j * t.stride[i]
		}
		out = append(out, raw[at*es:(at+1)*es]...)
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < t.Shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, nil
}

func (t *Tensor) contiguous() bool {
	want := 1
	for i := len(t.Shape) - 1; i >= 0; i-- {
		if t.Shape[i] != 1 && t.stride[i] != want {
			return false
		}
		want *= t.Shape[i]
	}
	return true
}

// Float32s reads a floating-point tensor as float32 (bfloat16 and float16 widen
// exactly; float64 rounds).
func (t *Tensor) Float32s() ([]float32, error) {
	if !t.DType.IsFloat() {
		return nil, fmt.Errorf("%s: tensor %s is %s, want a floating-point type", t.c.name, pickle.Quote(t.Name), t.DType)
	}
	b, err := t.Bytes()
	if err != nil {
		return nil, err
	}
	out := make([]float32, t.Numel())
	decodeFloats(t.DType, b, out)
	return out, nil
}

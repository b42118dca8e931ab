package gguf

import (
	"cmp"
	"fmt"
	"slices"
)

// measure checks a tensor's shape and type as gguf.cpp does and returns the bytes
// of its data: at most MaxDims dimensions, none negative and only the row length
// zero (gguf.cpp divides by the others), element and row counts that fit an
// int64, a known type, and rows a whole number of the type's blocks.
func measure(t Type, dims []int64) (int64, error) {
	if len(dims) > MaxDims {
		return 0, fmt.Errorf("%d dimensions, at most %d", len(dims), MaxDims)
	}
	row, rows := int64(1), int64(1)
	for j, d := range dims {
		var ok bool
		switch {
		case d < 0 || d == 0 && j > 0:
			return 0, fmt.Errorf("dimension %d is %d (shape %v)", j, d, dims)
		case j == 0:
			row = d
		default:
			if rows, ok = mul64(rows, d); !ok {
				return 0, fmt.Errorf("shape %v has more than 2^63 rows", dims)
			}
		}
	}
	if _, ok := mul64(row, rows); !ok {
		return 0, fmt.Errorf("shape %v has more than 2^63 elements", dims)
	}
	if !t.Known() {
		return 0, fmt.Errorf("unknown tensor type %d", uint32(t))
	}
	rowBytes, ok := t.RowBytes(row)
	if !ok {
		return 0, fmt.Errorf("rows of %d weights are not a multiple of the %s block size %d", row, t, t.BlockSize())
	}
	bytes, ok := mul64(rowBytes, rows)
	if !ok {
		return 0, fmt.Errorf("%s data of shape %v takes more than 2^63 bytes", t, dims)
	}
	return bytes, nil
}

// layout makes the tensors' offsets absolute after checking that each is aligned,
// that each tensor's data lies inside the file, and that no two tensors overlap.
// (gguf.cpp asks for more: the tensors packed in table order. Files from older
// writers need not be, and reading them is safe as long as these checks hold.)
func (d *decoder) layout() error {
	f := d.f
	data := f.Size - f.DataOffset // bytes in the data section; negative if the file ends before it
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Offset%f.Alignment != 0 {
			return d.errorf("tensor %s: offset %d is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		}
		if t.Offset > data || t.Bytes > data-t.Offset {
			return d.errorf("tensor %s: %d bytes at data offset %d run past the end of the file (%d bytes of data from offset %d)",
				t.Name, t.Bytes, t.Offset, max(data, 0), f.DataOffset)
		}
	}
	order := make([]int32, len(f.Tensors))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ta, tb := &f.Tensors[a], &f.Tensors[b]
		return cmp.Or(cmp.Compare(ta.Offset, tb.Offset), cmp.Compare(ta.Bytes, tb.Bytes))
	})
	var last *Tensor // the tensor reaching furthest so far
	for _, i := range order {
		t := &f.Tensors[i]
		if last != nil && t.Offset < last.Offset+last.Bytes {
			return d.errorf("tensors %s and %s overlap (data offsets %d..%d and %d..%d)",
				last.Name, t.Name, last.Offset, last.Offset+last.Bytes, t.Offset, t.Offset+t.Bytes)
		}
		if last == nil || t.Offset+t.Bytes > last.Offset+last.Bytes {
			last = t
		}
	}
	for i := range f.Tensors {
		f.Tensors[i].Offset += f.DataOffset
	}
	return nil
}

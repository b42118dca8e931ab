package gpt

import (
	"bufio"
	"fmt"
	"io"

	"github.com/inferpi/inferpi/engine/kernels"
)

// WriteModel writes a model.bin for h: the header, then every tensor of
// h.Layout() in file order, each encoded as its TensorSpec says (the header's
// encodings after the narrow-width rule; the lambdas fp32). values returns a
// tensor's Rows*Cols float32 weights, row-major; it is called once per tensor,
// in file order, so a caller can stream from a checkpoint or a generator. The
// exporter (convert/nanochat), the re-encoder and synthetic models use it.
// It returns the number of bytes written.
func WriteModel(w io.Writer, h *Header, values func(TensorSpec) ([]float32, error)) (int64, error) {
	head, err := h.AppendBinary(nil)
	if err != nil {
		return 0, err
	}
	specs, size, err := h.Layout()
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.Write(head)
	off := int64(len(head))
	var buf []byte
	for _, s := range specs {
		bw.Write(make([]byte, s.Offset-off)) // alignment padding
		v, err := values(s)
		if err != nil {
			return 0, err
		}
		if len(v) != s.Rows*s.Cols {
			return 0, fmt.Errorf("%s: %d values for a %dx%d tensor", s.Name, len(v), s.Rows, s.Cols)
		}
		enc, err := s.Enc.kernel()
		if err != nil {
			return 0, fmt.Errorf("%s: %v", s.Name, err)
		}
		rb := enc.RowBytes(s.Cols)
		if cap(buf) < rb {
			buf = make([]byte, rb)
		}
		row := buf[:rb]
		for r := range s.Rows {
			if err := kernels.EncodeRow(enc, row, v[r*s.Cols:(r+1)*s.Cols]); err != nil {
				return 0, fmt.Errorf("%s row %d: %v", s.Name, r, err)
			}
			bw.Write(row)
		}
		off = s.Offset + s.Size
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if off != size {
		return 0, fmt.Errorf("internal error: wrote %d bytes, the layout says %d", off, size)
	}
	return size, nil
}

package hf

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/quantize"
)

// GGUFOptions say how to write a GGUF file.
type GGUFOptions struct {
	// FileType is what llama-quantize would be asked to make from llama.cpp's
	// float32 conversion: F32 keeps every value; F16 and BF16 round the
	// matrices; Q8_0 ... Q6_K, Q4_K_M and the other mixes quantize them with
	// llama-quantize's choice of type per tensor (engine/quantize). Norms and
	// other vectors stay F32, as in every llama.cpp file.
	FileType quantize.FileType
	// Progress, if not nil, is called before each tensor is written.
	Progress func(Progress)
}

// Progress describes the tensor about to be written.
type Progress struct {
	Index, Count int // Index counts from 0
	Tensor       *Tensor
	Type         gguf.Type
	Bytes        int64 // its data in the file
}

// Types returns the type of each tensor in a file of type ft: llama-quantize's
// choice for a model whose tensors are all float32.
func (m *Model) Types(ft quantize.FileType) ([]gguf.Type, error) {
	ts := make([]quantize.Tensor, len(m.Tensors))
	for i, t := range m.Tensors {
		ts[i] = quantize.Tensor{Name: t.Name, Type: gguf.F32, Dims: t.Dims}
	}
	c := m.Config
	types, err := quantize.Types(ft, quantize.Model{Arch: m.arch.gguf, Layers: c.Layers, Heads: c.Heads, HeadsKV: c.KVHeads}, ts, quantize.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ft, err)
	}
	return types, nil
}

// WriteGGUF writes the model as a GGUF file: llama.cpp's metadata and tensors
// in its converter's order, each tensor in the type opt.FileType gives it. A
// tensor is read, converted and written before the next one is read; its rows
// are encoded on all cores.
func (m *Model) WriteGGUF(w io.Writer, opt GGUFOptions) error {
	types, err := m.Types(opt.FileType)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	gw := gguf.NewWriter(bw)
	for _, kv := range m.Metadata(uint32(opt.FileType)) {
		if err := gw.AddKV(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	for i, t := range m.Tensors {
		if err := gw.AddTensor(t.Name, types[i], t.Dims); err != nil {
			return err
		}
	}
	if err := gw.WriteHeader(); err != nil {
		return err
	}
	var buf []byte // the largest tensor so far, reused
	for i, t := range m.Tensors {
		data, err := m.encodeTensor(t, types[i], buf, func(n int64) {
			if opt.Progress != nil {
				opt.Progress(Progress{Index: i, Count: len(m.Tensors), Tensor: t, Type: types[i], Bytes: n})
			}
		})
		if err != nil {
			return err
		}
		if err := gw.WriteTensorData(data); err != nil {
			return err
		}
		buf = data
	}
	if err := gw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// encodeTensor reads a tensor and encodes it as typ, row by row, as
// llama-quantize writes it, into buf when it is large enough. started is told
// the size of the result first.
func (m *Model) encodeTensor(t *Tensor, typ gguf.Type, buf []byte, started func(bytes int64)) ([]byte, error) {
	cols := t.Dims[0]
	rows := t.Elements() / cols
	rowBytes, err := quantize.RowBytes(typ, int(cols))
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %v", t.Name, t.Source, err)
	}
	size := rows * int64(rowBytes)
	started(size)
	out := buf[:0]
	if int64(cap(out)) < size {
		out = make([]byte, size)
	}
	out = out[:size]
	// Chunks of about a million values, one at a time per core.
	chunk := max(1, (1<<20)/cols)
	var next int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range min(int64(runtime.GOMAXPROCS(0)), (rows+chunk-1)/chunk) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vals := make([]float32, chunk*cols)
			for {
				mu.Lock()
				r0 := next
				next += chunk
				stop := firstErr != nil
				mu.Unlock()
				if stop || r0 >= rows {
					return
				}
				n := min(chunk, rows-r0)
				err := t.Read(r0*cols, vals[:n*cols])
				for r := int64(0); err == nil && r < n; r++ {
					dst := out[(r0+r)*int64(rowBytes) : (r0+r+1)*int64(rowBytes)]
					if err = quantize.Row(typ, dst, vals[r*cols:(r+1)*cols]); err != nil {
						err = fmt.Errorf("%s (%s) row %d: %v", t.Name, t.Source, r0+r, err)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return out, firstErr
}

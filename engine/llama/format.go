package llama

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/inferpi/inferpi/engine/kernels"
)

// llama2.c's legacy model.bin cannot say which encoding it holds (fp32 and fp16
// are told apart by the file size alone), so quantized weights go into a small
// InferPi container. All little-endian; README.md ("Llama (llama2.c) format")
// has the same table.
//
//	off  field
//	  0  magic "IPLM"
//	  4  version (1), uint32
//	  8  weight encoding, uint32: 0 fp32, 1 fp16, 2 q8_0, 3 q4_0 (the GPT format's codes)
//	 12  narrow encoding, uint32: 0 fp32 or 1 fp16, the encoding of matrices whose
//	     rows are not a whole number of 32-weight blocks when the weight encoding
//	     is q8_0 or q4_0 (InferPi writes 1: fp16)
//	 16  llama2.c's Config: dim, hidden_dim, n_layers, n_heads, n_kv_heads,
//	     vocab_size (negative: separate classifier), seq_len; seven int32
//	 44  zero padding to byte 64
//
// Then the tensors in llama2.c's order without the freq_cis tables (RoPE is
// computed), each starting at a multiple of 64 bytes (zero padding between),
// per-layer tensors for all layers together, matrices [out][in] row-major, and
// nothing after the last one. The RMSNorm weights are fp32 whatever the
// encoding; the embedding, the matrices and the classifier are in the header's
// encoding, except that with q8_0 or q4_0 a matrix whose rows are not a whole
// number of 32-weight blocks (hidden_dim 172 makes w2 such a matrix) is stored
// in the narrow encoding: the narrow-width rule, recorded in the header.
//
// The magic read as llama2.c's first field, dim, is 1.3e9: no legacy file is
// mistaken for a container or the other way round.
const (
	Magic            = "IPLM"
	ContainerVersion = 1
	containerHeader  = 64
	containerAlign   = 64
)

// Weight encoding codes in the container header. The container and the legacy
// file hold these four encodings only (WriteModel refuses the others).
var encodingCodes = []kernels.Encoding{0: kernels.F32, 1: kernels.F16, 2: kernels.Q8_0, 3: kernels.Q4_0}

// storable reports whether a model.bin can hold weights in enc.
func storable(enc kernels.Encoding) bool {
	return slices.Contains(encodingCodes, enc)
}

func encodingCode(enc kernels.Encoding) uint32 {
	for code, e := range encodingCodes {
		if e == enc {
			return uint32(code)
		}
	}
	panic("llama: no container code for " + enc.String())
}

// Layout says where a model.bin keeps its weights.
type Layout struct {
	// Container is true for InferPi's container, false for llama2.c's legacy file.
	Container bool
	// Enc is the file's weight encoding (the header's, or the legacy size's).
	Enc kernels.Encoding
	// Narrow is the encoding of matrices whose rows are not whole blocks when Enc
	// is quantized (the container's narrow-width rule); Enc otherwise.
	Narrow  kernels.Encoding
	Tensors []Placed // in file order
	Size    int64    // the exact file size
}

// Placed is one tensor of a Layout.
type Placed struct {
	Tensor
	Enc    kernels.Encoding // as stored (RMSNorm weights fp32, narrow matrices fp16 in a quantized container)
	Offset int64
	Bytes  int64 // all Count matrices
}

// Format names the layout for messages and inspect.
func (l Layout) Format() string {
	if l.Container {
		return fmt.Sprintf("InferPi Llama container (%s version %d)", Magic, ContainerVersion)
	}
	return "llama2.c legacy (version 0) model.bin"
}

// LegacyLayout places c's tensors as llama2.c's legacy file does: right after the
// 28-byte header, every float (freq_cis tables included) in enc, no padding.
func (c Config) LegacyLayout(enc kernels.Encoding) Layout {
	l := Layout{Enc: enc, Narrow: enc}
	off := int64(HeaderSize)
	for _, t := range c.layout() {
		n := t.Floats() * int64(enc.RowBytes(1))
		l.Tensors = append(l.Tensors, Placed{Tensor: t, Enc: enc, Offset: off, Bytes: n})
		off += n
	}
	l.Size = off
	return l
}

// ContainerLayout places c's tensors in InferPi's container with encoding enc
// (see the format comment above); narrow is the narrow-width rule's encoding
// (fp32 or fp16), used only when enc is quantized.
func (c Config) ContainerLayout(enc, narrow kernels.Encoding) Layout {
	if !enc.Quantized() {
		narrow = enc
	}
	l := Layout{Container: true, Enc: enc, Narrow: narrow}
	off := int64(containerHeader)
	for _, t := range c.layout() {
		stored := enc
		switch {
		case t.isRopeTable():
			continue
		case t.Name == "rms_att" || t.Name == "rms_ffn" || t.Name == "rms_final":
			stored = kernels.F32
		case t.Cols%enc.BlockWeights() != 0:
			stored = narrow
		}
		off = (off + containerAlign - 1) / containerAlign * containerAlign
		n := int64(t.Count) * int64(t.Rows) * int64(stored.RowBytes(t.Cols))
		l.Tensors = append(l.Tensors, Placed{Tensor: t, Enc: stored, Offset: off, Bytes: n})
		off += n
	}
	l.Size = off
	return l
}

// layoutFor is the layout InferPi writes for enc: llama2.c's legacy file for fp32
// and fp16 (run.c reads the fp32 one), the container for the quantized encodings.
func (c Config) layoutFor(enc kernels.Encoding) Layout {
	if enc.Quantized() {
		return c.ContainerLayout(enc, kernels.F16)
	}
	return c.LegacyLayout(enc)
}

// appendContainerHeader appends the 64-byte container header of l.
func appendContainerHeader(b []byte, c Config, l Layout) []byte {
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint32(b, ContainerVersion)
	b = binary.LittleEndian.AppendUint32(b, encodingCode(l.Enc))
	b = binary.LittleEndian.AppendUint32(b, encodingCode(l.Narrow))
	b = c.AppendBinary(b)
	return append(b, make([]byte, containerHeader-16-HeaderSize)...)
}

// ParseModel reads model.bin's header, tells the container from a legacy file
// and checks the file size against the layout. It touches no weights.
func ParseModel(data []byte) (Config, Layout, error) {
	if !bytes.HasPrefix(data, []byte(Magic)) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return Config{}, Layout{}, err
		}
		enc, err := EncodingOf(cfg, int64(len(data)))
		if err != nil {
			return Config{}, Layout{}, err
		}
		return cfg, cfg.LegacyLayout(enc), nil
	}
	if len(data) < containerHeader {
		return Config{}, Layout{}, fmt.Errorf("model.bin: file is %d bytes, too short for the %d-byte %s header", len(data), containerHeader, Magic)
	}
	u := func(off int) uint32 { return binary.LittleEndian.Uint32(data[off:]) }
	if v := u(4); v != ContainerVersion {
		return Config{}, Layout{}, fmt.Errorf("model.bin: %s format version %d, this build reads version %d (convert the model again with this inferpi)", Magic, v, ContainerVersion)
	}
	code := u(8)
	if code >= uint32(len(encodingCodes)) {
		return Config{}, Layout{}, fmt.Errorf("model.bin: unknown weight encoding %d in the %s header (0 fp32, 1 fp16, 2 q8_0, 3 q4_0)", code, Magic)
	}
	narrow := u(12)
	if narrow > 1 {
		return Config{}, Layout{}, fmt.Errorf("model.bin: narrow-width encoding %d in the %s header, want 0 (fp32) or 1 (fp16)", narrow, Magic)
	}
	if !allZero(data[16+HeaderSize : containerHeader]) {
		return Config{}, Layout{}, fmt.Errorf("model.bin: header padding (bytes %d-%d) is not zero", 16+HeaderSize, containerHeader-1)
	}
	cfg, err := configFrom(data[16 : 16+HeaderSize])
	if err != nil {
		return Config{}, Layout{}, err
	}
	l := cfg.ContainerLayout(encodingCodes[code], encodingCodes[narrow])
	if int64(len(data)) != l.Size {
		what := "truncated"
		if int64(len(data)) > l.Size {
			what = "trailing bytes"
		}
		return Config{}, Layout{}, fmt.Errorf("model.bin: %s header (%v, %v) needs exactly %d bytes, file has %d (%s)",
			Magic, cfg, l.Enc, l.Size, len(data), what)
	}
	return cfg, l, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// encodingSummary lists the bytes stored in each encoding, largest first:
// "q8_0 5.2 MB, fp16 88 KB, fp32 3.1 KB" (inspect shows it).
func (l Layout) encodingSummary() string {
	by := map[kernels.Encoding]int64{}
	for _, t := range l.Tensors {
		if !t.isRopeTable() {
			by[t.Enc] += t.Bytes
		}
	}
	encs := make([]kernels.Encoding, 0, len(by))
	for e := range by {
		encs = append(encs, e)
	}
	slices.SortFunc(encs, func(a, b kernels.Encoding) int { return cmp.Compare(by[b], by[a]) })
	parts := make([]string, len(encs))
	for i, e := range encs {
		parts[i] = fmt.Sprintf("%v %s", e, humanBytes(by[e]))
	}
	return strings.Join(parts, ", ")
}

// humanBytes prints a size with one decimal in the largest unit that fits.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

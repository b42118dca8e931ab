package llama

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
)

// llama2.c's legacy model.bin cannot say which encoding it holds (fp32 and fp16
// are told apart by the file size alone), so bf16 and quantized weights go into
// a small InferPi container. All little-endian; docs/formats.md ("The Llama
// (llama2.c) format") has the same table.
//
//	off  field
//	  0  magic "IPLM"
//	  4  version (1), uint32
//	  8  weight encoding, uint32: 0 fp32, 1 fp16, 2 q8_0, 3 q4_0, 4 bf16, 5 q4_1,
//	     6 q5_0, 7 q5_1, 8 q4_k, 9 q5_k, 10 q6_k (kernels.Encoding's numbers, the
//	     GPT format's codes)
//	 12  narrow encoding, uint32: 0 fp32 or 1 fp16, the encoding of matrices whose
//	     rows fit neither the weight encoding's blocks nor its fallback's
//	     (InferPi writes 1: fp16)
//	 16  llama2.c's Config: dim, hidden_dim, n_layers, n_heads, n_kv_heads,
//	     vocab_size (negative: separate classifier), seq_len; seven int32
//	 44  zero padding to byte 64
//
// Then the tensors in llama2.c's order without the freq_cis tables (RoPE is
// computed), each starting at a multiple of 64 bytes (zero padding between),
// per-layer tensors for all layers together, matrices [out][in] row-major, and
// nothing after the last one. The RMSNorm weights are fp32 whatever the
// encoding; the embedding, the matrices and the classifier are in the header's
// encoding, except a matrix whose rows (its last dimension) are not a whole
// number of the encoding's blocks: the narrow-width rule (kernels.StoredAs).
// With a K-quant (256-weight blocks) such a matrix takes llama-quantize's
// fallback, q5_0 for q4_k, q5_1 for q5_k, q8_0 for q6_k, when its rows are a
// whole number of 32-weight blocks (dim 192 makes every matrix but w2 such a
// matrix); otherwise, and with the 32-weight encodings, it takes the header's
// narrow encoding (hidden_dim 172 makes w2 such a matrix).
//
// Codes 4-10 need no new version: a reader that does not know them refuses the
// file by its weight encoding instead of misreading it, and codes 0-3 keep their
// layout. The magic read as llama2.c's first field, dim, is 1.3e9: no legacy
// file is mistaken for a container or the other way round.
const (
	Magic            = "IPLM"
	ContainerVersion = 1
	containerHeader  = 64
	containerAlign   = 64
)

// encodingCode is enc's code in the container header: its kernels number
// (kernels.Encodings lists them in order, and kernels fixes them once given).
func encodingCode(enc kernels.Encoding) uint32 { return uint32(enc) }

// codeList names the header's weight encoding codes for messages.
func codeList() string {
	codes := make([]string, len(kernels.Encodings))
	for i, e := range kernels.Encodings {
		codes[i] = fmt.Sprintf("%d %v", encodingCode(e), e)
	}
	return strings.Join(codes, ", ")
}

// Layout says where a model.bin keeps its weights.
type Layout struct {
	// Container is true for InferPi's container, false for llama2.c's legacy file.
	Container bool
	// Enc is the file's weight encoding (the header's, or the legacy size's).
	Enc kernels.Encoding
	// Narrow is a container's last resort under the narrow-width rule (fp32 or
	// fp16, its header's field): the encoding of matrices whose rows fit neither
	// Enc's blocks nor the K-quants' fallback. Enc for a legacy file.
	Narrow  kernels.Encoding
	Tensors []Placed // in file order
	Size    int64    // the exact file size
}

// Placed is one tensor of a Layout.
type Placed struct {
	Tensor
	Enc    kernels.Encoding // as stored (RMSNorm weights fp32, narrow matrices after the narrow-width rule)
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
// (see the format comment above); narrow is the narrow-width rule's last resort
// (fp32 or fp16), which only a quantized enc can need.
func (c Config) ContainerLayout(enc, narrow kernels.Encoding) Layout {
	l := Layout{Container: true, Enc: enc, Narrow: narrow}
	off := int64(containerHeader)
	for _, t := range c.layout() {
		stored := enc
		switch {
		case t.isRopeTable():
			continue
		case t.Name == "rms_att" || t.Name == "rms_ffn" || t.Name == "rms_final":
			stored = kernels.F32
		default:
			stored = enc.StoredAs(t.Cols, narrow)
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
// and fp16 (run.c reads the fp32 one), the container for the others.
func (c Config) layoutFor(enc kernels.Encoding) Layout {
	if enc == kernels.F32 || enc == kernels.F16 {
		return c.LegacyLayout(enc)
	}
	return c.ContainerLayout(enc, kernels.F16)
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
	return ParseModelHeader(data[:min(len(data), containerHeader)], int64(len(data)))
}

// ParseModelHeader is ParseModel for a file of size bytes of which head holds
// the first ones (64 are enough): the checks the file's header allows without
// its weights.
func ParseModelHeader(head []byte, size int64) (Config, Layout, error) {
	if !bytes.HasPrefix(head, []byte(Magic)) {
		cfg, err := ParseConfig(head)
		if err != nil {
			return Config{}, Layout{}, err
		}
		enc, err := EncodingOf(cfg, size)
		if err != nil {
			return Config{}, Layout{}, err
		}
		return cfg, cfg.LegacyLayout(enc), nil
	}
	if len(head) < containerHeader {
		return Config{}, Layout{}, fmt.Errorf("model.bin: file is %d bytes, too short for the %d-byte %s header", size, containerHeader, Magic)
	}
	u := func(off int) uint32 { return binary.LittleEndian.Uint32(head[off:]) }
	if v := u(4); v != ContainerVersion {
		return Config{}, Layout{}, fmt.Errorf("model.bin: %s format version %d, this build reads version %d (convert the model again with this inferpi)", Magic, v, ContainerVersion)
	}
	code := u(8)
	if code >= uint32(len(kernels.Encodings)) {
		return Config{}, Layout{}, fmt.Errorf("model.bin: unknown weight encoding %d in the %s header (%s)", code, Magic, codeList())
	}
	narrow := u(12)
	if narrow != encodingCode(kernels.F32) && narrow != encodingCode(kernels.F16) {
		return Config{}, Layout{}, fmt.Errorf("model.bin: narrow-width encoding %d in the %s header, want 0 (fp32) or 1 (fp16)", narrow, Magic)
	}
	if !allZero(head[16+HeaderSize : containerHeader]) {
		return Config{}, Layout{}, fmt.Errorf("model.bin: header padding (bytes %d-%d) is not zero", 16+HeaderSize, containerHeader-1)
	}
	cfg, err := configFrom(head[16 : 16+HeaderSize])
	if err != nil {
		return Config{}, Layout{}, err
	}
	l := cfg.ContainerLayout(kernels.Encoding(code), kernels.Encoding(narrow))
	if size != l.Size {
		what := "truncated"
		if size > l.Size {
			what = "trailing bytes"
		}
		return Config{}, Layout{}, fmt.Errorf("model.bin: %s header (%v, %v) needs exactly %d bytes, file has %d (%s)",
			Magic, cfg, l.Enc, l.Size, size, what)
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
		parts[i] = fmt.Sprintf("%v %s", e, engine.FormatBytes(by[e]))
	}
	return strings.Join(parts, ", ")
}

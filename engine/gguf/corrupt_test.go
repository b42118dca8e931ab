package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// rawFile builds a GGUF file field by field, whatever the fields say.
type rawFile struct {
	magic    string
	version  uint32
	nTensors int64 // -1: len(tensors)
	nKV      int64 // -1: len(kvs)
	kvs      [][]byte
	tensors  []rawTensor
	data     int // bytes of tensor data after the padding to 32
}

type rawTensor struct {
	name   string
	dims   []int64
	typ    uint32
	offset uint64
}

// pair encodes a key-value pair as the Writer does.
func pair(key string, value any) []byte { return appendValue(appendString(nil, key), value) }

// rawPair encodes a key, a value type and the raw bytes after it.
func rawPair(key string, typ valueType, rest ...[]byte) []byte {
	b := binary.LittleEndian.AppendUint32(appendString(nil, key), uint32(typ))
	for _, r := range rest {
		b = append(b, r...)
	}
	return b
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// header returns the file up to the end of the tensor infos.
func (r *rawFile) header() []byte {
	le := binary.LittleEndian
	b := append([]byte(r.magic), u32(r.version)...)
	nT, nKV := r.nTensors, r.nKV
	if nT == -1 {
		nT = int64(len(r.tensors))
	}
	if nKV == -1 {
		nKV = int64(len(r.kvs))
	}
	b = le.AppendUint64(b, uint64(nT))
	b = le.AppendUint64(b, uint64(nKV))
	for _, kv := range r.kvs {
		b = append(b, kv...)
	}
	for _, t := range r.tensors {
		b = appendString(b, t.name)
		b = le.AppendUint32(b, uint32(len(t.dims)))
		for _, d := range t.dims {
			b = le.AppendUint64(b, uint64(d))
		}
		b = le.AppendUint32(b, t.typ)
		b = le.AppendUint64(b, t.offset)
	}
	return b
}

func (r *rawFile) bytes() []byte {
	b := r.header()
	b = append(b, make([]byte, pad(int64(len(b)), 32)-int64(len(b)))...)
	return append(b, make([]byte, r.data)...)
}

// baseFile is a valid file: three pairs and three tensors of 32, 36 and 32 bytes
// packed at data offsets 0, 32 and 96.
func baseFile() *rawFile {
	return &rawFile{
		magic: Magic, version: 3, nTensors: -1, nKV: -1,
		kvs: [][]byte{
			pair("general.architecture", "llama"),
			pair("tokenizer.ggml.tokens", []string{"a", "b", "c"}),
			pair("llama.block_count", uint32(1)),
		},
		tensors: []rawTensor{
			{"a", []int64{8}, uint32(F32), 0},
			{"blk.3.ffn_down.weight", []int64{32, 2}, uint32(Q4_0), 32},
			{"c", []int64{4, 4}, uint32(F16), 96},
		},
		data: 128,
	}
}

func TestBaseFile(t *testing.T) {
	f, err := Parse(baseFile().bytes(), "model.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.KVs) != 3 || len(f.Tensors) != 3 || f.Tensors[1].Bytes != 36 || f.Tensors[2].Offset != f.DataOffset+96 {
		t.Fatalf("%+v", f)
	}
}

// TestCorruptFiles breaks one rule at a time; every error must name the file
// and the key or tensor, and say what is wrong.
func TestCorruptFiles(t *testing.T) {
	for _, c := range []struct {
		name   string
		break_ func(r *rawFile) []byte
		want   string
	}{
		{"empty file", func(r *rawFile) []byte { return nil }, "0 bytes are too short for a GGUF file"},
		{"not GGUF", func(r *rawFile) []byte { r.magic = "GGML"; return r.bytes() }, `not a GGUF file (it starts with "GGML", not "GGUF")`},
		{"version 1", func(r *rawFile) []byte { r.version = 1; return r.bytes() }, "GGUF version 1 is not supported"},
		{"version 4", func(r *rawFile) []byte { r.version = 4; return r.bytes() }, "GGUF version 4 is not supported (only 2 and 3)"},
		{"big-endian", func(r *rawFile) []byte { r.version = 3 << 24; return r.bytes() }, "version field 0x3000000: a big-endian GGUF file?"},
		{"no counts", func(r *rawFile) []byte { return r.bytes()[:20] }, "header: the tensor and key-value counts do not fit in the 12 bytes left"},
		{"absurd key count", func(r *rawFile) []byte { r.nKV = 1 << 40; return r.bytes() },
			"header: 1099511627776 key-value pairs (at least 14 bytes each) do not fit in the"},
		{"negative key count", func(r *rawFile) []byte { r.nKV = -2; return r.bytes() }, "header: 18446744073709551614 key-value pairs"},
		{"absurd tensor count", func(r *rawFile) []byte { r.nTensors = 1 << 50; return r.bytes() },
			"header: 1125899906842624 tensor infos (at least 24 bytes each) do not fit in the"},
		{"empty key", func(r *rawFile) []byte { r.kvs[1] = pair("", uint8(1)); return r.bytes() }, "key 1: empty name"},
		{"key name past the end", func(r *rawFile) []byte { r.kvs[1] = u64(1 << 20); return r.bytes() }, "key 1: name of 1048576 bytes does not fit in the"},
		{"duplicate key", func(r *rawFile) []byte { r.kvs[2] = pair("general.architecture", "qwen2"); return r.bytes() },
			"key general.architecture: duplicate key (pairs 0 and 2)"},
		{"unknown value type", func(r *rawFile) []byte { r.kvs[2] = rawPair("llama.block_count", 13, u32(1)); return r.bytes() },
			"key llama.block_count: unknown value type 13"},
		{"string past the end", func(r *rawFile) []byte {
			r.kvs[0] = rawPair("general.architecture", typeString, u64(1<<32))
			return r.bytes()
		},
			"key general.architecture: string of 4294967296 bytes does not fit in the"},
		{"absurd string array", func(r *rawFile) []byte {
			r.kvs[1] = rawPair("tokenizer.ggml.tokens", typeArray, u32(uint32(typeString)), u64(math.MaxUint32))
			r.data = 1<<20 - 174
			return r.bytes()
		}, "key tokenizer.ggml.tokens: array of 4294967295 strings does not fit in the 1048576 bytes left"},
		{"absurd number array", func(r *rawFile) []byte {
			r.kvs[1] = rawPair("tokenizer.ggml.scores", typeArray, u32(uint32(typeFloat32)), u64(1<<61))
			return r.bytes()
		}, "key tokenizer.ggml.scores: array of 2305843009213693952 f32 values does not fit in the"},
		{"string in an array past the end", func(r *rawFile) []byte {
			r.kvs[1] = rawPair("tokenizer.ggml.tokens", typeArray, u32(uint32(typeString)), u64(3), appendString(nil, "a"), u64(1000))
			return r.bytes()
		}, "key tokenizer.ggml.tokens: string 1 of 3 (1000 bytes) does not fit in the"},
		{"nested array", func(r *rawFile) []byte {
			r.kvs[1] = rawPair("tokenizer.ggml.tokens", typeArray, u32(uint32(typeArray)), u64(1), u32(uint32(typeUint8)), u64(1), []byte{1})
			return r.bytes()
		}, "key tokenizer.ggml.tokens: arrays of arrays are not supported (llama.cpp's gguf.cpp refuses them too)"},
		{"array of unknown type", func(r *rawFile) []byte {
			r.kvs[1] = rawPair("x", typeArray, u32(99), u64(1))
			return r.bytes()
		}, "key x: array of unknown value type 99"},
		{"alignment not u32", func(r *rawFile) []byte { r.kvs = append(r.kvs, pair(AlignmentKey, uint64(32))); return r.bytes() },
			"key general.alignment: type u64, want u32"},
		{"alignment not a power of two", func(r *rawFile) []byte { r.kvs = append(r.kvs, pair(AlignmentKey, uint32(48))); return r.bytes() },
			"key general.alignment: 48 is not a power of two"},
		{"alignment zero", func(r *rawFile) []byte { r.kvs = append(r.kvs, pair(AlignmentKey, uint32(0))); return r.bytes() },
			"key general.alignment: 0 is not a power of two"},
		{"tensor name too long", func(r *rawFile) []byte { r.tensors[1].name = strings.Repeat("x", 64); return r.bytes() },
			"tensor 1: name of 64 bytes is longer than ggml's limit of 63"},
		{"duplicate tensor", func(r *rawFile) []byte { r.tensors[2].name = "a"; return r.bytes() }, "tensor a: duplicate name (tensors 0 and 2)"},
		{"five dimensions", func(r *rawFile) []byte { r.tensors[0].dims = []int64{8, 1, 1, 1, 1}; return r.bytes() },
			"tensor a: 5 dimensions, at most 4"},
		{"negative dimension", func(r *rawFile) []byte { r.tensors[2].dims = []int64{4, -4}; return r.bytes() },
			"tensor c: dimension 1 is -4 (shape [4 -4])"},
		{"zero rows", func(r *rawFile) []byte { r.tensors[2].dims = []int64{4, 0}; return r.bytes() }, "tensor c: dimension 1 is 0"},
		{"element count overflow", func(r *rawFile) []byte { r.tensors[2].dims = []int64{1 << 32, 1 << 32}; return r.bytes() },
			"tensor c: shape [4294967296 4294967296] has more than 2^63 elements"},
		{"row count overflow", func(r *rawFile) []byte { r.tensors[2].dims = []int64{0, 1 << 32, 1 << 32}; return r.bytes() },
			"tensor c: shape [0 4294967296 4294967296] has more than 2^63 rows"},
		{"byte count overflow", func(r *rawFile) []byte { r.tensors[0].dims = []int64{1 << 31, 1 << 31}; return r.bytes() },
			"tensor a: F32 data of shape [2147483648 2147483648] takes more than 2^63 bytes"},
		{"absurd dimensions", func(r *rawFile) []byte { r.tensors[2].dims = []int64{1 << 20, 1 << 20}; return r.bytes() },
			"tensor c: 2199023255552 bytes at data offset 96 run past the end of the file (128 bytes of data from offset"},
		{"unknown type", func(r *rawFile) []byte { r.tensors[0].typ = 39; return r.bytes() }, "tensor a: unknown tensor type 39"},
		{"removed type", func(r *rawFile) []byte { r.tensors[0].typ = 31; return r.bytes() }, "tensor a: unknown tensor type 31"},
		{"negative type", func(r *rawFile) []byte { r.tensors[0].typ = math.MaxUint32; return r.bytes() }, "tensor a: unknown tensor type 4294967295"},
		{"partial block", func(r *rawFile) []byte { r.tensors[1].dims = []int64{48, 2}; return r.bytes() },
			"tensor blk.3.ffn_down.weight: rows of 48 weights are not a multiple of the Q4_0 block size 32"},
		{"misaligned offset", func(r *rawFile) []byte { r.tensors[1].offset = 123; return r.bytes() },
			"tensor blk.3.ffn_down.weight: offset 123 is not a multiple of the alignment 32"},
		{"tensor past the end", func(r *rawFile) []byte { r.data = 100; return r.bytes() },
			"tensor c: 32 bytes at data offset 96 run past the end of the file (100 bytes of data from offset"},
		{"offset past the end", func(r *rawFile) []byte { r.tensors[0].offset = 1 << 40; return r.bytes() },
			"tensor a: 32 bytes at data offset 1099511627776 run past the end of the file"},
		{"offset past int64", func(r *rawFile) []byte { r.tensors[0].offset = 1 << 63; return r.bytes() },
			"tensor a: offset 9223372036854775808 is past the end of the file"},
		{"overlapping tensors", func(r *rawFile) []byte { r.tensors[2].offset = 64; return r.bytes() },
			"tensors blk.3.ffn_down.weight and c overlap (data offsets 32..68 and 64..96)"},
		{"same offset", func(r *rawFile) []byte { r.tensors[0].offset = 96; return r.bytes() }, "tensors a and c overlap"},
		{"tensor infos past the end", func(r *rawFile) []byte { r.nTensors = 4; return append(r.header(), 0, 0) },
			"tensor 3: its name's length does not fit in the 2 bytes left"},
		{"empty tensor name", func(r *rawFile) []byte { r.nTensors = 4; r.data = 0; return r.bytes() },
			"tensor 3: empty name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := c.break_(baseFile())
			_, err := Parse(data, "model.gguf")
			if err == nil || !strings.HasPrefix(err.Error(), "model.gguf: ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got  %v\nwant model.gguf: ...%s...", err, c.want)
			}
			if _, rerr := Read(bytes.NewReader(data), int64(len(data)), "model.gguf"); rerr == nil || rerr.Error() != err.Error() {
				t.Errorf("Read says %v, Parse %v", rerr, err)
			}
		})
	}
}

// TestTruncated parses every prefix of a valid file: each one that cuts into the
// header or a tensor's data is refused with an error naming the file; one that
// cuts only the padding after the last tensor is a valid file.
func TestTruncated(t *testing.T) {
	r := baseFile()
	r.kvs = append(r.kvs, pair("a.i8", []int8{1, 2}), pair("f", float32(1)), pair("b", []bool{true}), pair("e", []string{}))
	r.tensors[2].dims = []int64{4, 3}
	data := r.bytes()
	full, err := Parse(data, "model.gguf")
	if err != nil {
		t.Fatal(err)
	}
	end := full.Tensors[2].Offset + full.Tensors[2].Bytes
	if end >= int64(len(data)) {
		t.Fatal("the last tensor should be followed by padding")
	}
	for n := range len(data) {
		f, err := Parse(data[:n], "model.gguf")
		_, rerr := Read(bytes.NewReader(data[:n]), int64(n), "model.gguf")
		switch {
		case int64(n) >= end:
			if err != nil || rerr != nil {
				t.Errorf("%d bytes (all data, some padding): %v / %v", n, err, rerr)
			} else if f.Tensors[2].Offset != full.Tensors[2].Offset {
				t.Errorf("%d bytes: tensor c moved to %d", n, f.Tensors[2].Offset)
			}
		case err == nil:
			t.Errorf("%d bytes: parsed", n)
		case !strings.HasPrefix(err.Error(), "model.gguf: ") ||
			!strings.Contains(err.Error(), "fit in the") && !strings.Contains(err.Error(), "too short") && !strings.Contains(err.Error(), "run past the end"):
			t.Errorf("%d bytes: %v", n, err)
		case rerr == nil || rerr.Error() != err.Error():
			t.Errorf("%d bytes: Read says %v, Parse %v", n, rerr, err)
		}
	}
}

package vocab

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"
)

// readMeta is a minimal GGUF metadata reader for the tests until engine/gguf is
// available: it returns the key-value pairs with the value types Spec needs.
func readMeta(t testing.TB, path string) map[string]any {
	t.Helper()
	kv, err := readMetaFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func readMetaFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	off := 0
	u32 := func() uint32 { v := binary.LittleEndian.Uint32(data[off:]); off += 4; return v }
	u64 := func() uint64 { v := binary.LittleEndian.Uint64(data[off:]); off += 8; return v }
	str := func() string { n := int(u64()); s := string(data[off : off+n]); off += n; return s }
	if string(data[:4]) != "GGUF" {
		return nil, fmt.Errorf("%s: not GGUF", path)
	}
	off = 8
	u64() // tensors
	nkv := int(u64())
	var value func(typ uint32) any
	value = func(typ uint32) any {
		switch typ {
		case 0:
			off++
			return uint8(data[off-1])
		case 1:
			off++
			return int8(data[off-1])
		case 2:
			off += 2
			return binary.LittleEndian.Uint16(data[off-2:])
		case 3:
			off += 2
			return int16(binary.LittleEndian.Uint16(data[off-2:]))
		case 4:
			return u32()
		case 5:
			return int32(u32())
		case 6:
			return math.Float32frombits(u32())
		case 7:
			off++
			return data[off-1] != 0
		case 8:
			return str()
		case 10:
			return u64()
		case 11:
			return int64(u64())
		case 12:
			return math.Float64frombits(u64())
		case 9:
			et := u32()
			n := int(u64())
			switch et {
			case 8:
				a := make([]string, n)
				for i := range a {
					a[i] = str()
				}
				return a
			case 6:
				a := make([]float32, n)
				for i := range a {
					a[i] = math.Float32frombits(u32())
				}
				return a
			case 5:
				a := make([]int32, n)
				for i := range a {
					a[i] = int32(u32())
				}
				return a
			default:
				a := make([]any, n)
				for i := range a {
					a[i] = value(et)
				}
				return a
			}
		}
		panic(fmt.Sprintf("type %d", typ))
	}
	kv := map[string]any{}
	for i := 0; i < nkv; i++ {
		k := str()
		kv[k] = value(u32())
	}
	return kv, nil
}

func specFromMeta(kv map[string]any) Spec {
	s := Spec{BOS: -1, EOS: -1, EOT: -1, EOM: -1, UNK: -1, SEP: -1, PAD: -1,
		FIMPre: -1, FIMSuf: -1, FIMMid: -1, FIMPad: -1, FIMRep: -1, FIMSep: -1}
	s.Model, _ = kv["tokenizer.ggml.model"].(string)
	s.Pre, _ = kv["tokenizer.ggml.pre"].(string)
	s.Name, _ = kv["general.name"].(string)
	s.Tokens, _ = kv["tokenizer.ggml.tokens"].([]string)
	s.Scores, _ = kv["tokenizer.ggml.scores"].([]float32)
	s.Types, _ = kv["tokenizer.ggml.token_type"].([]int32)
	s.Merges, _ = kv["tokenizer.ggml.merges"].([]string)
	id := func(key string, dst *int) {
		if v, ok := kv["tokenizer.ggml."+key].(uint32); ok {
			*dst = int(v)
		}
	}
	id("bos_token_id", &s.BOS)
	id("eos_token_id", &s.EOS)
	id("eot_token_id", &s.EOT)
	id("eom_token_id", &s.EOM)
	id("unknown_token_id", &s.UNK)
	id("seperator_token_id", &s.SEP)
	id("padding_token_id", &s.PAD)
	b := func(key string) *bool {
		if v, ok := kv["tokenizer.ggml."+key].(bool); ok {
			return &v
		}
		return nil
	}
	s.AddBOS, s.AddEOS, s.AddSpacePrefix = b("add_bos_token"), b("add_eos_token"), b("add_space_prefix")
	return s
}

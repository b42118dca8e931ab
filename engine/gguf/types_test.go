package gguf

import "testing"

// TestTypeSizes checks every ggml type's block against the block structs of
// ggml-common.h (and gguf-py's GGML_QUANT_SIZES, which agrees but for Q8_1).
func TestTypeSizes(t *testing.T) {
	want := map[Type]struct {
		name        string
		block, size int
	}{
		F32: {"F32", 1, 4}, F16: {"F16", 1, 2}, BF16: {"BF16", 1, 2}, F64: {"F64", 1, 8},
		I8: {"I8", 1, 1}, I16: {"I16", 1, 2}, I32: {"I32", 1, 4}, I64: {"I64", 1, 8},
		Q4_0: {"Q4_0", 32, 18}, Q4_1: {"Q4_1", 32, 20}, Q5_0: {"Q5_0", 32, 22}, Q5_1: {"Q5_1", 32, 24},
		Q8_0: {"Q8_0", 32, 34}, Q8_1: {"Q8_1", 32, 36}, IQ4_NL: {"IQ4_NL", 32, 18},
		Q2_K: {"Q2_K", 256, 84}, Q3_K: {"Q3_K", 256, 110}, Q4_K: {"Q4_K", 256, 144}, Q5_K: {"Q5_K", 256, 176},
		Q6_K: {"Q6_K", 256, 210}, Q8_K: {"Q8_K", 256, 292},
		IQ2_XXS: {"IQ2_XXS", 256, 66}, IQ2_XS: {"IQ2_XS", 256, 74}, IQ2_S: {"IQ2_S", 256, 82},
		IQ3_XXS: {"IQ3_XXS", 256, 98}, IQ3_S: {"IQ3_S", 256, 110}, IQ1_S: {"IQ1_S", 256, 50},
		IQ1_M: {"IQ1_M", 256, 56}, IQ4_XS: {"IQ4_XS", 256, 136}, TQ1_0: {"TQ1_0", 256, 54}, TQ2_0: {"TQ2_0", 256, 66},
	}
	for typ := Type(0); typ < 64; typ++ {
		w, known := want[typ]
		if typ.Known() != known || typ.BlockSize() != w.block || typ.BlockBytes() != w.size {
			t.Errorf("type %d: known %v, %d weights in %d bytes; want %v, %d in %d", typ, typ.Known(), typ.BlockSize(), typ.BlockBytes(), known, w.block, w.size)
		}
		if known && typ.String() != w.name {
			t.Errorf("type %d is called %q, want %q", typ, typ, w.name)
		}
	}
	if s := Type(31).String(); s != "type 31" {
		t.Errorf("Type(31): %q", s)
	}
	if s := Type(1 << 31).String(); s != "type 2147483648" {
		t.Errorf("Type(1<<31): %q", s)
	}
	for _, c := range []struct {
		typ   Type
		n     int64
		bytes int64
		ok    bool
	}{
		{Q4_K, 512, 288, true}, {F32, 3, 12, true}, {Q8_0, 0, 0, true},
		{Q4_K, 100, 0, false}, {Type(4), 32, 0, false}, {F32, -1, 0, false}, {F64, 1 << 61, 0, false},
	} {
		if b, ok := c.typ.RowBytes(c.n); b != c.bytes || ok != c.ok {
			t.Errorf("%s.RowBytes(%d) = %d, %v; want %d, %v", c.typ, c.n, b, ok, c.bytes, c.ok)
		}
	}
}

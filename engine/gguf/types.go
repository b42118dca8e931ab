package gguf

import "strconv"

// Type is a ggml tensor type, numbered as ggml.h's enum ggml_type.
type Type uint32

// The ggml tensor types. The numbers missing here (4, 5, 31-33, 36-38) belong to
// types ggml has removed; files that use them are refused.
const (
	F32     Type = 0
	F16     Type = 1
	Q4_0    Type = 2
	Q4_1    Type = 3
	Q5_0    Type = 6
	Q5_1    Type = 7
	Q8_0    Type = 8
	Q8_1    Type = 9
	Q2_K    Type = 10
	Q3_K    Type = 11
	Q4_K    Type = 12
	Q5_K    Type = 13
	Q6_K    Type = 14
	Q8_K    Type = 15
	IQ2_XXS Type = 16
	IQ2_XS  Type = 17
	IQ3_XXS Type = 18
	IQ1_S   Type = 19
	IQ4_NL  Type = 20
	IQ3_S   Type = 21
	IQ2_S   Type = 22
	IQ4_XS  Type = 23
	I8      Type = 24
	I16     Type = 25
	I32     Type = 26
	I64     Type = 27
	F64     Type = 28
	IQ1_M   Type = 29
	BF16    Type = 30
	TQ1_0   Type = 34
	TQ2_0   Type = 35
)

// typeTraits is what a file needs to be measured: weights per block and bytes per
// block (ggml.c type_traits; block layouts in ggml-common.h).
type typeTraits struct {
	name       string
	blockSize  int
	blockBytes int
}

// qkK is the super-block size of the K, IQ and TQ types (ggml-common.h QK_K).
const qkK = 256

var types = [...]typeTraits{
	F32:  {"F32", 1, 4},
	F16:  {"F16", 1, 2},
	Q4_0: {"Q4_0", 32, 2 + 16},
	Q4_1: {"Q4_1", 32, 2 + 2 + 16},
	Q5_0: {"Q5_0", 32, 2 + 4 + 16},
	Q5_1: {"Q5_1", 32, 2 + 2 + 4 + 16},
	Q8_0: {"Q8_0", 32, 2 + 32},
	// block_q8_1 is two halves (d, s) and 32 int8: 36 bytes. gguf-py's
	// GGML_QUANT_SIZES says 40; ggml, which reads the files, says 36.
	Q8_1:    {"Q8_1", 32, 2 + 2 + 32},
	Q2_K:    {"Q2_K", qkK, 2 + 2 + qkK/16 + qkK/4},
	Q3_K:    {"Q3_K", qkK, 2 + qkK/4 + qkK/8 + 12},
	Q4_K:    {"Q4_K", qkK, 2 + 2 + 12 + qkK/2},
	Q5_K:    {"Q5_K", qkK, 2 + 2 + 12 + qkK/2 + qkK/8},
	Q6_K:    {"Q6_K", qkK, 2 + qkK/16 + 3*qkK/4},
	Q8_K:    {"Q8_K", qkK, 4 + qkK + qkK/16*2},
	IQ2_XXS: {"IQ2_XXS", qkK, 2 + qkK/8*2},
	IQ2_XS:  {"IQ2_XS", qkK, 2 + qkK/8*2 + qkK/32},
	IQ3_XXS: {"IQ3_XXS", qkK, 2 + 3*(qkK/8)},
	IQ1_S:   {"IQ1_S", qkK, 2 + qkK/8 + qkK/16},
	IQ4_NL:  {"IQ4_NL", 32, 2 + 16},
	IQ3_S:   {"IQ3_S", qkK, 2 + 13*(qkK/32) + qkK/64},
	IQ2_S:   {"IQ2_S", qkK, 2 + qkK/4 + qkK/16},
	IQ4_XS:  {"IQ4_XS", qkK, 2 + 2 + qkK/64 + qkK/2},
	I8:      {"I8", 1, 1},
	I16:     {"I16", 1, 2},
	I32:     {"I32", 1, 4},
	I64:     {"I64", 1, 8},
	F64:     {"F64", 1, 8},
	IQ1_M:   {"IQ1_M", qkK, qkK/8 + qkK/16 + qkK/32},
	BF16:    {"BF16", 1, 2},
	TQ1_0:   {"TQ1_0", qkK, 2 + qkK/64 + (qkK-4*qkK/64)/5},
	TQ2_0:   {"TQ2_0", qkK, 2 + qkK/4},
}

func (t Type) traits() typeTraits {
	if int64(t) < int64(len(types)) {
		return types[t]
	}
	return typeTraits{}
}

// Known reports whether t is a type ggml defines (and so has a size).
func (t Type) Known() bool { return t.traits().blockSize != 0 }

// String returns the type's name as gguf-py spells it ("Q4_K", "BF16"), or
// "type 99" for a type ggml does not define.
func (t Type) String() string {
	if tt := t.traits(); tt.blockSize != 0 {
		return tt.name
	}
	return "type " + strconv.FormatUint(uint64(t), 10)
}

// BlockSize returns the number of weights in one block of t: 1 for the plain
// types (F32, F16, BF16, I8, ...), 32 or 256 for the quantized ones; 0 if t is unknown.
func (t Type) BlockSize() int { return t.traits().blockSize }

// BlockBytes returns the size in bytes of one block of t; 0 if t is unknown.
func (t Type) BlockBytes() int { return t.traits().blockBytes }

// RowBytes returns the bytes of a row of n weights of type t, and false when t is
// unknown, n is negative or not a multiple of t's block size, or the size
// overflows an int64.
func (t Type) RowBytes(n int64) (int64, bool) {
	bs := int64(t.BlockSize())
	if bs == 0 || n < 0 || n%bs != 0 {
		return 0, false
	}
	return mul64(n/bs, int64(t.BlockBytes()))
}

// mul64 returns a*b for non-negative a and b, and false if it overflows an int64.
func mul64(a, b int64) (int64, bool) {
	if a != 0 && b > maxInt64/a {
		return 0, false
	}
	return a * b, true
}

const maxInt64 = 1<<63 - 1

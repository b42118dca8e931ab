package gguf

import (
	"reflect"
	"testing"
)

func TestFileTypeName(t *testing.T) {
	for ft, want := range map[uint32]string{
		0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
		11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M",
		18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S",
		25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M",
		32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
		4: "file type 4", 33: "file type 33", 38: "file type 38",
		1024 | 15: "Q4_K_M (guessed)", 1024: "F32 (guessed)", 1 << 31: "file type 2147483648",
	} {
		if got := FileTypeName(ft); got != want {
			t.Errorf("FileTypeName(%d) = %q, want %q", ft, got, want)
		}
	}
}

func TestTypeSummary(t *testing.T) {
	f := &File{Tensors: []Tensor{
		{Name: "a", Type: F32, Bytes: 100},
		{Name: "b", Type: Q4_K, Bytes: 1000},
		{Name: "c", Type: Q6_K, Bytes: 600},
		{Name: "d", Type: Q4_K, Bytes: 10},
		{Name: "e", Type: F16, Bytes: 100},
	}}
	want := []TypeUse{{Q4_K, 2, 1010}, {Q6_K, 1, 600}, {F32, 1, 100}, {F16, 1, 100}}
	if got := f.TypeSummary(); !reflect.DeepEqual(got, want) {
		t.Errorf("TypeSummary: %v, want %v", got, want)
	}
	if got := f.FileType(); got != "Q4_K" {
		t.Errorf("FileType without general.file_type: %q", got)
	}
	for _, c := range []struct {
		value any
		want  string
	}{
		{uint32(15), "Q4_K_M"}, {int32(2), "Q4_0"}, {uint64(7), "Q8_0"},
		{int32(-1), "Q4_K"}, {"15", "Q4_K"}, {uint64(1 << 40), "Q4_K"},
	} {
		f.KVs = []KV{{FileTypeKey, c.value}}
		if got := f.FileType(); got != c.want {
			t.Errorf("FileType with general.file_type %#v: %q, want %q", c.value, got, c.want)
		}
	}
	if got := (&File{}).FileType(); got != "" {
		t.Errorf("FileType of an empty file: %q", got)
	}
}

package gguf

import (
	"cmp"
	"slices"
	"strconv"
)

// FileTypeKey is the key holding a file's llama.cpp file type (LLAMA_FTYPE_*).
const FileTypeKey = "general.file_type"

// fileTypeGuessed is the flag llama.cpp ORs into a file type it guessed
// (LLAMA_FTYPE_GUESSED).
const fileTypeGuessed = 1024

// fileTypes names the llama.cpp file types as llama-quantize and gguf-py's
// LlamaFileType do (llama.h enum llama_ftype without LLAMA_FTYPE_MOSTLY_).
// The missing numbers are types llama.cpp has removed.
var fileTypes = map[uint32]string{
	0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1",
	7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
	10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L",
	14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
	19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS",
	24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
	29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
	36: "TQ1_0", 37: "TQ2_0",
}

// FileTypeName names a general.file_type value: 15 is "Q4_K_M", 0 "F32" (all
// F32); a guessed type (flag 1024) gets " (guessed)"; an unknown one is
// "file type 99".
func FileTypeName(ft uint32) string {
	if ft&fileTypeGuessed != 0 {
		return FileTypeName(ft&^fileTypeGuessed) + " (guessed)"
	}
	if s, ok := fileTypes[ft]; ok {
		return s
	}
	return "file type " + strconv.FormatUint(uint64(ft), 10)
}

// TypeUse is how much of a file's tensor data one tensor type holds.
type TypeUse struct {
	Type    Type
	Tensors int   // number of tensors of this type
	Bytes   int64 // their data
}

// TypeSummary returns the bytes and tensors of each tensor type in the file, the
// most bytes first (ties by type number).
func (f *File) TypeSummary() []TypeUse {
	var uses []TypeUse
	for _, t := range f.Tensors {
		i := slices.IndexFunc(uses, func(u TypeUse) bool { return u.Type == t.Type })
		if i < 0 {
			i = len(uses)
			uses = append(uses, TypeUse{Type: t.Type})
		}
		uses[i].Tensors++
		uses[i].Bytes += t.Bytes
	}
	slices.SortFunc(uses, func(a, b TypeUse) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Type, b.Type))
	})
	return uses
}

// FileType names the file's quantization for menus: FileTypeName of
// general.file_type when the file has it as an integer, else the name of the
// tensor type holding the most bytes ("Q8_0"), or "" for a file without tensors.
func (f *File) FileType() string {
	if v, ok := f.Lookup(FileTypeKey); ok {
		if u, signed, ok := integer(v); ok && (!signed || int64(u) >= 0) && u <= 1<<32-1 {
			return FileTypeName(uint32(u))
		}
	}
	if uses := f.TypeSummary(); len(uses) > 0 {
		return uses[0].Type.String()
	}
	return ""
}

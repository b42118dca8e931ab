package quantize

import (
	"fmt"
	"strings"

	"github.com/inferpi/inferpi/engine/gguf"
)

// FileType is llama.cpp's llama_ftype (include/llama.h): what llama-quantize is asked
// to make, and the value it writes as general.file_type. Only the targets this
// package can write are named.
type FileType uint32

const (
	FileF32    FileType = 0 // LLAMA_FTYPE_ALL_F32
	FileF16    FileType = 1
	FileQ4_0   FileType = 2
	FileQ4_1   FileType = 3
	FileQ8_0   FileType = 7
	FileQ5_0   FileType = 8
	FileQ5_1   FileType = 9
	FileQ4_K_S FileType = 14
	FileQ4_K_M FileType = 15
	FileQ5_K_S FileType = 16
	FileQ5_K_M FileType = 17
	FileQ6_K   FileType = 18
	FileBF16   FileType = 32
)

// fileTypes holds the type of each target's ordinary weights
// (llama_model_quantize_impl's default_type); gguf.FileTypeName names the
// targets, as llama-quantize does.
var fileTypes = map[FileType]gguf.Type{
	FileF32:    gguf.F32,
	FileF16:    gguf.F16,
	FileBF16:   gguf.BF16,
	FileQ8_0:   gguf.Q8_0,
	FileQ4_0:   gguf.Q4_0,
	FileQ4_1:   gguf.Q4_1,
	FileQ5_0:   gguf.Q5_0,
	FileQ5_1:   gguf.Q5_1,
	FileQ4_K_S: gguf.Q4_K,
	FileQ4_K_M: gguf.Q4_K,
	FileQ5_K_S: gguf.Q5_K,
	FileQ5_K_M: gguf.Q5_K,
	FileQ6_K:   gguf.Q6_K,
}

func (f FileType) String() string {
	if _, ok := fileTypes[f]; ok {
		return gguf.FileTypeName(uint32(f))
	}
	return fmt.Sprintf("file type %d", uint32(f))
}

// Base returns the type llama-quantize gives a target's ordinary weights (Q4_K for
// Q4_K_M), or false for a target this package cannot write.
func (f FileType) Base() (gguf.Type, bool) {
	base, ok := fileTypes[f]
	return base, ok
}

// ParseFileType reads a target by llama-quantize's name for it, in any case:
// "Q4_K_M", "q8_0", "bf16", and its aliases "Q4_K" (Q4_K_M) and "Q5_K" (Q5_K_M).
func ParseFileType(name string) (FileType, error) {
	switch up := strings.ToUpper(name); up {
	case "Q4_K":
		return FileQ4_K_M, nil
	case "Q5_K":
		return FileQ5_K_M, nil
	default:
		for f := range fileTypes {
			if f.String() == up {
				return f, nil
			}
		}
	}
	return 0, fmt.Errorf("quantize: unknown target %q (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K_S, Q4_K_M (Q4_K), Q5_K_S, Q5_K_M (Q5_K), Q6_K)", name)
}

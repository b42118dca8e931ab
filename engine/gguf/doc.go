// Package gguf reads and writes GGUF files, the model format of llama.cpp.
//
// A GGUF file is, little-endian throughout:
//
//	"GGUF", version (uint32: 2 or 3), tensor count (uint64), key-value count (uint64)
//	key-value pairs: key (string), value type (uint32), value
//	tensor infos: name (string), dimension count (uint32), dimensions (uint64 each,
//	    ggml's ne: the row length first), tensor type (uint32), data offset (uint64)
//	padding to the alignment, then the data section: each tensor's bytes at its
//	    offset from the section's start, every offset a multiple of the alignment
//
// where a string is a uint64 length and that many bytes, and a value is a number, a
// bool (one byte), a string, or an array: element type (uint32), count (uint64) and
// the elements. The alignment is the uint32 value of general.alignment, or 32.
// Versions 2 and 3 differ only in that 3 may be big-endian (not supported here);
// version 1 had 32-bit counts and lengths and is refused.
//
// Read parses the header region through an io.ReaderAt without touching the tensor
// data; Parse does the same over a buffer holding the whole file, and File.Data then
// returns each tensor's bytes as a view into that buffer. Everything a file claims
// is checked before anything is allocated for it or read from it: counts and
// lengths against the bytes left, shapes and types as gguf.cpp checks them (at
// most four dimensions, an element count that fits an int64, rows a whole number
// of blocks of a type ggml defines), and each tensor's data aligned, inside the
// file and overlapping no other. Arrays of arrays, which gguf.cpp refuses, are
// refused too. Errors name the file and the key or tensor.
//
// Writer writes files laid out as llama.cpp's writers lay them out, so that a file
// written back from what Read found in it is the same file, byte for byte.
//
// Facts from llama.cpp: ggml/src/gguf.cpp (gguf_init_from_file_impl, gguf_writer),
// ggml/include/gguf.h, ggml/src/ggml.c (type_traits), ggml/src/ggml-common.h
// (block layouts), include/llama.h (llama_ftype) and gguf-py (gguf_writer.py,
// constants.py).
package gguf

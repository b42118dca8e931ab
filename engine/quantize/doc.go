// Package quantize turns float32 rows into GGUF tensor data exactly as llama.cpp's
// llama-quantize does without an importance matrix, and decides, by llama-quantize's
// rules, which type each tensor of a model gets.
//
// The row quantizers follow llama.cpp's reference quantizers in ggml/src/ggml-quants.c
// (quantize_row_q4_0_ref ... quantize_row_q8_0_ref for the 32-weight blocks,
// quantize_row_q4_K_ref, quantize_row_q5_K_ref and quantize_row_q6_K_ref with
// make_qkx2_quants and make_qx_quants for the 256-weight super-blocks), which
// quantize_q4_K and the other wrappers call through ggml_quantize_chunk (ggml/src/ggml.c)
// when there is no importance matrix. F16 and BF16 round to nearest, ties to even,
// as ggml_fp32_to_fp16_row and ggml_fp32_to_bf16_row_ref do. Every float32 operation
// is done in llama.cpp's order with a rounding after each one, so the bytes are
// llama.cpp's on every architecture (see arith.go).
//
// The type rules follow llama_model_quantize_impl and llama_tensor_get_type in
// src/llama-quant.cpp: which tensors are quantized at all, the output matrix and the
// tied embedding in Q6_K, the attn_v and ffn_down promotions of Q4_K_M and Q5_K_M, the
// fallbacks for rows that are not a whole number of blocks, --pure. Types applies them
// to a model's tensors (ModelOf reads the model's parameters from GGUF metadata),
// Order gives the order llama-quantize writes the tensors in, and a FileType's number
// is the general.file_type it writes.
//
// Row and RowBytes are safe for concurrent use; a converter may quantize the rows
// of a tensor on several cores.
package quantize

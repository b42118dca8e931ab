// Package vocab tokenizes text with the vocabulary of a GGUF file (its
// tokenizer.ggml.* keys) exactly as llama.cpp does, token for token and byte for
// byte: llama_tokenize, llama_token_to_piece and llama_detokenize of llama.cpp's
// src/llama-vocab.cpp, with its pre-tokenizers from src/unicode.cpp.
//
// Two tokenizer models are supported:
//
//   - "llama": SentencePiece BPE (llm_tokenizer_spm). Spaces become U+2581, one
//     is put before the text (add_space_prefix); adjacent symbols merge by token
//     score; characters without a token are spelled in byte tokens <0xXX>.
//   - "gpt2": byte-level BPE (llm_tokenizer_bpe). A pre-tokenizer named by
//     tokenizer.ggml.pre cuts the text into words (SupportedPre lists the names);
//     each word's bytes, written in GPT-2's byte alphabet, merge by the rank of
//     the pair in tokenizer.ggml.merges.
//
// Before either, special tokens written in the text are cut out
// (tokenizer_st_partition): USER_DEFINED tokens always, CONTROL and UNKNOWN
// tokens only when the caller asks. The end-of-generation set, the BOS/EOS
// defaults and some token types follow llama.cpp's rules for the model and
// pre-tokenizer names (llama_vocab::impl::load), including the ones it derives
// from token texts.
//
// Load reads a vocabulary from a GGUF file; New builds one from the same values
// (Spec). Encode is llama_tokenize, Piece llama_token_to_piece, Detokenize
// llama_detokenize, and a Decoder prints generated tokens as they come so that
// the printed text is Detokenize's.
//
// Where llama.cpp fails (an uncaught exception in llama_tokenize on a code point
// above U+10FFFF or a missing byte token), or leaves a choice to its C++ library
// (hash-map order, std::sort of equal lengths), the comments at that place say
// what this package does instead.
package vocab

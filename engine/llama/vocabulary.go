package llama

import "github.com/inferpi/inferpi/engine/tokenizer/llama2c"

// A vocabulary turns text into the model's token ids and ids back into text: a
// llama2.c tokenizer.bin (run.c's encoder, runcVocabulary) or the vocabulary of a
// GGUF file (llama.cpp's tokenizers, ggufVocabulary). The session asks only this.
type vocabulary interface {
	// encode tokenizes text as it comes from a user (special tokens are plain
	// text). first says the text starts the context: BOS goes first where the
	// vocabulary wants it.
	encode(text string, first bool) []int
	// ends reports whether the model ends its reply by choosing id.
	ends(id int) bool
	// printer returns a decoder for a reply's tokens, which follow token prev;
	// own says the reply is a text of its own (a chat turn) rather than a
	// continuation of the text before it.
	printer(prev int, own bool) printer
	bos() int
	eos() int
}

// A printer turns a reply's tokens, one at a time, into the bytes to print;
// flush returns what it still holds when the reply ends.
type printer interface {
	next(id int) []byte
	flush() []byte
}

// runcVocabulary is a llama2.c tokenizer.bin, used exactly as run.c uses it.
type runcVocabulary struct{ *llama2c.Tokenizer }

func (v runcVocabulary) encode(text string, first bool) []int { return v.Encode(text, first, false) }

// ends: run.c stops at EOS, and at BOS, which its loop treats as the end of a sequence.
func (v runcVocabulary) ends(id int) bool { return id == llama2c.EOS || id == llama2c.BOS }

func (v runcVocabulary) printer(prev int, _ bool) printer { return &runcPrinter{v.Tokenizer, prev} }
func (runcVocabulary) bos() int                           { return llama2c.BOS }
func (runcVocabulary) eos() int                           { return llama2c.EOS }

// runcPrinter prints each token as run.c does after the token before it.
type runcPrinter struct {
	tok  *llama2c.Tokenizer
	prev int
}

func (p *runcPrinter) next(id int) []byte {
	piece := p.tok.Piece(p.prev, id)
	p.prev = id
	return piece
}

func (p *runcPrinter) flush() []byte { return nil }

package vocab

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Token types, the values of tokenizer.ggml.token_type (llama.h: llama_token_type).
const (
	TypeUndefined   = 0
	TypeNormal      = 1
	TypeUnknown     = 2
	TypeControl     = 3
	TypeUserDefined = 4
	TypeUnused      = 5
	TypeByte        = 6
)

// attr is llama.cpp's llama_token_attr: a token type as a bit, plus the
// stripping rules some models give their special tokens.
type attr uint16

const (
	attrUnknown     attr = 1 << 0
	attrUnused      attr = 1 << 1
	attrNormal      attr = 1 << 2
	attrControl     attr = 1 << 3
	attrUserDefined attr = 1 << 4
	attrByte        attr = 1 << 5
	attrLStrip      attr = 1 << 7 // spaces before the token go with it
	attrRStrip      attr = 1 << 8 // spaces after the token go with it
)

// attrOfType maps a token type to its attribute; unknown types are UNDEFINED (0),
// as llama.cpp reads them.
func attrOfType(t int32) attr {
	switch t {
	case TypeNormal:
		return attrNormal
	case TypeUnknown:
		return attrUnknown
	case TypeControl:
		return attrControl
	case TypeUserDefined:
		return attrUserDefined
	case TypeUnused:
		return attrUnused
	case TypeByte:
		return attrByte
	}
	return 0
}

// Spec is a vocabulary as a GGUF file's tokenizer.ggml.* keys hold it.
type Spec struct {
	Model string // tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE)
	Pre   string // tokenizer.ggml.pre; "" when absent (byte-level BPE then uses "default")
	Name  string // general.name: llama.cpp gives Phi-3 models' special tokens a stripping rule

	Tokens []string  // tokenizer.ggml.tokens: the text of each id
	Scores []float32 // tokenizer.ggml.scores (SentencePiece merge priorities); nil when absent
	Types  []int32   // tokenizer.ggml.token_type (Type*); nil when absent: every token NORMAL
	Merges []string  // tokenizer.ggml.merges, "left right" in rank order (byte-level BPE)

	// The tokenizer.ggml.*_token_id keys, -1 when absent. An id outside the
	// vocabulary counts as absent, as llama.cpp ignores it (with a warning) and
	// keeps its default: BOS 1, EOS 2, UNK 0 for SentencePiece, BOS = EOS = 11 for
	// byte-level BPE, none for the others. (The padding and separator tokens
	// change nothing llama_tokenize and llama_detokenize do.)
	BOS, EOS, EOT, EOM, UNK int
	// tokenizer.ggml.fim_*_token_id: fill-in-the-middle tokens. FIMPad, FIMRep
	// and FIMSep end generation in llama.cpp.
	FIMPre, FIMSuf, FIMMid, FIMPad, FIMRep, FIMSep int

	// tokenizer.ggml.add_bos_token, add_eos_token, add_space_prefix; nil when
	// absent, then llama.cpp's default for the model and pre-tokenizer applies.
	AddBOS, AddEOS, AddSpacePrefix *bool
}

// Vocab is a loaded vocabulary: it tokenizes and detokenizes as llama.cpp does.
// It is immutable and safe for concurrent use.
type Vocab struct {
	spm    bool         // SentencePiece ("llama"); else byte-level BPE ("gpt2")
	pre    preTokenizer // byte-level BPE only
	tokens []string
	ids    map[string]int32
	attrs  []attr
	scores []float32 // SentencePiece only

	bos, eos, eot, eom, unk int   // -1: none
	eog                     []int // sorted

	addBOS, addEOS, addSpacePrefix bool

	specials []int32 // CONTROL, USER_DEFINED and UNKNOWN tokens, longest text first

	pieces   []byte   // llama_token_to_piece(id, special=true) of every id, end to end
	pieceEnd []uint32 // piece id is pieces[pieceEnd[id-1]:pieceEnd[id]]

	byteToken [256]int32 // SentencePiece: the token of each byte (<0xXX>), -1: none

	merges     map[uint64]merge // byte-level BPE: (left id, right id) -> merge
	byteSymbol [256]int32       // byte-level BPE: the token of each byte's symbol, -1: none
	byteBytes  [256][2]int32    // byte-level BPE: what llama.cpp emits for a byte whose symbol is no token
}

// merge is one line of tokenizer.ggml.merges: its rank and the token it makes.
type merge struct{ rank, id int32 }

// maxTokens bounds the vocabulary: ids are int32 in llama.cpp.
const maxTokens = math.MaxInt32

// New builds a vocabulary from spec, checking every part of it. Errors name the
// tokenizer.ggml key at fault.
func New(s Spec) (*Vocab, error) {
	v := &Vocab{bos: -1, eos: -1, eot: -1, eom: -1, unk: -1}
	switch s.Model {
	case "llama":
		v.spm = true
	case "gpt2":
		pre, ok := preTokenizers[s.Pre]
		if !ok {
			return nil, unsupportedPre(s.Pre)
		}
		v.pre = pre
	case "no_vocab", "none", "bert", "t5", "rwkv":
		return nil, fmt.Errorf("tokenizer.ggml.model %q is not supported (supported: llama, gpt2)", s.Model)
	default:
		return nil, fmt.Errorf("unknown tokenizer.ggml.model %q (supported: llama, gpt2)", s.Model)
	}
	n := len(s.Tokens)
	if n == 0 || n > maxTokens {
		return nil, fmt.Errorf("tokenizer.ggml.tokens has %d tokens", n)
	}
	if s.Scores != nil && len(s.Scores) != n {
		return nil, fmt.Errorf("tokenizer.ggml.scores has %d values for %d tokens", len(s.Scores), n)
	}
	if s.Types != nil && len(s.Types) != n {
		return nil, fmt.Errorf("tokenizer.ggml.token_type has %d values for %d tokens", len(s.Types), n)
	}
	if err := v.setTokens(s); err != nil {
		return nil, err
	}
	var fim [6]int // FIM pre, suf, mid, pad, rep, sep
	v.setSpecialIDs(s, &fim)
	v.detectSpecialTokens(&fim)
	if v.spm {
		if err := v.setByteTokens(); err != nil {
			return nil, err
		}
	}
	v.setSpecials()
	if err := v.setPieces(); err != nil {
		return nil, err
	}
	if err := v.setStripRules(s); err != nil {
		return nil, err
	}
	if v.addBOS && v.bos < 0 {
		return nil, fmt.Errorf("BOS is to be added (tokenizer.ggml.add_bos_token or the default) but there is no BOS token")
	}
	if v.addEOS && v.eos < 0 {
		return nil, fmt.Errorf("EOS is to be added (tokenizer.ggml.add_eos_token) but there is no EOS token")
	}
	if !v.spm {
		if err := v.setMerges(s.Merges); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// setTokens reads the texts, scores and types. llama.cpp names an empty token
// "[EMPTY_<id>]" and cannot load a vocabulary with two tokens of the same text
// (its text-to-id map would be smaller than the list).
func (v *Vocab) setTokens(s Spec) error {
	n := len(s.Tokens)
	v.tokens = make([]string, n)
	v.ids = make(map[string]int32, n)
	v.attrs = make([]attr, n)
	for id, text := range s.Tokens {
		if text == "" {
			text = "[EMPTY_" + strconv.Itoa(id) + "]"
		}
		if prev, dup := v.ids[text]; dup {
			return fmt.Errorf("tokenizer.ggml.tokens: tokens %d and %d are both %q", prev, id, text)
		}
		v.tokens[id] = text
		v.ids[text] = int32(id)
		v.attrs[id] = attrNormal
		if s.Types != nil {
			v.attrs[id] = attrOfType(s.Types[id])
		}
	}
	if v.spm {
		v.scores = make([]float32, n)
		if s.Scores != nil {
			copy(v.scores, s.Scores)
		}
		for id, sc := range v.scores {
			if math.IsNaN(float64(sc)) {
				return fmt.Errorf("tokenizer.ggml.scores: token %d %q has score NaN", id, v.tokens[id])
			}
		}
	}
	return nil
}

// setByteTokens finds SentencePiece's byte tokens as llama_vocab::byte_to_token
// does: "<0xXX>" (upper-case hex), else the byte itself as a one-byte token.
// Every BYTE token's text must be "<0xXX>": its piece is that byte
// (llama_vocab::impl::token_to_byte).
func (v *Vocab) setByteTokens() error {
	for id, a := range v.attrs {
		if a&attrByte != 0 {
			if _, ok := byteTokenValue(v.tokens[id]); !ok {
				return fmt.Errorf("tokenizer.ggml.tokens: token %d %q is of type BYTE but not written <0xXX>", id, v.tokens[id])
			}
		}
	}
	for b := range v.byteToken {
		v.byteToken[b] = -1
		if id, ok := v.ids[fmt.Sprintf("<0x%02X>", b)]; ok {
			v.byteToken[b] = id
		} else if id, ok := v.ids[string([]byte{byte(b)})]; ok {
			v.byteToken[b] = id
		}
	}
	return nil
}

// byteTokenValue parses "<0xXX>".
func byteTokenValue(text string) (byte, bool) {
	if len(text) != 6 || text[:3] != "<0x" || text[5] != '>' {
		return 0, false
	}
	b, err := strconv.ParseUint(text[3:5], 16, 8)
	return byte(b), err == nil
}

// setMerges reads tokenizer.ggml.merges: line r is "left right", split at the
// first space after the first byte (llama.cpp: word.find(' ', 1)), and merging
// left and right makes the token left+right. All three must be tokens. A pair
// listed twice keeps its first rank, as llama.cpp's map does.
func (v *Vocab) setMerges(merges []string) error {
	if len(merges) > maxTokens {
		return fmt.Errorf("tokenizer.ggml.merges has %d merges", len(merges))
	}
	v.merges = make(map[uint64]merge, len(merges))
	var joined []byte
	for rank, m := range merges {
		sp := -1
		if len(m) > 1 {
			if i := strings.IndexByte(m[1:], ' '); i >= 0 {
				sp = i + 1
			}
		}
		if sp < 0 {
			return fmt.Errorf("tokenizer.ggml.merges[%d] %q is not two tokens separated by a space", rank, m)
		}
		left, right := m[:sp], m[sp+1:]
		l, okL := v.ids[left]
		r, okR := v.ids[right]
		joined = append(append(joined[:0], left...), right...)
		id, ok := v.ids[string(joined)]
		switch {
		case !okL:
			return fmt.Errorf("tokenizer.ggml.merges[%d] %q: %q is not a token", rank, m, left)
		case !okR:
			return fmt.Errorf("tokenizer.ggml.merges[%d] %q: %q is not a token", rank, m, right)
		case !ok:
			return fmt.Errorf("tokenizer.ggml.merges[%d] %q: the merged %q is not a token", rank, m, joined)
		}
		key := uint64(l)<<32 | uint64(r)
		if _, dup := v.merges[key]; !dup {
			v.merges[key] = merge{rank: int32(rank), id: id}
		}
	}
	for b := range v.byteSymbol {
		sym := string(appendRune(nil, byteRune[b]))
		v.byteSymbol[b] = -1
		if id, ok := v.ids[sym]; ok {
			v.byteSymbol[b] = id
		}
		// llama_tokenizer_bpe_session::tokenize: a symbol that is no token is
		// looked up byte by byte, each byte of its UTF-8 as a one-byte token.
		for k := range v.byteBytes[b] {
			v.byteBytes[b][k] = -1
			if k < len(sym) {
				if id, ok := v.ids[sym[k:k+1]]; ok {
					v.byteBytes[b][k] = id
				}
			}
		}
	}
	return nil
}

// Size is the number of tokens.
func (v *Vocab) Size() int { return len(v.tokens) }

// BOS is the beginning-of-sequence token, -1 if none.
func (v *Vocab) BOS() int { return v.bos }

// EOS is the end-of-sequence token, -1 if none.
func (v *Vocab) EOS() int { return v.eos }

// EOT is the end-of-turn token, -1 if none (llama_vocab_eot). To stop
// generating, use IsEOG: EOT is one of several tokens that end a reply.
func (v *Vocab) EOT() int { return v.eot }

// AddBOS reports whether Encode with addSpecial puts BOS first.
func (v *Vocab) AddBOS() bool { return v.addBOS }

// AddEOS reports whether Encode with addSpecial puts EOS last.
func (v *Vocab) AddEOS() bool { return v.addEOS }

// IsEOG reports whether id ends generation (llama_vocab_is_eog).
func (v *Vocab) IsEOG(id int) bool {
	for _, e := range v.eog {
		if e == id {
			return true
		}
	}
	return false
}

// EOG lists the tokens that end generation, in increasing order.
func (v *Vocab) EOG() []int { return append([]int(nil), v.eog...) }

// IsControl reports whether id is a CONTROL token (llama_vocab_is_control),
// including the tokens llama.cpp makes CONTROL by their text.
func (v *Vocab) IsControl(id int) bool {
	return id >= 0 && id < len(v.attrs) && v.attrs[id]&attrControl != 0
}

// Text is the text of id as the vocabulary lists it ("" outside the vocabulary).
func (v *Vocab) Text(id int) string {
	if id < 0 || id >= len(v.tokens) {
		return ""
	}
	return v.tokens[id]
}

// Find returns the token whose text is text.
func (v *Vocab) Find(text string) (int, bool) {
	id, ok := v.ids[text]
	return int(id), ok
}

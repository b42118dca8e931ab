package llama

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/chat"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/quantize"
	"github.com/inferpi/inferpi/engine/tokenizer/llama2c"
)

// llama2.c models as GGUF files of llama.cpp's "llama" architecture, laid out as
// llama.cpp's llama2.c converter lays them out (examples/convert-llama2c-to-ggml:
// save_as_llama_model): its tensor names and shapes, its metadata keys, its
// vocabulary. llama2.c's q and k rows already pair RoPE's dimensions as
// llama.cpp's normal mode does, so the matrices go in as they are, unpermuted.
// Unlike that converter, the file says the model's own context (seq_len, not a
// fixed 128), holds a tied classifier once (no output.weight), and records its
// file type.

// GGUFModel is a model in llama2.c's layout to be written as a GGUF file.
type GGUFModel struct {
	Config Config
	Name   string // general.name
	// Pieces and Scores are the vocabulary as a tokenizer.bin holds it.
	Pieces []string
	Scores []float32
	// Metadata goes after the model's and the vocabulary's keys (a chat
	// template, say).
	Metadata []gguf.KV
	// Values returns the weights of one of llama2.c's tensors, all its Count
	// matrices, [out][in] row-major, as for WriteModel. It is called once per
	// tensor in llama2.c's order, never for the freq_cis tables.
	Values func(Tensor) ([]float32, error)
}

// Token types of a GGUF vocabulary (llama.cpp's llama_token_type).
const (
	tokenNormal  int32 = 1
	tokenUnknown int32 = 2
	tokenControl int32 = 3
	tokenByte    int32 = 6
)

// ggufVocab spells a llama2.c vocabulary as llama.cpp's llama2.c converter
// does (load_vocab): id 0 is "<unk>" (unknown), 1 and 2 are "<s>" and "</s>"
// (control, where tokenizer.bin has "\n<s>\n" and "\n</s>\n"), an empty
// piece is control, "<0xXX>" pieces are byte tokens, and every space becomes
// SentencePiece's U+2581.
func ggufVocab(pieces []string) ([]string, []int32) {
	tokens := make([]string, len(pieces))
	types := make([]int32, len(pieces))
	for id, p := range pieces {
		typ := tokenNormal
		switch {
		case id == 0:
			p, typ = "<unk>", tokenUnknown
		case id == llama2c.BOS:
			p, typ = "<s>", tokenControl
		case id == llama2c.EOS:
			p, typ = "</s>", tokenControl
		case p == "":
			typ = tokenControl
		case isBytePiece(p):
			typ = tokenByte
		}
		tokens[id], types[id] = strings.ReplaceAll(p, " ", "\u2581"), typ
	}
	return tokens, types
}

// isBytePiece reports whether p reads as a byte token to the converter's
// sscanf(text, "<0x%02hhX>"): "<0x" and a hex digit.
func isBytePiece(p string) bool {
	if len(p) < 4 || !strings.HasPrefix(p, "<0x") {
		return false
	}
	c := p[3]
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ggufPlace is one GGUF tensor: its name and shape (ggml's ne, the row length
// first), and the rows [first, end) of the llama2.c tensor it comes from.
type ggufPlace struct {
	name       string
	dims       []int64
	from       Tensor
	first, end int
}

// ggufPlaces lists the GGUF tensors of c in llama2.c's order, by layer within
// each of its tensors, so that each llama2.c tensor is needed once.
func ggufPlaces(c Config) []ggufPlace {
	perLayer := map[string]string{
		"rms_att": "attn_norm.weight", "wq": "attn_q.weight", "wk": "attn_k.weight", "wv": "attn_v.weight",
		"wo": "attn_output.weight", "rms_ffn": "ffn_norm.weight", "w1": "ffn_gate.weight", "w2": "ffn_down.weight",
		"w3": "ffn_up.weight",
	}
	var ps []ggufPlace
	for _, t := range c.layout() {
		switch t.Name {
		case "token_embedding":
			ps = append(ps, ggufPlace{"token_embd.weight", []int64{int64(t.Cols), int64(t.Rows)}, t, 0, t.Rows})
		case "rms_final":
			ps = append(ps, ggufPlace{"output_norm.weight", []int64{int64(t.Cols)}, t, 0, 1})
		case "classifier":
			ps = append(ps, ggufPlace{"output.weight", []int64{int64(t.Cols), int64(t.Rows)}, t, 0, t.Rows})
		case "rms_att", "rms_ffn": // [layer][dim]: one row a layer
			for l := range c.NLayers {
				ps = append(ps, ggufPlace{fmt.Sprintf("blk.%d.%s", l, perLayer[t.Name]), []int64{int64(t.Cols)}, t, l, l + 1})
			}
		default:
			name, ok := perLayer[t.Name]
			if !ok {
				continue // the freq_cis tables: RoPE is computed
			}
			for l := range c.NLayers {
				ps = append(ps, ggufPlace{fmt.Sprintf("blk.%d.%s", l, name), []int64{int64(t.Cols), int64(t.Rows)}, t, l * t.Rows, (l + 1) * t.Rows})
			}
		}
	}
	return ps
}

// WriteGGUFModel writes m as a GGUF file of type ft: each matrix in the type
// llama-quantize gives it for ft, with its quantizers (engine/quantize: the
// bytes llama-quantize would write from the F32 file), the norms in F32.
func WriteGGUFModel(w io.Writer, m GGUFModel, ft quantize.FileType) error {
	c := m.Config
	if _, err := configFrom(c.AppendBinary(nil)); err != nil {
		return err
	}
	if len(m.Pieces) != c.VocabSize || len(m.Scores) != c.VocabSize {
		return fmt.Errorf("llama: a vocabulary of %d pieces and %d scores for a model of %d tokens", len(m.Pieces), len(m.Scores), c.VocabSize)
	}
	places := ggufPlaces(c)
	qts := make([]quantize.Tensor, len(places))
	for i, p := range places {
		qts[i] = quantize.Tensor{Name: p.name, Type: gguf.F32, Dims: p.dims}
	}
	types, err := quantize.Types(ft, quantize.Model{Arch: "llama", Layers: c.NLayers, Heads: c.NHeads, HeadsKV: c.NKVHeads}, qts, quantize.Options{})
	if err != nil {
		return err
	}
	gw := gguf.NewWriter(w)
	for _, kv := range ggufMetadata(m, ft) {
		if err := gw.AddKV(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	for i, p := range places {
		if err := gw.AddTensor(p.name, types[i], p.dims); err != nil {
			return err
		}
	}
	if err := gw.WriteHeader(); err != nil {
		return err
	}
	var values []float32
	var valuesOf string
	for i, p := range places {
		if valuesOf != p.from.Name {
			if values, err = m.Values(p.from); err != nil {
				return err
			}
			if int64(len(values)) != p.from.Floats() {
				return fmt.Errorf("llama: %s: %d values for %d matrices of %dx%d", p.from.Name, len(values), p.from.Count, p.from.Rows, p.from.Cols)
			}
			valuesOf = p.from.Name
		}
		cols := p.from.Cols
		rowBytes, err := quantize.RowBytes(types[i], cols)
		if err != nil {
			return err
		}
		data := make([]byte, (p.end-p.first)*rowBytes)
		for r := p.first; r < p.end; r++ {
			dst := data[(r-p.first)*rowBytes : (r-p.first+1)*rowBytes]
			if err := quantize.Row(types[i], dst, values[r*cols:(r+1)*cols]); err != nil {
				return fmt.Errorf("llama: %s row %d: %w", p.name, r-p.first, err)
			}
		}
		if err := gw.WriteTensorData(data); err != nil {
			return err
		}
	}
	return gw.Close()
}

// ggufMetadata is the file's metadata: the keys llama.cpp's llama2.c converter
// writes (without its out-of-range padding and separator ids), m's own, and the
// file type llama-quantize records.
func ggufMetadata(m GGUFModel, ft quantize.FileType) []gguf.KV {
	c := m.Config
	tokens, types := ggufVocab(m.Pieces)
	kvs := []gguf.KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "general.name", Value: m.Name},
		{Key: "llama.context_length", Value: uint32(c.SeqLen)},
		{Key: "llama.embedding_length", Value: uint32(c.Dim)},
		{Key: "llama.feed_forward_length", Value: uint32(c.HiddenDim)},
		{Key: "llama.block_count", Value: uint32(c.NLayers)},
		{Key: "llama.attention.head_count", Value: uint32(c.NHeads)},
		{Key: "llama.attention.head_count_kv", Value: uint32(c.NKVHeads)},
		{Key: "llama.rope.dimension_count", Value: uint32(c.HeadSize())},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: float32(runcNormEps)},
		{Key: "tokenizer.ggml.model", Value: "llama"},
		{Key: "tokenizer.ggml.tokens", Value: tokens},
		{Key: "tokenizer.ggml.scores", Value: m.Scores},
		{Key: "tokenizer.ggml.token_type", Value: types},
		{Key: "tokenizer.ggml.unknown_token_id", Value: uint32(0)},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(llama2c.BOS)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(llama2c.EOS)},
	}
	kvs = append(kvs, m.Metadata...)
	kvs = append(kvs, gguf.KV{Key: gguf.FileTypeKey, Value: uint32(ft)})
	if base, _ := ft.Base(); base.BlockSize() > 1 {
		kvs = append(kvs, gguf.KV{Key: "general.quantization_version", Value: uint32(2)})
	}
	return kvs
}

// WriteGGUF writes the llama2.c model in files (model.bin in any of its
// layouts, tokenizer.bin, and inferpi.json if any) as a GGUF file of type ft,
// with general.name files.ModelName (or "llama"). A model that chats in the
// alpaca template (the default; inferpi.json may say "none") gets chat.AlpacaJinja
// as its tokenizer.chat_template, so it chats in its training format in InferPi
// and in llama.cpp with --jinja. Weights that a quantized model.bin holds are
// widened to float32 first and carry that rounding.
func WriteGGUF(w io.Writer, files engine.Files, ft quantize.FileType) error {
	cfg, layout, err := ParseModel(files.Model)
	if err != nil {
		return err
	}
	tmpl, _, err := parseSettings(files.Settings)
	if err != nil {
		return err
	}
	if files.Tokenizer == nil {
		return fmt.Errorf("tokenizer.bin: missing (llama2.c models need their tokenizer.bin beside model.bin)")
	}
	tok, err := llama2c.Load(files.Tokenizer, cfg.VocabSize)
	if err != nil {
		return err
	}
	m := GGUFModel{Config: cfg, Name: cmp.Or(files.ModelName, "llama"), Pieces: make([]string, cfg.VocabSize)}
	for id := range m.Pieces {
		m.Pieces[id] = tok.Token(id)
	}
	m.Scores = tokenizerScores(files.Tokenizer, cfg.VocabSize)
	if tmpl == Alpaca {
		m.Metadata = append(m.Metadata, gguf.KV{Key: "tokenizer.chat_template", Value: chat.AlpacaJinja})
	}
	placed := map[string]Placed{}
	for _, t := range layout.Tensors {
		placed[t.Name] = t
	}
	m.Values = func(t Tensor) ([]float32, error) { return decodeTensor(files.Model, placed[t.Name]), nil }
	if err := WriteGGUFModel(w, m, ft); err != nil {
		return fmt.Errorf("model.bin as GGUF %v: %w", ft, err)
	}
	return nil
}

// tokenizerScores reads the scores of a tokenizer.bin that llama2c.Load has
// checked: after the 4-byte header each token is its score, its length and
// its bytes.
func tokenizerScores(data []byte, n int) []float32 {
	scores := make([]float32, n)
	off := 4
	for id := range scores {
		scores[id] = math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		off += 8 + int(binary.LittleEndian.Uint32(data[off+4:]))
	}
	return scores
}

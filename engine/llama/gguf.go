package llama

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/chat"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/tokenizer/vocab"
)

// GGUF files (llama.cpp's model format) of the architectures this forward pass
// computes. Metadata keys, tensor names and shapes are llama.cpp's
// (src/llama-arch.cpp; llama-model.cpp: load_hparams and load_tensors).

// ggufArch is what an architecture adds to the Llama forward pass.
type ggufArch struct {
	neox   bool // RoPE turns the halves of a head (llama.cpp's LLAMA_ROPE_TYPE_NEOX)
	biases bool // q, k and v have biases, which the file must hold
	qkNorm bool // each q and k head is RMS-normalised before RoPE
}

var ggufArchs = map[string]ggufArch{
	"llama": {},
	"qwen2": {neox: true, biases: true},
	"qwen3": {neox: true, qkNorm: true},
}

// Architectures lists the GGUF architectures (general.architecture) the engine runs.
func Architectures() []string {
	names := make([]string, 0, len(ggufArchs))
	for n := range ggufArchs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// encodingOf is the kernels' encoding of a GGUF tensor type, or an error that
// names the types they compute.
func encodingOf(t gguf.Type) (kernels.Encoding, error) {
	if enc, ok := kernels.EncodingOf(t); ok {
		return enc, nil
	}
	names := make([]string, len(kernels.Encodings))
	for i, e := range kernels.Encodings {
		names[i] = e.GGUF().String()
	}
	return 0, fmt.Errorf("type %d (%v) is not supported; supported: %s", uint32(t), t, strings.Join(names, ", "))
}

// DefaultContext is the context a session of a GGUF model holds when the file
// allows more: llama.cpp's default n_ctx too. The KV cache grows with it (a
// Qwen2.5-0.5B session at 4096 positions: 96 MB in fp32).
const DefaultContext = 4096

// ggufKVEncoding is a GGUF model's KV cache encoding unless a session's
// options choose: fp16, llama.cpp's default.
const ggufKVEncoding = kernels.F16

// IsGGUF reports whether a file starting with head is a GGUF file.
func IsGGUF(head []byte) bool { return len(head) >= 4 && string(head[:4]) == "GGUF" }

// ggufModel is what a GGUF file adds to a Model beyond Config and Weights.
type ggufModel struct {
	file    *gguf.File
	arch    string
	context int   // the file's context_length
	params  int64 // weights in the file's tensors, as llama.cpp counts them (llama_model_n_params)
	vocab   *vocab.Vocab
	// template is the chat template turns use (nil: chat is plain completion),
	// notice what the user should know about that choice.
	template *chat.Template
	notice   string
}

// loadGGUF builds a model from a GGUF file held whole in files.Model: the
// metadata and tensor table are checked, then every matrix becomes a view into
// the file's bytes (regrouped in place where the kernels want it, no copy).
func loadGGUF(files engine.Files) (*Model, error) {
	f, err := gguf.Parse(files.Model, cmp.Or(files.ModelName, "model.gguf"))
	if err != nil {
		return nil, err
	}
	cfg, g, set, err := ggufHeader(f, files.Settings)
	if err != nil {
		return nil, err
	}
	w, enc, err := ggufWeights(f, files.Model, cfg, g.arch)
	if err != nil {
		return nil, err
	}
	cfg.SharedClassifier = !hasTensor(f, "output.weight")
	return &Model{cfg: cfg, enc: enc, w: w, vocab: ggufVocabulary{g.vocab}, template: None, system: set.System, size: int64(len(files.Model)), gguf: g}, nil
}

// CheckGGUF checks a GGUF file's header and tensor table as loading the file
// checks them (architecture, hyperparameters, vocabulary, every tensor's
// presence, shape and type), without its tensor data: f may come from gguf.Read,
// which reads only the header region. A file it accepts fails to load only if
// its data cannot be read or an inferpi.json beside it is wrong. It returns the
// memory a session of the model takes by default beyond the file once its
// context is full: its KV cache (fp16, at most DefaultContext positions, allocated
// as they are used) and activations.
func CheckGGUF(f *gguf.File) (sessionBytes int64, err error) {
	cfg, _, err := checkGGUF(f, nil)
	if err != nil {
		return 0, err
	}
	return sessionBytesOf(cfg, ggufKVEncoding), nil
}

// checkGGUF is CheckGGUF's check, with settings the inferpi.json beside the
// file (nil when there is none).
func checkGGUF(f *gguf.File, settings []byte) (Config, *ggufModel, error) {
	cfg, g, _, err := ggufHeader(f, settings)
	if err != nil {
		return Config{}, nil, err
	}
	if _, _, err := ggufWeights(f, nil, cfg, g.arch); err != nil {
		return Config{}, nil, err
	}
	return cfg, g, nil
}

// ggufHeader reads and checks what a GGUF file's metadata says: the model's
// shape, its vocabulary and, with inferpi.json's settings, its chat template.
func ggufHeader(f *gguf.File, settingsFile []byte) (Config, *ggufModel, settings, error) {
	cfg, g, err := ggufConfig(f)
	if err != nil {
		return Config{}, nil, settings{}, err
	}
	if g.vocab, err = vocab.Load(f); err != nil {
		return Config{}, nil, settings{}, err
	}
	if g.vocab.Size() != cfg.VocabSize {
		return Config{}, nil, settings{}, fmt.Errorf("%s: the vocabulary has %d tokens, token_embd.weight %d rows", f.Name, g.vocab.Size(), cfg.VocabSize)
	}
	set, err := readSettings(settingsFile)
	if err != nil {
		return Config{}, nil, settings{}, err
	}
	if g.template, g.notice, err = ggufTemplate(f, g.vocab, set.Template); err != nil {
		return Config{}, nil, settings{}, err
	}
	return cfg, g, set, nil
}

// ggufTemplate chooses a GGUF model's chat template: the one named (by
// inferpi.json or --template; "none" chats as plain completion), else the file's
// tokenizer.chat_template as llama.cpp recognises it (a file without one:
// ChatML, as llama.cpp). A template text nobody recognises leaves chat as
// completion, with a notice saying so.
func ggufTemplate(f *gguf.File, v *vocab.Vocab, name string) (*chat.Template, string, error) {
	var t chat.Template
	switch {
	case name == "none":
		return nil, "", nil
	case name != "":
		var ok bool
		if t, ok = chat.ByName(name); !ok {
			return nil, "", fmt.Errorf("template %q is not one InferPi knows (none, %s)", name, strings.Join(chat.Names(), ", "))
		}
	default:
		text, err := f.GetString("tokenizer.chat_template")
		if err != nil && !errors.Is(err, gguf.ErrNotFound) {
			return nil, "", err
		}
		var ok bool
		if t, ok = chat.Detect(text); !ok {
			return nil, fmt.Sprintf("%s: its chat template is not one InferPi recognises, so chat is plain completion; choose a template with --template NAME (%s)",
				f.Name, strings.Join(chat.Names(), ", ")), nil
		}
	}
	if id := v.EOS(); id >= 0 {
		t.EOS = v.Text(id)
	}
	return &t, "", nil
}

// ggufConfig reads the model's shape from the metadata ({arch}.* keys).
func ggufConfig(f *gguf.File) (Config, *ggufModel, error) {
	arch, err := f.GetString("general.architecture")
	if err != nil {
		return Config{}, nil, err
	}
	a, ok := ggufArchs[arch]
	if !ok {
		return Config{}, nil, fmt.Errorf("%s: architecture %q is not supported; supported: %s", f.Name, arch, strings.Join(Architectures(), ", "))
	}
	g := &ggufModel{file: f, arch: arch}
	for i := range f.Tensors {
		g.params += f.Tensors[i].Elements()
	}
	var errs []error
	num := func(key string, def int) int {
		v, err := f.GetUint(arch + "." + key)
		switch {
		case errors.Is(err, gguf.ErrNotFound) && def >= 0:
			return def
		case err != nil:
			errs = append(errs, err)
		case v == 0 || v > 1<<24:
			errs = append(errs, fmt.Errorf("%s: key %s.%s is %d, want 1..%d", f.Name, arch, key, v, 1<<24))
		}
		return int(v)
	}
	c := Config{
		Dim:       num("embedding_length", -1),
		HiddenDim: num("feed_forward_length", -1),
		NLayers:   num("block_count", -1),
		NHeads:    num("attention.head_count", -1),
		RopeNeox:  a.neox,
	}
	g.context = num("context_length", -1)
	if err := errors.Join(errs...); err != nil {
		return Config{}, nil, err
	}
	c.NKVHeads = num("attention.head_count_kv", c.NHeads)
	c.HeadDim = num("attention.key_length", c.Dim/c.NHeads)
	vdim := num("attention.value_length", c.HeadDim)
	rot := num("rope.dimension_count", c.HeadDim)
	if err := errors.Join(errs...); err != nil {
		return Config{}, nil, err
	}
	c.SeqLen = min(g.context, DefaultContext)
	switch {
	case c.NLayers > maxLayers || c.Dim > maxDim || c.HiddenDim > maxHiddenDim:
		return Config{}, nil, fmt.Errorf("%s: %d layers of width %d and feed-forward %d are beyond this engine's limits (%d, %d, %d)",
			f.Name, c.NLayers, c.Dim, c.HiddenDim, maxLayers, maxDim, maxHiddenDim)
	case c.NKVHeads > c.NHeads || c.NHeads%c.NKVHeads != 0:
		return Config{}, nil, fmt.Errorf("%s: %d key/value heads do not divide %d query heads", f.Name, c.NKVHeads, c.NHeads)
	case vdim != c.HeadDim:
		return Config{}, nil, fmt.Errorf("%s: value heads of %d and key heads of %d: this engine needs them equal", f.Name, vdim, c.HeadDim)
	case c.HeadDim%2 != 0 || rot != c.HeadDim:
		return Config{}, nil, fmt.Errorf("%s: RoPE over %d of a head's %d values: this engine rotates whole heads of even width", f.Name, rot, c.HeadDim)
	case c.HeadDim > maxDim || c.NHeads*c.HeadDim > maxDim:
		return Config{}, nil, fmt.Errorf("%s: %d heads of %d are beyond this engine's limits", f.Name, c.NHeads, c.HeadDim)
	}
	if v, err := f.GetFloat(arch + ".rope.freq_base"); err == nil {
		c.RopeTheta = v
	} else if !errors.Is(err, gguf.ErrNotFound) {
		return Config{}, nil, err
	}
	eps, err := f.GetFloat(arch + ".attention.layer_norm_rms_epsilon")
	if err != nil {
		return Config{}, nil, err
	}
	c.NormEps = float32(eps)
	if n, err := f.GetUint(arch + ".expert_count"); err == nil && n > 0 {
		return Config{}, nil, fmt.Errorf("%s: a mixture of %d experts; this engine runs dense models only", f.Name, n)
	}
	if s, err := f.GetString(arch + ".rope.scaling.type"); err == nil && s != "none" && s != "linear" {
		return Config{}, nil, fmt.Errorf("%s: RoPE scaling %q is not supported (none, linear, and Llama 3's rope_freqs are)", f.Name, s)
	}
	tok, ok := f.Tensor("token_embd.weight")
	if !ok {
		return Config{}, nil, fmt.Errorf("%s: tensor token_embd.weight is missing", f.Name)
	}
	if len(tok.Dims) != 2 || tok.Dims[1] <= 0 || tok.Dims[1] > maxVocab {
		return Config{}, nil, fmt.Errorf("%s: tensor token_embd.weight has shape %v, want [%d n_vocab] with n_vocab up to %d", f.Name, tok.Dims, c.Dim, maxVocab)
	}
	c.VocabSize = int(tok.Dims[1])
	return c, g, nil
}

func hasTensor(f *gguf.File, name string) bool {
	_, ok := f.Tensor(name)
	return ok
}

// ggufWeights maps the tensors of a GGUF file onto Weights, checking each one's
// presence, shape and type. It returns the encoding of most of the weight bytes
// (for Info and the KV cache choice). With data nil it only checks (CheckGGUF):
// the same checks, and the sizes the kernels want, without the bytes.
func ggufWeights(f *gguf.File, data []byte, c Config, arch string) (*Weights, kernels.Encoding, error) {
	a := ggufArchs[arch]
	dim, qDim, kvDim, hs := int64(c.Dim), int64(c.QDim()), int64(c.KVDim()), int64(c.HeadSize())
	hidden, vocabSize := int64(c.HiddenDim), int64(c.VocabSize)
	bytesBy := map[kernels.Encoding]int64{}
	var err error
	// tensor finds a tensor of the given shape and returns it with its encoding.
	tensor := func(name string, dims ...int64) (*gguf.Tensor, kernels.Encoding) {
		t, ok := f.Tensor(name)
		switch {
		case err != nil:
			return nil, 0
		case !ok:
			err = fmt.Errorf("%s: tensor %s is missing", f.Name, name)
			return nil, 0
		case !slices.Equal(t.Dims, dims):
			err = fmt.Errorf("%s: tensor %s has shape %v, want %v", f.Name, name, t.Dims, dims)
			return nil, 0
		}
		enc, e := encodingOf(t.Type)
		if e != nil {
			err = fmt.Errorf("%s: tensor %s: %w", f.Name, name, e)
		}
		return t, enc
	}
	matrix := func(name string, cols, rows int64) kernels.Matrix {
		t, enc := tensor(name, cols, rows)
		if err != nil {
			return kernels.Matrix{}
		}
		if data == nil {
			need, e := enc.MatrixBytes(int(rows), int(cols))
			if e == nil && int64(need) != t.Bytes {
				e = fmt.Errorf("kernels: %dx%d %v matrix needs %d bytes, the file holds %d", rows, cols, enc, need, t.Bytes)
			}
			if e != nil {
				err = fmt.Errorf("%s: tensor %s: %w", f.Name, name, e)
			}
			bytesBy[enc] += t.Bytes
			return kernels.Matrix{}
		}
		b, e := f.Data(data, t)
		if e == nil {
			var m kernels.Matrix
			if m, e = kernels.NewMatrix(b, int(rows), int(cols), enc); e == nil {
				bytesBy[enc] += int64(len(b))
				return m
			}
		}
		err = fmt.Errorf("%s: tensor %s: %w", f.Name, name, e)
		return kernels.Matrix{}
	}
	vector := func(name string, n int64) []float32 {
		t, enc := tensor(name, n)
		if err != nil || data == nil {
			return nil
		}
		b, e := f.Data(data, t)
		if e != nil {
			err = fmt.Errorf("%s: tensor %s: %w", f.Name, name, e)
			return nil
		}
		v := make([]float32, n)
		kernels.DecodeRow(enc, b, v)
		return v
	}
	w := &Weights{
		TokenEmbedding: matrix("token_embd.weight", dim, vocabSize),
		RMSFinal:       vector("output_norm.weight", dim),
	}
	w.Classifier = w.TokenEmbedding
	if hasTensor(f, "output.weight") {
		w.Classifier = matrix("output.weight", dim, vocabSize)
	}
	if hasTensor(f, "rope_freqs.weight") {
		w.RopeFactors = vector("rope_freqs.weight", hs/2)
	}
	if factor, e := f.GetFloat(arch + ".rope.scaling.factor"); e == nil && factor > 0 && factor != 1 {
		// Linear scaling turns every angle by 1/factor (llama.cpp's freq_scale).
		if w.RopeFactors == nil {
			w.RopeFactors = make([]float32, hs/2)
			for i := range w.RopeFactors {
				w.RopeFactors[i] = 1
			}
		}
		for i := range w.RopeFactors {
			w.RopeFactors[i] *= float32(factor)
		}
	}
	for l := range c.NLayers {
		blk := func(s string) string { return fmt.Sprintf("blk.%d.%s", l, s) }
		w.RMSAtt = append(w.RMSAtt, vector(blk("attn_norm.weight"), dim))
		w.WQ = append(w.WQ, matrix(blk("attn_q.weight"), dim, qDim))
		w.WK = append(w.WK, matrix(blk("attn_k.weight"), dim, kvDim))
		w.WV = append(w.WV, matrix(blk("attn_v.weight"), dim, kvDim))
		w.WO = append(w.WO, matrix(blk("attn_output.weight"), qDim, dim))
		if a.biases || hasTensor(f, blk("attn_q.bias")) {
			w.BQ = append(w.BQ, vector(blk("attn_q.bias"), qDim))
			w.BK = append(w.BK, vector(blk("attn_k.bias"), kvDim))
			w.BV = append(w.BV, vector(blk("attn_v.bias"), kvDim))
		}
		if a.qkNorm {
			w.QNorm = append(w.QNorm, vector(blk("attn_q_norm.weight"), hs))
			w.KNorm = append(w.KNorm, vector(blk("attn_k_norm.weight"), hs))
		}
		w.RMSFFN = append(w.RMSFFN, vector(blk("ffn_norm.weight"), dim))
		w.W1 = append(w.W1, matrix(blk("ffn_gate.weight"), dim, hidden))
		w.W3 = append(w.W3, matrix(blk("ffn_up.weight"), dim, hidden))
		w.W2 = append(w.W2, matrix(blk("ffn_down.weight"), hidden, dim))
		if err != nil {
			return nil, 0, err
		}
	}
	if err != nil {
		return nil, 0, err
	}
	if len(w.BQ) != 0 && len(w.BQ) != c.NLayers {
		return nil, 0, fmt.Errorf("%s: q/k/v biases in some layers only", f.Name)
	}
	var most kernels.Encoding
	for enc, n := range bytesBy {
		if n > bytesBy[most] || (n == bytesBy[most] && enc < most) {
			most = enc
		}
	}
	return w, most, nil
}

// ggufInfo is Info for a model from a GGUF file.
func (m *Model) ggufInfo() engine.Info {
	c, g := m.cfg, m.gguf
	f := g.file
	var types []string
	for _, u := range f.TypeSummary() {
		types = append(types, fmt.Sprintf("%v %s (%d)", u.Type, engine.FormatBytes(u.Bytes), u.Tensors))
	}
	context := fmt.Sprintf("%d tokens", g.context)
	if g.context > c.SeqLen {
		context += fmt.Sprintf(" (a session holds %d)", c.SeqLen)
	}
	details := []engine.KV{
		{Key: "format", Value: fmt.Sprintf("GGUF v%d, architecture %s", f.Version, g.arch)},
	}
	if name, err := f.GetString("general.name"); err == nil && name != "" {
		details = append(details, engine.KV{Key: "name", Value: name})
	}
	details = append(details,
		engine.KV{Key: "tensors by type", Value: strings.Join(types, ", ")},
		engine.KV{Key: "trained context", Value: context},
		engine.KV{Key: "tokenizer", Value: g.tokenizerInfo()},
		engine.KV{Key: "head_size", Value: fmt.Sprint(c.HeadSize())},
		engine.KV{Key: "kv_dim", Value: fmt.Sprint(c.KVDim())},
		engine.KV{Key: "file bytes", Value: fmt.Sprint(m.size)},
		engine.KV{Key: "kv cache", Value: m.cacheInfo()},
	)
	return engine.Info{
		Engine:              "Llama",
		Config:              c.String(),
		Params:              g.params,
		Encoding:            f.FileType(),
		ContextSize:         c.SeqLen,
		VocabSize:           c.VocabSize,
		WeightBytesPerToken: m.w.bytesPerToken(),
		KVBytesPerPosition:  kvBytesPerPosition(c, m.kvEnc()),
		SessionBytes:        activationBytes(c, m.kvEnc(), c.SeqLen),
		Template:            g.templateName(),
		Details:             details,
		Notice:              g.notice,
	}
}

// templateName names the chat template in use: "none" for completion.
func (g *ggufModel) templateName() string {
	if g.template == nil {
		return "none"
	}
	return g.template.Name()
}

// tokenizerInfo describes the vocabulary: its kind, size and special tokens.
func (g *ggufModel) tokenizerInfo() string {
	model, _ := g.file.GetString("tokenizer.ggml.model")
	kind := map[string]string{"llama": "SentencePiece", "gpt2": "byte-level BPE"}[model]
	if pre, err := g.file.GetString("tokenizer.ggml.pre"); err == nil && model == "gpt2" {
		kind += ", pre-tokenizer " + pre
	}
	v := g.vocab
	name := func(id int) string {
		if id < 0 {
			return "none"
		}
		return fmt.Sprintf("%q", v.Text(id))
	}
	var eog []string
	for _, id := range v.EOG() {
		eog = append(eog, name(id))
	}
	return fmt.Sprintf("%s, %d tokens, BOS %s (added: %v), end of generation %s",
		kind, v.Size(), name(v.BOS()), v.AddBOS(), strings.Join(eog, " "))
}

// ggufVocabulary is a GGUF file's vocabulary, tokenized as llama.cpp does.
type ggufVocabulary struct{ *vocab.Vocab }

// encode tokenizes user text as llama_tokenize with parse_special false: control
// tokens typed by a user stay text. At the start of the context add_special
// puts BOS (and EOS) where the vocabulary wants them.
func (v ggufVocabulary) encode(text string, first bool) []int { return v.Encode(text, first, false) }

func (v ggufVocabulary) ends(id int) bool { return v.IsEOG(id) }
func (v ggufVocabulary) bos() int         { return v.BOS() }
func (v ggufVocabulary) eos() int         { return v.EOS() }

// printer prints a reply. A reply of its own (a chat turn) prints as
// llama_detokenize prints its tokens alone: control tokens as nothing, and a
// SentencePiece vocabulary's space before the first word dropped. A reply that
// continues the text before it (completion) prints each token's piece, as
// llama.cpp's examples print them, so "Hello" + "▁world" keeps its space.
func (v ggufVocabulary) printer(prev int, own bool) printer {
	if own {
		return &ggufPrinter{d: v.NewDecoder(false, false)}
	}
	return &piecePrinter{v.Vocab}
}

type ggufPrinter struct{ d *vocab.Decoder }

func (p *ggufPrinter) next(id int) []byte { return p.d.Add(id) }
func (p *ggufPrinter) flush() []byte      { return p.d.Flush() }

// piecePrinter prints every token's piece (llama_token_to_piece without special
// tokens' texts).
type piecePrinter struct{ v *vocab.Vocab }

func (p *piecePrinter) next(id int) []byte { return p.v.Piece(id, false) }
func (p *piecePrinter) flush() []byte      { return nil }

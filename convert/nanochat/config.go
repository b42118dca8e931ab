package nanochat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/inferpi/inferpi/convert/pickle"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/tokenizer/bpe"
)

// Config is nanochat's GPTConfig (gpt.py), with its defaults.
type Config struct {
	SequenceLen   int    `json:"sequence_len"`
	VocabSize     int    `json:"vocab_size"`
	NLayer        int    `json:"n_layer"`
	NHead         int    `json:"n_head"`
	NKVHead       int    `json:"n_kv_head"`
	NEmbd         int    `json:"n_embd"`
	WindowPattern string `json:"window_pattern"`
}

// parseMeta reads model_config from meta_<step>.json. Missing fields take
// GPTConfig's defaults, except window_pattern, which checkpoint_manager patches
// to "L" (old checkpoints were trained with full context).
func parseMeta(data []byte) (c Config, patched []string, err error) {
	var meta struct {
		ModelConfig json.RawMessage `json:"model_config"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return Config{}, nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if meta.ModelConfig == nil {
		return Config{}, nil, fmt.Errorf("no model_config")
	}
	c = Config{SequenceLen: 2048, VocabSize: 32768, NLayer: 12, NHead: 6, NKVHead: 6, NEmbd: 768, WindowPattern: "L"}
	dec := json.NewDecoder(bytes.NewReader(meta.ModelConfig))
	dec.DisallowUnknownFields() // GPTConfig(**model_config) refuses unknown keys too
	if err := dec.Decode(&c); err != nil {
		return Config{}, nil, fmt.Errorf("model_config: %v", err)
	}
	var keys map[string]json.RawMessage
	json.Unmarshal(meta.ModelConfig, &keys)
	if _, ok := keys["window_pattern"]; !ok {
		patched = append(patched, "window_pattern=L")
	}
	return c, patched, nil
}

// nanochat's fixed architecture constants at commit 92d63d4e (gpt.py).
const (
	padVocabTo     = 64      // GPT(config, pad_vocab_size_to=64)
	veGateChannels = 12      // CausalSelfAttention.ve_gate_channels
	smearChannels  = 24      // GPT.smear_gate = Linear(24, 1)
	ropeBase       = 100000  // _precompute_rotary_embeddings(base=100000)
	qkScale        = 1.2     // q = q * 1.2; k = k * 1.2
	veGateScale    = 3       // gate = 3 * sigmoid(ve_gate(x[..., :12]))
	logitSoftcap   = 15      // softcap = 15
	shortDivisor   = 4       // S windows are a quarter of the context...
	windowTile     = 128     // ...rounded up to a multiple of FA3's tile
	mlpMultiplier  = 4       // MLP c_fc: n_embd -> 4*n_embd
	rmsNormEps     = 0x1p-23 // F.rms_norm's default eps: torch.finfo(float32).eps
	maxLayers      = 4096    // checked before allocating per-layer tables (gpt.Header has the same limit)
)

// header derives model.bin's header from the config the way gpt.py does.
func (c Config) header(enc gpt.Encoding) (*gpt.Header, error) {
	switch {
	case c.NLayer < 1 || c.NEmbd < 1 || c.NHead < 1 || c.NKVHead < 1 || c.VocabSize < 1 || c.SequenceLen < 1:
		return nil, fmt.Errorf("model_config has a non-positive size: %+v", c)
	case c.NLayer > maxLayers:
		return nil, fmt.Errorf("model_config has %d layers, more than %d", c.NLayer, maxLayers)
	case c.NEmbd%c.NHead != 0:
		return nil, fmt.Errorf("n_embd %d is not a multiple of n_head %d", c.NEmbd, c.NHead)
	case c.NKVHead > c.NHead || c.NHead%c.NKVHead != 0:
		return nil, fmt.Errorf("n_kv_head %d does not divide n_head %d", c.NKVHead, c.NHead)
	}
	pattern := strings.ToUpper(c.WindowPattern)
	if pattern == "" || strings.Trim(pattern, "SL") != "" {
		return nil, fmt.Errorf("invalid window_pattern %q: use only S and L", c.WindowPattern)
	}
	// _compute_window_sizes: L = sequence_len, S = -(-n // 4 // 128) * 128, which is
	// ceil(ceil(n/4)/128)*128 (Python's // floors, so on -n both steps round up);
	// the last layer is always L.
	long := c.SequenceLen
	quarter := (c.SequenceLen + shortDivisor - 1) / shortDivisor
	short := (quarter + windowTile - 1) / windowTile * windowTile
	h := &gpt.Header{
		NLayer: c.NLayer, NEmbd: c.NEmbd, NHead: c.NHead, NKVHead: c.NKVHead, HeadDim: c.NEmbd / c.NHead,
		MLPHidden: mlpMultiplier * c.NEmbd, VocabSize: c.VocabSize,
		PaddedVocab: (c.VocabSize + padVocabTo - 1) / padVocabTo * padVocabTo,
		SeqLen:      c.SequenceLen, Windows: make([]int, c.NLayer), ValueEmbeds: make([]bool, c.NLayer),
		VEGateChannels: veGateChannels, SmearChannels: smearChannels, BackoutLayer: c.NLayer / 2,
		RopeBase: ropeBase, QKScale: qkScale, VEGateScale: veGateScale, Softcap: logitSoftcap,
		NormEps: float32(rmsNormEps), MatrixEnc: enc, EmbedEnc: enc,
	}
	for i := range c.NLayer {
		h.Windows[i] = short
		if pattern[i%len(pattern)] == 'L' || i == c.NLayer-1 {
			h.Windows[i] = long
		}
		h.ValueEmbeds[i] = i%2 == (c.NLayer-1)%2 // has_ve: alternating, the last layer included
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return h, nil
}

// parseTokenizer reads tokenizer.pkl: pickle.dump of a tiktoken Encoding, whose
// state is {name, pat_str, mergeable_ranks: {bytes: rank}, special_tokens: {str: id}}.
func parseTokenizer(data []byte) (*bpe.Tokenizer, error) {
	v, err := pickle.Load(data)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(*pickle.Object)
	if !ok || obj.Class != (pickle.Global{Module: "tiktoken.core", Name: "Encoding"}) {
		return nil, fmt.Errorf("holds a %s, want a pickled tiktoken.core.Encoding", pickle.TypeName(v))
	}
	if name, ok := obj.State.(string); ok {
		return nil, fmt.Errorf("names tiktoken's registered encoding %q instead of holding its ranks", name)
	}
	state, ok := obj.State.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("the Encoding's state is a %s, want a dict", pickle.TypeName(obj.State))
	}
	get := func(key string) any { x, _ := state.Get(key); return x }
	pat, ok := get("pat_str").(string)
	if !ok {
		return nil, fmt.Errorf("no pat_str string in the Encoding's state")
	}
	rd, ok := get("mergeable_ranks").(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("no mergeable_ranks dict in the Encoding's state")
	}
	ranks := make([][]byte, rd.Len())
	for i := range rd.Len() {
		b, ok1 := rd.Key(i).([]byte)
		r, ok2 := pickle.Int(rd.Value(i))
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("mergeable_ranks entry %d is %s -> %s, want bytes -> int", i, pickle.TypeName(rd.Key(i)), pickle.TypeName(rd.Value(i)))
		}
		if r < 0 || r >= int64(len(ranks)) || ranks[r] != nil {
			return nil, fmt.Errorf("mergeable rank %d is out of range or repeated: ranks must be 0..%d", r, len(ranks)-1)
		}
		ranks[r] = b
	}
	sd, ok := get("special_tokens").(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("no special_tokens dict in the Encoding's state")
	}
	var specials []bpe.Special
	for i := range sd.Len() {
		text, ok1 := sd.Key(i).(string)
		id, ok2 := pickle.Int(sd.Value(i))
		if !ok1 || !ok2 || id < 0 || id > math.MaxInt32 {
			return nil, fmt.Errorf("special_tokens entry %d is %s -> %s, want str -> id 0..%d", i, pickle.Describe(sd.Key(i)), pickle.Describe(sd.Value(i)), math.MaxInt32)
		}
		specials = append(specials, bpe.Special{Text: text, ID: int(id)})
	}
	return bpe.New(ranks, specials, pat)
}

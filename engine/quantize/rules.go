package quantize

import (
	"fmt"
	"sort"
	"strings"

	"github.com/inferpi/inferpi/engine/gguf"
)

// llama-quantize's choice of a type for every tensor of a model (src/llama-quant.cpp:
// llama_model_quantize_impl and llama_tensor_get_type, without an importance matrix
// and without --output-tensor-type / --token-embedding-type).

// Tensor is a tensor of the model to quantize.
type Tensor struct {
	Name string
	Type gguf.Type // its type in the source: tensors that are not quantized keep it
	Dims []int64   // ggml's ne: Dims[0] is the row length
}

// Options are llama-quantize's switches that change the types.
type Options struct {
	Pure        bool // --pure: every quantized tensor in the target's base type
	LeaveOutput bool // --leave-output-tensor: output.weight keeps its type
}

// Types returns the type llama-quantize gives each tensor, in the order of tensors,
// when it makes target from a model whose tensors are these. The choice for one
// tensor depends on the others (whether output.weight exists; attn_v and ffn_down
// are counted in llama.cpp's tensor order: by layer, then by name), so it takes them
// all. It fails where llama-quantize fails: a row length that fits neither the type
// nor its fallback, a layer it cannot place.
func Types(target FileType, m Model, tensors []Tensor, opt Options) ([]gguf.Type, error) {
	base, ok := target.Base()
	if !ok {
		return nil, fmt.Errorf("quantize: %v is not a target this package writes", target)
	}
	p := planner{target: target, model: m, nFFN: m.Layers}
	for _, t := range tensors {
		if strings.Contains(t.Name, "attn_v.weight") || strings.Contains(t.Name, "attn_qkv.weight") ||
			strings.Contains(t.Name, "attn_kv_b.weight") {
			p.nAttnV++
		} else if t.Name == "output.weight" {
			p.hasOutput = true
		}
	}
	types := make([]gguf.Type, len(tensors))
	for _, i := range Order(tensors) {
		t := tensors[i]
		if len(t.Dims) == 0 || t.Dims[0] <= 0 {
			return nil, fmt.Errorf("quantize: tensor %s has no row length", t.Name)
		}
		if !quantized(t, opt) {
			types[i] = t.Type
			continue
		}
		typ := base
		if !opt.Pure && base.BlockSize() > 1 {
			var err error
			if typ, err = p.tensorType(base, t); err != nil {
				return nil, err
			}
		}
		if t.Dims[0]%int64(typ.BlockSize()) != 0 {
			return nil, fmt.Errorf("quantize: tensor %s: rows of %d weights are not a whole number of %v blocks (%d)",
				t.Name, t.Dims[0], typ, typ.BlockSize())
		}
		types[i] = typ
	}
	return types, nil
}

// Order returns the order in which llama-quantize goes through tensors and writes
// them: the tensors outside the layers by name, then layer by layer ("blk.N."), by
// name within a layer (llama_model_loader's weights_map and its weight_name_comparer).
func Order(tensors []Tensor) []int {
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		na, nb := tensors[order[a]].Name, tensors[order[b]].Name
		if la, lb := layerOf(na), layerOf(nb); la != lb {
			return la < lb
		}
		return na < nb
	})
	return order
}

// quantized reports whether llama-quantize converts t at all (the `quantize &= ...`
// list of llama_model_quantize_impl): weights of two or more dimensions but norms,
// expert gates, position and token-type embeddings, and a few small tensors of Mamba,
// RWKV and T5.
func quantized(t Tensor, opt Options) bool {
	n := t.Name
	if !strings.HasSuffix(n, "weight") || dims(t.Dims) < 2 {
		return false
	}
	if opt.LeaveOutput && n == "output.weight" {
		return false
	}
	if n == "position_embd.weight" || n == "token_types.weight" {
		return false
	}
	for _, s := range []string{"_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d.weight",
		"time_mix_first.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_decay_w1.weight",
		"time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight"} {
		if strings.Contains(n, s) {
			return false
		}
	}
	return true
}

// dims is ggml_n_dims: trailing dimensions of 1 do not count.
func dims(ne []int64) int {
	for i := len(ne) - 1; i >= 1; i-- {
		if ne[i] > 1 {
			return i + 1
		}
	}
	return 1
}

// layerOf is the layer of a "blk.N." name, -1 for other names (sscanf(name, "blk.%d.")).
func layerOf(name string) int {
	n, ok := parseLayer(name)
	if !ok {
		return -1
	}
	return n
}

// parseLayer reads the number after "blk." as sscanf's %d does: optional blanks, an
// optional sign, digits.
func parseLayer(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return 0, false
	}
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n, digits := 0, 0
	for ; digits < len(s) && s[digits] >= '0' && s[digits] <= '9' && n < 1<<30; digits++ {
		n = n*10 + int(s[digits]-'0')
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// planner carries llama_tensor_get_type's state (quantize_state_impl) from one
// tensor to the next.
type planner struct {
	target    FileType
	model     Model
	hasOutput bool
	nAttnV    int // attn_v, attn_qkv, attn_kv_b tensors
	nFFN      int // the layer count, against which ffn_down is counted
	iAttnV    int
	iFFNDown  int
	iFFNGate  int
	iFFNUp    int
}

// useMoreBits is llama.cpp's use_more_bits: the first and last eighth of the layers
// and every third one between them.
func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// layer is llama.cpp's layer_info: a dense model's tensors are counted in order, an
// expert model's are placed by their name.
func (p *planner) layer(counter int, name string) (int, error) {
	if p.model.Experts <= 1 {
		return counter, nil
	}
	i, ok := parseLayer(name)
	if !ok {
		return 0, fmt.Errorf("quantize: cannot tell the layer of tensor %s", name)
	}
	if i < 0 || i >= p.nFFN {
		return 0, fmt.Errorf("quantize: tensor %s: layer %d is not in [0, %d)", name, i, p.nFFN)
	}
	return i, nil
}

// tensorType is llama_tensor_get_type for the targets of this package: typ is the
// target's base type, t a tensor that is quantized.
func (p *planner) tensorType(typ gguf.Type, t Tensor) (gguf.Type, error) {
	name, ft, m := t.Name, p.target, p.model
	falcon := m.Arch == "falcon"
	has := func(s string) bool { return strings.Contains(name, s) }
	switch {
	case name == "output.weight" || !p.hasOutput && name == "token_embd.weight":
		// the output matrix, or the embedding that is also the output
		if falcon || t.Dims[0]%int64(typ.BlockSize()) != 0 {
			typ = gguf.Q8_0
		} else if typ != gguf.Q8_0 {
			typ = gguf.Q6_K
		}
	case name == "token_embd.weight":
		// only the IQ and TQ targets change it
	case has("attn_v.weight"):
		if (ft == FileQ4_K_M || ft == FileQ5_K_M) && useMoreBits(p.iAttnV, p.nAttnV) {
			typ = gguf.Q6_K
		} else if ft == FileQ4_K_S && p.iAttnV < 4 {
			typ = gguf.Q5_K
		}
		if m.is70B() && typ == gguf.Q4_K {
			typ = gguf.Q5_K
		}
		if m.Experts == 8 {
			typ = gguf.Q8_0
		}
		p.iAttnV++
	case has("attn_k.weight"):
		if m.Experts == 8 {
			typ = gguf.Q8_0
		}
	case has("attn_q.weight"):
		// only the IQ3 targets change it
	case has("ffn_down"):
		i, err := p.layer(p.iFFNDown, name)
		if err != nil {
			return 0, err
		}
		n := p.nFFN
		switch {
		case ft == FileQ4_K_M:
			if falcon {
				switch {
				case i < n/16:
					typ = gguf.Q6_K
				case useMoreBits(i, n):
					typ = gguf.Q5_K
				default:
					typ = gguf.Q4_K
				}
			} else if useMoreBits(i, n) {
				typ = gguf.Q6_K
			}
		case ft == FileQ5_K_M && useMoreBits(i, n):
			typ = gguf.Q6_K
		case ft == FileQ4_K_S && !falcon && i < n/8:
			typ = gguf.Q5_K
		}
		p.iFFNDown++
	case has("attn_output.weight"):
		if !falcon && m.Experts == 8 && (ft == FileQ4_K_S || ft == FileQ4_K_M) {
			typ = gguf.Q5_K
		}
	case has("attn_qkv.weight"):
		switch ft {
		case FileQ4_K_M:
			typ = gguf.Q5_K
		case FileQ5_K_M:
			typ = gguf.Q6_K
		}
	case has("ffn_gate"):
		if _, err := p.layer(p.iFFNGate, name); err != nil {
			return 0, err
		}
		p.iFFNGate++ // only IQ3_XS changes its type
	case has("ffn_up"):
		if _, err := p.layer(p.iFFNUp, name); err != nil {
			return 0, err
		}
		p.iFFNUp++
	}

	// rows that are not a whole number of blocks: the fallback types
	if t.Dims[0]%int64(typ.BlockSize()) != 0 {
		fallback, ok := Fallback(typ)
		if !ok {
			return 0, fmt.Errorf("quantize: tensor %s: rows of %d weights fit no %v blocks and %v has no fallback",
				name, t.Dims[0], typ, typ)
		}
		typ = fallback
		if t.Dims[0]%int64(typ.BlockSize()) != 0 {
			typ = gguf.F16
		}
	}
	return typ, nil
}

// Fallback is the type llama-quantize gives a tensor meant to be t whose rows are
// not a whole number of t's blocks, among the types Row writes: Q5_0 for Q4_K, Q5_1
// for Q5_K, Q8_0 for Q6_K (32-weight blocks); where their blocks do not fit either,
// it takes F16 (llama_tensor_get_type, convert_incompatible_tensor). ok is false for
// the other types, which llama-quantize refuses for such rows.
func Fallback(t gguf.Type) (fallback gguf.Type, ok bool) {
	switch t {
	case gguf.Q4_K:
		return gguf.Q5_0, true
	case gguf.Q5_K:
		return gguf.Q5_1, true
	case gguf.Q6_K:
		return gguf.Q8_0, true
	}
	return 0, false
}

package quantize

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
)

func TestModelOf(t *testing.T) {
	g := readGGUF(t, filepath.Join(fixtures, "models", "qwen2-bpe", "qwen2-bpe.F32.gguf"))
	if m, err := ModelOf(g.File); err != nil || m != (Model{Arch: "qwen2", Layers: 1, Heads: 4, HeadsKV: 2}) {
		t.Errorf("qwen2-bpe: %+v, %v", m, err)
	}
	file := func(kvs ...gguf.KV) *gguf.File { return &gguf.File{Name: "m.gguf", KVs: kvs} }
	arch := gguf.KV{Key: "general.architecture", Value: "llama"}
	layers := gguf.KV{Key: "llama.block_count", Value: uint32(80)}
	for _, c := range []struct {
		f    *gguf.File
		want Model
	}{
		// the kv heads default to the heads
		{file(arch, layers, gguf.KV{Key: "llama.attention.head_count", Value: uint32(64)}),
			Model{Arch: "llama", Layers: 80, Heads: 64, HeadsKV: 64}},
		// per-layer head counts: the first layer's
		{file(arch, layers, gguf.KV{Key: "llama.attention.head_count", Value: []int32{32, 0}},
			gguf.KV{Key: "llama.attention.head_count_kv", Value: []uint32{8, 0}}, gguf.KV{Key: "llama.expert_count", Value: uint32(8)}),
			Model{Arch: "llama", Layers: 80, Experts: 8, Heads: 32, HeadsKV: 8}},
	} {
		if m, err := ModelOf(c.f); err != nil || m != c.want {
			t.Errorf("ModelOf(%v) = %+v, %v; want %+v", c.f.KVs, m, err, c.want)
		}
	}
	for _, c := range []struct {
		f    *gguf.File
		want string
	}{
		{file(layers), "general.architecture"},
		{file(arch), "llama.block_count"},
		{file(arch, gguf.KV{Key: "llama.block_count", Value: "80"}), "llama.block_count"},
		{file(arch, layers, gguf.KV{Key: "llama.attention.head_count", Value: []int32{}}), "llama.attention.head_count"},
		{file(arch, layers, gguf.KV{Key: "llama.attention.head_count", Value: 1.5}), "llama.attention.head_count"},
	} {
		if m, err := ModelOf(c.f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ModelOf(%v) = %+v, %v; want an error about %s", c.f.KVs, m, err, c.want)
		}
	}
}

package sdimage

import (
	"bytes"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/quantize"
)

func TestClusterSectors(t *testing.T) {
	for size, want := range map[int64]int{MinSize - 1<<20: 1, 128 << 20: 2, 1 << 30: 16, 8 << 30: 64, 64 << 30: 64} {
		s := clusterSectors(size)
		if s != want || size/int64(s*512) < 65525 {
			t.Errorf("%d MiB: %d sectors per cluster (%d clusters), want %d", size>>20, s, size/int64(s*512), want)
		}
	}
}

// The demo card holds both demo directories from the repository and the GGUF
// demo written now: a Q8_0 file of llama-demo that the engine accepts.
func TestDemo(t *testing.T) {
	files, err := Demo("../../models")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var demo []byte
	for _, f := range files {
		paths = append(paths, f.Path)
		if f.Path == DemoGGUF {
			demo = f.Data
		}
	}
	if got := strings.Join(paths, " "); got != "nanochat-demo/model.bin nanochat-demo/tokenizer.bin llama-demo/model.bin llama-demo/tokenizer.bin llama-demo-q8_0.gguf" {
		t.Fatalf("files %s", got)
	}
	f, err := gguf.Parse(demo, DemoGGUF)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := llama.CheckGGUF(f); err != nil || f.FileType() != "Q8_0" {
		t.Errorf("%s: %s, %v", DemoGGUF, f.FileType(), err)
	}
	if name, _ := f.GetString("general.name"); name != "llama-demo" {
		t.Errorf("general.name %q", name)
	}
	if _, err := LlamaGGUF("../../models/nanochat-demo", "x.gguf", 7); err == nil {
		t.Error("a GPT model written as a llama GGUF")
	}
}

// WithContext writes the same model declaring another context.
func TestWithContext(t *testing.T) {
	demo, err := LlamaGGUF("../../models/llama-demo", DemoGGUF, quantize.FileQ8_0)
	if err != nil {
		t.Fatal(err)
	}
	long, err := WithContext(demo, "long.gguf", 131072)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(long.Data, long.Path)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := llama.GGUFFootprint(f, nil)
	if err != nil || fp.Context != 131072 || long.Path != "long.gguf" {
		t.Fatalf("%s: context %d, %v", long.Path, fp.Context, err)
	}
	g, _ := gguf.Parse(demo.Data, demo.Path)
	for i := range f.Tensors {
		a, _ := f.Data(long.Data, &f.Tensors[i])
		b, _ := g.Data(demo.Data, &g.Tensors[i])
		if !bytes.Equal(a, b) {
			t.Fatalf("tensor %s differs", f.Tensors[i].Name)
		}
	}
}

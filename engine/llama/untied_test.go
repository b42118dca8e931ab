package llama

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/tokenizer/llama2c"
)

// testdata/llama-untied: a random model of another shape than the fixture (untied
// classifier, 5 query heads per kv head, head size 8, 3 layers) with the demo's
// 1024-token tokenizer, and greedy ids produced by llama2.c's run.c for it. Its
// README says how; untiedModel is the generator it names.
const untiedDir = "../../testdata/llama-untied"

var untiedHeader = []int32{80, 224, 3, 10, 2, -1024, 96}

// untiedModel writes the model deterministically: PCG(2024, 6) uniforms, normal
// deviates by Box-Muller; embedding N(0,1), RMSNorm gains N(1,0.1^2), matrices
// N(0,(2/sqrt(fan_in))^2), classifier N(0,(3/sqrt(dim))^2), freq_cis tables as
// llama2.c's exporter writes them (cos/sin of pos * 10000^(-2j/head_size)).
func untiedModel() []byte {
	cfg, err := ParseConfig(header(untiedHeader...))
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(2024, 6))
	normal := func() float64 {
		u1 := float64(rng.Uint64()>>11)*0x1p-53 + 0x1p-54 // (0, 1)
		u2 := float64(rng.Uint64()>>11) * 0x1p-53
		return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
	}
	var b bytes.Buffer
	b.Write(header(untiedHeader...))
	put := func(f float64) { binary.Write(&b, binary.LittleEndian, float32(f)) }
	for _, t := range cfg.layout() {
		n := int(t.Floats())
		switch t.Name {
		case "token_embedding":
			for range n {
				put(normal())
			}
		case "rms_att", "rms_ffn", "rms_final":
			for range n {
				put(1 + 0.1*normal())
			}
		case "freq_cis_real", "freq_cis_imag":
			hs := cfg.HeadSize()
			for pos := 0; pos < cfg.SeqLen; pos++ {
				for j := 0; j < hs/2; j++ {
					a := float64(pos) * math.Pow(10000, -float64(2*j)/float64(hs))
					if t.Name == "freq_cis_real" {
						put(math.Cos(a))
					} else {
						put(math.Sin(a))
					}
				}
			}
		case "classifier":
			for range n {
				put(3 / math.Sqrt(float64(cfg.Dim)) * normal())
			}
		default: // matrices [out][in]
			for range n {
				put(2 / math.Sqrt(float64(t.Cols)) * normal())
			}
		}
	}
	return b.Bytes()
}

func TestUntiedModelFileIsOurs(t *testing.T) {
	want := untiedModel()
	if os.Getenv("INFERPI_WRITE_UNTIED") != "" {
		if err := os.WriteFile(filepath.Join(untiedDir, "model.bin"), want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(filepath.Join(untiedDir, "model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("testdata/llama-untied/model.bin differs from what untiedModel generates")
	}
}

// untiedCases is runc.json: per prompt, run.c's greedy ids (-t 0) and stdout.
type untiedCases struct {
	Cases []struct {
		Name      string `json:"name"`
		Prompt    string `json:"prompt"`
		Steps     int    `json:"steps"`
		PromptIDs []int  `json:"prompt_ids"`
		IDs       []int  `json:"generated_ids"`
		Stdout    string `json:"stdout"`
	} `json:"cases"`
}

func readUntiedCases(t *testing.T) untiedCases {
	raw, err := os.ReadFile(filepath.Join(untiedDir, "runc.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c untiedCases
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Cases) == 0 {
		t.Fatal("runc.json has no cases")
	}
	return c
}

func TestUntiedMatchesRunC(t *testing.T) {
	m := loadModel(t, readFiles(t, untiedDir))
	if m.cfg.SharedClassifier || m.cfg.NHeads/m.cfg.NKVHeads != 5 {
		t.Fatalf("untied model config %v", m.cfg)
	}
	for _, c := range readUntiedCases(t).Cases {
		// run.c's -n counts positions, prompt included; generation stops at BOS
		// there and at EOS or BOS here (the cases were chosen without EOS).
		max := c.Steps - len(c.PromptIDs) + 1
		want := engine.StopMaxTokens
		switch {
		case c.IDs[len(c.IDs)-1] == llama2c.BOS:
			max, want = 0, engine.StopEnd
		case c.Steps == m.cfg.SeqLen:
			max, want = 0, engine.StopContextFull
		}
		s, _ := m.newSession(engine.Options{Mode: engine.Completion, MaxTokens: max})
		reply, err := s.Turn(context.Background(), c.Prompt, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(reply.PromptIDs, c.PromptIDs) || !slices.Equal(reply.IDs, c.IDs) || reply.Stop != want {
			t.Errorf("%s: prompt %v ids %v (%v)\nrun.c:  %v ids %v", c.Name, reply.PromptIDs, reply.IDs, reply.Stop, c.PromptIDs, c.IDs)
		}
		if got := string(m.tok.Decode(c.PromptIDs)) + reply.Text + "\n"; got != c.Stdout {
			t.Errorf("%s: printed %q, run.c %q", c.Name, got, c.Stdout)
		}
	}
}

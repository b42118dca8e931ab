package llama

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/internal/testfile"
)

// The llama-tiny fixture: a random-weight model and run.c's outputs for it.
const tinyDir = "../../testdata/llama-tiny"

type logitsRef struct {
	File         string `json:"file"`
	Shape        []int  `json:"shape"`
	RowPositions []int  `json:"row_positions"`
	RowInput     []int  `json:"row_input_token"`
}

type genCase struct {
	Name      string `json:"name"`
	PromptHex string `json:"prompt_hex"`
	PromptIDs []int  `json:"prompt_ids"`
	Generated []int  `json:"generated_ids"`
	Sequence  []int  `json:"sequence_ids"`
	StdoutHex string `json:"stdout_hex"`
	WithBOS   []int  `json:"sampled_ids_including_final_bos"`
	RunCArgs  struct {
		Temperature float32 `json:"temperature"`
		TopP        float32 `json:"topp"`
		Seed        uint64  `json:"seed"`
		Steps       int     `json:"steps"`
	} `json:"runc_args"`
	Logits *logitsRef `json:"logits"`
}

type tinyOracle struct {
	Greedy     []genCase `json:"greedy_cases"`
	GreedyFP16 []genCase `json:"greedy_cases_fp16w"`
	Sampled    []genCase `json:"sampled_cases"`
	SeqLen     genCase   `json:"seq_len_case"`
	BOSStop    genCase   `json:"bos_stop_case"`
	Empty      genCase   `json:"empty_prompt_case"`
	Tolerances struct {
		FP16 float64 `json:"fp16_weight_engine_vs_fp16w_oracle_max_abs_logit_diff"`
	} `json:"tolerances"`
}

// Tolerances: the fixture README's 3e-4 for engines whose float32 sums are not
// exactly run.c's (FMA on arm64, SIMD kernels), and 1e-3 for fp16 weights.
const (
	tolFP32 = 3e-4
	tolFP16 = 1e-3
)

func readOracle(t testing.TB) tinyOracle {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(tinyDir, "oracle.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o tinyOracle
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Greedy) == 0 || len(o.GreedyFP16) == 0 || len(o.Sampled) == 0 || o.SeqLen.Logits == nil {
		t.Fatal("oracle.json is missing cases")
	}
	return o
}

func readFiles(t testing.TB, dir string) engine.Files {
	t.Helper()
	m, err := os.ReadFile(filepath.Join(dir, "model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join(dir, "tokenizer.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return engine.Files{Model: m, Tokenizer: tok}
}

func loadModel(t testing.TB, files engine.Files) *Model {
	t.Helper()
	m, err := Load(files)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// readLogits returns the rows of a logits file.
func readLogits(t testing.TB, ref *logitsRef) [][]float32 {
	t.Helper()
	rows := readFloatRows(t, filepath.Join(tinyDir, ref.File), ref.Shape[1])
	if len(rows) != ref.Shape[0] {
		t.Fatalf("%s: %d rows, want %d", ref.File, len(rows), ref.Shape[0])
	}
	return rows
}

// readFloatRows reads a file of little-endian float32 [rows][cols].
func readFloatRows(t testing.TB, path string, cols int) [][]float32 {
	t.Helper()
	v := testfile.Float32s(t, path)
	if len(v)%cols != 0 {
		t.Fatalf("%s: %d float32 are not rows of %d", path, len(v), cols)
	}
	out := make([][]float32, len(v)/cols)
	for r := range out {
		out[r] = v[r*cols : (r+1)*cols : (r+1)*cols]
	}
	return out
}

// maxAbsDiff is the largest |a[i]-b[i]|.
func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		if d := math.Abs(float64(a[i]) - float64(b[i])); d > m || math.IsNaN(d) {
			m = d
			if math.IsNaN(d) {
				return math.Inf(1)
			}
		}
	}
	return m
}

// checkLogits replays the positions of ref through a fresh run state, feeding
// seq (prompt and generated ids), and compares the stored rows.
func checkLogits(t *testing.T, m *Model, name string, seq []int, ref *logitsRef, tol float64) {
	t.Helper()
	want := readLogits(t, ref)
	r := m.runState()
	row := 0
	var worst float64
	last := ref.RowPositions[len(ref.RowPositions)-1]
	for pos := 0; pos <= last; pos++ {
		logits := forward(m.w, m.cfg, r, seq[pos], pos, true)
		if row < len(ref.RowPositions) && ref.RowPositions[row] == pos {
			if ref.RowInput[row] != seq[pos] {
				t.Fatalf("%s: row %d was computed for token %d, sequence has %d", name, row, ref.RowInput[row], seq[pos])
			}
			d := maxAbsDiff(logits, want[row])
			worst = max(worst, d)
			if d > tol {
				t.Errorf("%s: position %d: max abs logit difference %.3g > %.0g", name, pos, d, tol)
			}
			row++
		}
	}
	if row != len(ref.RowPositions) {
		t.Fatalf("%s: compared %d of %d rows", name, row, len(ref.RowPositions))
	}
	t.Logf("%s: %d rows, max abs logit difference %.3g", name, row, worst)
}

func unhex(t testing.TB, s string) string {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

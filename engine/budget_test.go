package engine

import (
	"errors"
	"strings"
	"testing"
)

const MiB = 1 << 20

// llama32 is Llama-3.2-1B Q4_K_M's footprint: a 771 MiB file, 16 layers of 8
// kv heads of 64 in fp16 (32 KiB of KV cache per position), 131072 positions.
var llama32 = Footprint{Context: 131072, ModelBytes: 771 * MiB, KVBytesPerPosition: 32 << 10, PositionBytes: 40 << 10, SessionBytes: 8 * MiB}

func TestPlanContext(t *testing.T) {
	small := Footprint{Context: 512, ModelBytes: 10 * MiB, KVBytesPerPosition: 1 << 10, PositionBytes: 2 << 10, SessionBytes: MiB}
	cases := []struct {
		name      string
		f         Footprint
		requested int
		memory    int64
		context   int
		limited   bool
	}{
		{"declared context, memory unknown", small, 0, 0, 512, false},
		{"declared context fits", small, 0, 1 << 30, 512, false},
		{"a smaller context asked for", small, 100, 1 << 30, 100, false},
		{"a long context: the default", llama32, 0, 0, DefaultLongContext, false},
		{"a long context: the default fits", llama32, 0, 2 << 30, DefaultLongContext, false},
		{"a long context raised by -c", llama32, 32768, 8 << 30, 32768, false},
		{"all of a long context", llama32, 131072, 0, 131072, false},
		// 2 GiB - 204.8 MiB of margin - 771 - 8 = 1064.2 MiB for 40 KiB positions: 27244, rounded down.
		{"-c beyond memory is clamped", llama32, 131072, 2 << 30, 27136, true},
		// 1 GiB - 102.4 - 771 - 8 = 142.6 MiB: 3650 positions.
		{"the default clamped", llama32, 0, 1 << 30, 3584, true},
		// 20 MiB of weights and session in 64 MiB + 2.5 MiB: the margin is 64 MiB.
		{"the margin is at least 64 MiB", small, 0, 64*MiB + 11*MiB + 256*2<<10, 256, true},
		{"a clamped context rounded down", small, 0, 64*MiB + 11*MiB + 500*2<<10, 256, true},
	}
	for _, c := range cases {
		p, err := PlanContext(c.f, c.requested, c.memory)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if p.Context != c.context || p.Limited != c.limited || p.Declared != c.f.Context {
			t.Errorf("%s: context %d (limited %v), want %d (%v)", c.name, p.Context, p.Limited, c.context, c.limited)
		}
		if p.KVBytes != int64(p.Context)*c.f.KVBytesPerPosition || p.SessionBytes != c.f.SessionAt(p.Context) {
			t.Errorf("%s: KV %d, session %d bytes for %d positions", c.name, p.KVBytes, p.SessionBytes, p.Context)
		}
		if c.memory > 0 && c.f.ModelBytes+p.SessionBytes > c.memory-Margin(c.memory) {
			t.Errorf("%s: %d + %d bytes do not fit in %d with the margin", c.name, c.f.ModelBytes, p.SessionBytes, c.memory)
		}
	}
}

func TestPlanDescribes(t *testing.T) {
	p, _ := PlanContext(llama32, 0, 0)
	if got := p.String(); got != "4096 of 131072 (KV 128.0 MB)" {
		t.Errorf("long context: %q", got)
	}
	p, _ = PlanContext(Footprint{Context: 512, KVBytesPerPosition: 2 << 10}, 0, 0)
	if got := p.String(); got != "512 (KV 1.0 MB)" {
		t.Errorf("whole context: %q", got)
	}
}

func TestPlanRefuses(t *testing.T) {
	if _, err := PlanContext(llama32, 131073, 0); err == nil || !strings.Contains(err.Error(), "context 131073: the model holds 1 to 131072 positions") {
		t.Errorf("beyond the declared context: %v", err)
	}
	if _, err := PlanContext(llama32, -1, 0); err == nil {
		t.Error("a negative context was accepted")
	}
	if _, err := PlanContext(Footprint{}, 0, 0); err == nil {
		t.Error("a model without a context was accepted")
	}
	// 900 MiB: 771 + 8 of weights and session, 90 of margin, 31 left: 256
	// positions need 10.
	if _, err := PlanContext(llama32, 0, 900*MiB); err != nil {
		t.Errorf("256 positions fit in 900 MiB: %v", err)
	}
	_, err := PlanContext(llama32, 0, 860*MiB)
	var nr *NoRoomError
	if !errors.As(err, &nr) || nr.Context != MinContext || nr.Memory != 860*MiB || nr.Margin != 86*MiB {
		t.Fatalf("860 MiB: %#v", err)
	}
	const want = "needs 789.0 MB of memory (771.0 MB of weights, 18.0 MB for a 256-position context) and keeps 86.0 MB free, 860.0 MB is available"
	if err.Error() != want {
		t.Errorf("message %q\nwant %q", err, want)
	}
	// A model declaring fewer positions than MinContext needs them all.
	tiny := Footprint{Context: 100, ModelBytes: 10 * MiB, PositionBytes: MiB}
	if _, err := PlanContext(tiny, 0, 64*MiB+10*MiB+99*MiB); !errors.As(err, &nr) || nr.Context != 100 {
		t.Errorf("a 100-position model in too little memory: %v", err)
	}
	if _, err := PlanContext(Footprint{Context: 100, ModelBytes: 100 * MiB}, 0, 100*MiB); !errors.As(err, &nr) {
		t.Errorf("weights alone beyond memory: %v", err)
	}
}

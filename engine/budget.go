package engine

import "fmt"

// Footprint is the memory a model takes, as its files' headers tell it before
// the weights are read: what the loaded model keeps, and what a session adds
// for each position of its context.
type Footprint struct {
	// Context is the positions the model declares (its training context).
	Context int
	// ModelBytes is what the loaded model keeps: its weights file, read whole
	// into memory, and any table computed at load.
	ModelBytes int64
	// KVBytesPerPosition is the KV cache of one position: all layers, K and V,
	// in the engine's default cache encoding.
	KVBytesPerPosition int64
	// PositionBytes is everything a session holds per position of its context:
	// the KV cache and the activations as long as the context (attention scores).
	PositionBytes int64
	// SessionBytes is the rest of a session: activations of fixed size.
	SessionBytes int64
}

// SessionAt is the memory of a session holding n positions.
func (f Footprint) SessionAt(n int) int64 { return f.SessionBytes + int64(n)*f.PositionBytes }

// Context sizes the planner chooses between.
const (
	// LongContext is where a declared context counts as long: a file that
	// declares this many positions or more (Qwen2.5's 32768, Llama 3.2's
	// 131072) gets DefaultLongContext unless more is asked for. Few chats on a
	// Pi reach it, and its KV cache would take most of the memory.
	LongContext = 32768
	// DefaultLongContext is the default context of a model declaring
	// LongContext or more positions; llama.cpp's default n_ctx too.
	DefaultLongContext = 4096
	// MinContext is the smallest context worth a chat: a model that cannot hold
	// this many positions (or its whole declared context, if smaller) after its
	// weights is not loaded.
	MinContext = 256
	// contextStep rounds a context clamped by memory down to a round number.
	contextStep = 256
)

// Margin is the memory the planner leaves free out of memory: a tenth of it,
// at least 64 MiB. The footprint counts the weights, the KV cache and the
// activations; the margin is for what it does not count, which is small and
// fixed (the vocabulary's tables, the console, goroutine stacks) or grows with
// the machine (the Go heap's garbage between collections, the host's other
// programs and page cache).
func Margin(memory int64) int64 { return max(memory/10, 64<<20) }

// Plan is the context a session gets and the memory it takes.
type Plan struct {
	Context  int // positions the session may hold
	Declared int // positions the model declares
	// Wanted is the context asked for, or the default when none was: the
	// declared context, or DefaultLongContext for a long one.
	Wanted int
	// Limited is true when memory made Context smaller than Wanted.
	Limited bool
	// KVBytes is the session's KV cache when full; SessionBytes everything
	// the session holds when full (the KV cache included).
	KVBytes, SessionBytes int64
	// Memory is what the plan was made for (0: unknown, nothing clamped), and
	// Margin what it leaves free.
	Memory, Margin int64
}

// String describes the context for menus and inspect: "4096 of 131072 (KV
// 96.0 MB)", or "512 (KV 1.0 MB)" for the whole declared context.
func (p Plan) String() string {
	s := fmt.Sprint(p.Context)
	if p.Context != p.Declared {
		s += fmt.Sprintf(" of %d", p.Declared)
	}
	return s + " (KV " + FormatBytes(p.KVBytes) + ")"
}

// NoRoomError is a model that cannot hold even a small context in memory.
type NoRoomError struct {
	Footprint
	Context        int   // the smallest context tried
	Memory, Margin int64 // the memory there is, and the part left free
}

func (e *NoRoomError) Error() string {
	need := e.ModelBytes + e.SessionAt(e.Context)
	return fmt.Sprintf("needs %s of memory (%s of weights, %s for a %d-position context) and keeps %s free, %s is available",
		FormatBytes(need), FormatBytes(e.ModelBytes), FormatBytes(e.SessionAt(e.Context)), e.Context, FormatBytes(e.Margin), FormatBytes(e.Memory))
}

// PlanContext chooses the context of a session of a model with footprint f
// when memory bytes are available for the model and its session (0 or less:
// unknown, and nothing is clamped). requested is the context asked for (-c),
// 0 for the default: the declared context, or DefaultLongContext when the
// model declares LongContext or more. The context is then clamped to what fits
// after the weights and the Margin, rounded down to a multiple of 256
// positions. A request beyond the declared context, or a model that cannot hold
// MinContext positions (its declared context if smaller), is an error; the
// latter a *NoRoomError with the numbers.
func PlanContext(f Footprint, requested int, memory int64) (Plan, error) {
	if f.Context <= 0 {
		return Plan{}, fmt.Errorf("the model declares a context of %d positions", f.Context)
	}
	if requested < 0 || requested > f.Context {
		return Plan{}, fmt.Errorf("context %d: the model holds 1 to %d positions", requested, f.Context)
	}
	p := Plan{Declared: f.Context, Wanted: requested, Memory: max(memory, 0)}
	if p.Wanted == 0 {
		p.Wanted = f.Context
		if f.Context >= LongContext {
			p.Wanted = DefaultLongContext
		}
	}
	p.Context = p.Wanted
	if memory > 0 {
		p.Margin = Margin(memory)
		room := memory - p.Margin - f.ModelBytes - f.SessionBytes
		fits := int64(p.Wanted)
		if f.PositionBytes > 0 {
			fits = max(room, -1) / f.PositionBytes
		} else if room < 0 {
			fits = -1
		}
		least := min(MinContext, p.Wanted)
		if fits < int64(least) {
			return Plan{}, &NoRoomError{Footprint: f, Context: least, Memory: memory, Margin: p.Margin}
		}
		if fits < int64(p.Wanted) {
			p.Context, p.Limited = int(fits), true
			if p.Context >= contextStep {
				p.Context -= p.Context % contextStep
			}
		}
	}
	p.KVBytes = int64(p.Context) * f.KVBytesPerPosition
	p.SessionBytes = f.SessionAt(p.Context)
	return p, nil
}

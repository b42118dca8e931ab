// Package engine defines what every InferPi model engine provides: detection from
// the first bytes of model.bin, loading from the model and tokenizer bytes, and chat
// sessions that keep their KV cache between turns.
//
// The same engines run hosted (cmd/inferpi) and on bare metal (cmd/firmware); nothing
// here touches files or hardware: callers hand over byte slices.
package engine

import (
	"context"
	"time"
)

// Engine is one model family (llama2.c layout, nanochat GPT, ...).
// Engines are listed in package engine/all; adding one touches only that list.
type Engine interface {
	// Name is the short label shown in menus: "Llama", "GPT".
	Name() string
	// Detect reports whether model.bin starting with head (at least HeadSize bytes
	// when the file is that long) belongs to this engine.
	Detect(head []byte) bool
	// Load builds a model from the file contents. The model may keep views into
	// files.Model (no copies): the caller keeps the bytes alive until the model is dropped.
	Load(files Files) (Model, error)
}

// HeadSize is how many leading bytes of model.bin detection looks at.
const HeadSize = 16

// Files are the contents of one model directory, or of one GGUF file.
type Files struct {
	Model []byte // model.bin, or the .gguf file (which holds its own vocabulary)
	// ModelName names Model in messages: "model.bin" when empty, else the file's
	// name ("qwen2.5-0.5b-instruct-q4_k_m.gguf").
	ModelName string
	Tokenizer []byte // tokenizer.bin (nil when absent)
	// Settings is the optional inferpi.json beside model.bin (nil when absent).
	Settings []byte
}

// Model is a loaded model; it is immutable and may serve several sessions.
type Model interface {
	Info() Info
	// NewSession allocates a session's run state (KV cache, activations).
	NewSession(opts Options) (Session, error)
}

// Info describes a loaded model for menus and `inferpi inspect`.
type Info struct {
	Engine      string // "Llama", "GPT"
	Config      string // one line of architecture knobs, e.g. "dim=192 layers=4 heads=6 ..."
	Params      int64  // parameter count (padding rows excluded)
	Encoding    string // weight encoding: "fp32", "fp16", "q8_0", "q4_0"
	ContextSize int    // positions the KV cache holds (seq_len)
	VocabSize   int
	// WeightBytesPerToken is how many weight bytes one decoding step reads
	// (matrices only; embedding lookups excluded).
	WeightBytesPerToken int64
	// KVBytesPerPosition is what one position takes in a session's KV cache in its
	// default encoding: keys and values of every layer. A session's cache grows
	// by this much per position it uses (in chunks of positions).
	KVBytesPerPosition int64
	// SessionBytes is what a session takes besides its KV cache at the default
	// context (ContextSize): activations, logits, attention scratch.
	SessionBytes int64
	Template     string // chat template in use: "alpaca", "nanochat", "chatml", "none", ...
	Details      []KV   // everything else worth printing
	// Notice is one line the user should see when the model is loaded, or ""
	// (a chat template the engine does not know, so it chats as completion).
	Notice string
}

// KV is one labelled value for display.
type KV struct{ Key, Value string }

// Mode selects how a session treats input.
type Mode int

const (
	// Chat wraps each input in the model's chat template and keeps the conversation.
	Chat Mode = iota
	// Completion feeds the input text as is and continues it.
	Completion
)

// Sampling configures token choice. The zero value is greedy.
type Sampling struct {
	Temperature float32 // 0 means greedy (argmax)
	TopP        float32 // nucleus sampling; 0 or >= 1 means off
	TopK        int     // 0 means off
	Seed        uint64  // 0 means "pick one from the clock"
	// RepeatPenalty > 1 divides positive logits (multiplies negative ones) of tokens
	// seen in the last RepeatLastN positions. 0 or 1 means off.
	RepeatPenalty float32
	RepeatLastN   int
}

// Options are a session's settings; they may be changed between turns.
type Options struct {
	Mode      Mode
	Sampling  Sampling
	MaxTokens int // per reply; 0 means until a stop token or the context is full
	// System is the system prompt of templates that take one (folded into the
	// first user turn by those without a system turn). It applies from the start
	// of a conversation: set it before the first turn or Reset after.
	System string
	// Think lets a model that thinks aloud before answering (Qwen3) do so and
	// shows its <think> block; off, the template asks it to answer at once.
	Think bool
	// KVCache is the encoding of the session's KV cache, fixed when the session
	// starts: "fp32", "fp16", or "" for the engine's choice.
	KVCache string
	// Context is how many positions the session may hold, fixed when it starts:
	// 0 is the model's default (Info.ContextSize); more than the model declares
	// is refused.
	Context int
}

// StopReason says why a reply ended.
type StopReason int

const (
	StopEnd         StopReason = iota // the model ended its reply (EOS, <|assistant_end|>, BOS)
	StopMaxTokens                     // Options.MaxTokens reached
	StopContextFull                   // no room left in the KV cache
	StopCanceled                      // the caller's context was canceled (Ctrl-C)
)

func (r StopReason) String() string {
	switch r {
	case StopEnd:
		return "end"
	case StopMaxTokens:
		return "max_tokens"
	case StopContextFull:
		return "context_full"
	case StopCanceled:
		return "canceled"
	}
	return "unknown"
}

// Reply is the outcome of one turn.
type Reply struct {
	PromptIDs []int // tokens fed for this turn (template included)
	// Rendered is this turn's text after the chat template, before tokenization
	// (empty where an engine builds the prompt from token ids).
	Rendered string
	// IDs are the tokens that followed the prompt: sampled ones, tokens forced by a
	// tool (nanochat's calculator), and the stop token when the model ended the reply.
	IDs  []int
	Text string // the reply as printed (stop token and template excluded)
	Stop StopReason
	// PromptTime covers the forward passes of the tokens fed before the reply
	// (the token the last reply left unfed, then PromptIDs) except the last
	// token's. GenTime covers the rest: one forward pass per token of IDs, the
	// prompt's last token's pass producing the first (the last of IDs is not
	// fed), with choosing and printing each. Every engine times its turns so
	// (Generate).
	PromptTime, GenTime time.Duration
}

// TokensPerSec is the reply's generation speed: its tokens over GenTime, which
// holds one forward pass per token, so that it means the same for every engine.
func (r Reply) TokensPerSec() float64 {
	if r.GenTime <= 0 {
		return 0
	}
	return float64(len(r.IDs)) / r.GenTime.Seconds()
}

// Session is one conversation with its KV cache.
type Session interface {
	// Turn processes input (wrapped in the chat template in Chat mode) and generates
	// a reply, calling emit with each printable piece as soon as it is decoded
	// (pieces are valid UTF-8 once joined; emit may be nil). Only the tokens that
	// are new since the previous turn are processed. When ctx is canceled the reply
	// stops after the current token and the conversation stays usable; canceled
	// while its prompt is fed, the turn leaves the conversation as it was.
	Turn(ctx context.Context, input string, emit func(piece string)) (Reply, error)
	// Reset starts a fresh conversation (the KV cache is cleared logically).
	Reset()
	// Used is the number of positions filled in the KV cache.
	Used() int
	// Options returns the session's settings; changes apply to the next turn.
	Options() *Options
}

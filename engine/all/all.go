// Package all lists InferPi's engines. It is the single registration point:
// adding an engine means adding it to Engines.
package all

import (
	"errors"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/llama"
)

// Engines in detection order. The Llama engine has no magic number (llama2.c files
// start with their config), so it must stay last: it claims whatever the others do not.
var Engines = []engine.Engine{
	gpt.Engine{},   // nanochat GPT: magic "NCHT"
	llama.Engine{}, // llama2.c: no magic, claims plausible headers; keep last
}

// ErrNoEngine is returned when no engine recognises a model file.
var ErrNoEngine = errors.New("model.bin: no engine recognises this file")

// Detect returns the engine for a model.bin whose first bytes are head. When
// none claims it, the error is ErrNoEngine, or what is wrong with a file that
// looks like a llama2.c header but has an implausible field
// (llama.HeaderProblem).
func Detect(head []byte) (engine.Engine, error) {
	for _, e := range Engines {
		if e.Detect(head) {
			return e, nil
		}
	}
	if err := llama.HeaderProblem(head); err != nil {
		return nil, err
	}
	return nil, ErrNoEngine
}

// Load detects the engine and loads the model.
func Load(files engine.Files) (engine.Model, error) {
	e, err := Detect(files.Model)
	if err != nil {
		return nil, err
	}
	return e.Load(files)
}

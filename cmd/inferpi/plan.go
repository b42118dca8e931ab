package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/internal/hostmem"
)

// hostMemory is what this process may still take (tests replace it).
var hostMemory = hostmem.Available

// planSession chooses the context of a session of the model at path in the
// memory this process may use (hostmem), before the model is read:
// opts.Context is the context asked for (0: the default), and becomes the
// planned one; stderr hears when memory made it smaller than asked. A model
// that cannot hold even a small context is refused with the numbers. When the
// headers do not check, nothing is planned (loading says what is wrong); when
// the context asked for is beyond the model's, the plan holds only the declared
// context, for the flag's check to name.
func planSession(path string, opts *engine.Options, stderr io.Writer) (engine.Plan, error) {
	fp, err := modeldir.Check(path)
	if err != nil {
		return engine.Plan{}, nil
	}
	if opts.Context < 0 || opts.Context > fp.Context {
		return engine.Plan{Declared: fp.Context}, nil
	}
	memory, source := hostMemory()
	p, err := engine.PlanContext(fp, opts.Context, memory)
	if err != nil {
		return engine.Plan{}, fmt.Errorf("%s: %w (%s)", path, err, source)
	}
	if p.Limited {
		fmt.Fprintf(stderr, "context %d instead of %d: what fits in the %s available (%s) beside the weights, with %s kept free\n",
			p.Context, p.Wanted, engine.FormatBytes(p.Memory), source, engine.FormatBytes(p.Margin))
	}
	opts.Context = p.Context
	return p, nil
}

// planned is the model's Info for a session of plan's context: the console
// says "context full" at it.
func planned(info engine.Info, plan engine.Plan) engine.Info {
	if plan.Context > 0 {
		info.ContextSize = plan.Context
	}
	return info
}

// contextDetails describe, for inspect, the context a session of the model at
// path gets in the memory this process may use and what that memory holds;
// none when the headers do not check.
func contextDetails(path string) []engine.KV {
	fp, err := modeldir.Check(path)
	if err != nil {
		return nil
	}
	memory, source := hostMemory()
	need := func(n int) string {
		return fmt.Sprintf("weights %s, a session of %d positions %s (KV cache %s)",
			engine.FormatBytes(fp.ModelBytes), n, engine.FormatBytes(fp.SessionAt(n)), engine.FormatBytes(int64(n)*fp.KVBytesPerPosition))
	}
	available := "the host does not say what is available"
	if memory > 0 {
		available = fmt.Sprintf("%s available (%s), %s kept free", engine.FormatBytes(memory), source, engine.FormatBytes(engine.Margin(memory)))
	}
	p, err := engine.PlanContext(fp, 0, memory)
	if err != nil {
		var full *engine.NoRoomError
		if errors.As(err, &full) {
			return []engine.KV{
				{Key: "session context", Value: "none: too large for this machine"},
				{Key: "memory", Value: need(full.Context) + "; " + available},
			}
		}
		return nil
	}
	return []engine.KV{
		{Key: "session context", Value: p.String()},
		{Key: "memory", Value: need(p.Context) + "; " + available},
	}
}

package console

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/inferpi/inferpi/engine"
)

// setting is one value that /NAME shows and /NAME VALUE sets.
type setting struct {
	name, help string
	get        func(o *engine.Options) string
	set        func(o *engine.Options, v string) error
}

var settings = []setting{
	{"temp", "temperature; 0 is greedy (always the most likely token)",
		func(o *engine.Options) string { return fmtFloat(o.Sampling.Temperature) },
		func(o *engine.Options, v string) error {
			f, err := TempRange.Parse(v)
			o.Sampling.Temperature = float32(f)
			return err
		}},
	{"topp", "top-p (nucleus) sampling; 0 or 1 is off",
		func(o *engine.Options) string { return fmtFloat(o.Sampling.TopP) },
		func(o *engine.Options, v string) error {
			f, err := TopPRange.Parse(v)
			o.Sampling.TopP = float32(f)
			return err
		}},
	{"topk", "top-k sampling; 0 is off",
		func(o *engine.Options) string { return strconv.Itoa(o.Sampling.TopK) },
		func(o *engine.Options, v string) error {
			n, err := CountRange.ParseInt(v)
			o.Sampling.TopK = n
			return err
		}},
	{"seed", "random seed; " + randomSeedHelp,
		func(o *engine.Options) string { return strconv.FormatUint(o.Sampling.Seed, 10) },
		func(o *engine.Options, v string) error {
			n, err := ParseSeed(v)
			o.Sampling.Seed = n
			return err
		}},
	{"max", "most tokens per reply; 0 is until the model stops or the context is full",
		func(o *engine.Options) string { return strconv.Itoa(o.MaxTokens) },
		func(o *engine.Options, v string) error {
			n, err := CountRange.ParseInt(v)
			o.MaxTokens = n
			return err
		}},
	{"penalty", "repetition penalty (e.g. 1.1); 0 or 1 is off",
		func(o *engine.Options) string { return fmtFloat(o.Sampling.RepeatPenalty) },
		func(o *engine.Options, v string) error {
			f, err := PenaltyRange.Parse(v)
			o.Sampling.RepeatPenalty = float32(f)
			return err
		}},
	{"think", "on: a model that thinks aloud (Qwen3) thinks before answering, its <think> block shown",
		func(o *engine.Options) string { return onOff(o.Think) },
		func(o *engine.Options, v string) error {
			switch v {
			case "on":
				o.Think = true
			case "off":
				o.Think = false
			default:
				return fmt.Errorf("%q is not on or off", v)
			}
			return nil
		}},
	{"lastn", "how many recent tokens the repetition penalty looks at; 0 is all",
		func(o *engine.Options) string { return strconv.Itoa(o.Sampling.RepeatLastN) },
		func(o *engine.Options, v string) error {
			n, err := CountRange.ParseInt(v)
			o.Sampling.RepeatLastN = n
			return err
		}},
}

// command runs a /command line and reports whether the console should end.
func (c *Console) command(line string) (quit bool) {
	fields := strings.Fields(line)
	name, args := strings.TrimPrefix(fields[0], "/"), fields[1:]
	switch name {
	case "exit", "quit":
		return true
	case "reset":
		c.Session.Reset()
		fmt.Fprintln(c.Out, "[new conversation]")
		return false
	case "help", "?":
		c.help()
		return false
	case "settings":
		c.showSettings()
		return false
	case "system":
		// The prompt opens the conversation, so setting it starts a new one.
		opts := c.Session.Options()
		opts.System = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), fields[0]))
		c.Session.Reset()
		if opts.System == "" {
			fmt.Fprintln(c.Out, "[new conversation without a system prompt]")
		} else {
			fmt.Fprintf(c.Out, "[new conversation; system prompt: %s]\n", opts.System)
		}
		return false
	}
	for _, s := range settings {
		if s.name != name {
			continue
		}
		opts := c.Session.Options()
		switch len(args) {
		case 0:
			fmt.Fprintf(c.Out, "%s = %s\n", s.name, s.get(opts))
		case 1:
			next := *opts
			if err := s.set(&next, args[0]); err != nil {
				fmt.Fprintf(c.Out, "/%s: %v\n", s.name, err)
				return false
			}
			*opts = next
			fmt.Fprintf(c.Out, "%s = %s\n", s.name, s.get(opts))
		default:
			fmt.Fprintf(c.Out, "usage: /%s [VALUE]\n", s.name)
		}
		return false
	}
	fmt.Fprintf(c.Out, "unknown command /%s; /help lists the commands\n", name)
	return false
}

func (c *Console) help() {
	fmt.Fprintln(c.Out, "Type a message and press Enter; the reply streams as it is generated.")
	fmt.Fprintln(c.Out, "Ctrl-C stops a reply (not the program).")
	exit := c.ExitHelp
	if exit == "" {
		exit = "leave"
	}
	fmt.Fprintln(c.Out, "  /exit            "+exit)
	fmt.Fprintln(c.Out, "  /reset           start a new conversation (clears the context)")
	fmt.Fprintln(c.Out, "  /settings        show every setting")
	fmt.Fprintln(c.Out, "  /system [TEXT]   set the system prompt (none without TEXT) and start a new conversation")
	fmt.Fprintln(c.Out, "  /help            this text")
	for _, s := range settings {
		fmt.Fprintf(c.Out, "  /%-15s %s\n", s.name+" [V]", s.help)
	}
}

func (c *Console) showSettings() {
	opts := c.Session.Options()
	for _, s := range settings {
		fmt.Fprintf(c.Out, "  %-8s %s\n", s.name, s.get(opts))
	}
	mode := "chat"
	if opts.Mode == engine.Completion {
		mode = "completion"
	}
	fmt.Fprintf(c.Out, "  %-8s %s (template %s)\n", "mode", mode, c.Info.Template)
	system := opts.System
	if system == "" {
		system = "(none)"
	}
	fmt.Fprintf(c.Out, "  %-8s %s\n", "system", system)
	fmt.Fprintf(c.Out, "  %-8s %d of %d tokens used\n", "context", c.Session.Used(), c.contextSize())
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func fmtFloat(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }

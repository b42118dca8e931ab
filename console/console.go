// Package console is InferPi's interactive chat loop, shared by the hosted
// `inferpi chat` and the bare-metal firmware (over the UART).
//
// It touches no terminal, signal or file: lines come from a LineReader (hosted: a
// bufio reader over stdin; firmware: its UART line editor), output goes to an
// io.Writer, and "stop the running reply" arrives on a channel (hosted: SIGINT;
// firmware: a Ctrl-C byte from the UART), which cancels the turn's context.
package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/sample"
)

// LineReader supplies the user's input one line at a time.
type LineReader interface {
	// ReadLine returns the next line without its line ending, or io.EOF when the
	// input has ended.
	ReadLine() (string, error)
}

// Console runs a chat with one session.
type Console struct {
	Session engine.Session
	Info    engine.Info // shown in the banner and by /settings
	In      LineReader
	Out     io.Writer
	// Interrupt delivers one value per stop request (Ctrl-C). Requests made while
	// no reply is running are dropped. May be nil.
	Interrupt <-chan struct{}
	// ExitHelp says what /exit does in /help ("leave" when empty; the firmware
	// returns to its model menu).
	ExitHelp string
}

// DefaultOptions are the chat defaults of both `inferpi chat` and the firmware:
// greedy, top-p 0.9 once a temperature is set, no repetition penalty (over the
// last 64 tokens once one is set), no reply limit.
var DefaultOptions = engine.Options{
	Mode:     engine.Chat,
	Sampling: engine.Sampling{TopP: 0.9, RepeatLastN: 64},
}

// Prompt is printed before each line of input.
const Prompt = "> "

// Prompter is a LineReader that shows the prompt itself (a line editor, which
// redraws the prompt with the line); the console then leaves the prompt to it.
type Prompter interface {
	SetPrompt(prompt string)
}

// Run chats until /exit or the end of input. A random seed (0) is replaced by
// the one picked, which /settings shows.
func (c *Console) Run() error {
	if s := &c.Session.Options().Sampling; s.Seed == 0 {
		s.Seed = sample.ClockSeed()
	}
	c.banner()
	p, prompts := c.In.(Prompter)
	if prompts {
		p.SetPrompt(Prompt)
	}
	for {
		if !prompts {
			fmt.Fprint(c.Out, Prompt)
		}
		line, err := c.In.ReadLine()
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(c.Out)
			return nil
		}
		if err != nil {
			return err
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "/"):
			if quit := c.command(line); quit {
				return nil
			}
		default:
			c.turn(line)
		}
	}
}

func (c *Console) banner() {
	i := c.Info
	fmt.Fprintf(c.Out, "%s model, %s weights, %d parameters, context %d tokens, template %s\n",
		i.Engine, i.Encoding, i.Params, c.contextSize(), i.Template)
	if i.Notice != "" {
		fmt.Fprintln(c.Out, i.Notice)
	}
	fmt.Fprintln(c.Out, "Type a message, or /help for commands. Ctrl-C stops a reply.")
}

// turn runs one reply, cancelling it when an interrupt arrives.
func (c *Console) turn(input string) {
	c.drainInterrupts()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		select {
		case <-c.Interrupt: // a nil channel never delivers
			cancel()
		case <-done:
		}
	}()
	reply, err := c.Session.Turn(ctx, input, func(piece string) { io.WriteString(c.Out, piece) })
	close(done)
	cancel()
	if err != nil {
		fmt.Fprintf(c.Out, "\nerror: %v\n", err)
		return
	}
	if reply.Stop == engine.StopContextFull && len(reply.IDs) == 0 {
		c.noRoom(reply)
		return
	}
	fmt.Fprintln(c.Out)
	switch reply.Stop {
	case engine.StopCanceled:
		fmt.Fprintln(c.Out, "[stopped]")
	case engine.StopMaxTokens:
		fmt.Fprintf(c.Out, "[stopped at the limit of %d tokens per reply; see /max]\n", c.Session.Options().MaxTokens)
	case engine.StopContextFull:
		fmt.Fprintf(c.Out, "[context full: all %d positions are used; type /reset to start a new conversation]\n", c.contextSize())
	}
	fmt.Fprintln(c.Out, "---")
	fmt.Fprintf(c.Out, "Generation: %d tokens in %d ms (%.1f tokens/sec)\n",
		len(reply.IDs), reply.GenTime.Milliseconds(), reply.TokensPerSec())
}

// noRoom says why a message found no room in the context (nothing of it was
// fed, and the conversation goes on as it was). /reset is offered only when a
// new conversation would take the message.
func (c *Console) noRoom(reply engine.Reply) {
	size := c.contextSize()
	if n := len(reply.PromptIDs); c.Session.Used() == 0 || n > size {
		fmt.Fprintf(c.Out, "[message too long: it is %d tokens and the context holds %d; the conversation goes on without it]\n", n, size)
		return
	}
	fmt.Fprintf(c.Out, "[context full: this conversation fills all %d positions of the context; type /reset to start a new one]\n", size)
}

// contextSize is how many positions the session holds: Options.Context when it
// sets one, else the model's default.
func (c *Console) contextSize() int {
	return ContextSize(c.Session, c.Info)
}

// ContextSize is how many positions sess holds, for a model described by info.
func ContextSize(sess engine.Session, info engine.Info) int {
	if n := sess.Options().Context; n > 0 {
		return n
	}
	return info.ContextSize
}

// drainInterrupts forgets stop requests made while no reply was running.
func (c *Console) drainInterrupts() {
	for {
		select {
		case <-c.Interrupt:
		default:
			return
		}
	}
}

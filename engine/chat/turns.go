package chat

import "fmt"

// Reply is the assistant message for a reply the model generated after this
// template's generation prompt: the text itself, after the empty think block the
// prompt ended with if NoThink applied (that block is part of the turn as fed).
func (t Template) Reply(text string) Message {
	return Message{Role: "assistant", Content: t.prefill() + text}
}

// Fed returns the text a session's cache holds after the conversation prev:
// nothing for no messages; if prev ends with an assistant message, the rendering
// of the messages before it with the generation prompt and then the reply as
// generated (its Content, verbatim); otherwise Render(prev, false).
func (t Template) Fed(prev []Message) string {
	n := len(prev)
	switch {
	case n == 0:
		return ""
	case prev[n-1].Role == "assistant":
		// The think block, if any, is in the reply's Content (Reply).
		return t.render(prev[:n-1], true) + prev[n-1].Content
	}
	return t.render(prev, false)
}

// Continue returns the text that turns a cache holding Fed(prev) into one
// holding Render(prev+next, addAssistant): the rest of that rendering. If the
// template renders prev differently once next follows (a trimmed reply, a
// generation prompt that differs from the assistant turn's opening), the text fed
// is right only up to some point: Continue returns a *RerenderError saying where.
func (t Template) Continue(prev, next []Message, addAssistant bool) (string, error) {
	fed := t.Fed(prev)
	all := make([]Message, 0, len(prev)+len(next))
	all = append(append(all, prev...), next...)
	full := t.Render(all, addAssistant)
	at := commonPrefix(fed, full)
	if at < len(fed) {
		return "", &RerenderError{Template: t.Name(), At: at}
	}
	return full[len(fed):], nil
}

// A RerenderError says that Fed(prev) and the rendering of the longer
// conversation agree only on their first At bytes. A session keeps the cached
// tokens whose text lies within those bytes and feeds the rendering from the
// end of the last one kept.
type RerenderError struct {
	Template string
	At       int
}

func (e *RerenderError) Error() string {
	return fmt.Sprintf("chat: template %s renders the earlier turns differently from byte %d on", e.Template, e.At)
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

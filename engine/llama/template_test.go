package llama

import (
	"strings"
	"testing"
)

func TestParseSettings(t *testing.T) {
	for in, want := range map[string]Template{"": Alpaca, `{}`: Alpaca, `{"template":"alpaca"}`: Alpaca, `{"template":"none","x":[1]}`: None} {
		got, _, err := parseSettings([]byte(in))
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{`{"template":"nanochat"}`, `{"template":3}`, `[`, `null x`} {
		if _, _, err := parseSettings([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "inferpi.json: ") {
			t.Errorf("%q: error %v", in, err)
		}
	}
}

// FuzzParseSettings: inferpi.json gives a template or an error naming the file.
func FuzzParseSettings(f *testing.F) {
	for _, s := range []string{`{"template":"alpaca"}`, `{"template":"none"}`, `{"template":""}`, `{`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpl, _, err := parseSettings(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "inferpi.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if tmpl != Alpaca && tmpl != None {
			t.Fatalf("template %d", tmpl)
		}
	})
}

package sentencepiece

import (
	"path/filepath"
	"testing"

	"github.com/inferpi/inferpi/internal/testfile"
)

// FuzzParse: no input panics; a parsed model's pieces are valid UTF-8 with
// known types, and its special ids name pieces.
func FuzzParse(f *testing.F) {
	f.Add([]byte(small()))
	f.Add(testfile.Read(f, filepath.Join(hfDir, "llama-tied-sharded-f32", "tokenizer.model")))
	f.Add([]byte(pb(nil).bytes(1, piece("x", 0, 9))))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "fuzz.model")
		if err != nil {
			return
		}
		if err := m.check(); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int{m.UnkID, m.BOSID, m.EOSID, m.PadID} {
			if id >= len(m.Pieces) {
				t.Fatalf("id %d of %d pieces", id, len(m.Pieces))
			}
		}
	})
}

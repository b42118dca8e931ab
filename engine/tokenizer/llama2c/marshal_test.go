package llama2c

import (
	"bytes"
	"os"
	"testing"
)

// Marshal writes llama2.c's own tokenizer.bin (tokenizer.py's export of Llama
// 2's vocabulary) back byte for byte.
func TestMarshalWritesTokenizerPy(t *testing.T) {
	tok := loadFixture(t)
	data, err := os.ReadFile(fixtureDir + "tokenizer.bin")
	if err != nil {
		t.Fatal(err)
	}
	if got := Marshal(tok.pieces, tok.scores); !bytes.Equal(got, data) {
		t.Errorf("Marshal wrote %d bytes that differ from tokenizer.bin's %d", len(got), len(data))
	}
}

package llama

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// smallModel builds a tiny fp32 model (dim 8, 2 heads, 1 kv head, untied
// classifier, vocab 260) and its tokenizer, with deterministic weights.
func smallModel(t testing.TB) (model, tok []byte) {
	t.Helper()
	cfg := []int32{8, 16, 1, 2, 1, -260, 16}
	var m bytes.Buffer
	for _, v := range cfg {
		binary.Write(&m, binary.LittleEndian, v)
	}
	c, err := ParseConfig(m.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < c.Floats(); i++ {
		binary.Write(&m, binary.LittleEndian, float32(math.Sin(float64(i)*0.7)))
	}
	var k bytes.Buffer
	binary.Write(&k, binary.LittleEndian, uint32(6))
	for i := 0; i < 260; i++ {
		s := []string{"<unk>", "\n<s>\n", "\n</s>\n"}
		piece := "ab"
		if i < 3 {
			piece = s[i]
		} else if i < 259 {
			piece = string([]byte{'<', '0', 'x', "0123456789ABCDEF"[(i-3)>>4], "0123456789ABCDEF"[(i-3)&15], '>'})
		}
		binary.Write(&k, binary.LittleEndian, float32(0))
		binary.Write(&k, binary.LittleEndian, int32(len(piece)))
		k.WriteString(piece)
	}
	return m.Bytes(), k.Bytes()
}

package sentencepiece

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/internal/testfile"
)

const hfDir = "../../testdata/hf"

// The fixtures' models as their READMEs describe them: Meta's Llama 2 model
// and a 1024-piece BPE model trained for the fixture, both with byte fallback,
// <unk> <s> </s> at 0, 1, 2 and the 256 byte pieces after them; the last
// pieces and scores are those llama.cpp's converter wrote to the GGUF.
func TestFixtureModels(t *testing.T) {
	for _, c := range []struct {
		fixture       string
		pieces        int
		last          []string
		lastScore     float32
		removeExtraWS bool
	}{
		{"llama-spm-bf16", 32000, []string{"왕", "收", "弘", "给"}, -31740, false},
		{"llama-tied-sharded-f32", 1024, []string{"`", "Q", "Z", "ü"}, -764, false},
	} {
		m, err := Parse(testfile.Read(t, filepath.Join(hfDir, c.fixture, "tokenizer.model")), "tokenizer.model")
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Pieces) != c.pieces {
			t.Fatalf("%s: %d pieces, want %d", c.fixture, len(m.Pieces), c.pieces)
		}
		if m.ModelType != BPE || !m.ByteFallback || !m.AddDummyPrefix || m.RemoveExtraWhitespaces != c.removeExtraWS ||
			m.UnkID != 0 || m.BOSID != 1 || m.EOSID != 2 || m.PadID != -1 || m.TreatWhitespaceAsSuffix {
			t.Errorf("%s: settings %+v", c.fixture, *m)
		}
		types := map[Type]int{}
		for _, p := range m.Pieces {
			types[p.Type]++
		}
		if types[Unknown] != 1 || types[Control] != 2 || types[Byte] != 256 || types[Normal] != c.pieces-259 {
			t.Errorf("%s: piece types %v", c.fixture, types)
		}
		for i, want := range []Piece{{"<unk>", 0, Unknown}, {"<s>", 0, Control}, {"</s>", 0, Control}, {"<0x00>", 0, Byte}, {"<0xFF>", 0, Byte}} {
			id := i
			if i == 4 {
				id = 258
			}
			if m.Pieces[id] != want {
				t.Errorf("%s: piece %d is %+v, want %+v", c.fixture, id, m.Pieces[id], want)
			}
		}
		for i, want := range c.last {
			id := c.pieces - len(c.last) + i
			if p := m.Pieces[id]; p.Text != want || p.Type != Normal {
				t.Errorf("%s: piece %d is %+v, want %q", c.fixture, id, p, want)
			}
		}
		if s := m.Pieces[c.pieces-1].Score; s != c.lastScore {
			t.Errorf("%s: last score %v, want %v", c.fixture, s, c.lastScore)
		}
	}
}

// pb builds protocol buffer bytes.
type pb []byte

func (b pb) key(field, typ int) pb { return binary.AppendUvarint(b, uint64(field<<3|typ)) }
func (b pb) varint(field int, v uint64) pb {
	return binary.AppendUvarint(b.key(field, wireVarint), v)
}
func (b pb) bytes(field int, v []byte) pb {
	return append(binary.AppendUvarint(b.key(field, wireBytes), uint64(len(v))), v...)
}
func (b pb) fixed64(field int, v uint64) pb {
	return binary.LittleEndian.AppendUint64(b.key(field, wireFixed64), v)
}
func (b pb) float(field int, v float32) pb {
	return binary.LittleEndian.AppendUint32(b.key(field, wireFixed32), math.Float32bits(v))
}

func piece(text string, score float32, typ Type) []byte {
	b := pb(nil).bytes(1, []byte(text)).float(2, score)
	if typ != Normal {
		b = b.varint(3, uint64(typ))
	}
	return b
}

// small is a model of four pieces with a trainer and a normalizer spec, a
// skipped field of every wire type, and a split trainer_spec.
func small() pb {
	return pb(nil).
		bytes(1, piece("<unk>", 0, Unknown)).
		bytes(1, piece("▁a", -1.5, Normal)).
		bytes(2, pb(nil).varint(3, uint64(BPE)).varint(35, 1)).
		bytes(1, piece("<0x41>", 0, Byte)).
		bytes(1, piece("b", -2, Normal)).
		bytes(3, pb(nil).bytes(1, []byte("identity")).varint(3, 0).bytes(2, []byte{1, 2, 3})).
		bytes(2, pb(nil).varint(41, math.MaxUint64).varint(42, 3).float(10, 0.9995)). // bos_id -1, eos 3
		bytes(4, []byte("self test")).
		fixed64(99, 1)
}

func TestParseSynthetic(t *testing.T) {
	m, err := Parse(small(), "small.model")
	if err != nil {
		t.Fatal(err)
	}
	want := []Piece{{"<unk>", 0, Unknown}, {"▁a", -1.5, Normal}, {"<0x41>", 0, Byte}, {"b", -2, Normal}}
	if len(m.Pieces) != len(want) {
		t.Fatalf("%d pieces", len(m.Pieces))
	}
	for i := range want {
		if m.Pieces[i] != want[i] {
			t.Errorf("piece %d: %+v, want %+v", i, m.Pieces[i], want[i])
		}
	}
	if m.ModelType != BPE || !m.ByteFallback || m.BOSID != -1 || m.EOSID != 3 || m.UnkID != 0 ||
		m.AddDummyPrefix || !m.RemoveExtraWhitespaces || m.NormalizerName != "identity" {
		t.Errorf("settings %+v", *m)
	}
}

func TestParseErrors(t *testing.T) {
	good := small()
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no pieces"},
		{"truncated", good[:len(good)-3], "not a SentencePiece model"},
		{"text", []byte("this is not a model"), "not a SentencePiece model"},
		{"bad type", pb(nil).bytes(1, piece("x", 0, 9)), `piece 0 ("x") has type 9`},
		{"bad utf-8", pb(nil).bytes(1, piece("\xff", 0, Normal)), "not valid UTF-8"},
		{"NaN score", pb(nil).bytes(1, piece("x", float32(math.NaN()), Normal)), "has score NaN"},
		{"score as varint", pb(nil).bytes(1, pb(nil).varint(2, 1)), "piece 0: field 2 has wire type 0, want 5"},
		{"pieces as varint", pb(nil).varint(1, 5), "field 1 has wire type 0, want 2"},
		{"unk out of range", pb(nil).bytes(1, piece("x", 0, Normal)).bytes(2, pb(nil).varint(40, 7)), "unk_id 7 is not a piece of the 1"},
		{"model type", pb(nil).bytes(1, piece("x", 0, Normal)).bytes(2, pb(nil).varint(3, 8).varint(41, 0).varint(42, 0)), "unknown model_type 8"},
		{"group", pb(nil).key(7, 3), "wire type 3"},
		{"long length", binary.AppendUvarint(pb(nil).key(1, wireBytes), 100), "a 100-byte value where 0 bytes remain"},
		{"overlong varint", []byte{0x38, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "varint"},
	} {
		_, err := Parse(c.data, "bad.model")
		if err == nil || !strings.HasPrefix(err.Error(), "bad.model: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming the file and %q", c.name, err, c.want)
		}
	}
}

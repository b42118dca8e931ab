// Package sentencepiece reads a SentencePiece model file (tokenizer.model):
// the pieces with their scores and types, and the trainer and normalizer
// settings a converter needs. The file is a protocol buffer message,
// sentencepiece_model.proto's ModelProto:
//
//	ModelProto      { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2;
//	                  NormalizerSpec normalizer_spec = 3; ... }
//	SentencePiece   { string piece = 1; float score = 2; Type type = 3 [default NORMAL]; }
//	TrainerSpec     { ModelType model_type = 3 [default UNIGRAM]; bool treat_whitespace_as_suffix = 24;
//	                  bool byte_fallback = 35; int32 unk_id = 40 [0]; bos_id = 41 [1];
//	                  eos_id = 42 [2]; pad_id = 43 [-1]; ... }
//	NormalizerSpec  { string name = 1; bool add_dummy_prefix = 3 [true];
//	                  bool remove_extra_whitespaces = 4 [true]; bool escape_whitespaces = 5 [true]; ... }
//
// Other fields are skipped. A message field that occurs twice is merged, as
// protocol buffers do.
package sentencepiece

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// Type is a piece's type (SentencePiece.Type), numbered as GGUF's token types.
type Type int32

const (
	Normal      Type = 1
	Unknown     Type = 2
	Control     Type = 3
	UserDefined Type = 4
	Unused      Type = 5
	Byte        Type = 6
)

// ModelType is the segmentation algorithm (TrainerSpec.ModelType).
type ModelType int32

const (
	Unigram ModelType = 1
	BPE     ModelType = 2
	Word    ModelType = 3
	Char    ModelType = 4
)

func (m ModelType) String() string {
	switch m {
	case Unigram:
		return "unigram"
	case BPE:
		return "bpe"
	case Word:
		return "word"
	case Char:
		return "char"
	}
	return fmt.Sprintf("model type %d", int32(m))
}

// Piece is one entry of the vocabulary; its index is its id.
type Piece struct {
	Text  string // "▁" (U+2581) stands for a space
	Score float32
	Type  Type
}

// Model is a parsed tokenizer.model.
type Model struct {
	Pieces []Piece

	ModelType               ModelType
	ByteFallback            bool // unknown characters become <0xXX> byte pieces
	TreatWhitespaceAsSuffix bool
	UnkID, BOSID, EOSID     int // -1 when disabled
	PadID                   int

	NormalizerName         string
	AddDummyPrefix         bool // a "▁" is put before the text
	RemoveExtraWhitespaces bool
	EscapeWhitespaces      bool // spaces become "▁"
}

// Parse reads a tokenizer.model. name labels errors. Every piece must be valid
// UTF-8 with a known type, and the special ids must name pieces.
func Parse(data []byte, name string) (*Model, error) {
	m := &Model{
		ModelType: Unigram, UnkID: 0, BOSID: 1, EOSID: 2, PadID: -1,
		AddDummyPrefix: true, RemoveExtraWhitespaces: true, EscapeWhitespaces: true,
	}
	if err := m.parse(data); err != nil {
		return nil, fmt.Errorf("%s: not a SentencePiece model: %v", name, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return m, nil
}

func (m *Model) parse(data []byte) error {
	w := &wire{b: data}
	return w.fields(func(field, typ int) error {
		var parse func([]byte) error
		switch field {
		case 1:
			parse = m.parsePiece
		case 2:
			parse = m.parseTrainer
		case 3:
			parse = m.parseNormalizer
		default:
			return w.skip(typ)
		}
		msg, err := w.bytesField(field, typ)
		if err != nil {
			return err
		}
		return parse(msg)
	})
}

func (m *Model) parsePiece(msg []byte) error {
	p := Piece{Type: Normal}
	w := &wire{b: msg}
	err := w.fields(func(field, typ int) (err error) {
		switch field {
		case 1:
			p.Text, err = w.stringField(field, typ)
		case 2:
			p.Score, err = w.float32Field(field, typ)
		case 3:
			var t int32
			t, err = w.int32Field(field, typ)
			p.Type = Type(t)
		default:
			err = w.skip(typ)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("piece %d: %v", len(m.Pieces), err)
	}
	m.Pieces = append(m.Pieces, p)
	return nil
}

func (m *Model) parseTrainer(msg []byte) error {
	w := &wire{b: msg}
	err := w.fields(func(field, typ int) (err error) {
		var id *int
		switch field {
		case 3:
			var t int32
			t, err = w.int32Field(field, typ)
			m.ModelType = ModelType(t)
		case 24:
			m.TreatWhitespaceAsSuffix, err = w.boolField(field, typ)
		case 35:
			m.ByteFallback, err = w.boolField(field, typ)
		case 40:
			id = &m.UnkID
		case 41:
			id = &m.BOSID
		case 42:
			id = &m.EOSID
		case 43:
			id = &m.PadID
		default:
			err = w.skip(typ)
		}
		if id != nil {
			var v int32
			v, err = w.int32Field(field, typ)
			*id = int(v)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("trainer_spec: %v", err)
	}
	return nil
}

func (m *Model) parseNormalizer(msg []byte) error {
	w := &wire{b: msg}
	err := w.fields(func(field, typ int) (err error) {
		switch field {
		case 1:
			m.NormalizerName, err = w.stringField(field, typ)
		case 3:
			m.AddDummyPrefix, err = w.boolField(field, typ)
		case 4:
			m.RemoveExtraWhitespaces, err = w.boolField(field, typ)
		case 5:
			m.EscapeWhitespaces, err = w.boolField(field, typ)
		default:
			err = w.skip(typ)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("normalizer_spec: %v", err)
	}
	return nil
}

// check validates what parse read.
func (m *Model) check() error {
	if len(m.Pieces) == 0 {
		return fmt.Errorf("no pieces")
	}
	for id, p := range m.Pieces {
		if !utf8.ValidString(p.Text) {
			return fmt.Errorf("piece %d (%q) is not valid UTF-8", id, p.Text)
		}
		if p.Type < Normal || p.Type > Byte {
			return fmt.Errorf("piece %d (%q) has type %d, want 1..6", id, p.Text, p.Type)
		}
		if math.IsNaN(float64(p.Score)) || math.IsInf(float64(p.Score), 0) {
			return fmt.Errorf("piece %d (%q) has score %v", id, p.Text, p.Score)
		}
	}
	if m.ModelType < Unigram || m.ModelType > Char {
		return fmt.Errorf("trainer_spec: unknown model_type %d", int32(m.ModelType))
	}
	for _, id := range []struct {
		name string
		v    int
	}{{"unk_id", m.UnkID}, {"bos_id", m.BOSID}, {"eos_id", m.EOSID}, {"pad_id", m.PadID}} {
		if id.v < -1 || id.v >= len(m.Pieces) {
			return fmt.Errorf("trainer_spec: %s %d is not a piece of the %d", id.name, id.v, len(m.Pieces))
		}
	}
	return nil
}

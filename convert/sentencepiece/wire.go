package sentencepiece

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Protocol buffer wire types (protobuf's encoding documentation).
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// wire reads the fields of one protocol buffer message.
type wire struct {
	b   []byte
	off int
}

var errTruncated = errors.New("message ends inside a field")

func (w *wire) done() bool { return w.off == len(w.b) }

func (w *wire) varint() (uint64, error) {
	v, n := binary.Uvarint(w.b[w.off:])
	if n <= 0 {
		if n == 0 {
			return 0, errTruncated
		}
		return 0, errors.New("varint longer than 64 bits")
	}
	w.off += n
	return v, nil
}

// key reads a field's number and wire type.
func (w *wire) key() (field int, typ int, err error) {
	k, err := w.varint()
	if err != nil {
		return 0, 0, err
	}
	if k>>3 == 0 || k>>3 > math.MaxInt32 {
		return 0, 0, fmt.Errorf("field number %d", k>>3)
	}
	return int(k >> 3), int(k & 7), nil
}

// bytes reads a length-delimited value (a string or an embedded message).
func (w *wire) bytes() ([]byte, error) {
	n, err := w.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(w.b)-w.off) {
		return nil, fmt.Errorf("a %d-byte value where %d bytes remain", n, len(w.b)-w.off)
	}
	v := w.b[w.off : w.off+int(n)]
	w.off += int(n)
	return v, nil
}

func (w *wire) fixed32() (uint32, error) {
	if len(w.b)-w.off < 4 {
		return 0, errTruncated
	}
	v := binary.LittleEndian.Uint32(w.b[w.off:])
	w.off += 4
	return v, nil
}

// skip passes over a field this reader does not use.
func (w *wire) skip(typ int) error {
	switch typ {
	case wireVarint:
		_, err := w.varint()
		return err
	case wireFixed64:
		if len(w.b)-w.off < 8 {
			return errTruncated
		}
		w.off += 8
		return nil
	case wireBytes:
		_, err := w.bytes()
		return err
	case wireFixed32:
		_, err := w.fixed32()
		return err
	}
	return fmt.Errorf("wire type %d is not used by SentencePiece models", typ)
}

// expect checks that a field has the wire type its declaration gives.
func expect(field, typ, want int) error {
	if typ != want {
		return fmt.Errorf("field %d has wire type %d, want %d", field, typ, want)
	}
	return nil
}

// fields reads the message's fields in turn, handing each one's number and wire
// type to read, which reads or skips its value; it stops at the first error.
func (w *wire) fields(read func(field, typ int) error) error {
	for !w.done() {
		field, typ, err := w.key()
		if err != nil {
			return err
		}
		if err := read(field, typ); err != nil {
			return err
		}
	}
	return nil
}

// The typed fields check the wire type their declaration gives, then read the
// value.

// bytesField reads a string or an embedded message.
func (w *wire) bytesField(field, typ int) ([]byte, error) {
	if err := expect(field, typ, wireBytes); err != nil {
		return nil, err
	}
	return w.bytes()
}

func (w *wire) stringField(field, typ int) (string, error) {
	b, err := w.bytesField(field, typ)
	return string(b), err
}

// int32Field reads a proto int32, a varint (negative values take ten bytes).
func (w *wire) int32Field(field, typ int) (int32, error) {
	if err := expect(field, typ, wireVarint); err != nil {
		return 0, err
	}
	v, err := w.varint()
	return int32(v), err
}

func (w *wire) boolField(field, typ int) (bool, error) {
	if err := expect(field, typ, wireVarint); err != nil {
		return false, err
	}
	v, err := w.varint()
	return v != 0, err
}

func (w *wire) float32Field(field, typ int) (float32, error) {
	if err := expect(field, typ, wireFixed32); err != nil {
		return 0, err
	}
	bits, err := w.fixed32()
	return math.Float32frombits(bits), err
}

package pickle

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"
)

// Opcodes of the binary pickle protocols (CPython Lib/pickletools.py). The text
// opcodes of protocol 0 (INT, LONG, FLOAT, STRING, UNICODE, GET, PUT, PERSID,
// INST, OBJ) and the extension registry (EXT1/2/4) are not supported: neither
// torch nor tiktoken writes them.
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opNone           = 'N'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opBinString      = 'T'
	opShortBinString = 'U'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	// protocol 2
	opProto    = 0x80
	opNewObj   = 0x81
	opTuple1   = 0x85
	opTuple2   = 0x86
	opTuple3   = 0x87
	opNewTrue  = 0x88
	opNewFalse = 0x89
	opLong1    = 0x8a
	opLong4    = 0x8b
	// protocol 3
	opBinBytes      = 'B'
	opShortBinBytes = 'C'
	// protocol 4
	opShortBinUnicode = 0x8c
	opBinUnicode8     = 0x8d
	opBinBytes8       = 0x8e
	opEmptySet        = 0x8f
	opAddItems        = 0x90
	opFrozenSet       = 0x91
	opNewObjEx        = 0x92
	opStackGlobal     = 0x93
	opMemoize         = 0x94
	opFrame           = 0x95
	// protocol 5
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadonlyBuffer = 0x98
)

// HighestProtocol is the newest pickle protocol this package reads.
const HighestProtocol = 5

// MaxLongBytes bounds the integers a pickle may hold: LONG1's limit, 255 bytes
// (2040 bits). Python writes longer ones with LONG4; no tensor size, rank or id
// comes near, and a multi-megabyte integer would only cost time to decode and
// print.
const MaxLongBytes = 255

var opNames = map[byte]string{
	opMark: "MARK", opStop: "STOP", opPop: "POP", opPopMark: "POP_MARK", opDup: "DUP",
	opBinInt: "BININT", opBinInt1: "BININT1", opBinInt2: "BININT2", opNone: "NONE",
	opBinPersID: "BINPERSID", opReduce: "REDUCE", opBinString: "BINSTRING",
	opShortBinString: "SHORT_BINSTRING", opBinUnicode: "BINUNICODE", opAppend: "APPEND",
	opBuild: "BUILD", opGlobal: "GLOBAL", opDict: "DICT", opEmptyDict: "EMPTY_DICT",
	opAppends: "APPENDS", opBinGet: "BINGET", opLongBinGet: "LONG_BINGET", opList: "LIST",
	opEmptyList: "EMPTY_LIST", opBinPut: "BINPUT", opLongBinPut: "LONG_BINPUT",
	opSetItem: "SETITEM", opTuple: "TUPLE", opEmptyTuple: "EMPTY_TUPLE", opSetItems: "SETITEMS",
	opBinFloat: "BINFLOAT", opProto: "PROTO", opNewObj: "NEWOBJ", opTuple1: "TUPLE1",
	opTuple2: "TUPLE2", opTuple3: "TUPLE3", opNewTrue: "NEWTRUE", opNewFalse: "NEWFALSE",
	opLong1: "LONG1", opLong4: "LONG4", opBinBytes: "BINBYTES", opShortBinBytes: "SHORT_BINBYTES",
	opShortBinUnicode: "SHORT_BINUNICODE", opBinUnicode8: "BINUNICODE8", opBinBytes8: "BINBYTES8",
	opEmptySet: "EMPTY_SET", opAddItems: "ADDITEMS", opFrozenSet: "FROZENSET",
	opNewObjEx: "NEWOBJ_EX", opStackGlobal: "STACK_GLOBAL", opMemoize: "MEMOIZE", opFrame: "FRAME",
	opByteArray8: "BYTEARRAY8", opNextBuffer: "NEXT_BUFFER", opReadonlyBuffer: "READONLY_BUFFER",
}

// unsupported names the opcodes we recognise but refuse, for clearer errors.
var unsupported = map[byte]string{
	'I': "INT", 'L': "LONG", 'F': "FLOAT", 'S': "STRING", 'V': "UNICODE", 'g': "GET",
	'p': "PUT", 'P': "PERSID", 'i': "INST", 'o': "OBJ",
	0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
}

// Op is one decoded instruction.
type Op struct {
	Pos  int    // offset of the opcode byte
	Code byte   // the opcode
	Arg  any    // the inline argument: nil, int64, *big.Int, float64, string, []byte or Global
	Raw  []byte // the instruction's bytes (opcode and argument), a view into the input
}

// Name is the opcode's name as in pickletools ("BINUNICODE").
func (o Op) Name() string { return opName(o.Code) }

func opName(c byte) string {
	if n, ok := opNames[c]; ok {
		return n
	}
	if n, ok := unsupported[c]; ok {
		return n
	}
	return fmt.Sprintf("opcode 0x%02x", c)
}

// Ops decodes the instructions of a pickle up to and including STOP, without
// running them (like pickletools.genops). Tools and tests use it to inspect or
// rewrite a pickle.
func Ops(data []byte) ([]Op, error) {
	var ops []Op
	for pos := 0; ; {
		op, err := decodeOp(data, pos)
		if err != nil {
			return ops, err
		}
		ops = append(ops, op)
		if op.Code == opStop {
			return ops, nil
		}
		pos += len(op.Raw)
	}
}

// decodeOp reads the instruction at pos.
func decodeOp(data []byte, pos int) (Op, error) {
	if pos >= len(data) {
		return Op{}, fmt.Errorf("pickle: data ends at offset %d without STOP", pos)
	}
	op := Op{Pos: pos, Code: data[pos]}
	p := pos + 1
	need := func(n uint64) ([]byte, error) {
		if n > uint64(len(data)-p) {
			return nil, fmt.Errorf("pickle: offset %d: %s needs %d bytes, only %d left", pos, opName(op.Code), n, len(data)-p)
		}
		b := data[p : p+int(n)]
		p += int(n)
		return b, nil
	}
	// length-prefixed payloads: the prefix is n bytes, little-endian.
	sized := func(n int) ([]byte, error) {
		b, err := need(uint64(n))
		if err != nil {
			return nil, err
		}
		var size uint64
		switch n {
		case 1:
			size = uint64(b[0])
		case 4:
			size = uint64(binary.LittleEndian.Uint32(b))
		case 8:
			size = binary.LittleEndian.Uint64(b)
		}
		return need(size)
	}
	var err error
	var b []byte
	switch op.Code {
	case opMark, opStop, opPop, opPopMark, opDup, opNone, opBinPersID, opReduce, opAppend,
		opBuild, opDict, opEmptyDict, opAppends, opList, opEmptyList, opSetItem, opTuple,
		opEmptyTuple, opSetItems, opNewObj, opTuple1, opTuple2, opTuple3, opNewTrue, opNewFalse,
		opEmptySet, opAddItems, opFrozenSet, opNewObjEx, opStackGlobal, opMemoize,
		opNextBuffer, opReadonlyBuffer:
		// no argument
	case opProto, opBinInt1, opBinGet, opBinPut:
		if b, err = need(1); err == nil {
			op.Arg = int64(b[0])
		}
	case opBinInt2:
		if b, err = need(2); err == nil {
			op.Arg = int64(binary.LittleEndian.Uint16(b))
		}
	case opBinInt:
		if b, err = need(4); err == nil {
			op.Arg = int64(int32(binary.LittleEndian.Uint32(b)))
		}
	case opLongBinGet, opLongBinPut:
		if b, err = need(4); err == nil {
			op.Arg = int64(binary.LittleEndian.Uint32(b))
		}
	case opFrame:
		if b, err = need(8); err == nil {
			n := binary.LittleEndian.Uint64(b)
			if n > uint64(len(data)-p) {
				err = fmt.Errorf("pickle: offset %d: FRAME of %d bytes, only %d left", pos, n, len(data)-p)
			}
			op.Arg = int64(n)
		}
	case opBinFloat:
		if b, err = need(8); err == nil {
			op.Arg = math.Float64frombits(binary.BigEndian.Uint64(b))
		}
	case opLong1:
		if b, err = sized(1); err == nil {
			op.Arg = decodeLong(b)
		}
	case opLong4:
		if b, err = need(4); err == nil {
			n := int32(binary.LittleEndian.Uint32(b))
			switch {
			case n < 0:
				err = fmt.Errorf("pickle: offset %d: LONG4 with negative length %d", pos, n)
			case n > MaxLongBytes:
				err = fmt.Errorf("pickle: offset %d: LONG4 integer of %d bytes, longer than the %d this reader takes", pos, n, MaxLongBytes)
			default:
				b, err = need(uint64(n))
			}
			if err == nil {
				op.Arg = decodeLong(b)
			}
		}
	case opShortBinUnicode, opBinUnicode, opBinUnicode8:
		n := map[byte]int{opShortBinUnicode: 1, opBinUnicode: 4, opBinUnicode8: 8}[op.Code]
		if b, err = sized(n); err == nil {
			if !utf8.Valid(b) {
				// Python writes surrogates with "surrogatepass"; such strings are not
				// text we can use, so they are refused rather than silently altered.
				err = fmt.Errorf("pickle: offset %d: %s is not valid UTF-8", pos, opName(op.Code))
			}
			op.Arg = string(b)
		}
	case opShortBinString, opBinString:
		// Python 2 str; Python 3 decodes it as ASCII by default. Kept as text.
		n := 1
		if op.Code == opBinString {
			n = 4
		}
		if b, err = sized(n); err == nil {
			op.Arg = string(b)
		}
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		n := map[byte]int{opShortBinBytes: 1, opBinBytes: 4, opBinBytes8: 8, opByteArray8: 8}[op.Code]
		if b, err = sized(n); err == nil {
			op.Arg = b
		}
	case opGlobal:
		var mod, name string
		if mod, err = readLine(data, &p, pos); err == nil {
			if name, err = readLine(data, &p, pos); err == nil {
				op.Arg = Global{Module: mod, Name: name}
			}
		}
	default:
		if n, ok := unsupported[op.Code]; ok {
			return op, fmt.Errorf("pickle: offset %d: opcode %s is not supported (protocol 0 text or extension registry)", pos, n)
		}
		return op, fmt.Errorf("pickle: offset %d: unknown opcode 0x%02x", pos, op.Code)
	}
	if err != nil {
		return op, err
	}
	op.Raw = data[pos:p]
	return op, nil
}

// readLine reads a newline-terminated ASCII argument (GLOBAL's module and name).
func readLine(data []byte, p *int, pos int) (string, error) {
	i := bytes.IndexByte(data[*p:], '\n')
	if i < 0 {
		return "", fmt.Errorf("pickle: offset %d: GLOBAL argument has no newline", pos)
	}
	s := data[*p : *p+i]
	*p += i + 1
	if !utf8.Valid(s) {
		return "", fmt.Errorf("pickle: offset %d: GLOBAL argument is not valid UTF-8", pos)
	}
	return string(s), nil
}

// decodeLong decodes a little-endian two's-complement integer (LONG1, LONG4).
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		shift := 64 - 8*uint(len(b))
		return int64(v<<shift) >> shift // sign-extend
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}

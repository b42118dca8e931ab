package torchzip

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/convert/pickle"
)

// maxMessage bounds the errors of hostile checkpoints: the file, the record, an
// offset and opcode, and at most two described values.
const maxMessage = 400

// openErr opens file as bad.pt and, when that works, reads its tensors; it
// returns the first error.
func openErr(file []byte) error {
	c, err := Open(bytes.NewReader(file), int64(len(file)), "bad.pt")
	if err != nil {
		return err
	}
	for _, t := range c.Tensors {
		if _, err := t.Float32s(); err != nil {
			return err
		}
	}
	return nil
}

// tensorDict writes {key: _rebuild_tensor_v2(pid, offset, size, stride, False,
// OrderedDict())}, each argument written by the caller.
func tensorDict(key string, pid, offset, size, stride func(*pw)) []byte {
	p := &pw{}
	p.op(0x80, 2).global("collections", "OrderedDict").op(')', 'R', '(')
	p.str(key)
	p.global("torch._utils", "_rebuild_tensor_v2").op('(')
	pid(p)
	p.op('Q')
	offset(p)
	size(p)
	stride(p)
	p.op(0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R')
	p.op('u', '.')
	return p.Bytes()
}

// storagePid writes ('storage', FloatStorage, '0', 'cpu', numel).
func storagePid(numel func(*pw)) func(*pw) {
	return func(p *pw) {
		p.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu")
		numel(p)
		p.op('t')
	}
}

func int32s(v ...int32) func(*pw) { return func(p *pw) { p.ints(v...) } }
func one(v int32) func(*pw)       { return func(p *pw) { p.int(v) } }

// nestedTuple writes depth levels of one-element tuples around ().
func nestedTuple(depth int) func(*pw) {
	return func(p *pw) {
		p.op(')')
		p.Write(bytes.Repeat([]byte{0x85}, depth-1))
	}
}

// long1 writes a LONG1 integer of n bytes 0x7f.
func long1(n int) func(*pw) {
	return func(p *pw) { p.op(0x8a, byte(n)).Write(bytes.Repeat([]byte{0x7f}, n)) }
}

func TestHostileValuesGiveShortErrors(t *testing.T) {
	data := f32s(1, 2, 3, 4)
	longName := strings.Repeat("k", 1<<20)
	cases := []struct {
		name string
		pkl  []byte
		want string
	}{
		{"persistent id nested to the limit",
			tensorDict("w", nestedTuple(pickle.MaxDepth-2), one(0), int32s(4), int32s(1)),
			"persistent id tuple ((((((((("},
		{"persistent id nested a million deep",
			tensorDict("w", nestedTuple(1_000_000), one(0), int32s(4), int32s(1)),
			"values nest deeper than 1000 levels"},
		{"100k nested tuples as the size",
			tensorDict("w", storagePid(one(4)), one(0), nestedTuple(100_000), int32s(1)),
			"values nest deeper than 1000 levels"},
		{"size nested to the limit",
			tensorDict("w", storagePid(one(4)), one(0), nestedTuple(pickle.MaxDepth-3), int32s(1)),
			"tensor size tuple ((((((("},
		{"2040-bit element count",
			tensorDict("w", storagePid(long1(pickle.MaxLongBytes)), one(0), int32s(4), int32s(1)),
			`storage "0" has element count int 6287162639486056873760400336184258423677084925021241531986142569...`},
		{"4 MiB element count",
			tensorDict("w", storagePid(func(p *pw) {
				p.op(0x8b)
				binary.Write(p, binary.LittleEndian, uint32(4<<20))
				p.Write(bytes.Repeat([]byte{0x7f}, 4<<20))
			}), one(0), int32s(4), int32s(1)),
			"LONG4 integer of 4194304 bytes, longer than the 255"},
		{"2040-bit offset",
			tensorDict("w", storagePid(one(4)), long1(pickle.MaxLongBytes), int32s(4), int32s(1)),
			"storage offset int 6287162639486056873760400336184258423677084925021241531986142569..."},
		{"huge stride entry",
			tensorDict("w", storagePid(one(4)), one(0), int32s(4), func(p *pw) { p.op('(').str(longName).op('t') }),
			`tensor stride tuple ("kkkk`},
		{"long storage key",
			tensorDict("w", func(p *pw) {
				p.op('(').str("storage").global("torch", "FloatStorage").str(longName + "/").str("cpu").int(4).op('t')
			}, one(0), int32s(4), int32s(1)),
			`storage key str "kkkk`},
		{"long key of a non-tensor",
			func() []byte {
				p := &pw{}
				p.op(0x80, 2).global("collections", "OrderedDict").op(')', 'R').str(longName).op('N', 's', '.')
				return p.Bytes()
			}(),
			`"kkkk`},
	}
	for _, c := range cases {
		err := openErr(checkpointZip(c.pkl, data))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bad.pt") || len(err.Error()) > maxMessage {
			t.Errorf("%s: error %.600v, want a short one naming bad.pt and containing %q", c.name, err, c.want)
		}
	}
}

// setCentral overwrites a 32-bit field (at off in the header) of the named
// entry's central directory header.
func setCentral(t testing.TB, file []byte, name string, off int, v uint32) []byte {
	t.Helper()
	file = bytes.Clone(file)
	for i := 0; i+centralLen <= len(file); i++ {
		if binary.LittleEndian.Uint32(file[i:]) == sigCentral &&
			string(file[i+centralLen:min(len(file), i+centralLen+len(name))]) == name &&
			int(binary.LittleEndian.Uint16(file[i+28:])) == len(name) {
			binary.LittleEndian.PutUint32(file[i+off:], v)
			return file
		}
	}
	t.Fatalf("no central directory entry %s", name)
	return nil
}

// Offsets in a central directory header (APPNOTE.TXT 4.3.12).
const (
	centralCRC    = 16
	centralCSize  = 20
	centralUSize  = 24
	centralOffset = 42
)

func TestZip64MarkWithoutRecord(t *testing.T) {
	good := checkpointZip(stateDict("w", "FloatStorage", 4, 0, []int32{4}, []int32{1}), f32s(1, 2, 3, 4))
	if err := openErr(good); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		entry string
		field int
		want  string
	}{
		{"m/data/0", centralCSize, `entry "m/data/0": its compressed size is 0xFFFFFFFF, the mark of a zip64 value, but no zip64 extra field holds it`},
		{"m/data.pkl", centralOffset, `entry "m/data.pkl": its local header offset is 0xFFFFFFFF`},
	}
	for _, c := range cases {
		bad := setCentral(t, good, c.entry, c.field, 0xFFFFFFFF)
		if c.field == centralCSize {
			bad = setCentral(t, bad, c.entry, centralUSize, 0xFFFFFFFF)
		}
		err := openErr(bad)
		if err == nil || !strings.HasPrefix(err.Error(), "bad.pt: not a torch zip checkpoint: "+c.want) {
			t.Errorf("%s: error %v, want %q", c.entry, err, c.want)
		}
	}
	// An uncompressed size of 0xFFFFFFFF alone is taken as it is by archive/zip;
	// the record then claims more than the file holds.
	bad := setCentral(t, good, "m/data/0", centralUSize, 0xFFFFFFFF)
	if err := openErr(bad); err == nil || !strings.Contains(err.Error(), `record "m/data/0" claims 4294967295 bytes in a file of`) {
		t.Errorf("uncompressed size 0xFFFFFFFF: error %v", err)
	}
}

// zipWith writes a checkpoint whose storage record the caller writes.
func zipWith(t *testing.T, pkl []byte, storage func(*zip.Writer) error) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "m/data.pkl", Method: zip.Store})
	w.Write(pkl)
	if err := storage(zw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestRecordSizesAndCRC holds records whose data is longer (or shorter) than
// their header says: they must not be read short.
func TestRecordSizesAndCRC(t *testing.T) {
	pkl := stateDict("w", "FloatStorage", 2, 0, []int32{2}, []int32{1})
	data := f32s(1, 2, 3, 4) // the pickle uses the first 8 bytes
	deflated := zipWith(t, pkl, func(zw *zip.Writer) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "m/data/0", Method: zip.Deflate})
		if err == nil {
			_, err = w.Write(data)
		}
		return err
	})
	if err := openErr(deflated); err != nil {
		t.Fatal(err)
	}
	// raw writes the 16 bytes stored, under a header that declares 8 and crc.
	raw := func(crc uint32) []byte {
		return zipWith(t, pkl, func(zw *zip.Writer) error {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: "m/data/0", Method: zip.Store, CRC32: crc, CompressedSize64: 8, UncompressedSize64: 8})
			if err == nil {
				_, err = w.Write(data)
			}
			return err
		})
	}
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"deflated, declared 8 of 16 bytes", setCentral(t, deflated, "m/data/0", centralUSize, 8),
			`record "m/data/0": its data is longer than the 8 bytes its header declares`},
		{"deflated, declared 20 of 16 bytes", setCentral(t, deflated, "m/data/0", centralUSize, 20),
			`record "m/data/0": its data ends before the 20 bytes its header declares`},
		{"stored, declared 8 of 16 bytes with their CRC-32", raw(crc32.ChecksumIEEE(data)),
			`record "m/data/0": zip: checksum error`},
		{"stored, declared 8 of 16 bytes with a CRC-32 of 0", raw(0),
			`record "m/data/0": zip: checksum error (its header's is 0)`},
		{"stored, wrong CRC-32", setCentral(t, raw(crc32.ChecksumIEEE(data[:8])), "m/data/0", centralCRC, 1),
			`record "m/data/0": zip: checksum error`},
	}
	for _, c := range cases {
		err := openErr(c.file)
		if err == nil || !strings.HasPrefix(err.Error(), "bad.pt") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming bad.pt and containing %q", c.name, err, c.want)
		}
	}
	if err := openErr(raw(crc32.ChecksumIEEE(data[:8]))); err != nil {
		t.Errorf("8 bytes declared with their CRC-32: %v", err)
	}
}

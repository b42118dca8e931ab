package pickle

import (
	"archive/zip"
	"bytes"
	"encoding/hex"
	"io"
	"math"
	"math/big"
	"os"
	"reflect"
	"strings"
	"testing"
)

// Pickles written by CPython 3 (pickle.dumps(value, protocol=N)).
const (
	// [None, True, False, 0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**63-1,
	//  -2**63, 2**64, -2**70, 1.5, -0.0, "héllo", (), (1,), (1,2), (1,2,3), (1,2,3,4),
	//  {"a": 1, "b": [1,2]}, [[]]]
	p2Basic = "80025d7100284e88894b004b014affffffff4bff4d00014dffff4a000001004a000000808a0500000080008a08ffffffffffffff7f8a0800000000000000808a090000000000000000018a090000000000000000c0473ff8000000000000478000000000000000580600000068c3a96c6c6f7101294b018571024b014b028671034b014b024b03877104284b014b024b034b047471057d71062858010000006171074b0158010000006271085d7109284b014b0265755d710a5d710b61652e"
	// {"bytes": b"\x00\xff", "set": {1}, "frozen": frozenset([2]),
	//  "nested": {"k": (b"x", "y")}, "long": 10**30, "list": [1.25]*3}
	p4Mixed = "80049582000000000000007d94288c05627974657394430200ff948c03736574948f94284b01908c0666726f7a656e94284b0291948c066e6573746564947d948c016b94430178948c0179948694738c046c6f6e67948a0d00000040eaed7446d09c2c9f0c8c046c697374945d9428473ff4000000000000473ff4000000000000473ff400000000000065752e"
	// [bytearray(b"abc"), b"", "x"]
	p5ByteArray = "80059519000000000000005d9428960300000000000000616263944300948c017894652e"
)

func mustHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProtocol2Values(t *testing.T) {
	v, err := Load(mustHex(t, p2Basic))
	if err != nil {
		t.Fatal(err)
	}
	l, ok := v.(*List)
	if !ok {
		t.Fatalf("got %s, want list", TypeName(v))
	}
	two64, _ := new(big.Int).SetString("18446744073709551616", 10)
	minus270 := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 70))
	want := []any{None{}, true, false, int64(0), int64(1), int64(-1), int64(255), int64(256),
		int64(65535), int64(65536), int64(math.MinInt32), int64(1 << 31), int64(math.MaxInt64),
		int64(math.MinInt64), two64, minus270, 1.5, math.Copysign(0, -1), "héllo", Tuple{},
		Tuple{int64(1)}, Tuple{int64(1), int64(2)}, Tuple{int64(1), int64(2), int64(3)},
		Tuple{int64(1), int64(2), int64(3), int64(4)}}
	if len(l.Items) != len(want)+2 {
		t.Fatalf("list has %d items, want %d", len(l.Items), len(want)+2)
	}
	for i, w := range want {
		got := l.Items[i]
		if wb, ok := w.(*big.Int); ok {
			if gb, ok := got.(*big.Int); !ok || gb.Cmp(wb) != 0 {
				t.Errorf("item %d = %v, want %v", i, got, w)
			}
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("item %d = %#v, want %#v", i, got, w)
		}
	}
	if f := l.Items[17].(float64); !math.Signbit(f) {
		t.Errorf("-0.0 lost its sign")
	}
	d := l.Items[len(want)].(*Dict)
	if a, _ := d.Get("a"); a != int64(1) {
		t.Errorf(`d["a"] = %v`, a)
	}
	if b, _ := d.Get("b"); !reflect.DeepEqual(b, &List{Items: []any{int64(1), int64(2)}}) {
		t.Errorf(`d["b"] = %#v`, b)
	}
	if nested := l.Items[len(want)+1].(*List); len(nested.Items) != 1 || len(nested.Items[0].(*List).Items) != 0 {
		t.Errorf("[[]] decoded as %#v", nested)
	}
}

func TestProtocol4And5Values(t *testing.T) {
	v, err := Load(mustHex(t, p4Mixed))
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*Dict)
	keys := []string{"bytes", "set", "frozen", "nested", "long", "list"}
	if d.Len() != len(keys) {
		t.Fatalf("%d keys, want %d", d.Len(), len(keys))
	}
	for i, k := range keys {
		if d.Key(i) != k {
			t.Errorf("key %d = %v, want %q (insertion order)", i, d.Key(i), k)
		}
	}
	if b, _ := d.Get("bytes"); !bytes.Equal(b.([]byte), []byte{0, 0xff}) {
		t.Errorf("bytes = %v", b)
	}
	if s, _ := d.Get("set"); !reflect.DeepEqual(s, &Set{Items: []any{int64(1)}}) {
		t.Errorf("set = %#v", s)
	}
	if s, _ := d.Get("frozen"); !reflect.DeepEqual(s, &Set{Items: []any{int64(2)}}) {
		t.Errorf("frozenset = %#v", s)
	}
	n, _ := d.Get("nested")
	if k, _ := n.(*Dict).Get("k"); !reflect.DeepEqual(k, Tuple{[]byte("x"), "y"}) {
		t.Errorf("nested = %#v", k)
	}
	want, _ := new(big.Int).SetString("1000000000000000000000000000000", 10)
	if g, _ := d.Get("long"); g.(*big.Int).Cmp(want) != 0 {
		t.Errorf("long = %v", g)
	}
	if l, _ := d.Get("list"); !reflect.DeepEqual(l, &List{Items: []any{1.25, 1.25, 1.25}}) {
		t.Errorf("list = %#v", l)
	}

	v, err = Load(mustHex(t, p5ByteArray))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, &List{Items: []any{[]byte("abc"), []byte{}, "x"}}) {
		t.Errorf("protocol 5 = %#v", v)
	}
}

// TestTiktokenPickle reads nanochat's tokenizer.pkl the way a converter does:
// resolving tiktoken.core.Encoding to nothing, so NEWOBJ and BUILD are recorded.
func TestTiktokenPickle(t *testing.T) {
	data, err := os.ReadFile("../../testdata/nanochat-tiny/tokenizer/tokenizer.pkl")
	if err != nil {
		t.Fatal(err)
	}
	v, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	obj, ok := v.(*Object)
	if !ok || obj.Class != (Global{"tiktoken.core", "Encoding"}) || len(obj.Args) != 0 {
		t.Fatalf("got %#v, want a tiktoken.core.Encoding object", v)
	}
	state := obj.State.(*Dict)
	if name, _ := state.Get("name"); name != "rustbpe" {
		t.Errorf("name = %v", name)
	}
	ranks, _ := state.Get("mergeable_ranks")
	rd := ranks.(*Dict)
	if rd.Len() != 512 {
		t.Fatalf("%d mergeable ranks, want 512", rd.Len())
	}
	for i := 0; i < 256; i++ {
		if r, ok := rd.Get([]byte{byte(i)}); !ok || r != int64(i) {
			t.Fatalf("rank of byte %d = %v, %v", i, r, ok)
		}
	}
	specials, _ := state.Get("special_tokens")
	if id, _ := specials.(*Dict).Get("<|bos|>"); id != int64(512) {
		t.Errorf("<|bos|> = %v, want 512", id)
	}
}

// TestTorchPickle runs the data.pkl of a torch checkpoint with the persistent ids
// and globals left unresolved except through the two hooks.
func TestTorchPickle(t *testing.T) {
	data := torchDataPkl(t)
	var pids int
	u := Unpickler{
		PersistentLoad: func(pid any) (any, error) {
			pids++
			return pid, nil
		},
	}
	v, err := u.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	obj := v.(*Object)
	if obj.Class != (Global{"collections", "OrderedDict"}) || obj.Items.Len() != 35 {
		t.Fatalf("got %s with %v items, want an OrderedDict of 35 tensors", TypeName(v), obj.Items)
	}
	if pids != 35 {
		t.Errorf("%d persistent ids, want 35", pids)
	}
	wte, _ := obj.Items.Get("transformer.wte.weight")
	call := wte.(*Object)
	if call.Class != (Global{"torch._utils", "_rebuild_tensor_v2"}) {
		t.Fatalf("tensor built by %v", call.Class)
	}
	pid := call.Args[0].(Tuple)
	if pid[0] != "storage" || pid[1] != (Global{"torch", "BFloat16Storage"}) || pid[4] != int64(576*64) {
		t.Errorf("storage id = %#v", pid)
	}
	if !reflect.DeepEqual(call.Args[2], Tuple{int64(576), int64(64)}) {
		t.Errorf("shape = %#v", call.Args[2])
	}
	if _, ok := obj.State.(*Dict).Get("_metadata"); !ok {
		t.Errorf("BUILD did not record _metadata: %#v", obj.State)
	}
}

func torchDataPkl(t testing.TB) []byte {
	t.Helper()
	zr, err := zip.OpenReader("../../testdata/nanochat-tiny/base_checkpoints/d4/model_001000.pt")
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/data.pkl") {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatal("no data.pkl in the checkpoint")
	return nil
}

func TestFindAndCallables(t *testing.T) {
	// GLOBAL collections OrderedDict, EMPTY_TUPLE, REDUCE, MARK, 'k', 1, SETITEMS, STOP
	data := []byte("\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00kK\x01u.")
	u := Unpickler{Find: func(module, name string) (any, error) {
		if module == "collections" && name == "OrderedDict" {
			return Func(func(args Tuple) (any, error) { return NewDict(), nil }), nil
		}
		return nil, nil
	}}
	v, err := u.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := v.(*Dict).Get("k"); k != int64(1) {
		t.Errorf("got %#v", v)
	}
}

func TestOpsRoundTrip(t *testing.T) {
	data := torchDataPkl(t)
	ops, err := Ops(data)
	if err != nil {
		t.Fatal(err)
	}
	var joined []byte
	names := map[string]bool{}
	for _, op := range ops {
		joined = append(joined, op.Raw...)
		names[op.Name()] = true
	}
	if !bytes.Equal(joined, data) {
		t.Errorf("instructions do not cover the pickle exactly")
	}
	// The fixture README lists the opcodes torch used for this file.
	for _, n := range []string{"BINGET", "BININT1", "BININT2", "BINPERSID", "BINPUT", "BINUNICODE",
		"BUILD", "EMPTY_DICT", "EMPTY_TUPLE", "GLOBAL", "LONG_BINGET", "LONG_BINPUT", "MARK",
		"NEWFALSE", "PROTO", "REDUCE", "SETITEM", "SETITEMS", "STOP", "TUPLE", "TUPLE1", "TUPLE2"} {
		if !names[n] {
			t.Errorf("opcode %s not seen", n)
		}
	}
}

func TestBadPickles(t *testing.T) {
	cases := []struct {
		name, data, want string
	}{
		{"empty", "", "without STOP"},
		{"no stop", "\x80\x02K\x01", "without STOP"},
		{"truncated int", "\x80\x02J\x01\x02", "BININT needs 4 bytes"},
		{"truncated string", "\x80\x02X\xff\x00\x00\x00abc.", "BINUNICODE needs 255 bytes"},
		{"huge frame", "\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f.", "FRAME of"},
		{"new protocol", "\x80\x06N.", "protocol 6"},
		{"text opcode", "I1\n.", "INT is not supported"},
		{"unknown opcode", "\x80\x02\xff.", "unknown opcode 0xff"},
		{"underflow", "\x80\x02\x85.", "stack underflow"},
		{"pop past mark", "\x80\x02K\x01(0.", "stack underflow"},
		{"no mark", "\x80\x02t.", "no MARK"},
		{"missing memo", "\x80\x02h\x05.", "memo entry 5"},
		{"leftovers", "\x80\x02K\x01K\x02.", "STOP with 2 values"},
		{"setitem on int", "\x80\x02K\x01K\x02K\x03s.", "cannot set items on int"},
		{"odd setitems", "\x80\x02}(K\x01u.", "odd number"},
		{"call an int", "\x80\x02K\x01)R.", "int is not callable"},
		{"persistent id", "\x80\x02K\x01Q.", "no PersistentLoad"},
		{"invalid utf8", "\x80\x02X\x01\x00\x00\x00\xff.", "not valid UTF-8"},
		{"global without newline", "\x80\x02cmod", "no newline"},
		{"unhashable key", "\x80\x02}]K\x01s.", "unhashable key: list"},
		{"negative LONG4", "\x80\x02\x8b\xff\xff\xff\xff.", "negative length"},
	}
	for _, c := range cases {
		_, err := Load([]byte(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, h := range []string{p2Basic, p4Mixed, p5ByteArray} {
		f.Add(mustHex(f, h))
	}
	if b, err := os.ReadFile("../../testdata/nanochat-tiny/tokenizer/tokenizer.pkl"); err == nil {
		f.Add(b[:600])
	}
	f.Add([]byte("\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00kK\x01u."))
	f.Fuzz(func(t *testing.T, data []byte) {
		u := Unpickler{
			Find: func(module, name string) (any, error) {
				if name == "OrderedDict" {
					return Func(func(Tuple) (any, error) { return NewDict(), nil }), nil
				}
				return nil, nil
			},
			PersistentLoad: func(pid any) (any, error) { return pid, nil },
		}
		v, err := u.Load(data) // must not panic or hang
		if err != nil && len(err.Error()) > maxMessage {
			t.Fatalf("error of %d bytes: %.300s", len(err.Error()), err)
		}
		if err == nil && len(Describe(v)) > 2*DescribeLimit+20 {
			t.Fatalf("Describe gives %d bytes", len(Describe(v)))
		}
		ops, err := Ops(data)
		if err == nil {
			var n int
			for _, op := range ops {
				n += len(op.Raw)
			}
			if n > len(data) {
				t.Fatalf("ops cover %d bytes of %d", n, len(data))
			}
		}
	})
}

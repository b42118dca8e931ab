package torchzip

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

const (
	tinyPT   = "../../testdata/nanochat-tiny/base_checkpoints/d4/model_001000.pt"
	tinyOrac = "../../testdata/nanochat-tiny/oracle.json"
)

type checksum struct {
	DType  string    `json:"dtype"`
	Shape  []int     `json:"shape"`
	Sum    float64   `json:"sum"`
	AbsSum float64   `json:"abs_sum"`
	First8 []float64 `json:"first8"`
}

func loadChecksums(t *testing.T) (keys []string, sums map[string]checksum) {
	t.Helper()
	b, err := os.ReadFile(tinyOrac)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Checkpoint struct {
			Keys []string `json:"state_dict_keys"`
		} `json:"checkpoint"`
		Sums map[string]checksum `json:"tensor_checksums"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o.Checkpoint.Keys, o.Sums
}

func openBytes(t *testing.T, b []byte, name string) *Checkpoint {
	t.Helper()
	c, err := Open(bytes.NewReader(b), int64(len(b)), name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkAgainstOracle compares every tensor with the fixture's checksums
// (computed by torch from the same file).
func checkAgainstOracle(t *testing.T, c *Checkpoint) {
	t.Helper()
	keys, sums := loadChecksums(t)
	if len(c.Tensors) != len(keys) {
		t.Fatalf("%d tensors, want %d", len(c.Tensors), len(keys))
	}
	for i, tensor := range c.Tensors {
		if tensor.Name != keys[i] {
			t.Errorf("tensor %d is %q, want %q (file order)", i, tensor.Name, keys[i])
		}
		want := sums[tensor.Name]
		if tensor.DType.String() != want.DType || !reflect.DeepEqual(tensor.Shape, want.Shape) {
			t.Errorf("%s: %s %v, want %s %v", tensor.Name, tensor.DType, tensor.Shape, want.DType, want.Shape)
			continue
		}
		v, err := tensor.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		var sum, abs float64
		for _, x := range v {
			sum += float64(x)
			abs += math.Abs(float64(x))
		}
		// torch sums in its own order; the element values are exact, the sums agree
		// to float64 rounding.
		if math.Abs(sum-want.Sum) > 1e-9*want.AbsSum+1e-12 || math.Abs(abs-want.AbsSum) > 1e-9*want.AbsSum {
			t.Errorf("%s: sum %v abs %v, want %v %v", tensor.Name, sum, abs, want.Sum, want.AbsSum)
		}
		for j, f := range want.First8 {
			if float64(v[j]) != f {
				t.Errorf("%s[%d] = %v, want %v", tensor.Name, j, v[j], f)
			}
		}
	}
}

func TestFixtureCheckpoint(t *testing.T) {
	b, err := os.ReadFile(tinyPT)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstOracle(t, openBytes(t, b, "model_001000.pt"))
}

func TestTokenBytesInt32(t *testing.T) {
	b, err := os.ReadFile("../../testdata/nanochat-tiny/tokenizer/token_bytes.pt")
	if err != nil {
		t.Fatal(err)
	}
	// token_bytes.pt is torch.save of a bare tensor, not a state dict.
	_, err = Open(bytes.NewReader(b), int64(len(b)), "token_bytes.pt")
	if err == nil || !strings.Contains(err.Error(), "want a state dict") {
		t.Fatalf("error %v, want a clear 'want a state dict' error", err)
	}
}

// repack copies a checkpoint's records under a new archive name, adding records,
// as torch 2.x writes them (it also aligns storages to 64 bytes).
func repack(t *testing.T, src []byte, archive string, extra map[string]string, skip func(string) bool) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	write := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	for _, f := range zr.File {
		_, rest, _ := strings.Cut(f.Name, "/")
		if skip != nil && skip(rest) {
			continue
		}
		r, _ := f.Open()
		data, _ := io.ReadAll(r)
		r.Close()
		write(archive+"/"+rest, data)
	}
	for name, data := range extra {
		write(archive+"/"+name, []byte(data))
	}
	zw.Close()
	return out.Bytes()
}

func TestTorch2Layout(t *testing.T) {
	src, err := os.ReadFile(tinyPT)
	if err != nil {
		t.Fatal(err)
	}
	b := repack(t, src, "archive", map[string]string{
		"byteorder":              "little",
		".data/serialization_id": "1234567890",
		".format_version":        "1",
		".storage_alignment":     "64",
	}, nil)
	checkAgainstOracle(t, openBytes(t, b, "torch2.pt"))

	big := repack(t, src, "archive", map[string]string{"byteorder": "big"}, nil)
	if _, err := Open(bytes.NewReader(big), int64(len(big)), "big.pt"); err == nil || !strings.Contains(err.Error(), "little-endian") {
		t.Errorf("big-endian file: error %v", err)
	}
}

// pw writes protocol-2 pickles for tests.
type pw struct{ bytes.Buffer }

func (p *pw) op(b ...byte) *pw { p.Write(b); return p }
func (p *pw) global(mod, name string) *pw {
	p.WriteString("c" + mod + "\n" + name + "\n")
	return p
}
func (p *pw) str(s string) *pw {
	p.WriteByte('X')
	binary.Write(p, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}
func (p *pw) int(v int32) *pw {
	p.WriteByte('J')
	binary.Write(p, binary.LittleEndian, v)
	return p
}
func (p *pw) ints(v ...int32) *pw {
	p.op('(')
	for _, x := range v {
		p.int(x)
	}
	return p.op('t')
}

// stateDict writes {name: tensor} with one float32 storage "0" of numel elements.
func stateDict(name string, storageClass string, numel, offset int32, shape, stride []int32) []byte {
	p := &pw{}
	p.op(0x80, 2).global("collections", "OrderedDict").op(')', 'R', '(')
	p.str(name)
	p.global("torch._utils", "_rebuild_tensor_v2").op('(')
	p.op('(').str("storage").global("torch", storageClass).str("0").str("cpu").int(numel).op('t', 'Q')
	p.int(offset).ints(shape...).ints(stride...).op(0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R')
	p.op('u', '.')
	return p.Bytes()
}

func checkpointZip(pkl []byte, storage []byte) []byte {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, r := range []struct {
		name string
		data []byte
	}{{"m/data.pkl", pkl}, {"m/data/0", storage}, {"m/version", []byte("3\n")}} {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: r.name, Method: zip.Store})
		w.Write(r.data)
	}
	zw.Close()
	return out.Bytes()
}

func f32s(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestStridedView(t *testing.T) {
	// A [3,2] transpose of a [2,3] storage 0..5, starting one element in.
	pkl := stateDict("w", "FloatStorage", 7, 1, []int32{3, 2}, []int32{1, 3})
	c := openBytes(t, checkpointZip(pkl, f32s(-1, 0, 1, 2, 3, 4, 5)), "strided.pt")
	v, err := c.Tensor("w").Float32s()
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 3, 1, 4, 2, 5}; !reflect.DeepEqual(v, want) {
		t.Errorf("got %v, want %v", v, want)
	}
}

func TestBadCheckpoints(t *testing.T) {
	good := stateDict("w", "FloatStorage", 4, 0, []int32{2, 2}, []int32{2, 1})
	cases := []struct {
		name string
		file []byte
		want string // in Open's error, or in Float32s' when Open succeeds
	}{
		{"not a zip", []byte("PK nothing"), "not a torch zip checkpoint"},
		{"no data.pkl", repack(t, checkpointZip(good, f32s(1, 2, 3, 4)), "m", nil, func(n string) bool { return n == "data.pkl" }), "no <archive>/data.pkl"},
		{"overlapping view", checkpointZip(stateDict("w", "FloatStorage", 1, 0, []int32{4}, []int32{0}), f32s(1)), "more elements than its storage"},
		{"view past storage", checkpointZip(stateDict("w", "FloatStorage", 3, 0, []int32{2, 2}, []int32{2, 1}), f32s(1, 2, 3)), "reaches element 4 of a storage of 3"},
		{"short record", checkpointZip(good, f32s(1, 2, 3)), "holds 12 bytes, the pickle says 16"},
		{"unknown storage", checkpointZip(stateDict("w", "QInt8Storage", 4, 0, []int32{4}, []int32{1}), f32s(1, 2, 3, 4)), "storage type global torch.QInt8Storage is not supported"},
		{"rank mismatch", checkpointZip(stateDict("w", "FloatStorage", 4, 0, []int32{4}, []int32{1, 1}), f32s(1, 2, 3, 4)), "differ in rank"},
		{"int weights", checkpointZip(stateDict("w", "IntStorage", 4, 0, []int32{4}, []int32{1}), f32s(1, 2, 3, 4)), "is int32, want a floating-point type"},
		{"truncated pickle", checkpointZip(good[:len(good)-3], f32s(1, 2, 3, 4)), "without STOP"},
	}
	for _, c := range cases {
		ck, err := Open(bytes.NewReader(c.file), int64(len(c.file)), "bad.pt")
		if err == nil {
			_, err = ck.Tensors[0].Float32s()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bad.pt") {
			t.Errorf("%s: error %v, want one naming bad.pt and containing %q", c.name, err, c.want)
		}
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(checkpointZip(stateDict("w", "FloatStorage", 7, 1, []int32{3, 2}, []int32{1, 3}), f32s(-1, 0, 1, 2, 3, 4, 5)))
	f.Add(checkpointZip(stateDict("w", "BFloat16Storage", 2, 0, []int32{2}, []int32{1}), []byte{1, 2, 3, 4}))
	zip64 := checkpointZip(stateDict("w", "FloatStorage", 1, 0, []int32{1}, []int32{1}), f32s(1))
	f.Add(setCentral(f, zip64, "m/data/0", centralCSize, 0xFFFFFFFF))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Open(bytes.NewReader(data), int64(len(data)), "fuzz.pt")
		if err != nil {
			if len(err.Error()) > maxMessage {
				t.Fatalf("error of %d bytes: %.600s", len(err.Error()), err)
			}
			return
		}
		for _, tensor := range c.Tensors {
			if v, err := tensor.Float32s(); err == nil && len(v) != tensor.Numel() {
				t.Fatalf("%d values for %d elements", len(v), tensor.Numel())
			}
		}
	})
}

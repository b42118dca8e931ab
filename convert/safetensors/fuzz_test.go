package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"

	"github.com/inferpi/inferpi/internal/testfile"
)

// FuzzOpen: no input panics or allocates beyond its size; an opened file's
// tensors lie inside it without overlapping, and reading one either works or
// refuses its type.
func FuzzOpen(f *testing.F) {
	data := make([]byte, 0, 24)
	for _, v := range []float32{1, -2, 0.5, 4} {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	data = binary.LittleEndian.AppendUint64(data, 9)
	f.Add(file(map[string]any{
		"a":            tensor("F32", []int64{2, 2}, 0, 16),
		"b":            tensor("BF16", []int64{2}, 16, 20),
		"c":            tensor("F16", []int64{1, 1, 2}, 20, 24),
		"__metadata__": map[string]string{"format": "pt"},
	}, data))
	f.Add(file(map[string]any{"s": tensor("I64", []int64{}, 0, 8)}, data[16:]))
	f.Add(raw(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8))
	f.Add(raw("{}", 0))
	real := testfile.Read(f, filepath.Join(hfDir, "qwen3-bf16", "model.safetensors"))
	hlen := binary.LittleEndian.Uint64(real)
	f.Add(real[:8+hlen+64]) // a real header, its data cut short
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Open(bytes.NewReader(b), int64(len(b)), "fuzz.safetensors")
		if err != nil {
			return
		}
		var end int64
		for _, x := range file.Tensors {
			if x.Offset < 8 || x.Offset+x.Bytes > int64(len(b)) {
				t.Fatalf("%s at %d+%d outside the file of %d", x.Name, x.Offset, x.Bytes, len(b))
			}
			end = max(end, x.Offset+x.Bytes)
			if !x.DType.Readable() || x.Elements() > 1<<16 {
				continue
			}
			v := make([]float32, x.Elements())
			if err := file.ReadFloat32s(x, 0, v); err != nil {
				t.Fatalf("%s: %v", x.Name, err)
			}
		}
		if err := checkOverlaps(file.Tensors); err != nil {
			t.Fatal(err)
		}
	})
}

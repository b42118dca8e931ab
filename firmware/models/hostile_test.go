package models

import (
	"encoding/binary"
	"reflect"
	"testing"
	"testing/fstest"
)

// TestDiscoverNamesAnImplausibleHeaderField: a llama2.c header with one field
// out of range is reported with that field, not as a file no engine knows.
func TestDiscoverNamesAnImplausibleHeaderField(t *testing.T) {
	var head []byte
	for _, v := range []uint32{1 << 30, 256, 2, 8, 8, 64, 512} {
		head = binary.LittleEndian.AppendUint32(head, v)
	}
	got, err := Discover(fstest.MapFS{"hostile/model.bin": {Data: head}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Model{{Name: "hostile", Weights: "hostile/model.bin", Bytes: 28, ModelBytes: 28,
		Problem: "model.bin: looks like a llama2.c header but says dim 1073741824, want 1..65536"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Discover:\n got %+v\nwant %+v", got, want)
	}
}

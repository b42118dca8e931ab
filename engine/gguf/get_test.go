package gguf

import (
	"errors"
	"reflect"
	"testing"
)

func TestGetters(t *testing.T) {
	f := &File{Name: "model.gguf", KVs: []KV{
		{"s", "text"}, {"b", true}, {"u8", uint8(7)}, {"i8", int8(-7)}, {"u32", uint32(1 << 31)},
		{"i64", int64(-5)}, {"u64", uint64(1 << 63)}, {"f32", float32(0.5)}, {"f64", 0.25},
		{"strs", []string{"a", "b"}}, {"f32s", []float32{1, 2}}, {"i32s", []int32{1, -2}},
		{"u8s", []uint8{1, 255}}, {"u32s", []uint32{1, 1 << 31}}, {"i64s", []int64{-1 << 31, 1<<31 - 1}},
	}}
	check := func(what string, got, want any, err error, wantErr string) {
		t.Helper()
		switch {
		case wantErr != "" && (err == nil || err.Error() != wantErr):
			t.Errorf("%s: error %v, want %q", what, err, wantErr)
		case wantErr == "" && (err != nil || !reflect.DeepEqual(got, want)):
			t.Errorf("%s: %#v, %v; want %#v", what, got, err, want)
		}
	}
	s, err := f.GetString("s")
	check("GetString", s, "text", err, "")
	_, err = f.GetString("u8")
	check("GetString(u8)", nil, nil, err, "model.gguf: key u8: type u8, want a string")
	b, err := f.GetBool("b")
	check("GetBool", b, true, err, "")
	_, err = f.GetBool("s")
	check("GetBool(s)", nil, nil, err, "model.gguf: key s: type str, want a bool")

	for key, want := range map[string]uint64{"u8": 7, "u32": 1 << 31, "u64": 1 << 63} {
		u, err := f.GetUint(key)
		check("GetUint("+key+")", u, want, err, "")
	}
	_, err = f.GetUint("i8")
	check("GetUint(i8)", nil, nil, err, "model.gguf: key i8: -7 is negative")
	_, err = f.GetUint("f32")
	check("GetUint(f32)", nil, nil, err, "model.gguf: key f32: type f32, want an integer")
	for key, want := range map[string]int64{"u8": 7, "i8": -7, "u32": 1 << 31, "i64": -5} {
		i, err := f.GetInt(key)
		check("GetInt("+key+")", i, want, err, "")
	}
	_, err = f.GetInt("u64")
	check("GetInt(u64)", nil, nil, err, "model.gguf: key u64: 9223372036854775808 does not fit an int64")
	x, err := f.GetFloat("f32")
	check("GetFloat(f32)", x, 0.5, err, "")
	x, err = f.GetFloat("f64")
	check("GetFloat(f64)", x, 0.25, err, "")
	_, err = f.GetFloat("u8")
	check("GetFloat(u8)", nil, nil, err, "model.gguf: key u8: type u8, want a float")

	strs, err := f.GetStrings("strs")
	check("GetStrings", strs, []string{"a", "b"}, err, "")
	_, err = f.GetStrings("f32s")
	check("GetStrings(f32s)", nil, nil, err, "model.gguf: key f32s: type array of f32, want an array of str")
	fs, err := f.GetFloat32s("f32s")
	check("GetFloat32s", fs, []float32{1, 2}, err, "")
	is, err := f.GetInt32s("i32s")
	check("GetInt32s(i32s)", is, []int32{1, -2}, err, "")
	is, err = f.GetInt32s("u8s")
	check("GetInt32s(u8s)", is, []int32{1, 255}, err, "")
	is, err = f.GetInt32s("i64s")
	check("GetInt32s(i64s)", is, []int32{-1 << 31, 1<<31 - 1}, err, "")
	_, err = f.GetInt32s("u32s")
	check("GetInt32s(u32s)", nil, nil, err, "model.gguf: key u32s: element 1 (2147483648) does not fit an int32")
	_, err = f.GetInt32s("strs")
	check("GetInt32s(strs)", nil, nil, err, "model.gguf: key strs: type array of str, want an integer array")

	for _, get := range []func(string) error{
		func(k string) error { _, err := f.GetString(k); return err },
		func(k string) error { _, err := f.GetUint(k); return err },
		func(k string) error { _, err := f.GetInt(k); return err },
		func(k string) error { _, err := f.GetFloat(k); return err },
		func(k string) error { _, err := f.GetBool(k); return err },
		func(k string) error { _, err := f.GetStrings(k); return err },
		func(k string) error { _, err := f.GetFloat32s(k); return err },
		func(k string) error { _, err := f.GetInt32s(k); return err },
	} {
		if err := get("llama.block_count"); !errors.Is(err, ErrNotFound) || err.Error() != "model.gguf: key llama.block_count: not found" {
			t.Errorf("absent key: %v", err)
		}
	}
}

// TestLookupAfterEdits checks that Lookup and Tensor still answer right when a
// caller has changed the slices Read filled in.
func TestLookupAfterEdits(t *testing.T) {
	f, err := Parse(baseFile().bytes(), "model.gguf")
	if err != nil {
		t.Fatal(err)
	}
	f.KVs = append([]KV{{"new", uint8(1)}}, f.KVs...)
	f.Tensors = f.Tensors[1:]
	if v, ok := f.Lookup("llama.block_count"); !ok || v != uint32(1) {
		t.Errorf("Lookup after an insertion: %v, %v", v, ok)
	}
	if v, ok := f.Lookup("new"); !ok || v != uint8(1) {
		t.Errorf("Lookup of the inserted key: %v, %v", v, ok)
	}
	if ten, ok := f.Tensor("c"); !ok || ten.Name != "c" {
		t.Errorf("Tensor after a removal: %v, %v", ten, ok)
	}
	if _, ok := f.Tensor("a"); ok {
		t.Error("Tensor finds a removed tensor")
	}
}

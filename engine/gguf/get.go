package gguf

import (
	"errors"
	"fmt"
	"math"
)

// ErrNotFound is what the typed getters return (wrapped, naming the file and the
// key) when a key is absent.
var ErrNotFound = errors.New("not found")

// lookup returns key's value or an error wrapping ErrNotFound.
func (f *File) lookup(key string) (any, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return nil, fmt.Errorf("%s: key %s: %w", f.Name, key, ErrNotFound)
	}
	return v, nil
}

func (f *File) wrongType(key string, v any, want string) error {
	return fmt.Errorf("%s: key %s: type %s, want %s", f.Name, key, describe(v), want)
}

// get returns key's value if it is a T; want names T in the error otherwise.
func get[T any](f *File, key, want string) (T, error) {
	var x T
	v, err := f.lookup(key)
	if err != nil {
		return x, err
	}
	x, ok := v.(T)
	if !ok {
		return x, f.wrongType(key, v, want)
	}
	return x, nil
}

// GetString returns the string stored under key.
func (f *File) GetString(key string) (string, error) { return get[string](f, key, "a string") }

// GetBool returns the bool stored under key.
func (f *File) GetBool(key string) (bool, error) { return get[bool](f, key, "a bool") }

// GetUint returns the integer stored under key, of any integer type, if it is not negative.
func (f *File) GetUint(key string) (uint64, error) {
	u, signed, err := f.getInteger(key)
	switch {
	case err != nil:
		return 0, err
	case signed && int64(u) < 0:
		return 0, fmt.Errorf("%s: key %s: %d is negative", f.Name, key, int64(u))
	}
	return u, nil
}

// GetInt returns the integer stored under key, of any integer type, if it fits an int64.
func (f *File) GetInt(key string) (int64, error) {
	u, signed, err := f.getInteger(key)
	switch {
	case err != nil:
		return 0, err
	case !signed && u > math.MaxInt64:
		return 0, fmt.Errorf("%s: key %s: %d does not fit an int64", f.Name, key, u)
	}
	return int64(u), nil
}

// getInteger returns the bits of the integer stored under key, widened to 64, and
// whether its type is signed.
func (f *File) getInteger(key string) (u uint64, signed bool, err error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, false, err
	}
	u, signed, ok := integer(v)
	if !ok {
		return 0, false, f.wrongType(key, v, "an integer")
	}
	return u, signed, nil
}

// GetFloat returns the float32 or float64 stored under key.
func (f *File) GetFloat(key string) (float64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	}
	return 0, f.wrongType(key, v, "a float")
}

// GetStrings returns the array of strings stored under key (the file's own
// slice: callers must not change it).
func (f *File) GetStrings(key string) ([]string, error) {
	return get[[]string](f, key, "an array of str")
}

// GetFloat32s returns the array of float32 stored under key (the file's own
// slice: callers must not change it).
func (f *File) GetFloat32s(key string) ([]float32, error) {
	return get[[]float32](f, key, "an array of f32")
}

// GetInt32s returns the integer array stored under key as int32s: an []int32 is
// the file's own slice (callers must not change it); an array of another integer
// type is converted if every element fits.
func (f *File) GetInt32s(key string) ([]int32, error) {
	v, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	switch a := v.(type) {
	case []int32:
		return a, nil
	case []uint8:
		return int32s(f, key, a)
	case []int8:
		return int32s(f, key, a)
	case []uint16:
		return int32s(f, key, a)
	case []int16:
		return int32s(f, key, a)
	case []uint32:
		return int32s(f, key, a)
	case []uint64:
		return int32s(f, key, a)
	case []int64:
		return int32s(f, key, a)
	}
	return nil, f.wrongType(key, v, "an integer array")
}

func int32s[T uint8 | int8 | uint16 | int16 | uint32 | uint64 | int64](f *File, key string, a []T) ([]int32, error) {
	out := make([]int32, len(a))
	for i, x := range a {
		u, signed, _ := integer(x)
		v := int64(u)
		if !signed && u > math.MaxInt32 || signed && (v < math.MinInt32 || v > math.MaxInt32) {
			return nil, fmt.Errorf("%s: key %s: element %d (%v) does not fit an int32", f.Name, key, i, x)
		}
		out[i] = int32(v)
	}
	return out, nil
}

// integer returns an integer value's bits widened to 64, and whether its type is signed.
func integer(v any) (u uint64, signed, ok bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), false, true
	case uint16:
		return uint64(x), false, true
	case uint32:
		return uint64(x), false, true
	case uint64:
		return x, false, true
	case int8:
		return uint64(int64(x)), true, true
	case int16:
		return uint64(int64(x)), true, true
	case int32:
		return uint64(int64(x)), true, true
	case int64:
		return uint64(x), true, true
	}
	return 0, false, false
}

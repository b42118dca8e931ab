// Package pickle reads Python pickles: the binary opcodes of protocols 2 to 5,
// which is what torch.save (protocol 2) and pickle.dump of a tiktoken Encoding
// (protocol 4, or 5 from Python 3.14) write.
//
// It never runs code. Globals become Global values unless the caller's Find maps
// them to something else (typically a Callable that builds a Go value), and
// calling a Global that Find did not resolve records the call as an *Object.
//
// A hostile pickle cannot make it, or code that walks its values, use much
// time or stack: values nest at most MaxDepth levels, integers are at most
// MaxLongBytes long, a structure that holds itself is refused, and errors quote
// values through Describe and Quote, which print a short prefix.
//
// The opcode reference is CPython's Lib/pickletools.py.
package pickle

import (
	"fmt"
	"math/big"
)

// Python values map to Go values as follows:
//
//	None                 None{}
//	bool                 bool
//	int                  int64, or *big.Int when it does not fit
//	float                float64
//	str                  string
//	bytes, bytearray     []byte
//	tuple                Tuple
//	list                 *List
//	dict                 *Dict
//	set, frozenset       *Set
//	a global (class...)  Global (or what Find returned)
//	obj built by a call  *Object (or what a Callable returned)

// None is Python's None.
type None struct{}

// Tuple is a Python tuple.
type Tuple []any

// List is a Python list (a pointer: lists are mutable and may be shared through the memo).
type List struct{ Items []any }

// Set is a Python set or frozenset, in insertion order.
type Set struct{ Items []any }

// Global is a module-level name that a pickle refers to, such as collections.OrderedDict.
type Global struct{ Module, Name string }

func (g Global) String() string { return g.Module + "." + g.Name }

// Object records a call the unpickler could not (or was told not to) perform:
// REDUCE, NEWOBJ or NEWOBJ_EX on Class with Args (and Kwargs), then whatever
// BUILD and SETITEMS added.
type Object struct {
	Class  any
	Args   Tuple
	Kwargs *Dict
	State  any   // from BUILD (the argument of __setstate__)
	Items  *Dict // from SETITEM(S): the object is a dict subclass
}

// Callable is a Go stand-in for a Python callable, returned by a Find function.
// REDUCE and NEWOBJ call it with the pickled argument tuple.
type Callable interface {
	Call(args Tuple) (any, error)
}

// Func adapts a function to Callable.
type Func func(args Tuple) (any, error)

// Call calls f.
func (f Func) Call(args Tuple) (any, error) { return f(args) }

// Builder is implemented by values that accept BUILD's state themselves.
type Builder interface {
	SetState(state any) error
}

// Dict is a Python dict in insertion order. Keys of type string, []byte, int64,
// float64, bool and None can be looked up; other keys (tuples) are kept in order
// but Get does not find them.
type Dict struct {
	keys   []any
	values []any
	index  map[any]int
	// Attrs is the state a BUILD opcode gave the dict (torch's OrderedDict carries
	// its _metadata there).
	Attrs any
}

// bytesKey distinguishes bytes keys from str keys in the index.
type bytesKey string

// NewDict returns an empty dict.
func NewDict() *Dict { return &Dict{index: map[any]int{}} }

func indexKey(k any) (any, bool) {
	switch k := k.(type) {
	case string, int64, float64, bool, None:
		return k, true
	case []byte:
		return bytesKey(k), true
	}
	return nil, false
}

// Set stores value under key, keeping the key's first position as Python does.
func (d *Dict) Set(key, value any) {
	if i, ok := d.find(key); ok {
		d.values[i] = value
		return
	}
	if ik, ok := indexKey(key); ok {
		if d.index == nil {
			d.index = map[any]int{}
		}
		d.index[ik] = len(d.keys)
	}
	d.keys = append(d.keys, key)
	d.values = append(d.values, value)
}

func (d *Dict) find(key any) (int, bool) {
	ik, ok := indexKey(key)
	if !ok {
		// A pickled dict never repeats a key, so keys we cannot index (tuples) are
		// simply kept in order; comparing them deeply could take exponential time
		// on shared sub-tuples.
		return 0, false
	}
	i, found := d.index[ik]
	return i, found
}

// Get returns the value stored under key.
func (d *Dict) Get(key any) (any, bool) {
	i, ok := d.find(key)
	if !ok {
		return nil, false
	}
	return d.values[i], true
}

// Len is the number of entries.
func (d *Dict) Len() int { return len(d.keys) }

// Key and Value return entry i in insertion order.
func (d *Dict) Key(i int) any   { return d.keys[i] }
func (d *Dict) Value(i int) any { return d.values[i] }

// Int returns v as an int64 when it is a Python int (or bool) that fits.
func Int(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case *big.Int:
		if v.IsInt64() {
			return v.Int64(), true
		}
	}
	return 0, false
}

// TypeName names v's Python type, for error messages (a global's name cut to
// DescribeLimit bytes).
func TypeName(v any) string {
	switch v := v.(type) {
	case None:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case Tuple:
		return "tuple"
	case *List:
		return "list"
	case *Dict:
		return "dict"
	case *Set:
		return "set"
	case Global:
		return "global " + cutUTF8(v.String(), DescribeLimit)
	case *Object:
		if g, ok := v.Class.(Global); ok {
			return cutUTF8(g.String(), DescribeLimit) + " object"
		}
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

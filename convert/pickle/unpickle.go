package pickle

import (
	"errors"
	"fmt"
)

// Unpickler runs a pickle's instructions and returns the object STOP leaves.
type Unpickler struct {
	// Find resolves GLOBAL and STACK_GLOBAL. It may return a Callable that REDUCE
	// and NEWOBJ will call. When Find is nil, or returns (nil, nil), the global
	// stays a Global and calls on it are recorded as *Object values.
	Find func(module, name string) (any, error)
	// PersistentLoad resolves BINPERSID ids (torch uses them for storages).
	// When nil, a persistent id is an error.
	PersistentLoad func(pid any) (any, error)
}

// Load unpickles data with no globals resolved and no persistent ids allowed.
func Load(data []byte) (any, error) { return (&Unpickler{}).Load(data) }

// MaxDepth bounds how deeply the values of a pickle nest (a tuple in a tuple is
// depth 2). torch's state dicts and tiktoken's Encodings nest less than ten deep;
// the bound keeps a hostile pickle from making the code that walks its values
// (error messages among them) recurse a million times.
const MaxDepth = 1000

// errMark is used when an opcode that needs a MARK finds none.
var errMark = errors.New("no MARK on the stack")

var errDepth = fmt.Errorf("values nest deeper than %d levels, the limit", MaxDepth)

type machine struct {
	u     *Unpickler
	stack []slot
	marks []int // stack heights at each MARK
	memo  map[int64]slot
	// containers holds the nesting of each list, dict, set and object built so far.
	containers map[any]*nesting
}

// slot is a value on the stack or in the memo, with its depth: 0 for a scalar,
// one more than its deepest element for a container. A list, dict, set or object
// may grow after it is pushed; its current depth is in machine.containers.
type slot struct {
	v     any
	depth int
}

// nesting is what the machine knows of a mutable container. Once the container is
// inside another value it may not change, so the depth recorded for that value
// stays true; this refuses self-referencing structures, which torch and tiktoken
// never write.
type nesting struct {
	depth  int
	nested bool
}

// Load unpickles data. Bytes after STOP are ignored, as Python's pickle.loads
// does not read them either.
func (u *Unpickler) Load(data []byte) (any, error) {
	m := &machine{u: u, memo: map[int64]slot{}, containers: map[any]*nesting{}}
	for pos := 0; ; {
		op, err := decodeOp(data, pos)
		if err != nil {
			return nil, err
		}
		if op.Code == opStop {
			if len(m.stack) != 1 || len(m.marks) != 0 {
				return nil, fmt.Errorf("pickle: offset %d: STOP with %d values and %d marks on the stack, want 1 and 0", pos, len(m.stack), len(m.marks))
			}
			return m.stack[0].v, nil
		}
		if err := m.exec(op); err != nil {
			return nil, fmt.Errorf("pickle: offset %d: %s: %w", pos, op.Name(), err)
		}
		pos += len(op.Raw)
	}
}

// push pushes v, of the given depth; a container not seen before (a new one,
// or one a Callable made) starts its record with that depth.
func (m *machine) push(v any, depth int) {
	if isContainer(v) && m.containers[v] == nil {
		m.containers[v] = &nesting{depth: depth}
	}
	m.stack = append(m.stack, slot{v, depth})
}

// isContainer reports whether v is one of the mutable containers the machine
// tracks (all pointers, so they can key a map).
func isContainer(v any) bool {
	switch v.(type) {
	case *List, *Dict, *Set, *Object:
		return true
	}
	return false
}

// depthOf is the current depth of the value in s.
func (m *machine) depthOf(s slot) int {
	if isContainer(s.v) {
		if n := m.containers[s.v]; n != nil {
			return max(s.depth, n.depth)
		}
	}
	return s.depth
}

// enclose records that the values in items go inside another value, and
// returns that value's depth from them: one more than the deepest (1 when
// there are none).
func (m *machine) enclose(items []slot) (int, error) {
	depth := 1
	for _, s := range items {
		if isContainer(s.v) {
			if n := m.containers[s.v]; n != nil {
				n.nested = true
			}
		}
		depth = max(depth, m.depthOf(s)+1)
	}
	if depth > MaxDepth {
		return 0, errDepth
	}
	return depth, nil
}

// grow records that items are added to the container c (on the top of the stack).
func (m *machine) grow(c any, items []slot) error {
	n := m.containers[c]
	if n != nil && n.nested {
		return fmt.Errorf("changes a %s after placing it inside another value (a self-referencing structure, not supported)", TypeName(c))
	}
	for _, s := range items {
		if s.v == c { // c is a pointer: comparable
			return fmt.Errorf("adds a %s to itself (a self-referencing structure, not supported)", TypeName(c))
		}
	}
	depth, err := m.enclose(items)
	if err != nil {
		return err
	}
	if n != nil {
		n.depth = max(n.depth, depth)
	}
	top := &m.stack[len(m.stack)-1]
	top.depth = max(top.depth, depth)
	return nil
}

// values returns the values of slots.
func values(slots []slot) []any {
	vs := make([]any, len(slots))
	for i, s := range slots {
		vs[i] = s.v
	}
	return vs
}

func (m *machine) pop() (slot, error) {
	if len(m.stack) == 0 || (len(m.marks) > 0 && len(m.stack) == m.marks[len(m.marks)-1]) {
		return slot{}, errors.New("stack underflow")
	}
	s := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return s, nil
}

func (m *machine) top() (slot, error) {
	if len(m.stack) == 0 || (len(m.marks) > 0 && len(m.stack) == m.marks[len(m.marks)-1]) {
		return slot{}, errors.New("stack underflow")
	}
	return m.stack[len(m.stack)-1], nil
}

// popMark returns the values pushed since the last MARK and removes them and the mark.
func (m *machine) popMark() ([]slot, error) {
	if len(m.marks) == 0 {
		return nil, errMark
	}
	h := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := make([]slot, len(m.stack)-h)
	copy(items, m.stack[h:])
	m.stack = m.stack[:h]
	return items, nil
}

func (m *machine) exec(op Op) error {
	switch op.Code {
	case opProto:
		if v := op.Arg.(int64); v > HighestProtocol {
			return fmt.Errorf("protocol %d is newer than %d", v, HighestProtocol)
		}
	case opFrame:
		// Frames only group instructions for buffered reading: nothing to do.
	case opMark:
		m.marks = append(m.marks, len(m.stack))
	case opPop:
		_, err := m.pop()
		return err
	case opPopMark:
		_, err := m.popMark()
		return err
	case opDup:
		s, err := m.top()
		if err != nil {
			return err
		}
		m.push(s.v, s.depth)
	case opNone:
		m.push(None{}, 0)
	case opNewTrue:
		m.push(true, 0)
	case opNewFalse:
		m.push(false, 0)
	case opBinInt, opBinInt1, opBinInt2, opLong1, opLong4, opBinFloat,
		opBinUnicode, opShortBinUnicode, opBinUnicode8, opBinString, opShortBinString:
		m.push(op.Arg, 0)
	case opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8:
		// Copy: the value must not alias the caller's buffer.
		src := op.Arg.([]byte)
		m.push(append(make([]byte, 0, len(src)), src...), 0)
	case opEmptyTuple:
		m.push(Tuple{}, 1)
	case opTuple1, opTuple2, opTuple3:
		n := int(op.Code-opTuple1) + 1
		items := make([]slot, n)
		for i := n - 1; i >= 0; i-- {
			s, err := m.pop()
			if err != nil {
				return err
			}
			items[i] = s
		}
		return m.pushTuple(items)
	case opTuple:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.pushTuple(items)
	case opEmptyList:
		m.push(&List{}, 1)
	case opList:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		depth, err := m.enclose(items)
		if err != nil {
			return err
		}
		m.push(&List{Items: values(items)}, depth)
	case opAppend, opAppends:
		var items []slot
		var err error
		if op.Code == opAppend {
			var s slot
			s, err = m.pop()
			items = []slot{s}
		} else {
			items, err = m.popMark()
		}
		if err != nil {
			return err
		}
		t, err := m.top()
		if err != nil {
			return err
		}
		l, ok := t.v.(*List)
		if !ok {
			return fmt.Errorf("cannot append to %s", TypeName(t.v))
		}
		if err := m.grow(l, items); err != nil {
			return err
		}
		l.Items = append(l.Items, values(items)...)
	case opEmptyDict:
		m.push(NewDict(), 1)
	case opDict:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		depth, err := m.enclose(items)
		if err != nil {
			return err
		}
		d := NewDict()
		if err := setItems(d, values(items)); err != nil {
			return err
		}
		m.push(d, depth)
	case opSetItem, opSetItems:
		var items []slot
		if op.Code == opSetItem {
			v, err := m.pop()
			if err != nil {
				return err
			}
			k, err := m.pop()
			if err != nil {
				return err
			}
			items = []slot{k, v}
		} else {
			var err error
			if items, err = m.popMark(); err != nil {
				return err
			}
		}
		t, err := m.top()
		if err != nil {
			return err
		}
		switch c := t.v.(type) {
		case *Dict:
			if err := m.grow(c, items); err != nil {
				return err
			}
			return setItems(c, values(items))
		case *Object:
			if err := m.grow(c, items); err != nil {
				return err
			}
			if c.Items == nil {
				c.Items = NewDict()
			}
			return setItems(c.Items, values(items))
		}
		return fmt.Errorf("cannot set items on %s", TypeName(t.v))
	case opEmptySet:
		m.push(&Set{}, 1)
	case opAddItems:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		t, err := m.top()
		if err != nil {
			return err
		}
		s, ok := t.v.(*Set)
		if !ok {
			return fmt.Errorf("cannot add items to %s", TypeName(t.v))
		}
		if err := m.grow(s, items); err != nil {
			return err
		}
		s.Items = append(s.Items, values(items)...)
	case opFrozenSet:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		depth, err := m.enclose(items)
		if err != nil {
			return err
		}
		m.push(&Set{Items: values(items)}, depth)
	case opBinPut, opLongBinPut:
		s, err := m.top()
		if err != nil {
			return err
		}
		m.memo[op.Arg.(int64)] = s
	case opMemoize:
		s, err := m.top()
		if err != nil {
			return err
		}
		m.memo[int64(len(m.memo))] = s // Python: memo[len(memo)] = top
	case opBinGet, opLongBinGet:
		s, ok := m.memo[op.Arg.(int64)]
		if !ok {
			return fmt.Errorf("memo entry %d was never stored", op.Arg.(int64))
		}
		m.push(s.v, s.depth)
	case opGlobal:
		g := op.Arg.(Global)
		return m.pushGlobal(g.Module, g.Name)
	case opStackGlobal:
		name, err := m.pop()
		if err != nil {
			return err
		}
		mod, err := m.pop()
		if err != nil {
			return err
		}
		ms, ok1 := mod.v.(string)
		ns, ok2 := name.v.(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("module and name must be str, have %s and %s", TypeName(mod.v), TypeName(name.v))
		}
		return m.pushGlobal(ms, ns)
	case opReduce, opNewObj:
		args, err := m.pop()
		if err != nil {
			return err
		}
		fn, err := m.pop()
		if err != nil {
			return err
		}
		if _, ok := args.v.(Tuple); !ok {
			return fmt.Errorf("arguments must be a tuple, have %s", TypeName(args.v))
		}
		return m.call(fn.v, args, slot{})
	case opNewObjEx:
		kwargs, err := m.pop()
		if err != nil {
			return err
		}
		args, err := m.pop()
		if err != nil {
			return err
		}
		cls, err := m.pop()
		if err != nil {
			return err
		}
		_, ok1 := args.v.(Tuple)
		_, ok2 := kwargs.v.(*Dict)
		if !ok1 || !ok2 {
			return fmt.Errorf("arguments must be a tuple and a dict, have %s and %s", TypeName(args.v), TypeName(kwargs.v))
		}
		return m.call(cls.v, args, kwargs)
	case opBuild:
		state, err := m.pop()
		if err != nil {
			return err
		}
		t, err := m.top()
		if err != nil {
			return err
		}
		switch inst := t.v.(type) {
		case *Object:
			if err := m.grow(inst, []slot{state}); err != nil {
				return err
			}
			inst.State = state.v
		case *Dict:
			if err := m.grow(inst, []slot{state}); err != nil {
				return err
			}
			inst.Attrs = state.v
		case Builder:
			// What the Builder keeps of its state is its own business; the
			// state counts as nested in it.
			depth, err := m.enclose([]slot{state})
			if err != nil {
				return err
			}
			top := &m.stack[len(m.stack)-1]
			top.depth = max(top.depth, depth)
			return inst.SetState(state.v)
		default:
			return fmt.Errorf("cannot set the state of %s", TypeName(inst))
		}
	case opBinPersID:
		pid, err := m.pop()
		if err != nil {
			return err
		}
		if m.u.PersistentLoad == nil {
			return errors.New("persistent id found, but no PersistentLoad was given")
		}
		// The result may hold the id: it counts as one level deeper.
		depth, err := m.enclose([]slot{pid})
		if err != nil {
			return err
		}
		v, err := m.u.PersistentLoad(pid.v)
		if err != nil {
			return err
		}
		m.push(v, depth)
	case opNextBuffer, opReadonlyBuffer:
		return errors.New("out-of-band buffers are not supported")
	default:
		return fmt.Errorf("opcode 0x%02x not handled", op.Code)
	}
	return nil
}

// pushTuple pushes a tuple of items.
func (m *machine) pushTuple(items []slot) error {
	depth, err := m.enclose(items)
	if err != nil {
		return err
	}
	m.push(Tuple(values(items)), depth)
	return nil
}

func (m *machine) pushGlobal(module, name string) error {
	if m.u.Find != nil {
		v, err := m.u.Find(module, name)
		if err != nil {
			return err
		}
		if v != nil {
			m.push(v, 0)
			return nil
		}
	}
	m.push(Global{Module: module, Name: name}, 0)
	return nil
}

// call performs REDUCE and NEWOBJ (kwargs empty), and NEWOBJ_EX: a Callable
// runs, a Global is recorded as an *Object.
func (m *machine) call(fn any, args, kwargs slot) error {
	parts := []slot{args}
	if kwargs.v != nil {
		parts = append(parts, kwargs)
	}
	// What a Callable returns may hold its arguments: it counts as one level
	// deeper than they are, like a recorded call.
	depth, err := m.enclose(parts)
	if err != nil {
		return err
	}
	t := args.v.(Tuple)
	kw, _ := kwargs.v.(*Dict)
	switch f := fn.(type) {
	case Callable:
		if kw != nil && kw.Len() > 0 {
			return fmt.Errorf("%T takes no keyword arguments", f)
		}
		v, err := f.Call(t)
		if err != nil {
			return err
		}
		m.push(v, depth)
		return nil
	case Global:
		m.push(&Object{Class: f, Args: t, Kwargs: kw}, depth)
		return nil
	}
	return fmt.Errorf("%s is not callable", TypeName(fn))
}

func setItems(d *Dict, items []any) error {
	if len(items)%2 != 0 {
		return fmt.Errorf("odd number of items (%d) for a dict", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		if _, ok := items[i].(*List); ok {
			return errors.New("unhashable key: list")
		}
		if _, ok := items[i].(*Dict); ok {
			return errors.New("unhashable key: dict")
		}
		d.Set(items[i], items[i+1])
	}
	return nil
}

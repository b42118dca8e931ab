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

// errMark is used when an opcode that needs a MARK finds none.
var errMark = errors.New("no MARK on the stack")

type machine struct {
	u     *Unpickler
	stack []any
	marks []int // stack heights at each MARK
	memo  map[int64]any
}

// Load unpickles data. Bytes after STOP are ignored, as Python's pickle.loads
// does not read them either.
func (u *Unpickler) Load(data []byte) (any, error) {
	m := &machine{u: u, memo: map[int64]any{}}
	for pos := 0; ; {
		op, err := decodeOp(data, pos)
		if err != nil {
			return nil, err
		}
		if op.Code == opStop {
			if len(m.stack) != 1 || len(m.marks) != 0 {
				return nil, fmt.Errorf("pickle: offset %d: STOP with %d values and %d marks on the stack, want 1 and 0", pos, len(m.stack), len(m.marks))
			}
			return m.stack[0], nil
		}
		if err := m.exec(op); err != nil {
			return nil, fmt.Errorf("pickle: offset %d: %s: %w", pos, op.Name(), err)
		}
		pos += len(op.Raw)
	}
}

func (m *machine) push(v any) { m.stack = append(m.stack, v) }

func (m *machine) pop() (any, error) {
	if len(m.stack) == 0 || (len(m.marks) > 0 && len(m.stack) == m.marks[len(m.marks)-1]) {
		return nil, errors.New("stack underflow")
	}
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *machine) top() (any, error) {
	if len(m.stack) == 0 || (len(m.marks) > 0 && len(m.stack) == m.marks[len(m.marks)-1]) {
		return nil, errors.New("stack underflow")
	}
	return m.stack[len(m.stack)-1], nil
}

// popMark returns the values pushed since the last MARK and removes them and the mark.
func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, errMark
	}
	h := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := make([]any, len(m.stack)-h)
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
		v, err := m.top()
		if err != nil {
			return err
		}
		m.push(v)
	case opNone:
		m.push(None{})
	case opNewTrue:
		m.push(true)
	case opNewFalse:
		m.push(false)
	case opBinInt, opBinInt1, opBinInt2, opLong1, opLong4, opBinFloat,
		opBinUnicode, opShortBinUnicode, opBinUnicode8, opBinString, opShortBinString:
		m.push(op.Arg)
	case opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8:
		// Copy: the value must not alias the caller's buffer.
		src := op.Arg.([]byte)
		m.push(append(make([]byte, 0, len(src)), src...))
	case opEmptyTuple:
		m.push(Tuple{})
	case opTuple1, opTuple2, opTuple3:
		n := int(op.Code-opTuple1) + 1
		t := make(Tuple, n)
		for i := n - 1; i >= 0; i-- {
			v, err := m.pop()
			if err != nil {
				return err
			}
			t[i] = v
		}
		m.push(t)
	case opTuple:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(Tuple(items))
	case opEmptyList:
		m.push(&List{})
	case opList:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(&List{Items: items})
	case opAppend, opAppends:
		var items []any
		var err error
		if op.Code == opAppend {
			var v any
			v, err = m.pop()
			items = []any{v}
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
		l, ok := t.(*List)
		if !ok {
			return fmt.Errorf("cannot append to %s", TypeName(t))
		}
		l.Items = append(l.Items, items...)
	case opEmptyDict:
		m.push(NewDict())
	case opDict:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		d := NewDict()
		if err := setItems(d, items); err != nil {
			return err
		}
		m.push(d)
	case opSetItem, opSetItems:
		var items []any
		if op.Code == opSetItem {
			v, err := m.pop()
			if err != nil {
				return err
			}
			k, err := m.pop()
			if err != nil {
				return err
			}
			items = []any{k, v}
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
		switch t := t.(type) {
		case *Dict:
			return setItems(t, items)
		case *Object:
			if t.Items == nil {
				t.Items = NewDict()
			}
			return setItems(t.Items, items)
		}
		return fmt.Errorf("cannot set items on %s", TypeName(t))
	case opEmptySet:
		m.push(&Set{})
	case opAddItems:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		t, err := m.top()
		if err != nil {
			return err
		}
		s, ok := t.(*Set)
		if !ok {
			return fmt.Errorf("cannot add items to %s", TypeName(t))
		}
		s.Items = append(s.Items, items...)
	case opFrozenSet:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(&Set{Items: items})
	case opBinPut, opLongBinPut:
		v, err := m.top()
		if err != nil {
			return err
		}
		m.memo[op.Arg.(int64)] = v
	case opMemoize:
		v, err := m.top()
		if err != nil {
			return err
		}
		m.memo[int64(len(m.memo))] = v // Python: memo[len(memo)] = top
	case opBinGet, opLongBinGet:
		v, ok := m.memo[op.Arg.(int64)]
		if !ok {
			return fmt.Errorf("memo entry %d was never stored", op.Arg.(int64))
		}
		m.push(v)
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
		ms, ok1 := mod.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("module and name must be str, have %s and %s", TypeName(mod), TypeName(name))
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
		t, ok := args.(Tuple)
		if !ok {
			return fmt.Errorf("arguments must be a tuple, have %s", TypeName(args))
		}
		v, err := call(fn, t, nil)
		if err != nil {
			return err
		}
		m.push(v)
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
		t, ok1 := args.(Tuple)
		kw, ok2 := kwargs.(*Dict)
		if !ok1 || !ok2 {
			return fmt.Errorf("arguments must be a tuple and a dict, have %s and %s", TypeName(args), TypeName(kwargs))
		}
		v, err := call(cls, t, kw)
		if err != nil {
			return err
		}
		m.push(v)
	case opBuild:
		state, err := m.pop()
		if err != nil {
			return err
		}
		inst, err := m.top()
		if err != nil {
			return err
		}
		switch inst := inst.(type) {
		case Builder:
			return inst.SetState(state)
		case *Object:
			inst.State = state
		case *Dict:
			inst.Attrs = state
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
		v, err := m.u.PersistentLoad(pid)
		if err != nil {
			return err
		}
		m.push(v)
	case opNextBuffer, opReadonlyBuffer:
		return errors.New("out-of-band buffers are not supported")
	default:
		return fmt.Errorf("opcode 0x%02x not handled", op.Code)
	}
	return nil
}

func (m *machine) pushGlobal(module, name string) error {
	if m.u.Find != nil {
		v, err := m.u.Find(module, name)
		if err != nil {
			return err
		}
		if v != nil {
			m.push(v)
			return nil
		}
	}
	m.push(Global{Module: module, Name: name})
	return nil
}

// call performs REDUCE/NEWOBJ: a Callable runs, anything else is recorded.
func call(fn any, args Tuple, kwargs *Dict) (any, error) {
	switch f := fn.(type) {
	case Callable:
		if kwargs != nil && kwargs.Len() > 0 {
			return nil, fmt.Errorf("%T takes no keyword arguments", f)
		}
		return f.Call(args)
	case Global:
		return &Object{Class: f, Args: args, Kwargs: kwargs}, nil
	}
	return nil, fmt.Errorf("%s is not callable", TypeName(fn))
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

package quantize

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// halves holds every finite binary16 value as float64, sorted, with its encoding:
// the reference that fp16 is checked against (nearest value, ties to the even
// encoding), computed without any of fp16's bit arithmetic.
type half struct {
	v float64
	h uint16
}

func finiteHalves() []half {
	var hs []half
	for h := range 1 << 16 {
		if h&0x7c00 == 0x7c00 || h == 0x8000 { // infinities, NaNs, -0 (+0 stands for both)
			continue
		}
		// value = (-1)^s * m * 2^(e-25) for normals with the implicit bit, m * 2^-24 for subnormals
		e, m := h>>10&31, float64(h&0x3ff)
		v := m * 0x1p-24
		if e != 0 {
			v = (m + 1024) * math.Ldexp(1, int(e)-25)
		}
		if h&0x8000 != 0 {
			v = -v
		}
		hs = append(hs, half{v, uint16(h)})
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].v < hs[j].v })
	return hs
}

func refFP16(hs []half, f float32) uint16 {
	x := float64(f)
	const max = 65504.0
	if math.Abs(x) >= max+16 { // at or past the midpoint to 2^16: infinity (the tie goes to the even 0x7c00)
		return uint16(math.Float32bits(f)>>16)&0x8000 | 0x7c00
	}
	if math.Abs(x) > max { // between the largest half and that midpoint
		return uint16(math.Float32bits(f)>>16)&0x8000 | 0x7bff
	}
	i := sort.Search(len(hs), func(i int) bool { return hs[i].v >= x })
	if i < len(hs) && hs[i].v == x {
		return withSign(hs[i].h, f)
	}
	lo, hi := hs[i-1], hs[i]
	switch dl, dh := x-lo.v, hi.v-x; {
	case dl < dh:
		return withSign(lo.h, f)
	case dh < dl:
		return withSign(hi.h, f)
	case lo.h&1 == 0:
		return withSign(lo.h, f)
	}
	return withSign(hi.h, f)
}

// withSign gives a zero result the sign of f (rounding keeps the sign).
func withSign(h uint16, f float32) uint16 {
	if h&0x7fff == 0 {
		return uint16(math.Float32bits(f)>>16) & 0x8000
	}
	return h
}

func TestFP16RoundsToNearestEven(t *testing.T) {
	hs := finiteHalves()
	check := func(f float32) {
		t.Helper()
		if got, want := fp16(f), refFP16(hs, f); got != want {
			t.Fatalf("fp16(%g = %#08x) = %#04x, want %#04x", f, math.Float32bits(f), got, want)
		}
	}
	// every half, the midpoints to its neighbours and the floats next to them
	for i, h := range hs {
		check(float32(h.v))
		if i+1 < len(hs) {
			mid := float32((h.v + hs[i+1].v) / 2) // exact: halves have 11 significant bits
			check(mid)
			check(math.Nextafter32(mid, float32(math.Inf(1))))
			check(math.Nextafter32(mid, float32(math.Inf(-1))))
		}
	}
	for _, f := range []float32{65504, 65519.996, 65520, 65536, 1e10, math.MaxFloat32, 0x1p-25, 0x1.000002p-25, 0x1p-26, 1e-30} {
		check(f)
		check(-f)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1 << 20 {
		f := math.Float32frombits(r.Uint32())
		if !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) {
			check(f)
		}
	}
}

func TestFP16SpecialValues(t *testing.T) {
	for _, c := range []struct {
		f    uint32
		want uint16
	}{
		{0x00000000, 0x0000}, {0x80000000, 0x8000},
		{0x7f800000, 0x7c00}, {0xff800000, 0xfc00},
		// ggml's portable conversion turns every NaN into the one quiet NaN
		{0x7fc00000, 0x7e00}, {0x7f800001, 0x7e00}, {0xffffffff, 0xfe00},
	} {
		if got := fp16(math.Float32frombits(c.f)); got != c.want {
			t.Errorf("fp16(%#08x) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestFP16ToF32IsExact(t *testing.T) {
	for h := range 1 << 16 {
		f := fp16ToF32(uint16(h))
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			if !math.IsNaN(float64(f)) {
				t.Fatalf("fp16ToF32(%#04x) = %g, want NaN", h, f)
			}
			continue
		}
		if back := fp16(f); back != uint16(h) {
			t.Fatalf("fp16(fp16ToF32(%#04x) = %g) = %#04x", h, f, back)
		}
	}
}

// refBF16 rounds with float64 arithmetic: the two bf16 neighbours of f are its
// upper half truncated and the next one up in magnitude.
func refBF16(f float32) uint16 {
	b := math.Float32bits(f)
	lo := b &^ 0xffff
	hi := lo + 0x10000
	dl := math.Abs(float64(f) - float64(math.Float32frombits(lo)))
	var dh float64
	if hi&0x7fffffff >= 0x7f800000 {
		// above the largest finite: infinity is "one step" further; compare with the
		// would-be next value 2^128
		dh = math.Abs(math.Ldexp(1, 128)) - math.Abs(float64(f))
	} else {
		dh = math.Abs(float64(math.Float32frombits(hi)) - float64(f))
	}
	switch {
	case dl < dh:
		return uint16(lo >> 16)
	case dh < dl:
		return uint16(hi >> 16)
	case lo>>16&1 == 0:
		return uint16(lo >> 16)
	}
	return uint16(hi >> 16)
}

func TestBF16RoundsToNearestEven(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(b uint32) {
		t.Helper()
		f := math.Float32frombits(b)
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return
		}
		if got, want := bf16(f), refBF16(f); got != want {
			t.Fatalf("bf16(%g = %#08x) = %#04x, want %#04x", f, b, got, want)
		}
	}
	for range 1 << 20 {
		b := r.Uint32()
		check(b)
		// the ties and their neighbours
		check(b&^0xffff | 0x8000)
		check(b&^0xffff | 0x7fff)
		check(b&^0xffff | 0x8001)
	}
	for _, b := range []uint32{0, 0x80000000, 0x7f7fffff, 0x7f7f8000, 0x7f7f7fff, 1, 0x8000, 0x18000} {
		check(b)
		check(b | 0x80000000)
	}
}

func TestBF16SpecialValues(t *testing.T) {
	for _, c := range []struct {
		f    uint32
		want uint16
	}{
		{0x7f800000, 0x7f80}, {0xff800000, 0xff80},
		{0x7f7fffff, 0x7f80}, // the largest float rounds to infinity
		// NaNs keep their upper half, made quiet (ggml_compute_fp32_to_bf16)
		{0x7f800001, 0x7fc0}, {0x7fc00000, 0x7fc0}, {0xff810000, 0xffc1}, {0x7fa5ffff, 0x7fe5},
	} {
		if got := bf16(math.Float32frombits(c.f)); got != c.want {
			t.Errorf("bf16(%#08x) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestNearestIntRoundsHalvesToEven(t *testing.T) {
	for _, c := range []struct {
		f    float32
		want int32
	}{
		{0, 0}, {0.49999997, 0}, {0.5, 0}, {0.50000006, 1}, {1.5, 2}, {2.5, 2}, {-0.5, 0}, {-1.5, -2},
		{-2.5, -2}, {-2.5000002, -3}, {63.4, 63}, {4194303, 4194303}, {-4194303, -4194303},
	} {
		if got := nearestInt(c.f); got != c.want {
			t.Errorf("nearestInt(%g) = %d, want %d", c.f, got, c.want)
		}
	}
}

func TestTruncateIsX86Conversion(t *testing.T) {
	for _, c := range []struct {
		f    float32
		want int32
	}{
		{8.99, 8}, {-8.99, -8}, {0.4, 0}, {2147483520, 2147483520}, {-2147483648, -2147483648},
		{2147483648, math.MinInt32}, {-2147483904, math.MinInt32},
		{float32(math.Inf(1)), math.MinInt32}, {float32(math.NaN()), math.MinInt32},
	} {
		if got := truncate(c.f); got != c.want {
			t.Errorf("truncate(%g) = %d, want %d", c.f, got, c.want)
		}
	}
}

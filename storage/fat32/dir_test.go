package fat32

import (
	"encoding/binary"
	"slices"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// sfnEntry builds an 8.3 directory entry.
func sfnEntry(name11 string, attr, nt byte, cluster, size uint32) []byte {
	e := make([]byte, 32)
	copy(e, name11)
	e[11], e[12] = attr, nt
	binary.LittleEndian.PutUint16(e[20:], uint16(cluster>>16))
	binary.LittleEndian.PutUint16(e[26:], uint16(cluster))
	binary.LittleEndian.PutUint32(e[28:], size)
	return e
}

// lfnEntries builds the long-name entries for name, in on-disk order (last
// part first), carrying checksum sum.
func lfnEntries(name string, sum byte) []byte {
	return lfnUnitEntries(utf16.Encode([]rune(name)), sum)
}

func lfnUnitEntries(u []uint16, sum byte) []byte {
	if len(u)%13 != 0 {
		u = append(u, 0)
		for len(u)%13 != 0 {
			u = append(u, 0xFFFF)
		}
	}
	n := len(u) / 13
	var out []byte
	for ord := n; ord >= 1; ord-- {
		e := make([]byte, 32)
		e[0] = byte(ord)
		if ord == n {
			e[0] |= lfnLast
		}
		e[11], e[13] = attrLongName, sum
		for i, o := range lfnOffsets {
			binary.LittleEndian.PutUint16(e[o:], u[(ord-1)*13+i])
		}
		out = append(out, e...)
	}
	return out
}

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

func names(list []dirEntry) []string {
	var out []string
	for _, e := range list {
		out = append(out, e.name)
	}
	return out
}

func TestParseDir(t *testing.T) {
	sfn := "LONGNA~1TXT"
	sum := shortNameChecksum([]byte(sfn))
	long := lfnEntries("Long name 🦙 with a surrogate pair.txt", sum)

	swapped := lfnEntries("Thirteen char+more", shortNameChecksum([]byte("THIRTE~1   ")))
	swapped = cat(swapped[32:64], swapped[0:32]) // out of order: orphans

	for _, tc := range []struct {
		name string
		raw  []byte
		want []string
	}{
		{"long name with surrogate pair", cat(long, sfnEntry(sfn, attrArchive, 0, 5, 10)), []string{"Long name 🦙 with a surrogate pair.txt"}},
		{"bad checksum falls back to 8.3", cat(lfnEntries("Other.txt", sum+1), sfnEntry(sfn, 0, 0, 5, 10)), []string{"LONGNA~1.TXT"}},
		{"orphan long name before another entry", cat(long[:32], sfnEntry(sfn, 0, 0, 5, 10)), []string{"LONGNA~1.TXT"}},
		{"entries out of order", cat(swapped, sfnEntry("THIRTE~1   ", 0, 0, 5, 1)), []string{"THIRTE~1"}},
		{"deleted entry breaks the sequence", cat(long[:len(long)-32], []byte{0xE5}, make([]byte, 31), long[len(long)-32:], sfnEntry(sfn, 0, 0, 5, 10)), []string{"LONGNA~1.TXT"}},
		{"NT case flags", cat(
			sfnEntry("README  TXT", 0, caseLowerBase|caseLowerExt, 3, 1),
			sfnEntry("README  TXT", 0, caseLowerBase, 3, 1),
			sfnEntry("README  TXT", 0, caseLowerExt, 3, 1),
			sfnEntry("MAKEFILE   ", 0, caseLowerBase, 3, 1),
		), []string{"readme.txt", "readme.TXT", "README.txt", "makefile"}},
		{"skips label, dot entries, deleted, stops at end", cat(
			sfnEntry("MY VOLUME  ", attrVolumeID, 0, 0, 0),
			sfnEntry(".          ", attrDirectory, 0, 9, 0),
			sfnEntry("..         ", attrDirectory, 0, 0, 0),
			sfnEntry("\xe5ONE    BIN", 0, 0, 3, 1),
			sfnEntry("TWO     BIN", 0, 0, 4, 1),
			make([]byte, 32),
			sfnEntry("THREE   BIN", 0, 0, 4, 1),
		), []string{"TWO.BIN"}},
		{"0x05 stands for 0xE5, high bytes are code page 437", cat(sfnEntry("\x05\x81BER   TXT", 0, 0, 3, 1)), []string{"σüBER.TXT"}},
		{"long name with a slash is rejected", cat(lfnEntries("a/b", shortNameChecksum([]byte("AB      TXT"))), sfnEntry("AB      TXT", 0, 0, 3, 1)), []string{"AB.TXT"}},
		{"unpaired surrogate is rejected", cat(lfnUnitEntries([]uint16{'x', 0xD800}, shortNameChecksum([]byte("X       TXT"))), sfnEntry("X       TXT", 0, 0, 3, 1)), []string{"X.TXT"}},
		{"blank 8.3 name is skipped", cat(sfnEntry("           ", 0, 0, 3, 1)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := names(parseDir(tc.raw))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	e := parseDir(cat(long, sfnEntry(sfn, attrArchive|attrDirectory, 0, 0x00123456, 77)))[0]
	if e.cluster != 0x00123456 || e.size != 77 || !e.isDir() {
		t.Errorf("entry fields: cluster %#x size %d dir %v", e.cluster, e.size, e.isDir())
	}
}

func TestChecksum(t *testing.T) {
	// Worked by hand: rotate right then add, over "A          " (A then ten spaces).
	var want byte
	for _, b := range []byte("A          ") {
		want = (want&1)<<7 + want>>1 + b
	}
	if got := shortNameChecksum([]byte("A          ")); got != want {
		t.Fatalf("checksum %#x, want %#x", got, want)
	}
}

// FuzzParseDir: any directory bytes give entries with usable names.
func FuzzParseDir(f *testing.F) {
	sfn := "LONGNA~1TXT"
	f.Add(cat(lfnEntries("Long name.txt", shortNameChecksum([]byte(sfn))), sfnEntry(sfn, 0, 0, 5, 10)))
	f.Add(cat(sfnEntry("README  TXT", 0, 0x18, 3, 1), sfnEntry("VOL        ", 8, 0, 0, 0)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, e := range parseDir(raw) {
			bad := e.name == "" || e.name == "." || e.name == ".." || !utf8.ValidString(e.name)
			for _, r := range e.name {
				bad = bad || r == '/' || r < 0x20
			}
			if bad {
				t.Fatalf("unusable name %q", e.name)
			}
		}
	})
}

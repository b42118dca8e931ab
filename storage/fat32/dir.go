package fat32

import (
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf16"
)

// Directory entry layout (Microsoft FAT spec; FatFs DIR_*/LDIR_* defines): name
// 0-10, attributes 11, NT case flags 12, write time 22, write date 24, first
// cluster high 20 and low 26, size 28. Long-name entries: order 0, attributes
// 0x0F at 11, type 0 at 12, checksum 13, first cluster 0 at 26, and 13 UTF-16 units
// at 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30.
const (
	entrySize = 32

	attrReadOnly  = 0x01
	attrHidden    = 0x02
	attrSystem    = 0x04
	attrVolumeID  = 0x08
	attrDirectory = 0x10
	attrArchive   = 0x20
	attrLongName  = attrReadOnly | attrHidden | attrSystem | attrVolumeID
	attrMask      = 0x3F

	caseLowerBase = 0x08 // NT flag: the 8.3 base name is lower case
	caseLowerExt  = 0x10 // NT flag: the 8.3 extension is lower case

	entryEnd     = 0x00 // this and all later entries are unused
	entryDeleted = 0xE5
	entryKanji   = 0x05 // stands for a real 0xE5 in the first name byte

	lfnLast     = 0x40 // set in the order byte of the last (physically first) long-name entry
	lfnMaxOrder = 20   // 20 * 13 = 260 units hold the longest name, 255
	lfnChars    = 13
	maxNameLen  = 255
)

var lfnOffsets = [lfnChars]int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30}

// dirEntry is one file or directory as listed in its parent.
type dirEntry struct {
	name    string
	attr    byte
	cluster uint32
	size    uint32
	modTime time.Time
}

func (e *dirEntry) isDir() bool { return e.attr&attrDirectory != 0 }

// parseDir decodes the raw bytes of a directory. It never fails: deleted entries,
// volume labels, "." and "..", entries with unusable names and long-name entries
// that do not belong to the following short entry are skipped or fall back to the
// 8.3 name, the way FatFs dir_read treats them.
func parseDir(raw []byte) []dirEntry {
	var out []dirEntry
	var lfn lfnState
	for off := 0; off+entrySize <= len(raw); off += entrySize {
		e := raw[off : off+entrySize]
		switch {
		case e[0] == entryEnd:
			return out
		case e[0] == entryDeleted:
			lfn.reset()
			continue
		case e[11]&attrMask == attrLongName:
			lfn.add(e)
			continue
		}
		long, haveLong := lfn.finish(e[0:11])
		if e[11]&attrVolumeID != 0 || e[0] == '.' {
			continue // the volume label, or "." / ".."
		}
		name := long
		if !haveLong {
			var ok bool
			if name, ok = shortName(e[0:11], e[12]); !ok {
				continue
			}
		}
		out = append(out, dirEntry{
			name:    name,
			attr:    e[11],
			cluster: uint32(binary.LittleEndian.Uint16(e[20:]))<<16 | uint32(binary.LittleEndian.Uint16(e[26:])),
			size:    binary.LittleEndian.Uint32(e[28:]),
			modTime: dosTime(binary.LittleEndian.Uint16(e[24:]), binary.LittleEndian.Uint16(e[22:])),
		})
	}
	return out
}

// lfnState collects a sequence of long-name entries.
type lfnState struct {
	units  [lfnMaxOrder * lfnChars]uint16
	total  int  // entries in the sequence (from the entry flagged last)
	expect int  // order number of the next entry; 0 when the sequence is complete
	sum    byte // checksum every entry of the sequence must carry
	active bool
}

func (s *lfnState) reset() { s.active = false }

func (s *lfnState) add(e []byte) {
	order := int(e[0])
	if order&lfnLast != 0 {
		order &^= lfnLast
		if order == 0 || order > lfnMaxOrder {
			s.reset()
			return
		}
		*s = lfnState{total: order, expect: order, sum: e[13], active: true}
	}
	// An entry out of sequence, with another checksum, or with the fields a long
	// name entry must have zero set, orphans what came before.
	if !s.active || order != s.expect || e[13] != s.sum || e[12] != 0 || binary.LittleEndian.Uint16(e[26:]) != 0 {
		s.reset()
		return
	}
	base := (order - 1) * lfnChars
	for i, o := range lfnOffsets {
		s.units[base+i] = binary.LittleEndian.Uint16(e[o:])
	}
	s.expect--
}

// finish returns the long name collected for the short entry with 8.3 name sfn,
// if the sequence is complete and its checksum matches that name.
func (s *lfnState) finish(sfn []byte) (string, bool) {
	defer s.reset()
	if !s.active || s.expect != 0 || s.sum != shortNameChecksum(sfn) {
		return "", false
	}
	units := s.units[:s.total*lfnChars]
	for i, u := range units {
		if u == 0 {
			units = units[:i]
			break
		}
	}
	for _, u := range units {
		if u == 0xFFFF { // padding before the terminator: malformed
			return "", false
		}
	}
	name := decodeUTF16(units)
	if name == "" || len(units) > maxNameLen || !validLongName(name) {
		return "", false
	}
	return name, true
}

// shortNameChecksum is the checksum long-name entries carry of their 8.3 name:
// rotate right by one bit, then add the next byte (Microsoft FAT spec; FatFs sum_sfn).
func shortNameChecksum(sfn []byte) byte {
	var sum byte
	for _, b := range sfn[:11] {
		sum = (sum>>1 | sum<<7) + b
	}
	return sum
}

// decodeUTF16 decodes UTF-16, returning "" when it holds an unpaired surrogate.
func decodeUTF16(u []uint16) string {
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
		case c >= 0xD800 && c < 0xDC00:
			if i+1 >= len(u) || u[i+1] < 0xDC00 || u[i+1] >= 0xE000 {
				return ""
			}
			i++
		case c >= 0xDC00 && c < 0xE000:
			return ""
		}
	}
	return string(utf16.Decode(u))
}

// validLongName rejects names no FAT driver writes and that would break paths.
func validLongName(name string) bool {
	if name == "." || name == ".." {
		return false
	}
	for _, r := range name {
		if r < 0x20 || strings.ContainsRune(`"*/:<>?\|`, r) {
			return false
		}
	}
	return true
}

// shortName renders an 8.3 name: base and extension with their padding removed,
// lower-cased where the NT case flags say, bytes above 0x7F in code page 437.
func shortName(raw []byte, ntFlags byte) (string, bool) {
	b := make([]byte, 11)
	copy(b, raw)
	if b[0] == entryKanji {
		b[0] = entryDeleted
	}
	base := strings.TrimRight(decodeOEM(b[0:8], ntFlags&caseLowerBase != 0), " ")
	ext := strings.TrimRight(decodeOEM(b[8:11], ntFlags&caseLowerExt != 0), " ")
	if base == "" {
		return "", false
	}
	for _, c := range b {
		if c < 0x20 || c == '/' || c == '\\' {
			return "", false
		}
	}
	if ext == "" {
		return base, true
	}
	return base + "." + ext, true
}

// cp437 is the upper half of code page 437, the OEM code page FAT short names are
// written in by default (FatFs FF_CODE_PAGE 437; Linux's default codepage=437).
const cp437 = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0"

var cp437Runes = []rune(cp437)

func decodeOEM(b []byte, lower bool) string {
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c >= 0x80:
			sb.WriteRune(cp437Runes[c-0x80])
		case lower && c >= 'A' && c <= 'Z':
			sb.WriteByte(c + 'a' - 'A')
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// dosTime decodes a FAT date and time (local time of the writer, no zone: shown
// as UTC). An impossible date gives the zero time.
func dosTime(date, tm uint16) time.Time {
	year, month, day := 1980+int(date>>9), int(date>>5&0x0F), int(date&0x1F)
	hour, min, sec := int(tm>>11), int(tm>>5&0x3F), int(tm&0x1F)*2
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC)
}

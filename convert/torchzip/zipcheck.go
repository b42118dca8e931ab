package torchzip

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/inferpi/inferpi/convert/pickle"
)

// Zip records and fields explainZip reads (PKWARE's APPNOTE.TXT, sections 4.3.12
// to 4.3.16 and 4.5.3).
const (
	sigEnd         = 0x06054b50 // end of central directory record
	sigEnd64       = 0x06064b50 // zip64 end of central directory record
	sigEnd64Locate = 0x07064b50 // zip64 end of central directory locator
	sigCentral     = 0x02014b50 // central directory file header
	endLen         = 22
	end64LocateLen = 20
	end64Len       = 56
	centralLen     = 46
	zip64ExtraID   = 0x0001
	maxComment     = 0xffff
	zip64Mark      = 0xffffffff // a 32-bit size or offset whose value is in the zip64 extra field
)

// explainZip looks for what archive/zip's "not a valid zip file" is about in a
// file that has a central directory: an entry whose compressed size or offset is
// 0xFFFFFFFF, the mark of a value kept in a zip64 extra field, without that
// field. It returns the entry and the problem, or "" when it finds none.
func explainZip(r io.ReaderAt, size int64) string {
	dirOffset, dirSize, ok := centralDirectory(r, size)
	if !ok {
		return ""
	}
	br := bufio.NewReader(io.NewSectionReader(r, dirOffset, dirSize))
	var h [centralLen]byte
	for {
		if _, err := io.ReadFull(br, h[:]); err != nil || binary.LittleEndian.Uint32(h[:]) != sigCentral {
			return ""
		}
		nameLen := int(binary.LittleEndian.Uint16(h[28:]))
		extraLen := int(binary.LittleEndian.Uint16(h[30:]))
		commentLen := int(binary.LittleEndian.Uint16(h[32:]))
		rest := make([]byte, nameLen+extraLen) // at most 128 KiB
		if _, err := io.ReadFull(br, rest); err != nil {
			return ""
		}
		if _, err := br.Discard(commentLen); err != nil {
			return ""
		}
		name, extra := string(rest[:nameLen]), rest[nameLen:]
		// The zip64 field holds the marked values in this order, 8 bytes each.
		need := 0
		for _, f := range []struct {
			what string
			v    uint32
		}{
			{"uncompressed size", binary.LittleEndian.Uint32(h[24:])},
			{"compressed size", binary.LittleEndian.Uint32(h[20:])},
			{"local header offset", binary.LittleEndian.Uint32(h[42:])},
		} {
			if f.v != zip64Mark {
				continue
			}
			need += 8
			// archive/zip takes an uncompressed size of 0xFFFFFFFF as it is.
			if f.what != "uncompressed size" && len(zip64Field(extra)) < need {
				return fmt.Sprintf("entry %s: its %s is 0xFFFFFFFF, the mark of a zip64 value, but no zip64 extra field holds it", pickle.Quote(name), f.what)
			}
		}
	}
}

// centralDirectory finds the central directory from the end of the file (the
// zip64 end record when there is one). ok is false when the file does not end
// like a zip or the directory lies outside it.
func centralDirectory(r io.ReaderAt, size int64) (offset, length int64, ok bool) {
	tail := min(size, endLen+maxComment)
	buf := make([]byte, tail)
	if readAt(r, buf, size-tail) != nil {
		return 0, 0, false
	}
	at := -1
	for i := len(buf) - endLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) == sigEnd {
			at = i
			break
		}
	}
	if at < 0 {
		return 0, 0, false
	}
	end := buf[at:]
	length = int64(binary.LittleEndian.Uint32(end[12:]))
	offset = int64(binary.LittleEndian.Uint32(end[16:]))
	if offset == zip64Mark || length == zip64Mark {
		endAt := size - tail + int64(at)
		var loc [end64LocateLen]byte
		if endAt < end64LocateLen || readAt(r, loc[:], endAt-end64LocateLen) != nil || binary.LittleEndian.Uint32(loc[:]) != sigEnd64Locate {
			return 0, 0, false
		}
		var end64 [end64Len]byte
		at64 := binary.LittleEndian.Uint64(loc[8:])
		if at64 > uint64(size) || readAt(r, end64[:], int64(at64)) != nil || binary.LittleEndian.Uint32(end64[:]) != sigEnd64 {
			return 0, 0, false
		}
		l, o := binary.LittleEndian.Uint64(end64[40:]), binary.LittleEndian.Uint64(end64[48:])
		if l > uint64(size) || o > uint64(size) {
			return 0, 0, false
		}
		length, offset = int64(l), int64(o)
	}
	if offset+length > size {
		return 0, 0, false
	}
	return offset, length, true
}

// readAt fills b from off.
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil // io.ReaderAt may give io.EOF with the last bytes
	}
	return err
}

// zip64Field returns the data of the zip64 extended information field among a
// central directory entry's extra fields, or nil.
func zip64Field(extra []byte) []byte {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		if n > len(extra)-4 {
			return nil
		}
		if id == zip64ExtraID {
			return extra[4 : 4+n]
		}
		extra = extra[4+n:]
	}
	return nil
}

package llama2c

// Piece is what run.c prints for token id when it follows prev: run.c's decode
// then safe_printf.
//
//   - After BOS, one leading space is dropped (the dummy prefix of the first word).
//   - A token string starting with "<0x" and one or two hex digits (a byte token,
//     like sscanf's "<0x%02hhX>", which does not check the closing '>') is that byte.
//   - A one-byte piece is printed only if it is printable ASCII or whitespace (C's
//     isprint/isspace): byte tokens 0x80-0xFF and control bytes vanish, so text
//     that was encoded by byte fallback (an emoji, say) is not printed.
//
// The result may be empty; it aliases no internal storage.
func (t *Tokenizer) Piece(prev, id int) []byte {
	if id < 0 || id >= len(t.pieces) {
		return nil
	}
	p := t.pieces[id]
	if prev == BOS && len(p) > 0 && p[0] == ' ' {
		p = p[1:]
	}
	// printf("%s") stops at a NUL byte.
	for i := 0; i < len(p); i++ {
		if p[i] == 0 {
			p = p[:i]
			break
		}
	}
	if b, ok := byteToken(p); ok {
		if !(isPrint(b) || isSpace(b)) {
			return nil
		}
		return []byte{b}
	}
	if len(p) == 1 && !(isPrint(p[0]) || isSpace(p[0])) {
		return nil
	}
	return []byte(p)
}

// Decode is the text run.c prints for ids[1:], each token after the one before it
// (ids[0] is the context, usually BOS, and is not printed).
func (t *Tokenizer) Decode(ids []int) []byte {
	var out []byte
	for i := 1; i < len(ids); i++ {
		out = append(out, t.Piece(ids[i-1], ids[i])...)
	}
	return out
}

// byteToken parses the "<0xXX>" form of byte tokens.
func byteToken(p string) (byte, bool) {
	if len(p) < 4 || p[:3] != "<0x" {
		return 0, false
	}
	v, n := 0, 0
	for i := 3; i < len(p) && n < 2; i++ {
		d, ok := hexDigit(p[i])
		if !ok {
			break
		}
		v, n = v*16+d, n+1
	}
	return byte(v), n > 0
}

func hexDigit(c byte) (int, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0'), true
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// isPrint and isSpace are C's isprint and isspace in the "C" locale.
func isPrint(b byte) bool { return b >= 0x20 && b < 0x7f }
func isSpace(b byte) bool { return b == ' ' || (b >= '\t' && b <= '\r') }

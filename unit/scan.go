package unit

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// scanExec reports whether value passes Marshal's check of a command line
// (walkExec(value, nil) is nil), reading it in place. It knows the forms
// ExecWords writes — bare words, and double-quoted words ending at a blank
// with C escapes inside — and says false for anything else, leaving walkExec
// to decide and to name the problem: true only where walkExec says nil.
func scanExec(value string) bool {
	// The executable, prefixes included, must be a bare word without '%' or
	// ';': then it is itself its unquoted, resolved form.
	end := 0
	for end < len(value) && !isSpace(value[end]) {
		switch value[end] {
		case '"', '\'', '\\', '%', ';':
			return false
		}
		end++
	}
	exe, flags := cutExecFlags(value[:end])
	if end == 0 || validExecutable(exe) != nil {
		return false
	}
	words := 1
	for i := end; ; words++ {
		for i < len(value) && isSpace(value[i]) {
			i++
		}
		if i == len(value) {
			break
		}
		var ok bool
		switch value[i] {
		case '\'', '\\', ';': // single quotes, "\;", a lone ';'
			return false
		default:
			quoted := value[i] == '"'
			if quoted {
				i++
			}
			i, ok = scanWord(value, i, quoted, wordCheck{})
		}
		if !ok {
			return false
		}
	}
	return flags&ArgvZero == 0 || words >= 2
}

// scanWord checks the bare or double-quoted word at value[i:] (or the rest
// of it), returning where it ends.
func scanWord(value string, i int, quoted bool, w wordCheck) (int, bool) {
	if quoted {
		return scanQuoted(value, i, w)
	}
	return scanBare(value, i, w)
}

// wordCheck follows an unquoted word byte by byte for checkSpecifiers and
// (in command lines) checkDollars: every '%' must be followed by '%' or a
// specifier letter, every '$' by '$'. pending is the '%' or '$' waiting for
// its partner.
type wordCheck struct {
	pending byte
	env     bool // an Environment= word: '$' is literal, escapes stay ASCII
}

func (w *wordCheck) next(c byte) bool {
	switch w.pending {
	case '%':
		w.pending = 0
		return c == '%' || strings.IndexByte(specifiers, c) >= 0
	case '$':
		w.pending = 0
		return c == '$'
	}
	if c == '%' || c == '$' && !w.env {
		w.pending = c
	}
	return true
}

// scanBare checks the bare word at value[i:], returning where it ends.
func scanBare(value string, i int, w wordCheck) (int, bool) {
	for i < len(value) {
		if w.pending != 0 {
			if c := value[i]; !isSpace(c) {
				if !w.next(c) {
					return i, false
				}
				i++
				continue
			}
		}
		for i < len(value) && !bareStop[value[i]] {
			i++
		}
		if i == len(value) {
			break
		}
		switch c := value[i]; c {
		case '"', '\'', '\\':
			return i, false
		case '%', '$':
			if !w.next(c) {
				return i, false
			}
			i++
		default: // a blank ends the word
			return i, w.pending == 0
		}
	}
	return i, w.pending == 0
}

// bareStop marks the bytes scanBare looks at; the rest stand for themselves.
var bareStop = func() (t [256]bool) {
	for _, c := range "\"'\\%$" + whitespace {
		t[c] = true
	}
	return t
}()

// quotedStop marks the bytes scanQuoted looks at; the rest stand for
// themselves.
var quotedStop = func() (t [256]bool) {
	for _, c := range `"\%$` {
		t[c] = true
	}
	return t
}()

// indexQuotedStop is the index of the first byte quotedStop marks in
// value[i:], or len(value); eight bytes at a time, as the inline script of a
// discovery unit is one quoted word of nearly 2 KB.
func indexQuotedStop(value string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(value); i += 8 {
		x := binary.LittleEndian.Uint64([]byte(value[i : i+8]))
		// A byte of x^c that is zero sets its high bit in (y-ones)&^y; a
		// borrow may also set bits above it, never below, so the lowest
		// set bit of all four marks the first stop.
		var m uint64
		for _, y := range [...]uint64{x ^ '"'*ones, x ^ '\\'*ones, x ^ '%'*ones, x ^ '$'*ones} {
			m |= (y - ones) &^ y & highs
		}
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(value) && !quotedStop[value[i]]; i++ {
	}
	return i
}

// scanQuoted checks the double-quoted word whose inside starts at value[i:],
// returning where it ends: after the closing quote, which must end the word.
func scanQuoted(value string, i int, w wordCheck) (int, bool) {
	for i < len(value) {
		if w.pending != 0 {
			if c := value[i]; c != '"' && c != '\\' {
				if !w.next(c) {
					return i, false
				}
				i++
				continue
			}
		}
		if i = indexQuotedStop(value, i); i == len(value) {
			break
		}
		switch c := value[i]; c {
		case '"':
			i++
			return i, w.pending == 0 && (i == len(value) || isSpace(value[i]))
		case '\\':
			if i+1 == len(value) {
				return i, false
			}
			var buf [utf8.UTFMax]byte
			b, n, err := cunescapeOne(buf[:0], value[i+1:])
			if err != nil {
				return i, false
			}
			// An Environment= value must be valid UTF-8: raw text is (the
			// value is checked whole), a \u escape is a whole character, but
			// a byte escape from 0x80 would need a closer look.
			if w.env && value[i+1] != 'u' && value[i+1] != 'U' && b[0] >= utf8.RuneSelf {
				return i, false
			}
			for _, c := range b {
				if !w.next(c) {
					return i, false
				}
			}
			i += 1 + n
		default:
			if !w.next(c) {
				return i, false
			}
			i++
		}
	}
	return i, false // no closing quote
}

// scanEnv reports whether value passes Marshal's check of an Environment=
// value (walkEnv(value, …) is nil), reading it in place. It knows the words
// Env writes, NAME=VALUE bare or double-quoted whole, the name needing no
// escape, and says false for anything else.
func scanEnv(value string) bool {
	if !utf8.ValidString(value) {
		return false
	}
	for i := 0; ; {
		for i < len(value) && isSpace(value[i]) {
			i++
		}
		if i == len(value) {
			return true
		}
		quoted := value[i] == '"'
		if quoted {
			i++
		}
		// A name of letters, digits and '_' reads the same unquoted and
		// resolved, and its '=' is the word's first.
		name := i
		for i < len(value) && value[i] != '=' {
			if c := value[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || i > name && '0' <= c && c <= '9') {
				return false
			}
			i++
		}
		if i == name || i == len(value) {
			return false
		}
		var ok bool
		if i, ok = scanWord(value, i+1, quoted, wordCheck{env: true}); !ok {
			return false
		}
	}
}

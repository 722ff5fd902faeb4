package unit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// ExecFlags are the special executable prefixes of systemd.service(5),
// "Command lines".
type ExecFlags uint8

const (
	IgnoreFailure  ExecFlags = 1 << iota // "-": a non-zero exit is not a failure
	ArgvZero                             // "@": the second word is argv[0]
	FullPrivileges                       // "+": run without sandboxing or user change
	NoSetuid                             // "!": only the user change is skipped
)

// Exec returns the command-line value (for ExecStart= and friends) that
// systemd splits back into exactly argv: literal words, no flags.
// argv[0] must be an absolute path (or a file name) that does not start with
// one of "-@:+!" and is not ";": systemd reads those as prefixes or a
// separator whatever the quoting. Marshal refuses what else systemd would.
func Exec(argv ...string) string {
	words := make([]Text, len(argv))
	for i, a := range argv {
		words[i] = Lit(a)
	}
	return ExecWords(0, words...)
}

// ExecWords is Exec for words that may hold specifiers, with flags.
// Each word is quoted by systemd's rules and '$' is escaped as "$$", so no
// environment variable is expanded.
//
// A word made only of printable ASCII without quotes, backslashes and ';'
// stays bare; any other word is double-quoted, with '"' and '\' escaped and
// every byte that is not printable UTF-8 written as a C escape, so the value
// holds no control character and no invalid UTF-8. ExecWords never fails:
// a word systemd cannot take (a NUL, an executable that is neither an
// absolute path nor a file name) makes a value that Marshal rejects. The
// first word has the limits Exec states for argv[0].
func ExecWords(flags ExecFlags, words ...Text) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		} else {
			writeFlags(&b, flags)
		}
		writeExecWord(&b, w.raw)
	}
	if len(words) == 0 {
		writeFlags(&b, flags)
	}
	return b.String()
}

func writeFlags(b *strings.Builder, flags ExecFlags) {
	for _, f := range []struct {
		flag ExecFlags
		c    byte
	}{{IgnoreFailure, '-'}, {ArgvZero, '@'}, {FullPrivileges, '+'}, {NoSetuid, '!'}} {
		if flags&f.flag != 0 {
			b.WriteByte(f.c)
		}
	}
}

func writeExecWord(b *strings.Builder, w string) {
	if w != "" && strings.IndexFunc(w, needsExecQuote) < 0 {
		b.WriteString(strings.ReplaceAll(w, "$", "$$"))
		return
	}
	b.WriteByte('"')
	writeEscaped(b, w, true)
	b.WriteByte('"')
}

func needsExecQuote(r rune) bool {
	return r <= ' ' || r >= 0x7f || r == '"' || r == '\'' || r == '\\' || r == ';'
}

// writeEscaped writes s for the inside of a double-quoted word that systemd
// unquotes with C unescaping. NUL has no escape systemd accepts and is written
// as it is, for Marshal to reject.
func writeEscaped(b *strings.Builder, s string, dollar bool) {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteByte(byte(r))
		case r == '$' && dollar:
			b.WriteString("$$")
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == 0:
			b.WriteByte(0)
		case r == ' ' || (r != utf8.RuneError || n > 1) && unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			// Raw bytes, not \u: systemd refuses \u for non-characters,
			// and bytes round-trip whatever they are.
			for _, c := range []byte(s[i : i+n]) {
				b.WriteString(`\x`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			}
		}
		i += n
	}
}

// SplitExec splits a command-line value the way systemd 252 does (quotes,
// backslash escapes, "$$", "%%", a lone ";"), returning the argv with
// specifiers left as "%X", leading flags dropped.
//
// It returns an error where systemd would fail or warn: unbalanced quotes,
// unknown escapes, an unknown specifier, an environment variable reference
// (nap never writes one), more than one command, an executable that is
// neither an absolute path nor a file name.
func SplitExec(value string) ([]string, error) {
	var argv []string
	err := walkExec(value, func(w []byte) { argv = append(argv, string(w)) })
	if err != nil {
		return nil, err
	}
	return argv, nil
}

// walkExec splits value as SplitExec does, handing each word to fn in a
// buffer that is reused for the next word, so that Marshal can check a
// command line (fn nil) without allocating its argv.
func walkExec(value string, fn func(word []byte)) error {
	scratch := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(scratch)
	buf, rest, ok, err := extractWord(value, (*scratch)[:0])
	defer func() { *scratch = buf[:0] }()
	if err != nil || !ok {
		return err
	}
	if string(buf) == ";" {
		return errors.New("command line starts with ';'")
	}
	exe, flags := cutExecFlags(buf)
	if exe, err = resolveSpecifiers(exe); err != nil {
		return err
	}
	if err := validExecutable(exe); err != nil {
		return err
	}
	if fn != nil {
		fn(exe)
	}
	words := 1
	for {
		rest = trimSpace(rest)
		if rest == "" {
			break
		}
		if rest[0] == ';' && (len(rest) == 1 || isSpace(rest[1])) {
			return errors.New("command line holds a lone ';', which starts a second command")
		}
		var word []byte
		if strings.HasPrefix(rest, `\;`) && (len(rest) == 2 || isSpace(rest[2])) {
			word, rest = append(buf[:0], ';'), rest[2:]
		} else if word, rest, _, err = extractWord(rest, buf[:0]); err != nil {
			return err
		}
		if fn == nil {
			// Only checking: "%%" and "$$" need no compacting, and as
			// resolving specifiers never adds or removes a '$', the two
			// checks may read the same unresolved word.
			if err = checkSpecifiersBytes(word); err == nil {
				err = checkDollars(word)
			}
			if err != nil {
				return err
			}
		} else if word, err = resolveSpecifiers(word); err != nil {
			return err
		} else if word, err = unescapeDollars(word); err != nil {
			return err
		} else {
			fn(word)
		}
		buf = word
		words++
	}
	if flags&ArgvZero != 0 && words < 2 {
		return errors.New("command line has the '@' prefix but no argv[0] after the executable")
	}
	return nil
}

// cutExecFlags removes the executable prefixes as systemd 252 does: each at
// most once ("!!" twice), '+' and '!' excluding each other.
func cutExecFlags[S []byte | string](w S) (S, ExecFlags) {
	var flags ExecFlags
	var colon bool
	bangs := 0
	for len(w) > 0 {
		switch c := w[0]; {
		case c == '-' && flags&IgnoreFailure == 0:
			flags |= IgnoreFailure
		case c == '@' && flags&ArgvZero == 0:
			flags |= ArgvZero
		case c == ':' && !colon:
			colon = true
		case c == '+' && flags&(FullPrivileges|NoSetuid) == 0:
			flags |= FullPrivileges
		case c == '!' && flags&FullPrivileges == 0 && bangs < 2:
			flags |= NoSetuid
			bangs++
		default:
			return w, flags
		}
		w = w[1:]
	}
	return w, flags
}

// validExecutable mirrors config_parse_exec's checks of the executable.
func validExecutable[S []byte | string](exe S) error {
	path := string(exe) // no copy when exe is a string
	switch {
	case path == "":
		return errors.New("command line has no executable")
	case strings.ContainsAny(path, "\"'\\\x7f") || strings.IndexFunc(path, func(r rune) bool { return r < ' ' }) >= 0:
		return fmt.Errorf("executable %q holds quotes, backslashes or control characters", path)
	case strings.Contains(path, "$"):
		return fmt.Errorf("executable %q holds '$', which systemd expands in argv[0] but not in the path", path)
	case strings.HasSuffix(path, "/"):
		return fmt.Errorf("executable %q ends in '/'", path)
	case path[0] != '/' && (strings.Contains(path, "/") || path == "." || path == ".." || len(path) > 255):
		return fmt.Errorf("executable %q is neither an absolute path nor a file name", path)
	}
	return nil
}

// scratchPool holds the buffers command lines are unquoted into, so that
// Marshal's check allocates nothing per word.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const whitespace = " \t\n\r"

// trimSpace drops leading whitespace (strings.TrimLeft builds its set on
// every call, and Marshal calls this for every word).
func trimSpace(s string) string {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return s[i:]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// extractWord is systemd's extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE)
// without the relaxed retry: an unknown escape is an error (systemd warns).
// ok is false when only whitespace is left.
func extractWord(p string, b []byte) (word []byte, rest string, ok bool, err error) {
	i := 0
	for i < len(p) && isSpace(p[i]) {
		i++
	}
	if i == len(p) {
		return nil, "", false, nil
	}
	var quote byte
	nextQuote, nextBackslash := -1, -1
	for i < len(p) {
		c := p[i]
		switch {
		case c == '\\':
			i++
			if i == len(p) {
				return nil, "", false, errors.New("command line ends in a backslash")
			}
			var n int
			if b, n, err = cunescapeOne(b, p[i:]); err != nil {
				return nil, "", false, err
			}
			i += n
		case quote != 0:
			if c == quote {
				quote = 0
				i++
				continue
			}
			// Copy up to the closing quote or the next escape at once;
			// where those are is remembered, so a long quoted word full of
			// escapes is scanned once.
			if nextQuote < i {
				nextQuote = indexFrom(p, quote, i)
			}
			if nextBackslash < i {
				nextBackslash = indexFrom(p, '\\', i)
			}
			j := min(nextQuote, nextBackslash)
			b = append(b, p[i:j]...)
			i = j
		case c == '"' || c == '\'':
			quote, nextQuote = c, -1
			i++
		case isSpace(c):
			return b, p[i:], true, nil
		default:
			j := i + 1
			for j < len(p) && !isSpace(p[j]) && p[j] != '"' && p[j] != '\'' && p[j] != '\\' {
				j++
			}
			b = append(b, p[i:j]...)
			i = j
		}
	}
	if quote != 0 {
		return nil, "", false, fmt.Errorf("unbalanced %c quote", quote)
	}
	return b, "", true, nil
}

// indexFrom is the index of c in p at or after i, or len(p).
func indexFrom(p string, c byte, i int) int {
	if n := strings.IndexByte(p[i:], c); n >= 0 {
		return i + n
	}
	return len(p)
}

// cunescapeOne is systemd's cunescape_one without NUL: it decodes the escape
// whose letter starts p, appending it to b, and says how many bytes of p it
// used.
func cunescapeOne(b []byte, p string) ([]byte, int, error) {
	switch c := p[0]; c {
	case 'a':
		return append(b, '\a'), 1, nil
	case 'b':
		return append(b, '\b'), 1, nil
	case 'f':
		return append(b, '\f'), 1, nil
	case 'n':
		return append(b, '\n'), 1, nil
	case 'r':
		return append(b, '\r'), 1, nil
	case 't':
		return append(b, '\t'), 1, nil
	case 'v':
		return append(b, '\v'), 1, nil
	case '\\', '"', '\'':
		return append(b, c), 1, nil
	case 's':
		return append(b, ' '), 1, nil
	case 'x':
		v, ok := parseDigits(p[1:], 2, 16)
		if !ok || v == 0 {
			return nil, 0, fmt.Errorf("invalid escape \\%.3s", p)
		}
		return append(b, byte(v)), 3, nil
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		v, ok := parseDigits(p[1:], n, 16)
		if !ok || v == 0 || !unicharValid(v) {
			return nil, 0, fmt.Errorf("invalid escape \\%.*s", n+1, p)
		}
		return utf8.AppendRune(b, rune(v)), n + 1, nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v, ok := parseDigits(p, 3, 8)
		if !ok || v == 0 || v > 255 {
			return nil, 0, fmt.Errorf("invalid escape \\%.3s", p)
		}
		return append(b, byte(v)), 3, nil
	}
	r, _ := utf8.DecodeRuneInString(p)
	return nil, 0, fmt.Errorf("unknown escape \\%c", r)
}

func parseDigits(s string, n int, base uint32) (uint32, bool) {
	if len(s) < n {
		return 0, false
	}
	var v uint32
	for i := 0; i < n; i++ {
		c := s[i]
		var d uint32
		switch {
		case '0' <= c && c <= '9':
			d = uint32(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint32(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = uint32(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
	}
	return v, true
}

// unicharValid is systemd's unichar_is_valid.
func unicharValid(c uint32) bool {
	return c < 0x110000 && c&0xFFFFF800 != 0xD800 && !(c >= 0xFDD0 && c <= 0xFDEF) && c&0xFFFE != 0xFFFE
}

// specifiers are the ones systemd 252 resolves in unit files.
const specifiers = "aAbBCdEfgGhHiIjJlLmMnNopPqsStTuUvVwWyY"

// resolveSpecifiers turns "%%" into "%" in place and keeps the specifiers
// systemd knows as "%X"; any other '%' is an error, as it is for systemd.
func resolveSpecifiers(w []byte) ([]byte, error) {
	if bytes.IndexByte(w, '%') < 0 {
		return w, nil
	}
	out := w[:0]
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == '%' {
			if err := checkSpecifier(w, i); err != nil {
				return nil, err
			}
			i++
			if w[i] != '%' {
				out = append(out, '%')
			}
			c = w[i]
		}
		out = append(out, c)
	}
	return out, nil
}

// checkSpecifiers is resolveSpecifiers without the result, for Marshal.
func checkSpecifiers(v string) error {
	return checkSpecifiersFrom(v, strings.IndexByte(v, '%'))
}

func checkSpecifiersBytes(v []byte) error {
	return checkSpecifiersFrom(v, bytes.IndexByte(v, '%'))
}

// checkSpecifiersFrom checks v's specifiers from its first '%', at i.
func checkSpecifiersFrom[S []byte | string](v S, i int) error {
	for ; i >= 0 && i < len(v); i++ {
		if v[i] == '%' {
			if err := checkSpecifier(v, i); err != nil {
				return err
			}
			i++
		}
	}
	return nil
}

func checkSpecifier[S []byte | string](s S, i int) error {
	switch {
	case i+1 == len(s):
		return fmt.Errorf("%q ends in a lone '%%': write %%%% for a literal '%%'", s)
	case s[i+1] != '%' && strings.IndexByte(specifiers, s[i+1]) < 0:
		return fmt.Errorf("%q holds the unknown specifier %%%c: write %%%% for a literal '%%'", s, s[i+1])
	}
	return nil
}

// checkDollars is unescapeDollars without the result.
func checkDollars(w []byte) error {
	for i := bytes.IndexByte(w, '$'); i >= 0; {
		if i+1 == len(w) || w[i+1] != '$' {
			return fmt.Errorf("%q refers to an environment variable: write $$ for a literal '$'", w)
		}
		n := bytes.IndexByte(w[i+2:], '$')
		if n < 0 {
			break
		}
		i += 2 + n
	}
	return nil
}

// unescapeDollars undoes "$$" in place; any other '$' is a variable
// reference.
func unescapeDollars(w []byte) ([]byte, error) {
	i := bytes.IndexByte(w, '$')
	if i < 0 {
		return w, nil
	}
	out := w[:i]
	for i < len(w) {
		// w[i] is '$': keep one of "$$", then copy up to the next '$'.
		if i+1 == len(w) || w[i+1] != '$' {
			return nil, fmt.Errorf("%q refers to an environment variable: write $$ for a literal '$'", w)
		}
		n := bytes.IndexByte(w[i+2:], '$')
		if n < 0 {
			n = len(w) - i - 2
		}
		out = append(out, w[i+1:i+2+n]...)
		i += 2 + n
	}
	return out, nil
}

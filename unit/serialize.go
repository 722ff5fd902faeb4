package unit

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FleetSection is the section fleet reads; its values are not wrapped and
// hold no '%' but the specifiers fleet substitutes.
const FleetSection = "X-Fleet"

// Error is a value Marshal refuses, naming where it is.
type Error struct {
	Unit, Section, Option string // Section and Option empty when the file itself is wrong
	Err                   error
}

func (e *Error) Error() string {
	switch {
	case e.Option != "":
		return fmt.Sprintf("%s: [%s] %s=: %v", e.Unit, e.Section, e.Option, e.Err)
	case e.Section != "":
		return fmt.Sprintf("%s: [%s]: %v", e.Unit, e.Section, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Unit, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Marshal validates f and returns its bytes, starting with Header.
//
// It fails, writing nothing, on an invalid unit name, section name or option
// name; a value holding CR, LF, NUL, another control character but tab, or
// invalid UTF-8; a value starting or ending with white space or ending with
// '\'; an unknown specifier; an Exec*= value SplitExec refuses; an
// Environment= value SplitEnv refuses; '%' in [X-Fleet] other than %n %N %p
// %i; a line longer than MaxLine that has no space to wrap at.
func Marshal(f *File) ([]byte, error) {
	if err := ValidName(f.Name); err != nil {
		return nil, &Error{Unit: f.Name, Err: err}
	}
	// The bytes are those of go-systemd's SerializeSections (proven by
	// TestMarshalIsSerializeSections), written here at once into a buffer
	// of the right size: going through its sections and reader cost as
	// much as every check Marshal makes.
	out := make([]byte, 0, marshalledSize(f))
	out = append(out, Header+"\n"...)
	for i, s := range f.Sections {
		if err := validKey(s.Name, "section"); err != nil {
			return nil, &Error{Unit: f.Name, Section: s.Name, Err: err}
		}
		if i > 0 {
			out = append(out, '\n')
		}
		out = append(out, '[')
		out = append(out, s.Name...)
		out = append(out, "]\n"...)
		for _, o := range s.Options {
			var err error
			if out, err = appendOption(out, s.Name, o); err != nil {
				return nil, &Error{Unit: f.Name, Section: s.Name, Option: o.Name, Err: err}
			}
		}
	}
	return out, nil
}

// marshalledSize is the length of f's file but for the few bytes wrapping
// adds, for which it leaves room at the usual line length.
func marshalledSize(f *File) int {
	n := len(Header) + 1
	for _, s := range f.Sections {
		n += len(s.Name) + 4
		for _, o := range s.Options {
			n += len(o.Name) + len(o.Value) + 2 + len(o.Value)/(MaxLine/2)
		}
	}
	return n
}

// Write is Marshal to w.
func Write(w io.Writer, f *File) error {
	b, err := Marshal(f)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// maxKeyLen bounds section and option names, far above any systemd or fleet
// knows, so that a name alone never makes a line too long.
const maxKeyLen = 256

// validKey checks a section or option name: [A-Za-z0-9-]{1,256}.
func validKey(k, what string) error {
	switch {
	case k == "":
		return fmt.Errorf("empty %s name", what)
	case len(k) > maxKeyLen:
		return fmt.Errorf("%s name %.40q… is %d bytes long, more than %d", what, k, len(k), maxKeyLen)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Errorf("%s name %q holds %q: only letters, digits and '-' are allowed", what, k, c)
		}
	}
	return nil
}

// appendOption validates o and appends its line to out: "Name=Value\n",
// the value wrapped with line continuations when the line would be longer
// than MaxLine.
func appendOption(out []byte, section string, o Option) ([]byte, error) {
	if err := checkOption(section, o); err != nil {
		return out, err
	}
	out = append(out, o.Name...)
	out = append(out, '=')
	out, err := appendWrapped(out, len(o.Name)+1, o.Value)
	return append(out, '\n'), err
}

// checkOption makes every check of o but the line length of a value that
// is not in [X-Fleet] (appendWrapped's).
func checkOption(section string, o Option) error {
	if err := validKey(o.Name, "option"); err != nil {
		return err
	}
	v := o.Value
	if strings.HasPrefix(v, badEnvName) {
		_, err := SplitEnv(v)
		return err
	}
	if err := validValue(v); err != nil {
		return err
	}
	if section == FleetSection {
		if err := validFleetValue(v); err != nil {
			return err
		}
		if len(o.Name)+1+len(v) > MaxLine {
			return fmt.Errorf("line is %d bytes long, more than %d, and fleet lines are never wrapped", len(o.Name)+1+len(v), MaxLine)
		}
		return nil
	}
	// Command lines and environment assignments have their specifiers
	// checked word by word after unquoting, as systemd resolves them. The
	// scanning checks pass what Exec and Env write without copying a byte;
	// anything else, and every error, is for the walks to name.
	switch {
	case isExecOption(o.Name):
		if scanExec(v) {
			return nil
		}
		return walkExec(v, nil)
	case o.Name == "Environment":
		if scanEnv(v) {
			return nil
		}
		return walkEnv(v, func([]byte) {})
	}
	return checkSpecifiers(v)
}

func isExecOption(name string) bool {
	switch name {
	case "ExecStart", "ExecStartPre", "ExecStartPost", "ExecCondition", "ExecReload", "ExecStop", "ExecStopPost":
		return true
	}
	return false
}

// plainByte marks the bytes a value may hold without a closer look:
// printable ASCII and tab.
var plainByte = func() (t [256]bool) {
	for c := ' '; c < 0x7f; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// isPlain reports whether v is printable ASCII and tabs only, eight bytes at
// a time: Marshal reads every value, and most are plain.
func isPlain(v string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(v); i += 8 {
		x := binary.LittleEndian.Uint64([]byte(v[i : i+8]))
		// A byte below 0x20, from 0x80, or 0x7f sets its high bit here.
		below := (x - 0x20*ones) &^ x
		del := x ^ 0x7f*ones
		if (below|x|(del-ones)&^del)&highs != 0 {
			break
		}
	}
	for ; i < len(v); i++ {
		if !plainByte[v[i]] {
			return false
		}
	}
	return true
}

func validValue(v string) error {
	plain := isPlain(v) // if not, the loop below names the problem, if any
	for i, r := range v {
		if plain {
			break
		}
		switch {
		case r == '\r' || r == '\n':
			return fmt.Errorf("value holds a line break at byte %d", i)
		case r == 0:
			return fmt.Errorf("value holds NUL at byte %d", i)
		case r == utf8.RuneError && !strings.HasPrefix(v[i:], "\uFFFD"):
			return fmt.Errorf("value is not valid UTF-8 at byte %d", i)
		case r != '\t' && unicode.IsControl(r):
			return fmt.Errorf("value holds the control character %U at byte %d", r, i)
		}
	}
	if v == "" {
		return nil
	}
	first, _ := utf8.DecodeRuneInString(v)
	last, _ := utf8.DecodeLastRuneInString(v)
	switch {
	case unicode.IsSpace(first) || unicode.IsSpace(last):
		return fmt.Errorf("value %.40q starts or ends with white space, which systemd strips", v)
	case last == '\\':
		return fmt.Errorf("value %.40q ends in '\\', which joins the next line", v)
	}
	return nil
}

// validFleetValue allows only the specifiers fleet substitutes: fleet does
// not unescape "%%".
func validFleetValue(v string) error {
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			continue
		}
		if i+1 < len(v) && strings.IndexByte("nNpi", v[i+1]) >= 0 {
			i++
			continue
		}
		return fmt.Errorf("value %.40q holds '%%' that is not %%n, %%N, %%p or %%i: fleet does not unescape %%%%", v)
	}
	return nil
}

// appendWrapped appends v to out in physical lines of at most MaxLine bytes
// (the first prefixed by prefix bytes of "Name="), replacing a space with
// '\' and a newline. systemd and go-systemd's reader (with Read) both turn
// the pair back into the space. A space qualifies when the '\' put there
// continues the line for systemd (no unpaired '\' before it) and the next
// line does not start, after blanks, with '#' or ';' (systemd skips comment
// lines there).
func appendWrapped(out []byte, prefix int, v string) ([]byte, error) {
	start, width := 0, MaxLine-prefix
	for len(v)-start > width {
		brk := -1
		// The '\' takes the place after the space's predecessor, so the
		// space may sit at most at start+width-1.
		for i := min(start+width-1, len(v)-1); i >= start; i-- {
			if v[i] == ' ' && canBreak(v, i) {
				brk = i
				break
			}
		}
		if brk < 0 {
			return out, fmt.Errorf("line is longer than %d bytes and has no space to wrap at near byte %d", MaxLine, start)
		}
		out = append(out, v[start:brk]...)
		out = append(out, "\\\n"...)
		start, width = brk+1, MaxLine
	}
	return append(out, v[start:]...), nil
}

func canBreak(v string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && v[j] == '\\'; j-- {
		n++
	}
	if n%2 == 1 {
		return false
	}
	next := strings.TrimLeft(v[i+1:], " \t")
	return next == "" || next[0] != '#' && next[0] != ';'
}

package unit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// badEnvName starts the value Env returns for an invalid name, so that
// Marshal rejects it with a message naming the name (a value can never hold
// NUL otherwise).
const badEnvName = "\x00invalid environment variable name "

// Env returns an Environment= value assigning value to name, quoted by
// systemd's rules. The name must match [A-Za-z_][A-Za-z0-9_]*; Marshal
// rejects a value holding an invalid name.
//
// systemd does not expand '$' in Environment= but does expand specifiers, so
// value is a Text: Lit escapes '%'.
func Env(name string, value Text) string {
	if !validEnvName(name) {
		return badEnvName + fmt.Sprintf("%q", name)
	}
	a := name + "=" + value.raw
	if strings.IndexFunc(a, needsEnvQuote) < 0 {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	writeEscaped(&b, a, false)
	b.WriteByte('"')
	return b.String()
}

func needsEnvQuote(r rune) bool { return r <= ' ' || r >= 0x7f || r == '"' || r == '\'' || r == '\\' }

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// SplitEnv splits an Environment= value the way systemd does, returning the
// NAME=VALUE assignments with specifiers left as "%X". It fails where
// systemd would ignore an assignment.
func SplitEnv(value string) ([]string, error) {
	var out []string
	if err := walkEnv(value, func(a []byte) { out = append(out, string(a)) }); err != nil {
		return nil, err
	}
	return out, nil
}

func walkEnv(value string, fn func(assignment []byte)) error {
	if strings.HasPrefix(value, badEnvName) {
		return fmt.Errorf("%s: use letters, digits and '_', not starting with a digit", value[1:])
	}
	var buf []byte
	for rest := value; ; {
		word, r, ok, err := extractWord(rest, buf[:0])
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		rest = r
		if word, err = resolveSpecifiers(word); err != nil {
			return err
		}
		name, v, found := bytes.Cut(word, []byte("="))
		if !found || !validEnvName(string(name)) {
			return fmt.Errorf("invalid environment assignment %q: want NAME=VALUE, NAME of letters, digits and '_'", word)
		}
		if !utf8.Valid(v) {
			return errors.New("environment value of " + string(name) + " is not valid UTF-8")
		}
		fn(word)
		buf = word
	}
}

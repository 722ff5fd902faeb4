package unit

import (
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
	if strings.HasPrefix(value, badEnvName) {
		return nil, fmt.Errorf("%s: use letters, digits and '_', not starting with a digit", value[1:])
	}
	var out []string
	for rest := value; ; {
		word, r, ok, err := extractWord(rest)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		rest = r
		if word, err = resolveSpecifiers(word); err != nil {
			return nil, err
		}
		name, v, found := strings.Cut(word, "=")
		if !found || !validEnvName(name) {
			return nil, fmt.Errorf("invalid environment assignment %q: want NAME=VALUE, NAME of letters, digits and '_'", word)
		}
		if !utf8.ValidString(v) {
			return nil, errors.New("environment value of " + name + " is not valid UTF-8")
		}
		out = append(out, word)
	}
}

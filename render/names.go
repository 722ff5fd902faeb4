package render

import (
	"fmt"
	"strconv"
)

// reserved are names that match the app pattern but would collide with what
// a nap host already runs or serves (gitolite's admin repository, nap's own
// state, the host services nap's units depend on).
var reserved = map[string]bool{
	"gitolite-admin": true, "nap": true, "nap-render": true, "git": true, "root": true,
	"docker": true, "etcd": true, "fleet": true, "systemd": true, "sshd": true,
	"registry": true, "testing": true, "hooks": true, "repos": true,
}

// ValidApp reports whether name is a valid app name: ^[a-z][a-z0-9-]{0,62}$
// and not a reserved word. The one validator for app names in nap (hooks use
// it too). Its error says what to do.
func ValidApp(name string) error {
	if len(name) == 0 || len(name) > 63 {
		return fmt.Errorf("invalid app name %s: use 1 to 63 characters, [a-z][a-z0-9-]*", QuoteName(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := 'a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '-')
		if !ok {
			return fmt.Errorf("invalid app name %s: start with a lower-case letter, then use only a-z, 0-9 and '-'", QuoteName(name))
		}
	}
	if reserved[name] {
		return fmt.Errorf("invalid app name %q: it is reserved, choose another", name)
	}
	return nil
}

// ValidRev reports whether rev is a full git object id (40 or 64 lower-case hex).
func ValidRev(rev string) error {
	if len(rev) != 40 && len(rev) != 64 {
		return fmt.Errorf("invalid revision %s: give a full git object id (40 or 64 hex digits)", QuoteName(rev))
	}
	for i := 0; i < len(rev); i++ {
		if c := rev[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("invalid revision %s: give a full git object id (40 or 64 lower-case hex digits)", QuoteName(rev))
		}
	}
	return nil
}

// QuoteName shows a hostile name safely in a message: Go-quoted (so a newline
// cannot fake another line of output) and cut short.
func QuoteName(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "…"
	}
	return strconv.Quote(s)
}

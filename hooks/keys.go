package hooks

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/internal/atomicfile"
	"github.com/nap-paas/nap/internal/sh"
	"github.com/nap-paas/nap/render"
)

// ValidUser reports whether name may name a pusher in authorized_keys:
// ^[a-z][a-z0-9_-]{0,31}$ (a POSIX-portable login name). The name ends up in
// a shell command line that sshd runs, so nothing else is allowed.
func ValidUser(name string) error {
	if len(name) == 0 || len(name) > 32 {
		return fmt.Errorf("invalid user name %s: use 1 to 32 characters, [a-z][a-z0-9_-]*", render.QuoteName(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '-' || c == '_')) {
			return fmt.Errorf("invalid user name %s: start with a lower-case letter, then use only a-z, 0-9, '-' and '_'", render.QuoteName(name))
		}
	}
	return nil
}

// keyTypes are the public key algorithms OpenSSH accepts in authorized_keys.
var keyTypes = map[string]bool{
	"ssh-ed25519": true, "ssh-rsa": true, "ssh-dss": true,
	"ecdsa-sha2-nistp256": true, "ecdsa-sha2-nistp384": true, "ecdsa-sha2-nistp521": true,
	"sk-ssh-ed25519@openssh.com": true, "sk-ecdsa-sha2-nistp256@openssh.com": true,
}

// PublicKey is one ssh public key: its algorithm and base64 blob.
type PublicKey struct{ Type, Blob string }

// ParsePublicKey reads a public key file (TYPE BASE64 [comment], one key).
// Options in front of the key are refused: nap writes its own.
func ParsePublicKey(data []byte) (PublicKey, error) {
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		return PublicKey{}, fmt.Errorf("want exactly one public key line, found %d", len(lines))
	}
	f := strings.Fields(lines[0])
	if len(f) < 2 || !keyTypes[f[0]] {
		return PublicKey{}, fmt.Errorf("not an ssh public key (want TYPE BASE64 [comment], TYPE one of ssh-ed25519, ssh-rsa, ecdsa-sha2-*; options in front are not allowed)")
	}
	raw, err := base64.StdEncoding.DecodeString(f[1])
	// The blob starts with its own type as an ssh string: a cheap check that
	// it is a key and not arbitrary text.
	if err != nil || len(raw) < 4 || int(binary.BigEndian.Uint32(raw)) != len(f[0]) || !bytes.HasPrefix(raw[4:], []byte(f[0])) {
		return PublicKey{}, fmt.Errorf("the %s key's base64 data is damaged", f[0])
	}
	return PublicKey{Type: f[0], Blob: f[1]}, nil
}

// Login is who a key logs in as: the forced command's arguments.
type Login struct {
	User   string
	Admin  bool   // every app
	Config string // the operator config the shell reads; "" = the default
}

// AuthorizedLine is the authorized_keys line that lets key in as l, with
// nothing allowed but `napRender shell [--admin] [--config F] USER`.
func AuthorizedLine(napRender string, l Login, key PublicKey) (string, error) {
	if err := ValidUser(l.User); err != nil {
		return "", err
	}
	// sshd hands command= to the login shell: each path must be one plain
	// word, which also keeps '"' and '\' out of the option's quotes.
	for _, p := range []string{napRender, l.Config} {
		if p != "" && (!filepath.IsAbs(p) || sh.Quote(p) != p) {
			return "", fmt.Errorf("path %q must be absolute and made of [A-Za-z0-9._/-]", p)
		}
	}
	if napRender == "" {
		return "", fmt.Errorf("no nap-render path")
	}
	flags := ""
	if l.Admin {
		flags += "--admin "
	}
	if l.Config != "" {
		flags += "--config " + l.Config + " "
	}
	return fmt.Sprintf(`restrict,command="%s shell %s%s" %s %s %s`, napRender, flags, l.User, key.Type, key.Blob, l.User), nil
}

// AddKeyResult says what AddKey did.
type AddKeyResult int

const (
	KeyAdded AddKeyResult = iota
	KeyUnchanged
)

// AddKey puts line into the authorized_keys file path, keyed by the key it
// holds: an identical line leaves the file untouched; nap's line for the
// same key and user (another admin flag) is replaced; the same key on any
// other line is an error (sshd would use whichever comes first). The file
// is replaced atomically (temp file + rename) with mode 0600.
func AddKey(path, line string, key PublicKey) (AddKeyResult, error) {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return 0, err
	}
	lines := strings.Split(strings.TrimSuffix(string(old), "\n"), "\n")
	if len(old) == 0 {
		lines = nil
	}
	replaced := false
	for i, l := range lines {
		if l == line {
			return KeyUnchanged, nil
		}
		f := strings.Fields(l)
		for j := 0; j+1 < len(f); j++ {
			if f[j+1] != key.Blob || !strings.HasSuffix(f[j], key.Type) {
				continue
			}
			// nap's own line for the user: the key's comment is the user
			nf := strings.Fields(line)
			if !replaced && strings.HasPrefix(l, `restrict,command="`) && f[len(f)-1] == nf[len(nf)-1] {
				lines[i], replaced = line, true
				break
			}
			return 0, fmt.Errorf("%s:%d: this key is already authorized by another line: remove that line first", path, i+1)
		}
	}
	if !replaced {
		lines = append(lines, line)
	}
	buf := []byte(strings.Join(lines, "\n") + "\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return 0, err
	}
	return KeyAdded, atomicfile.Write(path, buf, 0o600)
}

// Share lets user use app (grant), or no longer (revoke), recording it in
// the app's access under state, and says what it did.
func Share(state, app, user string, grant bool) (string, error) {
	if err := render.ValidApp(app); err != nil {
		return "", &RequestError{err.Error()}
	}
	if err := ValidUser(user); err != nil {
		return "", &RequestError{err.Error()}
	}
	st := store.NewApp(state, app)
	if grant {
		return fmt.Sprintf("%s may use %s", user, app), st.Grant(user)
	}
	return fmt.Sprintf("%s may no longer use %s (unless an admin)", user, app), st.Revoke(user)
}

package hooks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGr0uvFJ7yN+0EbsyNHGpZ7dqGugHgEnEgQdbp5gJWT1 alice@laptop"

func TestValidUser(t *testing.T) {
	for _, ok := range []string{"alice", "a", "bob-2", "ci_bot", strings.Repeat("a", 32)} {
		if err := ValidUser(ok); err != nil {
			t.Errorf("ValidUser(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Alice", "1bob", "-x", "_x", "a b", "a\nb", "a;id", "a\"b", "a$b", "a.b", "a/b", strings.Repeat("a", 33), "é"} {
		if err := ValidUser(bad); err == nil {
			t.Errorf("ValidUser(%q) = nil, want an error", bad)
		}
	}
}

func TestParsePublicKey(t *testing.T) {
	k, err := ParsePublicKey([]byte("# my key\n" + testKey + "\n"))
	if err != nil || k.Type != "ssh-ed25519" || !strings.HasPrefix(k.Blob, "AAAAC3") {
		t.Fatalf("ParsePublicKey = %+v, %v", k, err)
	}
	for name, bad := range map[string]string{
		"empty":     "",
		"two keys":  testKey + "\n" + testKey,
		"options":   `command="id" ` + testKey,
		"type":      "ssh-foo AAAA",
		"base64":    "ssh-ed25519 !!!!",
		"blob type": "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGr0uvFJ7yN+0EbsyNHGpZ7dqGugHgEnEgQdbp5gJWT1",
		"private":   "-----BEGIN OPENSSH PRIVATE KEY-----",
	} {
		if _, err := ParsePublicKey([]byte(bad)); err == nil {
			t.Errorf("%s: ParsePublicKey(%q) = nil error", name, bad)
		}
	}
}

func TestAddKey(t *testing.T) {
	key, err := ParsePublicKey([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	line, err := AuthorizedLine("/usr/bin/nap-render", Login{User: "alice", Admin: false}, key)
	if err != nil {
		t.Fatal(err)
	}
	want := `restrict,command="/usr/bin/nap-render shell alice" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGr0uvFJ7yN+0EbsyNHGpZ7dqGugHgEnEgQdbp5gJWT1 alice`
	if line != want {
		t.Fatalf("AuthorizedLine =\n%s\nwant\n%s", line, want)
	}
	path := filepath.Join(t.TempDir(), ".ssh", "authorized_keys")
	if res, err := AddKey(path, line, key); err != nil || res != KeyAdded {
		t.Fatalf("first AddKey = %v, %v", res, err)
	}
	if res, err := AddKey(path, line, key); err != nil || res != KeyUnchanged {
		t.Fatalf("second AddKey = %v, %v", res, err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != want+"\n" {
		t.Errorf("file = %q", got)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
	// The same key for another user would be ambiguous: refused, file untouched.
	bob, _ := AuthorizedLine("/usr/bin/nap-render", Login{User: "bob", Admin: false}, key)
	if _, err := AddKey(path, bob, key); err == nil || !strings.Contains(err.Error(), path+":1:") {
		t.Errorf("AddKey(bob, same key) = %v, want an error naming %s:1", err, path)
	}
	if again, _ := os.ReadFile(path); string(again) != string(got) {
		t.Errorf("a refused AddKey changed the file: %q", again)
	}
	// The same key for alice as an admin: her line is replaced, not added.
	admin, _ := AuthorizedLine("/usr/bin/nap-render", Login{User: "alice", Admin: true}, key)
	if !strings.Contains(admin, `command="/usr/bin/nap-render shell --admin alice"`) {
		t.Errorf("admin line %q", admin)
	}
	if res, err := AddKey(path, admin, key); err != nil || res != KeyAdded {
		t.Fatalf("AddKey(alice as admin) = %v, %v", res, err)
	}
	if now, _ := os.ReadFile(path); string(now) != admin+"\n" {
		t.Errorf("after making alice an admin the file is %q", now)
	}
	AddKey(path, line, key) // and back
	// sshd itself must read the line back as one key with its options.
	if out, err := exec.Command("ssh-keygen", "-l", "-f", path).CombinedOutput(); err != nil || !strings.Contains(string(out), "ED25519") {
		t.Errorf("ssh-keygen -l: %v: %s", err, out)
	}
	for _, bad := range []string{"nap-render", "/opt/my dir/nap-render", `/opt/a"b/nap-render`} {
		if _, err := AuthorizedLine(bad, Login{User: "alice", Admin: false}, key); err == nil {
			t.Errorf("AuthorizedLine(%q) = nil error", bad)
		}
	}
}

// FuzzAuthorizedLine: a user name that passes ValidUser can never add an
// option, a second line or a shell word to the entry.
func FuzzAuthorizedLine(f *testing.F) {
	for _, s := range []string{"alice", "a\nb", `a" ssh-rsa`, "a;id", "a b"} {
		f.Add(s)
	}
	key, _ := ParsePublicKey([]byte(testKey))
	f.Fuzz(func(t *testing.T, user string) {
		line, err := AuthorizedLine("/usr/bin/nap-render", Login{User: user, Admin: false}, key)
		if err != nil {
			return
		}
		want := `restrict,command="/usr/bin/nap-render shell ` + user + `" ` + key.Type + " " + key.Blob + " " + user
		if line != want || strings.ContainsAny(user, " \t\n\r\"\\'$`;&|<>(){}*?[]~#!") {
			t.Fatalf("user %q gave line %q", user, line)
		}
	})
}

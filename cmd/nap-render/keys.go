package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nap-paas/nap/hooks"
)

func init() {
	register("keys", command{
		summary: "keys add NAME KEYFILE: let a user push with an ssh key",
		run:     runKeys,
	})
}

const keysUsage = `usage: nap-render keys add NAME KEYFILE [--authorized-keys FILE]

Adds KEYFILE (one ssh public key) to the nap user's authorized_keys as
  restrict,command="/path/nap-render shell NAME" KEY NAME
so that the key can do nothing but push and fetch apps. Run it as the nap user.
Idempotent; the file is replaced atomically with mode 0600.`

func runKeys(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stderr, keysUsage)
			return nil
		}
		return usageErr("want: keys add NAME KEYFILE\n%s", keysUsage)
	}
	fs := flag.NewFlagSet("keys add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, keysUsage) }
	authorized := fs.String("authorized-keys", "", "authorized_keys file (default ~/.ssh/authorized_keys)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("want NAME and KEYFILE\n%s", keysUsage)
	}
	name, keyFile := pos[0], pos[1]
	if err := hooks.ValidUser(name); err != nil {
		return usageErr("%v", err)
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return &exitError{exitInput, err}
	}
	key, err := hooks.ParsePublicKey(data)
	if err != nil {
		return &exitError{exitInput, fmt.Errorf("%s: %v", keyFile, err)}
	}
	self, err := selfPath()
	if err != nil {
		return &exitError{exitEnv, err}
	}
	line, err := hooks.AuthorizedLine(self, name, key)
	if err != nil {
		return &exitError{exitEnv, err}
	}
	if *authorized == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return &exitError{exitEnv, err}
		}
		*authorized = filepath.Join(home, ".ssh", "authorized_keys")
	}
	res, err := hooks.AddKey(*authorized, line, key)
	if err != nil {
		return &exitError{exitInput, err}
	}
	if res == hooks.KeyUnchanged {
		fmt.Fprintf(stdout, "unchanged %s: %s's key is already there\n", *authorized, name)
	} else {
		fmt.Fprintf(stdout, "wrote %s: added %s's %s key\n", *authorized, name, key.Type)
	}
	return nil
}

// selfPath is this binary's absolute path with symlinks resolved, as hooks
// and authorized_keys must name it.
func selfPath() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(p)
}

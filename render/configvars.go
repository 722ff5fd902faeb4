package render

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/nap-paas/nap/unit"
)

// Config vars (`config:set`) reach a release's run units as a file the
// deploy writes on the instance's machine, passed with --env-file: the
// units name the file and the variables, never a value.

// MaxConfigValue bounds one config var's value: docker reads an env file
// line by line, and the whole environment stays within MaxEnvBytes.
const MaxConfigValue = 32 << 10

// CheckConfigVar refuses a config var docker's env file cannot carry, or
// one nap sets itself.
func CheckConfigVar(name, value string) error {
	if err := validEnvName(name); err != nil {
		return err
	}
	if isNapEnv(name) {
		return fmt.Errorf("%s is set by nap: choose another name", QuoteName(name))
	}
	switch {
	case len(value) > MaxConfigValue:
		return fmt.Errorf("%s: a value may be %d bytes at most, this one is %d", name, MaxConfigValue, len(value))
	case strings.ContainsAny(value, "\r\n\x00"):
		return fmt.Errorf("%s: a value cannot hold a line break or NUL (docker's env file is one variable a line)", name)
	case !utf8.ValidString(value):
		return fmt.Errorf("%s: a value must be valid UTF-8", name)
	}
	return nil
}

// CheckConfigVars checks every var, and all of them with the app's
// nap.yaml env against the operator's limits (limits.max_env names,
// MaxEnvBytes in all).
func CheckConfigVars(vars map[string]string, appEnv map[string]string, lim Limits) error {
	names := map[string]bool{}
	size := 0
	for k, v := range vars {
		if err := CheckConfigVar(k, v); err != nil {
			return err
		}
		names[k] = true
		size += len(k) + 1 + len(v) + 1
	}
	for k, v := range appEnv {
		if !names[k] {
			names[k] = true
			size += len(k) + 1 + len(v) + 1
		}
	}
	if lim.MaxEnv > 0 && len(names) > lim.MaxEnv {
		return fmt.Errorf("config vars and nap.yaml's env: %d variables; this host allows %d per app (limits.max_env)", len(names), lim.MaxEnv)
	}
	if size > MaxEnvBytes {
		return fmt.Errorf("config vars and nap.yaml's env: %d KiB in all; this host allows %d KiB per app", (size+1023)>>10, MaxEnvBytes>>10)
	}
	return nil
}

// EnvFile is vars in docker's --env-file format, sorted by name: the
// bytes depend only on vars.
func EnvFile(vars map[string]string) []byte {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + vars[k] + "\n")
	}
	return []byte(b.String())
}

// ParseEnvFile reads what EnvFile wrote.
func ParseEnvFile(data []byte) (map[string]string, error) {
	vars := map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: not NAME=VALUE", i+1)
		}
		vars[k] = v
	}
	return vars, nil
}

// checkConfigRef: the release's config vars, as its run units will name
// them — a file (systemd) or an etcd key (fleet), and their names.
func checkConfigRef(rel Release) error {
	switch {
	case rel.ConfigFile != "" && rel.ConfigKey != "":
		return errors.New("config vars in a file and in etcd: give one")
	case rel.ConfigFile != "":
		if err := validAbs(rel.ConfigFile); err != nil {
			return fmt.Errorf("config file: %v", err)
		}
	case rel.ConfigKey != "":
		if err := validPrefix(rel.ConfigKey); err != nil {
			return fmt.Errorf("config key: %v", err)
		}
	case len(rel.ConfigKeys) > 0:
		return errors.New("config vars named without their file or key")
	}
	for _, k := range rel.ConfigKeys {
		if err := validEnvName(k); err != nil {
			return fmt.Errorf("config var: %v", err)
		}
	}
	return nil
}

// configFetched is where a fleet run unit's instance finds the config vars
// it fetched: /run/nap/%n.env on its machine.
func configFetched() unit.Text {
	return unit.Cat(unit.Lit("/run/nap/"), unit.Spec(unit.FullName), unit.Lit(".env"))
}

// ParseConfigArgs reads config:set's words: NAME=VALUE…, or NAME - for one
// value read from stdin (stdinName is then NAME, set empty). The
// variables themselves are CheckConfigVar's to judge.
func ParseConfigArgs(args []string) (set map[string]string, stdinName string, err error) {
	if len(args) == 0 {
		return nil, "", errors.New("name no variable")
	}
	if len(args) == 2 && args[1] == "-" {
		return map[string]string{}, args[0], nil
	}
	set = map[string]string{}
	for _, kv := range args {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, "", fmt.Errorf("%s: give NAME=VALUE, or NAME - with the value on stdin", QuoteName(kv))
		}
		set[k] = v
	}
	return set, "", nil
}

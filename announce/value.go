package announce

import (
	"encoding/json"
	"fmt"
)

// Value is what an instance's key holds while it answers (DESIGN.md):
// {"host":…,"port":HOSTPORT,"ports":{"8080/tcp":HOSTPORT,…},"release":REV}.
// The announcer writes it; deploy, status and the router read it with
// ParseValue.
type Value struct {
	Host    string         `json:"host"`
	Port    int            `json:"port"`
	Ports   map[string]int `json:"ports"`
	Release string         `json:"release"`
}

// ParseValue reads a key's value. It checks the shape only: a reader that
// puts the host or port anywhere validates them for where they go.
func ParseValue(s string) (Value, error) {
	var v Value
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return v, err
	}
	if v.Host == "" || v.Port < 1 || v.Port > 65535 {
		return v, fmt.Errorf("no host and port in %.80q", s)
	}
	return v, nil
}

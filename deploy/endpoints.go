package deploy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Announcement is the value the host announcer writes.
type Announcement struct {
	Host    string         `json:"host"`
	Port    int            `json:"port"`
	Ports   map[string]int `json:"ports"`
	Release string         `json:"release"`
}

// Endpoint is one announced instance.
type Endpoint struct {
	Key  string
	Addr string // host:port
	Rev  string
}

func parseEndpoints(kv map[string]string) []Endpoint {
	var out []Endpoint
	for k, v := range kv {
		var a Announcement
		if json.Unmarshal([]byte(v), &a) != nil || a.Host == "" {
			continue
		}
		out = append(out, Endpoint{Key: k, Addr: joinHostPort(a.Host, a.Port), Rev: a.Release})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func joinHostPort(h string, p int) string {
	if strings.Contains(h, ":") {
		return fmt.Sprintf("[%s]:%d", h, p)
	}
	return fmt.Sprintf("%s:%d", h, p)
}

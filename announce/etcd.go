package announce

import (
	"strings"
	"time"
)

// requestTimeout bounds one request to one etcd endpoint.
const requestTimeout = 3 * time.Second

// short shows an answer's body on one line, cut short.
func short(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

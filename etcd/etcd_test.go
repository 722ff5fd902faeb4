package etcd

import (
	"encoding/base64"
	"testing"
)

// A key is text, never URL syntax.
func TestV2Path(t *testing.T) {
	if got, want := v2Path(`/nap "q" $x %i 'y'/a?b#c/web/R.1`), `/v2/keys/nap%20%22q%22%20$x%20%25i%20%27y%27/a%3Fb%23c/web/R.1`; got != want {
		t.Errorf("v2Path = %s, want %s", got, want)
	}
}

func TestPrefixRange(t *testing.T) {
	r := prefixRange("/services/shop/")
	dec := func(v any) string {
		b, _ := base64.StdEncoding.DecodeString(v.(string))
		return string(b)
	}
	if dec(r["key"]) != "/services/shop/" || dec(r["range_end"]) != "/services/shop0" {
		t.Errorf("range %q … %q", dec(r["key"]), dec(r["range_end"]))
	}
}

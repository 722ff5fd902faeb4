package store

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAccess(t *testing.T) {
	a := NewApp(t.TempDir(), "shop")
	if _, ok, err := a.Access(); ok || err != nil {
		t.Fatalf("a new app: recorded %v, %v", ok, err)
	}
	// of many claims at once, one wins and every claimer is told so
	var wg sync.WaitGroup
	won := make([]bool, 10)
	for i := range won {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := a.Claim(fmt.Sprint("user", i))
			if err != nil {
				t.Error(err)
			}
			won[i] = ok
		}()
	}
	wg.Wait()
	acc, ok, err := a.Access()
	if !ok || err != nil {
		t.Fatalf("after the claims: %v %v", ok, err)
	}
	n := 0
	for i, w := range won {
		if w {
			n++
			if acc.Owner != fmt.Sprint("user", i) {
				t.Errorf("user%d was told it won, the owner is %s", i, acc.Owner)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d claims won", n)
	}
	owner := acc.Owner
	if again, _ := a.Claim(owner); !again {
		t.Errorf("the owner's second claim says it does not own the app")
	}

	for _, u := range []string{"bob", "alice", "bob"} {
		if err := a.Grant(u); err != nil {
			t.Fatal(err)
		}
	}
	acc, _, _ = a.Access()
	if diff := cmp.Diff(Access{Owner: owner, Grants: []string{"alice", "bob"}}, acc); diff != "" {
		t.Errorf("after grants (-want +got):\n%s", diff)
	}
	if !acc.Allows("bob") || !acc.Allows(owner) || acc.Allows("carol") || acc.Allows("") {
		t.Errorf("Allows is wrong for %+v", acc)
	}
	if err := a.Revoke("bob"); err != nil {
		t.Fatal(err)
	}
	if err := a.Revoke(owner); err == nil || !strings.Contains(err.Error(), "the owner cannot be revoked") {
		t.Errorf("revoking the owner: %v", err)
	}
	if acc, _, _ = a.Access(); acc.Allows("bob") || !acc.Allows("alice") {
		t.Errorf("after revoking bob: %+v", acc)
	}
	// Unclaim takes back only a bare claim
	if err := a.Unclaim(owner); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Access(); !ok {
		t.Errorf("Unclaim removed an access with grants")
	}
	b := NewApp(t.TempDir(), "blog")
	b.Claim("carol")
	b.Unclaim("dave")
	if _, ok, _ := b.Access(); !ok {
		t.Errorf("another user's Unclaim removed carol's claim")
	}
	b.Unclaim("carol")
	if _, ok, _ := b.Access(); ok {
		t.Errorf("Unclaim left carol's bare claim")
	}
	if err := b.Revoke("x"); err == nil || !strings.Contains(err.Error(), "no owner recorded") {
		t.Errorf("a revoke on an app nobody owns: %v", err)
	}
	if err := b.Grant("x"); err != nil {
		t.Fatal(err)
	}
	if acc, _, _ := b.Access(); acc.Owner != "x" {
		t.Errorf("the first grant of an app nobody owns: %+v, want x its owner", acc)
	}
}

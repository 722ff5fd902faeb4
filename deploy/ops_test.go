package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/deploy/store"
)

// A rollback without REV goes to the release that was current last before
// the current one, whenever it was first deployed; a full REV names its
// first release, REV-N the N-th.
func TestPickRelease(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 1, 1, 0, m, 0, 0, time.UTC) }
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	rels := []*store.Release{ // as Releases lists them: by first deploy
		{Revision: a, Time: at(1), Switched: at(5), Status: store.StatusDeployed},         // made current again at 5
		{Revision: a, Gen: 2, Time: at(2), Switched: at(2), Status: store.StatusDeployed}, // current 2–5
		{Revision: b, Time: at(6), Switched: at(6), Status: store.StatusDeployed},         // current now
		{Revision: b, Gen: 2, Time: at(7), Status: store.StatusFailed},
	}
	for _, tc := range []struct{ cur, rev, want, err string }{
		{cur: b, want: a},
		{cur: a + "-2", want: ""}, // nothing was current before a-2 but a at 1, current again at 5: later
		{cur: b, rev: a, want: a},
		{cur: b, rev: a + "-2", want: a + "-2"},
		{cur: b, rev: "aaaaaaa", err: "ambiguous"},
		{cur: a, rev: b + "-2", err: "failed to start"},
	} {
		got, err := pickRelease(rels, tc.cur, tc.rev)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("pick %q from %.7s: %v, want an error saying %q", tc.rev, tc.cur, err, tc.err)
			}
		case tc.want == "":
			if err == nil {
				t.Errorf("pick %q from %.7s: %s, want none", tc.rev, tc.cur, got.Key())
			}
		case err != nil || got.Key() != tc.want:
			t.Errorf("pick %q from %.7s: %v %v, want %.9s", tc.rev, tc.cur, got, err, tc.want)
		}
	}
}

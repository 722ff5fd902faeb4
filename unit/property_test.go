package unit

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// pieces are what random values are made of: hostile bytes and words, long
// runs, and the constructors' output.
var pieces = []string{
	"a", "Z9", " ", "  ", "\t", "\\", "\\\\", `"`, "'", "$", "$$", "%", "%%", "%i", "%n", ";", "#", "[", "]", "=",
	"\n", "\r", "\x00", "\x1b", "\xff", "é", "☃", "\u00a0", "\u2028", "\\\n", strings.Repeat("x", 700), strings.Repeat("y ", 300),
}

func randomText(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(12); n > 0; n-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randomFile(r *rand.Rand) *File {
	f := NewFile("app@.service")
	sections := []string{"Unit", "Service", "Install", FleetSection, "X-Other"}
	for n := 1 + r.IntN(4); n > 0; n-- {
		s := f.Section(sections[r.IntN(len(sections))])
		for m := r.IntN(5); m > 0; m-- {
			switch r.IntN(5) {
			case 0:
				s.Add("Description", Lit(randomText(r)))
			case 1:
				s.Add("After", Cat(Lit(randomText(r)), Spec(Instance)))
			case 2:
				argv := []string{"/bin/echo"}
				for k := r.IntN(6); k > 0; k-- {
					argv = append(argv, randomText(r))
				}
				s.AddRaw("ExecStart", Exec(argv...))
			case 3:
				s.AddRaw("Environment", Env("V", Lit(randomText(r))))
			default:
				s.AddRaw("X-Raw", randomText(r))
			}
		}
	}
	return f
}

// TestPropertyRoundTrip: for random files built from hostile pieces, Marshal
// fails or Read gives back exactly the sections and options put in, and
// every command line splits back into the argv it was made from.
func TestPropertyRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ok := 0
	for i := 0; i < 3000; i++ {
		f := randomFile(r)
		b, err := Marshal(f)
		if err != nil {
			continue
		}
		ok++
		got, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Read(Marshal(f)): %v\n%s", err, b)
		}
		if diff := cmp.Diff(f.Sections, got.Sections, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Read(Marshal(f)) (-want +got):\n%s\n%s", diff, b)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if len(l) > MaxLine {
				t.Fatalf("line of %d bytes", len(l))
			}
		}
	}
	t.Logf("%d of 3000 random files valid", ok)
	if ok < 300 {
		t.Errorf("only %d of 3000 random files were valid: the generator tests too little", ok)
	}
	r = rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 3000; i++ {
		argv := []string{"/bin/" + strings.Repeat("x", 1+r.IntN(3))}
		for k := r.IntN(6); k > 0; k-- {
			argv = append(argv, strings.ReplaceAll(randomText(r), "\x00", ""))
		}
		got, err := SplitExec(Exec(argv...))
		if err != nil || !cmp.Equal(argv, got) {
			t.Fatalf("SplitExec(Exec(%q)) = %q, %v", argv, got, err)
		}
	}
}

// TestIsPlain compares the eight-bytes-at-a-time check with the plain one.
func TestIsPlain(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.IntN(40))
		for j := range b {
			b[j] = byte(' ' + r.IntN(0x5f))
		}
		if len(b) > 0 && r.IntN(2) == 0 {
			b[r.IntN(len(b))] = byte(r.IntN(256))
		}
		want := true
		for _, c := range b {
			want = want && plainByte[c]
		}
		if got := isPlain(string(b)); got != want {
			t.Fatalf("isPlain(%q) = %v, want %v", b, got, want)
		}
	}
}

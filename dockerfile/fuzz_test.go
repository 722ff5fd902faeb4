package dockerfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse: never a panic, every error a located *Error and no Image with
// it, every port valid, lists sorted, and the same input gives the same
// model.
func FuzzParse(f *testing.F) {
	dir := buildkitDir(f)
	for _, rel := range corpusFiles(f, dir) {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "")
	}
	for _, s := range []string{
		"FROM alpine AS build\nARG P=80\nEXPOSE $P 53/udp 8000-8010\nFROM build AS run\nCMD [\"x\"]\n",
		"# escape=`\nFROM a\nENV A=`$B\nHEALTHCHECK --interval=1s CMD x\n",
		"FROM a\nRUN <<EOF\nx\nEOF\nONBUILD ENV X=1\nFROM 0\n",
	} {
		f.Add([]byte(s), "build")
	}
	opts := Options{BuildArgs: map[string]string{"P": "8080", "TARGETOS": "linux"}}
	f.Fuzz(func(t *testing.T, data []byte, stage string) {
		opts := opts
		opts.Stage = stage
		im, err := Parse("Dockerfile", bytes.NewReader(data), opts)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not a *Error: %v", err, err)
			}
			if im != nil {
				t.Fatalf("an Image came with the error %v", err)
			}
			if e.Line < 0 || !strings.HasPrefix(err.Error(), "Dockerfile") {
				t.Fatalf("badly located error: %q", err)
			}
			return
		}
		for _, p := range im.Ports {
			if !p.Valid() {
				t.Fatalf("invalid port %+v", p)
			}
			if q, err := ParsePort(p.String()); err != nil || q != p {
				t.Fatalf("port %+v does not round-trip through %q: %v", p, p.String(), err)
			}
		}
		if !slices.IsSortedFunc(im.Ports, comparePorts) || !slices.IsSorted(im.Volumes) || !slices.IsSorted(im.Unmatched) {
			t.Fatalf("unsorted lists: %+v", im)
		}
		again, err := Parse("Dockerfile", bytes.NewReader(data), opts)
		if err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
		if diff := cmp.Diff(im, again); diff != "" {
			t.Fatalf("not deterministic (-first +second):\n%s", diff)
		}
	})
}

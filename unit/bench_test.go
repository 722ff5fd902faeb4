package unit

import (
	"bytes"
	"io"
	"testing"

	sd "github.com/coreos/go-systemd/v22/unit"
)

// BenchmarkMarshal writes a three-unit release with validation, escaping
// checks and wrapping; BenchmarkSerializeSections writes the same options
// with go-systemd alone, the baseline validation may cost at most 2× of.
func BenchmarkMarshal(b *testing.B) {
	set := sampleSet()
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range set {
			if _, err := Marshal(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkSerializeSections(b *testing.B) {
	var sets [][]*sd.UnitSection
	for _, f := range sampleSet() {
		m, err := Marshal(f)
		if err != nil {
			b.Fatal(err)
		}
		secs, err := sd.DeserializeSections(bytes.NewReader(m))
		if err != nil {
			b.Fatal(err)
		}
		sets = append(sets, secs)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, secs := range sets {
			var buf bytes.Buffer
			buf.WriteString(Header + "\n")
			if _, err := io.Copy(&buf, sd.SerializeSections(secs)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkRead(b *testing.B) {
	var files [][]byte
	for _, f := range sampleSet() {
		m, err := Marshal(f)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, m)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range files {
			if _, err := Read(bytes.NewReader(m)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

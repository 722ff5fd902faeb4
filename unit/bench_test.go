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
	set := sampleSet()
	// The same options as go-systemd sections, long values already wrapped,
	// converted in the loop as a caller of go-systemd alone would.
	for _, f := range set {
		for i := range f.Sections {
			for j, o := range f.Sections[i].Options {
				v, err := encodeOption(f.Sections[i].Name, o)
				if err != nil {
					b.Fatal(err)
				}
				f.Sections[i].Options[j].Value = v
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range set {
			secs := make([]*sd.UnitSection, len(f.Sections))
			for i, s := range f.Sections {
				secs[i] = &sd.UnitSection{Section: s.Name, Entries: make([]*sd.UnitEntry, len(s.Options))}
				for j, o := range s.Options {
					secs[i].Entries[j] = &sd.UnitEntry{Name: o.Name, Value: o.Value}
				}
			}
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

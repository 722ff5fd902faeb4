package unit

import (
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	sd "github.com/coreos/go-systemd/v22/unit"
)

// encodeOption validates o and returns its value as written, for go-systemd
// to write.
func encodeOption(section string, o Option) (string, error) {
	if err := checkOption(section, o); err != nil {
		return "", err
	}
	v, err := appendWrapped(nil, len(o.Name)+1, o.Value)
	return string(v), err
}

// serializeSections is Marshal as it was written on go-systemd: every option
// checked and wrapped by encodeOption, the file written by SerializeSections.
// Marshal writes the bytes itself and must write these.
func serializeSections(f *File) ([]byte, error) {
	if err := ValidName(f.Name); err != nil {
		return nil, &Error{Unit: f.Name, Err: err}
	}
	secs := make([]*sd.UnitSection, len(f.Sections))
	for i, s := range f.Sections {
		if err := validKey(s.Name, "section"); err != nil {
			return nil, &Error{Unit: f.Name, Section: s.Name, Err: err}
		}
		secs[i] = &sd.UnitSection{Section: s.Name, Entries: make([]*sd.UnitEntry, len(s.Options))}
		for j, o := range s.Options {
			v, err := encodeOption(s.Name, o)
			if err != nil {
				return nil, &Error{Unit: f.Name, Section: s.Name, Option: o.Name, Err: err}
			}
			secs[i].Entries[j] = &sd.UnitEntry{Name: o.Name, Value: v}
		}
	}
	body, err := io.ReadAll(sd.SerializeSections(secs))
	if err != nil {
		return nil, err
	}
	return append([]byte(Header+"\n"), body...), nil
}

// sameAsSerializeSections fails t unless Marshal(f) gives the bytes, or the
// error, of serializeSections(f).
func sameAsSerializeSections(t *testing.T, f *File) (valid bool) {
	t.Helper()
	got, err := Marshal(f)
	want, wantErr := serializeSections(f)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("Marshal: %v; through SerializeSections: %v", err, wantErr)
	}
	if string(got) != string(want) {
		t.Fatalf("Marshal wrote\n%q\nSerializeSections\n%q", got, want)
	}
	return err == nil
}

// TestMarshalIsSerializeSections: on the property tests' random files, the
// sample release and the edge cases of layout, Marshal writes exactly what
// go-systemd's SerializeSections does (after the header) and fails alike.
func TestMarshalIsSerializeSections(t *testing.T) {
	files := append(sampleSet(),
		NewFile("a.service"),
		&File{Name: "a.service", Sections: []Section{{Name: "Unit"}, {Name: "Service"}, {Name: "Unit"}}},
		fileWith("Description", strings.Repeat("word ", 1000)),
		fileWith("ExecStart", Exec("/bin/sh", "-c", strings.Repeat("echo 'a b' \"$x\" 100%; ", 300))),
		fileWith("Description", strings.Repeat("x", 3000)),
		fleetWith("Conflicts", strings.Repeat("a ", 1100)+"a"),
	)
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		files = append(files, randomFile(r))
	}
	valid := 0
	for _, f := range files {
		if sameAsSerializeSections(t, f) {
			valid++
		}
	}
	if valid < 300 {
		t.Errorf("only %d of %d files were valid", valid, len(files))
	}
}

package unit

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotUnitDir: WriteDir refused a directory holding something other than
// unit files.
var ErrNotUnitDir = errors.New("not a directory of unit files")

// WriteDir makes dir hold exactly files, each marshalled under its name.
// They are written into a fresh directory beside dir, which then takes
// dir's place, so a reader never sees a half-written set; a dir that
// already holds exactly these bytes is left alone (and its files' times).
// A dir holding anything but unit files is refused (ErrNotUnitDir): a
// mistaken directory must not be replaced.
func WriteDir(dir string, files []*File) error {
	dir = filepath.Clean(dir)
	blobs := make([][]byte, len(files))
	for i, f := range files {
		b, err := Marshal(f)
		if err != nil {
			return err
		}
		blobs[i] = b
	}
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if !e.Type().IsRegular() || !isUnitFileName(e.Name()) {
				return fmt.Errorf("%s holds %s, which is not a unit file: give a new or a units-only directory (%w)", dir, e.Name(), ErrNotUnitDir)
			}
		}
		if holds(dir, entries, files, blobs) {
			return nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".new-")
	if err != nil {
		return err
	}
	fail := func(err error) error {
		os.RemoveAll(tmp)
		return err
	}
	for i, f := range files {
		if err := os.WriteFile(filepath.Join(tmp, f.Name), blobs[i], 0o644); err != nil {
			return fail(err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fail(err)
	}
	old := tmp + ".old"
	hadOld := true
	if err := os.Rename(dir, old); errors.Is(err, fs.ErrNotExist) {
		hadOld = false
	} else if err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if hadOld {
			os.Rename(old, dir) // put the previous set back
		}
		return fail(err)
	}
	if hadOld {
		return os.RemoveAll(old)
	}
	return nil
}

// holds reports whether dir (listed as entries) holds exactly files with
// exactly these bytes.
func holds(dir string, entries []fs.DirEntry, files []*File, blobs [][]byte) bool {
	if len(entries) != len(files) {
		return false
	}
	for i, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil || !bytes.Equal(b, blobs[i]) {
			return false
		}
	}
	return true
}

func isUnitFileName(n string) bool {
	for _, suffix := range []string{".service", ".socket", ".timer", ".target", ".path", ".mount"} {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// MarshalAll is files one after the other on one stream, each after a
// "### NAME" line: how `nap-render render` shows a release without -o.
func MarshalAll(files []*File) ([]byte, error) {
	var b bytes.Buffer
	for _, f := range files {
		data, err := Marshal(f)
		if err != nil {
			return nil, err
		}
		b.WriteString("### " + f.Name + "\n")
		b.Write(data)
	}
	return b.Bytes(), nil
}

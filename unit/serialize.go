package unit

import "io"

// Marshal validates f and returns its bytes, starting with Header.
func Marshal(f *File) ([]byte, error) { panic("not implemented") }

// Write is Marshal to w.
func Write(w io.Writer, f *File) error {
	b, err := Marshal(f)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

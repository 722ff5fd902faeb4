package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/command"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// maxLine is the longest line buildkit's parser reads (bufio.MaxScanTokenSize
// less the newline); checking it here gives the error a line number.
const maxLine = 64*1024 - 1

// Parse reads the Dockerfile r (named name in errors) into the model of the
// stage that would be built.
func Parse(name string, r io.Reader, opts Options) (*Image, error) {
	limit := opts.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	if int64(len(data)) > limit {
		return nil, &Error{File: name, Err: fmt.Errorf("file is larger than %d bytes", limit)}
	}
	if err := checkText(name, data); err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, parserError(name, data, err)
	}
	return build(name, res, opts)
}

// ParseFile is Parse on a file, named by its base name in errors.
func ParseFile(path string, opts Options) (*Image, error) {
	name := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	defer f.Close()
	return Parse(name, f, opts)
}

// checkText rejects what is not a text file before buildkit sees it: its
// parser reads NUL bytes and invalid UTF-8 without complaint, and both would
// end up in unit files; and it reports an over-long line without its number.
func checkText(name string, data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &Error{File: name, Err: errors.New("the Dockerfile is empty: it needs at least a FROM instruction")}
	}
	line := 1
	for rest := data; len(rest) > 0; line++ {
		text, next, _ := bytes.Cut(rest, []byte{'\n'})
		rest = next
		// A CR counts: buildkit's limit is on the bytes before the LF.
		switch {
		case len(text) > maxLine:
			return &Error{File: name, Line: line, Err: fmt.Errorf("line is %d bytes long, the limit is %d", len(text), maxLine)}
		case bytes.IndexByte(text, 0) >= 0:
			return &Error{File: name, Line: line, Err: errors.New("NUL byte: this is a binary file, not a Dockerfile")}
		case !utf8.Valid(text):
			return &Error{File: name, Line: line, Err: errors.New("invalid UTF-8: save the Dockerfile as UTF-8 text")}
		}
	}
	return nil
}

// parserError turns buildkit's error into *Error. The parser counts lines
// from 0 for errors in parser directives and from 1 everywhere else.
func parserError(name string, data []byte, err error) error {
	e := &Error{File: name, Err: err}
	var located *parser.LocationError
	if errors.As(err, &located) {
		e.Err = located.Unwrap()
		if len(located.Locations) > 0 && len(located.Locations[0]) > 0 {
			e.Line = located.Locations[0][0].Start.Line
		}
	}
	msg := e.Err.Error()
	switch {
	case strings.HasPrefix(msg, "invalid escape token"), strings.HasPrefix(msg, "only one "):
		e.Line++
	case msg == "file with no instructions":
		e.Line = 0
		e.Err = errors.New("the Dockerfile has only comments: it needs at least a FROM instruction")
	default:
		e.Instruction = instructionAt(data, e.Line)
	}
	return e
}

// instructionAt is the instruction keyword that starts line n (1-based),
// upper case, or "" when the line does not start with one.
func instructionAt(data []byte, n int) string {
	for i := 1; i < n && len(data) > 0; i++ {
		_, data, _ = bytes.Cut(data, []byte{'\n'})
	}
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	fields := strings.Fields(string(line))
	if n < 1 || len(fields) == 0 {
		return ""
	}
	word := strings.ToLower(fields[0])
	if _, ok := command.Commands[word]; !ok {
		return ""
	}
	return strings.ToUpper(word)
}

package source

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/render"
)

// Error is a fault of the pushed tree: its author's to fix. Anything else
// this package returns is a failure of the machine (git, the disk).
type Error struct {
	File string // what the message is about: nap.yaml when a setting there named the path, else the path; "" for the whole tree
	Line int    // line in File, 0 when none
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line > 0:
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

func errorf(file string, line int, format string, a ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// IsTreeFault reports whether err is the tree's fault, its author's to fix:
// a refused path or limit (*Error), or an error in nap.yaml or the
// Dockerfile. Any other error is the machine's.
func IsTreeFault(err error) bool {
	var se *Error
	var ce *render.ConfigError
	var de *dockerfile.Error
	return errors.As(err, &se) || errors.As(err, &ce) || errors.As(err, &de)
}

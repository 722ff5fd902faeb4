package dockerfile

import "fmt"

// Error is the only error type Parse returns. It prints as
// "Dockerfile:12: EXPOSE: invalid port \"x\": ..." and works with errors.As.
type Error struct {
	File        string // as given to Parse
	Line        int    // 1-based; 0 when the error is about the whole file
	Instruction string // upper case, "" when not about one instruction
	Err         error
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Instruction != "" {
		s += ": " + e.Instruction
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

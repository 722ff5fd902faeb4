package sh

import (
	"fmt"
	"strings"
)

// SplitError says why a command line cannot be split, and where.
type SplitError struct {
	Offset int // byte offset in the line
	Msg    string
}

func (e *SplitError) Error() string { return fmt.Sprintf("at byte %d: %s", e.Offset, e.Msg) }

// Split cuts a command line into words by POSIX shell quoting — single
// quotes, double quotes, backslashes — and nothing else: no variable,
// command, arithmetic, tilde or glob expansion ($, `, ~ and * are plain
// characters). What a shell would treat as an operator outside quotes (a
// newline, ; & | < > ( )) is refused, not run: the line is never given to
// a shell, and a user who typed one meant something Split will not do.
// A word may be empty (” or ""); NUL is refused anywhere.
func Split(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == 0:
			return nil, &SplitError{i, "a NUL byte"}
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case strings.IndexByte("\n;&|<>()", c) >= 0:
			return nil, &SplitError{i, fmt.Sprintf("%q outside quotes: commands are not run by a shell here; quote it if it is part of a word", c)}
		case c == '\\':
			if i+1 == len(line) {
				return nil, &SplitError{i, "a backslash at the end"}
			}
			i++
			if line[i] != '\n' { // backslash-newline joins lines: it is no character
				w.WriteByte(line[i])
				inWord = true
			}
		case c == '\'':
			inWord = true
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, &SplitError{i, "a single quote is not closed"}
			}
			if z := strings.IndexByte(line[i+1:i+1+end], 0); z >= 0 {
				return nil, &SplitError{i + 1 + z, "a NUL byte"}
			}
			w.WriteString(line[i+1 : i+1+end])
			i += 1 + end
		case c == '"':
			inWord = true
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				switch {
				case line[j] == 0:
					return nil, &SplitError{j, "a NUL byte"}
				case line[j] == '\\' && j+1 < len(line) && strings.IndexByte("$`\"\\\n", line[j+1]) >= 0:
					j++
					if line[j] != '\n' {
						w.WriteByte(line[j])
					}
				default:
					w.WriteByte(line[j])
				}
			}
			if j == len(line) {
				return nil, &SplitError{i, "a double quote is not closed"}
			}
			i = j
		default:
			inWord = true
			w.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

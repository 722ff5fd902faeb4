// Package sh quotes words for POSIX shell scripts. It is nap's one
// shell-quoting function: every value a generated script holds goes through
// Quote.
package sh

import "strings"

// Quote returns s as one shell word that the shell reads back as exactly s.
// Words made only of characters no shell treats specially stay bare, so
// generated scripts remain readable; everything else is single-quoted, with
// each single quote closed, backslash-escaped and reopened.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, needsQuote) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func needsQuote(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("_-./:@+,=%", r)
}

package unit

// ExecFlags are the special executable prefixes of systemd.service(5),
// "Command lines".
type ExecFlags uint8

const (
	IgnoreFailure  ExecFlags = 1 << iota // "-": a non-zero exit is not a failure
	ArgvZero                             // "@": the second word is argv[0]
	FullPrivileges                       // "+": run without sandboxing or user change
	NoSetuid                             // "!": only the user change is skipped
)

// Exec returns the command-line value (for ExecStart= and friends) that
// systemd splits back into exactly argv: literal words, no flags.
func Exec(argv ...string) string {
	words := make([]Text, len(argv))
	for i, a := range argv {
		words[i] = Lit(a)
	}
	return ExecWords(0, words...)
}

// ExecWords is Exec for words that may hold specifiers, with flags.
// Each word is quoted by systemd's rules and '$' is escaped as "$$", so no
// environment variable is expanded.
func ExecWords(flags ExecFlags, words ...Text) string { panic("not implemented") }

// SplitExec splits a command-line value the way systemd 252 does (quotes,
// backslash escapes, "$$", "%%", a lone ";"), returning the argv with
// specifiers left as "%X", leading flags dropped.
func SplitExec(value string) ([]string, error) { panic("not implemented") }

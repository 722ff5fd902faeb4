// Package dockerfile reads a Dockerfile into a typed model of the stage that
// would be built: the last stage, or the one named by Options.Stage, with
// everything it inherits from earlier stages of the same file.
//
// It is built on buildkit's parser package (the untyped AST); this package adds
// the typed model nap needs to write units: exposed ports, environment,
// command, healthcheck, user and the rest. Every error is a *Error carrying
// the file and line it is about.
package dockerfile

import "time"

// Options tune Parse.
type Options struct {
	// BuildArgs are --build-arg values; they override ARG defaults.
	BuildArgs map[string]string
	// Stage names the stage to describe ("" = the last one).
	Stage string
	// MaxSize is the largest Dockerfile accepted, in bytes (0 = DefaultMaxSize).
	MaxSize int64
}

// DefaultMaxSize is the size limit used when Options.MaxSize is 0.
const DefaultMaxSize = 1 << 20

// Image describes the image the chosen stage produces.
type Image struct {
	// Base is the FROM argument after ARG expansion, of the chosen stage.
	Base string
	// Stage is the chosen stage's name ("" when unnamed).
	Stage string
	// External reports that the chain of FROMs ends in an image from outside
	// the Dockerfile (not scratch): its settings are known only after the build.
	External bool
	// Origin is where the chain of FROMs ends: "scratch" or the reference of
	// the external image.
	Origin string

	Ports       []Port            // sorted, de-duplicated
	Env         []EnvVar          // in order of definition, later definitions replace earlier ones in place
	Entrypoint  *Command          // nil when never set
	Cmd         *Command          // nil when never set (or reset by ENTRYPOINT)
	Healthcheck *Healthcheck      // nil when never set
	User        string            // "" when never set
	Workdir     string            // absolute, "" when never set
	Volumes     []string          // sorted, de-duplicated
	StopSignal  string            // "" when never set
	Labels      map[string]string // nil when none
	Args        []Arg             // ARGs declared in the chosen stage and the global scope, in order
	Unmatched   []string          // variables used but never set, sorted
	Warnings    []Warning         // parser (and linter) warnings, in line order
}

// Port is an EXPOSEd port or port range.
type Port struct {
	Start, End uint16 // End == Start for a single port
	Proto      string // "tcp", "udp" or "sctp"
}

// EnvVar is one ENV entry.
type EnvVar struct{ Name, Value string }

// Command is an ENTRYPOINT, CMD or HEALTHCHECK command.
type Command struct {
	Args []string // for shell form: the stage's SHELL followed by the command line
	// Shell reports that the instruction used shell form.
	Shell bool
}

// Healthcheck is a HEALTHCHECK instruction.
type Healthcheck struct {
	// Test is Docker's form: ["NONE"], ["CMD", args...] or ["CMD-SHELL", line].
	Test                           []string
	Interval, Timeout, StartPeriod time.Duration // 0 = Docker's default
	StartInterval                  time.Duration // 0 = Docker's default
	Retries                        int           // 0 = Docker's default
}

// Disabled reports HEALTHCHECK NONE.
func (h *Healthcheck) Disabled() bool { return h != nil && len(h.Test) == 1 && h.Test[0] == "NONE" }

// Arg is a declared ARG.
type Arg struct {
	Name    string
	Default *string // as written, nil when declared without a default
	// Value is what the build uses: the build arg, else the default after
	// expansion, else (in a stage) the global value; nil when unset.
	Value *string
}

// Warning is a non-fatal finding, with its line.
type Warning struct {
	Line    int
	Message string
}

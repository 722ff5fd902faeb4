package dockerfile

import (
	"errors"
	"strings"
	"testing"
)

// TestParseErrors checks the whole message a user sees, and that it is a
// *Error with the line.
func TestParseErrors(t *testing.T) {
	long := "FROM alpine\nENV A=" + strings.Repeat("x", maxLine) + "\n"
	tests := []struct {
		name string
		src  string
		opts Options
		want string
		line int
	}{
		{"empty", "", Options{}, "Dockerfile: the Dockerfile is empty: it needs at least a FROM instruction", 0},
		{"blank", " \n\t\n", Options{}, "Dockerfile: the Dockerfile is empty: it needs at least a FROM instruction", 0},
		{"comments only", "# a\n# b\n", Options{}, "Dockerfile: the Dockerfile has only comments: it needs at least a FROM instruction", 0},
		{"no FROM", "ARG A=1\n", Options{}, "Dockerfile: no FROM instruction: a Dockerfile needs at least one build stage", 0},
		{"instruction before FROM", "ARG A\nRUN x\nFROM alpine\n", Options{}, "Dockerfile:2: RUN: comes before the first FROM: only ARG may come before FROM", 2},
		{"unknown instruction with suggestion", "FROM alpine\nEXPOES 80\n", Options{}, "Dockerfile:2: unknown instruction: EXPOES (did you mean EXPOSE?)", 2},
		{"unknown instruction", "FROM alpine\nFOOBAR 80\n", Options{}, "Dockerfile:2: unknown instruction: FOOBAR", 2},
		{"invalid port", "FROM alpine\nEXPOSE x\n", Options{}, `Dockerfile:2: EXPOSE: invalid port "x": a port is a number from 1 to 65535`, 2},
		{"port zero", "FROM alpine\nEXPOSE 0\n", Options{}, `Dockerfile:2: EXPOSE: invalid port "0": a port is a number from 1 to 65535`, 2},
		{"port too big", "FROM alpine\nEXPOSE 65536\n", Options{}, `Dockerfile:2: EXPOSE: invalid port "65536": a port is a number from 1 to 65535`, 2},
		{"port from variable", "FROM alpine\nARG P=x1\n\nEXPOSE $P\n", Options{}, `Dockerfile:4: EXPOSE: invalid port "x1": a port is a number from 1 to 65535`, 4},
		{"reversed range", "FROM alpine\nEXPOSE 90-80\n", Options{}, `Dockerfile:2: EXPOSE: invalid port "90-80": range ends before it starts`, 2},
		{"range too wide", "FROM alpine\nEXPOSE 1000-3000/udp\n", Options{}, `Dockerfile:2: EXPOSE: invalid port "1000-3000/udp": range of 2001 ports is wider than 1024`, 2},
		{"bad protocol", "FROM alpine\nEXPOSE 80/http\n", Options{}, `Dockerfile:2: EXPOSE: invalid port "80/http": protocol must be tcp, udp or sctp`, 2},
		{"host port", "FROM alpine\nEXPOSE 8080:80\n", Options{}, `Dockerfile:2: EXPOSE: invalid port "8080:80": EXPOSE takes the container port only; nap chooses the host port`, 2},
		{"expose nothing", "FROM alpine\nEXPOSE\n", Options{}, "Dockerfile:2: EXPOSE: EXPOSE requires at least one argument", 2},
		{"CMD JSON with a number", "FROM alpine\nCMD [\"a\", 1]\n", Options{}, "Dockerfile:2: CMD: when using JSON array syntax, arrays must be comprised of strings only", 2},
		{"line over 64 KiB", long, Options{}, "Dockerfile:2: line is 65541 bytes long, the limit is 65535", 2},
		{"over MaxSize", "FROM alpine\n# padding\n", Options{MaxSize: 12}, "Dockerfile: file is larger than 12 bytes", 0},
		{"binary", "FROM alpine\nRUN \x00\x01\x02\n", Options{}, "Dockerfile:2: NUL byte: this is a binary file, not a Dockerfile", 2},
		{"invalid UTF-8", "FROM alpine\n\nLABEL a=\xff\xfe\n", Options{}, "Dockerfile:3: invalid UTF-8: save the Dockerfile as UTF-8 text", 3},
		{"unknown stage", "FROM alpine AS build\nFROM scratch AS run\n", Options{Stage: "biuld"}, `Dockerfile: target stage "biuld" could not be found; stages: build, run (did you mean build?)`, 0},
		{"unknown stage none named", "FROM alpine\n", Options{Stage: "x"}, `Dockerfile: target stage "x" could not be found: no stage has a name (FROM image AS name)`, 0},
		{"invalid escape directive", "# escape=x\nFROM alpine\n", Options{}, "Dockerfile:1: invalid escape token 'x' does not match ` or \\", 1},
		{"escape directive twice", "# escape=`\n# escape=\\\nFROM alpine\n", Options{}, "Dockerfile:2: only one escape parser directive can be used", 2},
		{"unterminated heredoc", "FROM alpine\nRUN <<EOF\necho\n", Options{}, "Dockerfile:2: RUN: unterminated heredoc", 2},
		{"heredoc destination", "FROM alpine\nCOPY a <<EOF\nx\nEOF\n", Options{}, "Dockerfile:2: COPY: COPY cannot accept a heredoc as a destination", 2},
		{"bad substitution", "FROM alpine\nENV A=${B\n", Options{}, `Dockerfile:2: ENV: failed to process "${B": syntax error: missing '}'`, 2},
		{"required variable", "FROM alpine\nUSER ${U:?set U}\n", Options{}, `Dockerfile:2: USER: failed to process "${U:?set U}": U: set U`, 2},
		{"FROM arity", "FROM alpine as\n", Options{}, "Dockerfile:1: FROM: FROM requires either one or three arguments", 1},
		{"stage name", "FROM alpine AS 1st\n", Options{}, `Dockerfile:1: FROM: invalid name for build stage: "1st", name can't start with a number or contain symbols`, 1},
		{"blank base", "ARG B\nFROM $B\n", Options{}, "Dockerfile:2: FROM: base name ($B) should not be blank", 2},
		{"unknown flag with suggestion", "FROM alpine\nCOPY --chwon=1 a b\n", Options{}, "Dockerfile:2: COPY: unknown flag: --chwon (did you mean chown?)", 2},
		{"flag on CMD", "FROM alpine\nCMD --x [\"a\"]\n", Options{}, "Dockerfile:2: CMD: unknown flag: --x", 2},
		{"duplicate flag", "FROM --platform=a --platform=b alpine\n", Options{}, "Dockerfile:1: FROM: duplicate flag specified: --platform", 1},
		{"healthcheck type", "FROM alpine\nHEALTHCHECK RUN x\n", Options{}, `Dockerfile:2: HEALTHCHECK: Unknown type "RUN" in HEALTHCHECK (try CMD)`, 2},
		{"healthcheck none args", "FROM alpine\nHEALTHCHECK NONE x\n", Options{}, "Dockerfile:2: HEALTHCHECK: HEALTHCHECK NONE takes no arguments", 2},
		{"healthcheck interval", "FROM alpine\nHEALTHCHECK --interval=1us CMD x\n", Options{}, `Dockerfile:2: HEALTHCHECK: Interval "interval" cannot be less than 1ms`, 2},
		{"healthcheck retries", "FROM alpine\nHEALTHCHECK --retries=-1 CMD x\n", Options{}, "Dockerfile:2: HEALTHCHECK: --retries cannot be negative (-1)", 2},
		{"healthcheck no command", "FROM alpine\nHEALTHCHECK CMD\n", Options{}, "Dockerfile:2: HEALTHCHECK: Missing command after HEALTHCHECK CMD", 2},
		{"stopsignal", "FROM alpine\nSTOPSIGNAL SIGFOO\n", Options{}, "Dockerfile:2: STOPSIGNAL: invalid signal: SIGFOO", 2},
		{"stopsignal number", "FROM alpine\nSTOPSIGNAL 0\n", Options{}, "Dockerfile:2: STOPSIGNAL: invalid signal: 0: a signal number is from 1 to 64", 2},
		{"shell not JSON", "FROM alpine\nSHELL bash -c\n", Options{}, "Dockerfile:2: SHELL: SHELL requires the arguments to be in JSON form", 2},
		{"workdir arity", "FROM alpine\nWORKDIR\n", Options{}, "Dockerfile:2: WORKDIR: WORKDIR requires exactly one argument", 2},
		{"env without value", "FROM alpine\nENV A\n", Options{}, "Dockerfile:2: ENV: ENV must have two arguments", 2},
		{"env without name", "FROM alpine\nENV =b\n", Options{}, "Dockerfile:2: ENV: ENV names can not be blank", 2},
		{"arg without name", "FROM alpine\nARG =b\n", Options{}, "Dockerfile:2: ARG: ARG names can not be blank", 2},
		{"onbuild onbuild", "FROM alpine\nONBUILD ONBUILD RUN x\n", Options{}, "Dockerfile:2: ONBUILD: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", 2},
		{"onbuild trigger fails in child at its FROM", "FROM alpine AS a\nONBUILD EXPOSE x\n\nFROM a\n", Options{}, `Dockerfile:4: EXPOSE: invalid port "x": a port is a number from 1 to 65535`, 4},
		{"volume empty", "FROM alpine\nVOLUME [\"\"]\n", Options{}, "Dockerfile:2: VOLUME: VOLUME specified can not be an empty string", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, err := Parse("Dockerfile", strings.NewReader(tt.src), tt.opts)
			if err == nil {
				t.Fatalf("Parse = %+v, want error %q", im, tt.want)
			}
			if im != nil {
				t.Errorf("Parse returned an Image with the error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not a *Error: %v", err, err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tt.want)
			}
			if e.Line != tt.line {
				t.Errorf("Line = %d, want %d", e.Line, tt.line)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestLongestLine: the longest line checkText lets through is one buildkit
// reads without error, with LF or CRLF.
func TestLongestLine(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n", ""} {
		line := "ENV A=" + strings.Repeat("x", maxLine-len("ENV A=")-len(strings.TrimSuffix(eol, "\n")))
		im, err := Parse("Dockerfile", strings.NewReader("FROM alpine\n"+line+eol), Options{})
		if err != nil {
			t.Fatalf("line of %d bytes + %q: %v", maxLine, eol, err)
		}
		if got := len(im.Env[0].Value); got != maxLine-len("ENV A=")-len(strings.TrimSuffix(eol, "\n")) {
			t.Errorf("value of %d bytes, want the whole line", got)
		}
		_, err = Parse("Dockerfile", strings.NewReader("FROM alpine\n"+line+"x"+eol), Options{})
		if err == nil || !strings.HasPrefix(err.Error(), "Dockerfile:2: line is 65536 bytes long") {
			t.Errorf("one byte more + %q: %v", eol, err)
		}
	}
}

func TestParseReadErrors(t *testing.T) {
	_, err := Parse("Dockerfile", failingReader{}, Options{})
	var e *Error
	if !errors.As(err, &e) || err.Error() != "Dockerfile: disk on fire" {
		t.Errorf("read error = %v, want *Error \"Dockerfile: disk on fire\"", err)
	}
	_, err = ParseFile("/nonexistent/Dockerfile", Options{})
	if !errors.As(err, &e) || e.File != "Dockerfile" {
		t.Errorf("ParseFile error = %#v, want *Error for Dockerfile", err)
	}
}

package dockerfile

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ptr(s string) *string { return &s }

func sh(line string) *Command { return &Command{Args: []string{"/bin/sh", "-c", line}, Shell: true} }

func execForm(args ...string) *Command { return &Command{Args: args} }

// TestParse compares the whole model for each instruction and rule.
func TestParse(t *testing.T) {
	alpine := Image{Base: "alpine", Origin: "alpine", External: true}
	with := func(f func(*Image)) *Image {
		im := alpine
		f(&im)
		return &im
	}
	tests := []struct {
		name string
		src  string
		opts Options
		want *Image
	}{
		{"from only", "FROM alpine\n", Options{}, &alpine},
		{"scratch is not external", "FROM scratch\n", Options{},
			&Image{Base: "scratch", Origin: "scratch"}},
		{"expose forms", "FROM alpine\nEXPOSE 8080 53/UDP 9000/sctp 8000-8010/tcp 80/Tcp\n", Options{},
			with(func(im *Image) {
				im.Ports = []Port{{53, 53, "udp"}, {80, 80, "tcp"}, {8000, 8010, "tcp"}, {8080, 8080, "tcp"}, {9000, 9000, "sctp"}}
			})},
		{"expose sorted and de-duplicated across lines", "FROM alpine\nEXPOSE 443\nEXPOSE 80 443/tcp\nEXPOSE 80/udp\n", Options{},
			with(func(im *Image) {
				im.Ports = []Port{{80, 80, "tcp"}, {80, 80, "udp"}, {443, 443, "tcp"}}
			})},
		{"expose expands ARG ENV and defaults", "FROM alpine\nARG P=8080\nENV Q=9090 R=\"1 2\"\nEXPOSE $P ${Q}/udp ${NOPE:-7070} ${R}\n", Options{},
			with(func(im *Image) {
				im.Args = []Arg{{Name: "P", Default: ptr("8080"), Value: ptr("8080")}}
				im.Env = []EnvVar{{"Q", "9090"}, {"R", "1 2"}}
				im.Ports = []Port{{1, 1, "tcp"}, {2, 2, "tcp"}, {7070, 7070, "tcp"}, {8080, 8080, "tcp"}, {9090, 9090, "udp"}}
				im.Unmatched = []string{"NOPE"}
			})},
		{"build arg overrides ARG default", "FROM alpine\nARG P=8080\nEXPOSE $P\n", Options{BuildArgs: map[string]string{"P": "3000", "UNUSED": "x"}},
			with(func(im *Image) {
				im.Args = []Arg{{Name: "P", Default: ptr("8080"), Value: ptr("3000")}}
				im.Ports = []Port{{3000, 3000, "tcp"}}
			})},
		{"build arg ignored unless declared", "FROM alpine\nEXPOSE ${P:-80}\n", Options{BuildArgs: map[string]string{"P": "3000"}},
			with(func(im *Image) {
				im.Ports = []Port{{80, 80, "tcp"}}
				im.Unmatched = []string{"P"}
			})},
		{"env both forms later wins in place", "FROM alpine\nENV A=1 B=2\nENV C three four\nENV A=$B-x\n", Options{},
			with(func(im *Image) {
				im.Env = []EnvVar{{"A", "2-x"}, {"B", "2"}, {"C", "three four"}}
			})},
		{"env pairs expand before any is set", "FROM alpine\nENV A=old\nENV A=new B=$A\n", Options{},
			with(func(im *Image) { im.Env = []EnvVar{{"A", "new"}, {"B", "old"}} })},
		{"env quotes removed", "FROM alpine\nENV A=\"a b\" B='$x' C=a\\ b\n", Options{},
			with(func(im *Image) { im.Env = []EnvVar{{"A", "a b"}, {"B", "$x"}, {"C", "a b"}} })},
		{"cmd shell form", "FROM alpine\nCMD echo hi $HOME\n", Options{},
			with(func(im *Image) { im.Cmd = sh("echo hi $HOME") })},
		{"cmd exec form", "FROM alpine\nCMD [\"/app\", \"-p\", \"$PORT\"]\n", Options{},
			with(func(im *Image) { im.Cmd = execForm("/app", "-p", "$PORT") })},
		{"cmd invalid JSON falls back to shell form, as in Docker", "FROM alpine\nCMD ['/app']\n", Options{},
			with(func(im *Image) {
				im.Cmd = sh("['/app']")
				im.Warnings = []Warning{{2, `CMD is not a valid JSON array, so it runs in shell form as "['/app']"; write exec form with double quotes: ["executable", "arg"]`}}
			})},
		{"shell form uses SHELL", "FROM alpine\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nENTRYPOINT run it\n", Options{},
			with(func(im *Image) {
				im.Entrypoint = &Command{Args: []string{"/bin/bash", "-eo", "pipefail", "-c", "run it"}, Shell: true}
			})},
		{"entrypoint resets inherited cmd", "FROM alpine AS base\nCMD [\"a\"]\nFROM base\nENTRYPOINT [\"e\"]\n", Options{},
			&Image{Base: "base", Origin: "alpine", External: true, Entrypoint: execForm("e")}},
		{"entrypoint keeps cmd of its own stage", "FROM alpine\nCMD [\"a\"]\nENTRYPOINT [\"e\"]\n", Options{},
			with(func(im *Image) { im.Entrypoint, im.Cmd = execForm("e"), execForm("a") })},
		{"empty entrypoint", "FROM alpine\nENTRYPOINT []\n", Options{},
			with(func(im *Image) { im.Entrypoint = &Command{} })},
		{"healthcheck shell with flags", "FROM alpine\nHEALTHCHECK --interval=5s --timeout=2s --start-period=1m --start-interval=1s --retries=4 CMD curl -f localhost\n", Options{},
			with(func(im *Image) {
				im.Healthcheck = &Healthcheck{Test: []string{"CMD-SHELL", "curl -f localhost"}, Interval: 5 * time.Second,
					Timeout: 2 * time.Second, StartPeriod: time.Minute, StartInterval: time.Second, Retries: 4}
			})},
		{"healthcheck exec", "FROM alpine\nHEALTHCHECK CMD [\"/probe\", \"-q\"]\n", Options{},
			with(func(im *Image) { im.Healthcheck = &Healthcheck{Test: []string{"CMD", "/probe", "-q"}} })},
		{"healthcheck none", "FROM alpine\nHEALTHCHECK CMD true\nHEALTHCHECK NONE\n", Options{},
			with(func(im *Image) { im.Healthcheck = &Healthcheck{Test: []string{"NONE"}} })},
		{"user workdir stopsignal", "FROM alpine\nARG U=app\nUSER $U:$U\nWORKDIR /srv\nWORKDIR app/../data\nSTOPSIGNAL sigquit\n", Options{},
			with(func(im *Image) {
				im.Args = []Arg{{Name: "U", Default: ptr("app"), Value: ptr("app")}}
				im.User, im.Workdir, im.StopSignal = "app:app", "/srv/data", "sigquit"
			})},
		{"relative workdir from root", "FROM alpine\nWORKDIR app\n", Options{},
			with(func(im *Image) { im.Workdir = "/app" })},
		{"volumes sorted de-duplicated both forms", "FROM alpine\nVOLUME /var/b /var/a\nVOLUME [\"/var/a\", \"/data\"]\n", Options{},
			with(func(im *Image) { im.Volumes = []string{"/data", "/var/a", "/var/b"} })},
		{"labels both forms", "FROM alpine\nLABEL a=1 \"b c\"=\"2 3\"\nLABEL d old form\nLABEL a=4\n", Options{},
			with(func(im *Image) { im.Labels = map[string]string{"a": "4", "b c": "2 3", "d": "old form"} })},
		{"global arg in FROM", "ARG V=3.19\nARG REPO\nFROM alpine:$V\n", Options{},
			&Image{Base: "alpine:3.19", Origin: "alpine:3.19", External: true,
				Args: []Arg{{Name: "V", Default: ptr("3.19"), Value: ptr("3.19")}, {Name: "REPO"}}}},
		{"global arg needs re-declaring in a stage", "ARG V=1\nFROM alpine\nENV A=${V:-unset}\nARG V\nENV B=$V\n", Options{},
			with(func(im *Image) {
				im.Args = []Arg{{Name: "V", Default: ptr("1"), Value: ptr("1")}, {Name: "V", Value: ptr("1")}}
				im.Env = []EnvVar{{"A", "unset"}, {"B", "1"}}
				im.Unmatched = []string{"V"}
			})},
		{"build arg into global arg", "ARG V=1\nFROM alpine:$V\n", Options{BuildArgs: map[string]string{"V": "2"}},
			&Image{Base: "alpine:2", Origin: "alpine:2", External: true, Args: []Arg{{Name: "V", Default: ptr("1"), Value: ptr("2")}}}},
		{"platform args", "ARG TARGETOS\nFROM alpine\nARG TARGETARCH\nENV A=$TARGETARCH\n", Options{},
			with(func(im *Image) {
				im.Args = []Arg{{Name: "TARGETOS", Value: ptr("linux")}, {Name: "TARGETARCH", Value: ptr(runtime.GOARCH)}}
				im.Env = []EnvVar{{"A", runtime.GOARCH}}
			})},
		{"last stage inherits from its stage chain", "FROM golang AS build\nENV GO=1\nEXPOSE 1\nFROM scratch AS other\nEXPOSE 2\nFROM build AS final\nEXPOSE 3\nCMD [\"/x\"]\n", Options{},
			&Image{Base: "build", Stage: "final", Origin: "golang", External: true,
				Env: []EnvVar{{"GO", "1"}}, Ports: []Port{{1, 1, "tcp"}, {3, 3, "tcp"}}, Cmd: execForm("/x")}},
		{"chosen stage", "FROM scratch AS Other\nEXPOSE 2\nFROM alpine\nEXPOSE 3\n", Options{Stage: "OTHER"},
			&Image{Base: "scratch", Stage: "other", Origin: "scratch", Ports: []Port{{2, 2, "tcp"}}}},
		{"stage args and env carry to child", "FROM alpine AS a\nARG X=1\nFROM a\nENV Y=$X\n", Options{},
			&Image{Base: "a", Origin: "alpine", External: true, Args: []Arg{{Name: "X", Default: ptr("1"), Value: ptr("1")}},
				Env: []EnvVar{{"Y", "1"}}}},
		{"onbuild of a parent stage runs in the child", "FROM alpine AS a\nONBUILD ENV X=1\nFROM a\n", Options{},
			&Image{Base: "a", Origin: "alpine", External: true, Env: []EnvVar{{"X", "1"}}}},
		{"onbuild of the final stage does nothing here", "FROM alpine\nONBUILD ENV X=1\n", Options{}, &alpine},
		{"declared arg without value is not unmatched", "FROM alpine\nARG X\nENV Y=$X\n", Options{},
			with(func(im *Image) { im.Args = []Arg{{Name: "X"}}; im.Env = []EnvVar{{"Y", ""}} })},
		{"unmatched from FROM and COPY", "FROM alpine:$TAG\nCOPY $SRC /dst\n", Options{},
			&Image{Base: "alpine:", Origin: "alpine:", External: true, Unmatched: []string{"SRC", "TAG"}}},
		{"escape directive backtick", "# escape=`\nFROM alpine\nENV A=a`$b\nCMD dir `\n  c:\\\n", Options{},
			with(func(im *Image) { im.Env = []EnvVar{{"A", "a$b"}}; im.Cmd = sh("dir   c:\\") })},
		{"heredoc in RUN and COPY", "FROM alpine\nRUN <<EOF\necho hi\nEOF\nCOPY <<EOT /etc/x\n$X\nEOT\nCMD [\"x\"]\n", Options{},
			with(func(im *Image) { im.Cmd = execForm("x") })},
		{"lower case instructions and continuation", "from alpine\nexpose \\\n  80\ncmd [\"x\"]\n", Options{},
			with(func(im *Image) { im.Ports = []Port{{80, 80, "tcp"}}; im.Cmd = execForm("x") })},
		{"parser warning with line", "FROM alpine\nRUN a \\\n\n  b\n", Options{},
			with(func(im *Image) { im.Warnings = []Warning{{4, "Empty continuation line found in: RUN a   b"}} })},
		{"BOM and CRLF", "\ufeffFROM alpine\r\nEXPOSE 80\r\n", Options{},
			with(func(im *Image) { im.Ports = []Port{{80, 80, "tcp"}} })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("Dockerfile", strings.NewReader(tt.src), tt.opts)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Image (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	tests := []struct {
		name string
		im   Image
		want []string
	}{
		{"nothing", Image{}, nil},
		{"cmd only", Image{Cmd: execForm("a", "b")}, []string{"a", "b"}},
		{"entrypoint and cmd", Image{Entrypoint: execForm("e"), Cmd: execForm("c")}, []string{"e", "c"}},
		{"shell entrypoint ignores cmd", Image{Entrypoint: sh("run"), Cmd: execForm("c")}, []string{"/bin/sh", "-c", "run"}},
		{"shell cmd after exec entrypoint", Image{Entrypoint: execForm("tini", "--"), Cmd: sh("serve")}, []string{"tini", "--", "/bin/sh", "-c", "serve"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.im.Command()); diff != "" {
			t.Errorf("%s: Command (-want +got):\n%s", tt.name, diff)
		}
	}
}

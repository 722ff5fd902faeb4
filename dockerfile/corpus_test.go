package dockerfile

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// buildkitDir is the module cache copy of buildkit, whose own test
// Dockerfiles are a corpus nobody here wrote.
func buildkitDir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/moby/buildkit").Output()
	if err != nil {
		t.Fatalf("go list buildkit: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// corpusFiles lists the corpus relative to buildkitDir, sorted.
func corpusFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{
		"frontend/dockerfile/parser/testfile*/*/Dockerfile",
		"frontend/dockerfile/parser/testfile*/Dockerfile",
		"hack/dockerfiles/*",
	} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(dir, f)
			files = append(files, rel)
		}
	}
	sort.Strings(files)
	return files
}

// corpusWant is the outcome for each corpus file: "" = parses, else the
// exact error.
var corpusWant = map[string]string{
	"frontend/dockerfile/parser/testfiles/ADD-COPY-with-JSON/Dockerfile":      "",
	"frontend/dockerfile/parser/testfiles/args/Dockerfile":                    "",
	"frontend/dockerfile/parser/testfiles/brimstone-consuldock/Dockerfile":    "",
	"frontend/dockerfile/parser/testfiles/brimstone-docker-consul/Dockerfile": "",
	"frontend/dockerfile/parser/testfiles/continue-at-eof/Dockerfile":         "",
	"frontend/dockerfile/parser/testfiles/continueIndent/Dockerfile":          "",
	"frontend/dockerfile/parser/testfiles/cpuguy83-nagios/Dockerfile":         "",
	"frontend/dockerfile/parser/testfiles/docker/Dockerfile":                  "",
	// ENV abc='a\'b': the shell lexer Docker expands ENV with rejects it too.
	"frontend/dockerfile/parser/testfiles/env/Dockerfile":                  `Dockerfile:12: ENV: failed to process "'a\\'b'": unexpected end of statement while looking for matching single-quote`,
	"frontend/dockerfile/parser/testfiles/escape-after-comment/Dockerfile": "",
	"frontend/dockerfile/parser/testfiles/escape-nonewline/Dockerfile":     "",
	"frontend/dockerfile/parser/testfiles/escape-with-syntax/Dockerfile":   "",
	"frontend/dockerfile/parser/testfiles/escape/Dockerfile":               "",
	"frontend/dockerfile/parser/testfiles/escapes/Dockerfile":              `Dockerfile:6: ADD: failed to process "\\conf\\\\\"": unexpected end of statement while looking for matching double-quote`,
	"frontend/dockerfile/parser/testfiles/flags/Dockerfile":                "Dockerfile:3: COPY: unknown flag: --user",
	"frontend/dockerfile/parser/testfiles/health/Dockerfile":               "Dockerfile:4: HEALTHCHECK: HEALTHCHECK requires at least one argument",
	"frontend/dockerfile/parser/testfiles/influxdb/Dockerfile":             "",
	// The jeztah-* and json files are parser tests of a lone CMD, without FROM.
	"frontend/dockerfile/parser/testfiles/jeztah-invalid-json-json-inside-string-double/Dockerfile": "Dockerfile:1: CMD: comes before the first FROM: only ARG may come before FROM",
	"frontend/dockerfile/parser/testfiles/jeztah-invalid-json-json-inside-string/Dockerfile":        "Dockerfile:1: CMD: comes before the first FROM: only ARG may come before FROM",
	"frontend/dockerfile/parser/testfiles/jeztah-invalid-json-single-quotes/Dockerfile":             "Dockerfile:1: CMD: comes before the first FROM: only ARG may come before FROM",
	"frontend/dockerfile/parser/testfiles/jeztah-invalid-json-unterminated-bracket/Dockerfile":      "Dockerfile:1: CMD: comes before the first FROM: only ARG may come before FROM",
	"frontend/dockerfile/parser/testfiles/jeztah-invalid-json-unterminated-string/Dockerfile":       "Dockerfile:1: CMD: comes before the first FROM: only ARG may come before FROM",
	"frontend/dockerfile/parser/testfiles/json/Dockerfile":                                          "Dockerfile:1: CMD: comes before the first FROM: only ARG may come before FROM",
	"frontend/dockerfile/parser/testfiles/kartar-entrypoint-oddities/Dockerfile":                    "",
	"frontend/dockerfile/parser/testfiles/lk4d4-the-edge-case-generator/Dockerfile":                 "",
	"frontend/dockerfile/parser/testfiles/mail/Dockerfile":                                          "",
	"frontend/dockerfile/parser/testfiles/multiple-volumes/Dockerfile":                              "",
	"frontend/dockerfile/parser/testfiles/mumble/Dockerfile":                                        "",
	"frontend/dockerfile/parser/testfiles/nginx/Dockerfile":                                         "",
	"frontend/dockerfile/parser/testfiles/tf2/Dockerfile":                                           "",
	"frontend/dockerfile/parser/testfiles/trailing-backslash/Dockerfile":                            "",
	"frontend/dockerfile/parser/testfiles/weechat/Dockerfile":                                       "",
	"frontend/dockerfile/parser/testfiles/znc/Dockerfile":                                           "",
	"frontend/dockerfile/parser/testfiles-negative/empty_dockerfile/Dockerfile":                     "Dockerfile: the Dockerfile is empty: it needs at least a FROM instruction",
	"frontend/dockerfile/parser/testfiles-negative/env_no_value/Dockerfile":                         "Dockerfile:3: ENV: ENV must have two arguments",
	"frontend/dockerfile/parser/testfiles-negative/only_comments/Dockerfile":                        "Dockerfile: the Dockerfile has only comments: it needs at least a FROM instruction",
	"frontend/dockerfile/parser/testfiles-negative/shykes-nested-json/Dockerfile":                   "Dockerfile:1: CMD: when using JSON array syntax, arrays must be comprised of strings only",
	"frontend/dockerfile/parser/testfile-line/Dockerfile":                                           "",
	"hack/dockerfiles/archutil.Dockerfile":                                                          "",
	"hack/dockerfiles/authors.Dockerfile":                                                           "",
	"hack/dockerfiles/docs-dockerfile.Dockerfile":                                                   "",
	"hack/dockerfiles/docs.Dockerfile":                                                              "",
	"hack/dockerfiles/doctoc.Dockerfile":                                                            "",
	"hack/dockerfiles/generated-files.Dockerfile":                                                   "",
	"hack/dockerfiles/govulncheck.Dockerfile":                                                       "",
	"hack/dockerfiles/lint.Dockerfile":                                                              "",
	"hack/dockerfiles/shfmt.Dockerfile":                                                             "",
	"hack/dockerfiles/vendor.Dockerfile":                                                            "",
}

func TestCorpus(t *testing.T) {
	dir := buildkitDir(t)
	files := corpusFiles(t, dir)
	if len(files) < 40 {
		t.Fatalf("found %d corpus files in %s, want the whole corpus", len(files), dir)
	}
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			want, listed := corpusWant[rel]
			if !listed {
				t.Fatalf("no expected outcome listed for %s: add it to corpusWant", rel)
			}
			data, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				t.Fatal(err)
			}
			im, err := Parse("Dockerfile", bytes.NewReader(data), Options{})
			got := ""
			if err != nil {
				got = err.Error()
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("error %T is not a *Error", err)
				}
			}
			if got != want {
				t.Fatalf("outcome\n got: %q\nwant: %q", got, want)
			}
			if err == nil {
				for _, p := range im.Ports {
					if !p.Valid() {
						t.Errorf("invalid port %+v", p)
					}
				}
				// What buildkit's own typed layer rejects, we reject too.
				if res, perr := parser.Parse(bytes.NewReader(data)); perr == nil {
					if _, _, ierr := instructions.Parse(res.AST, nil); ierr != nil {
						t.Errorf("buildkit's instructions.Parse rejects what Parse accepts: %v", ierr)
					}
				}
			}
		})
	}
	for rel := range corpusWant {
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			t.Errorf("listed corpus file is gone: %v", err)
		}
	}
}

// TestCorpusModel compares one corpus file's whole model, so a wrong model
// cannot pass as "parses".
func TestCorpusModel(t *testing.T) {
	im, err := ParseFile(filepath.Join(buildkitDir(t), "frontend/dockerfile/parser/testfiles/influxdb/Dockerfile"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := &Image{
		Base: "ubuntu:14.04", Origin: "ubuntu:14.04", External: true,
		Ports:   []Port{{8083, 8083, "tcp"}, {8086, 8086, "tcp"}, {8090, 8090, "tcp"}, {8099, 8099, "tcp"}},
		Cmd:     sh("/usr/bin/influxdb --pidfile /var/run/influxdb.pid -config /opt/influxdb/shared/config.toml"),
		Volumes: []string{"/opt/influxdb/shared"},
	}
	if diff := cmp.Diff(want, im); diff != "" {
		t.Errorf("influxdb (-want +got):\n%s", diff)
	}
}

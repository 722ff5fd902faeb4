package dockerfile

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// benchDockerfile writes a realistic multi-stage Dockerfile of about n
// lines: a build stage, then a final stage with every kind of instruction.
func benchDockerfile(n int) []byte {
	var b strings.Builder
	b.WriteString("# syntax=docker/dockerfile:1\nARG GO=1.26\nARG APP=hello\nFROM golang:${GO} AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app ./cmd/app\n")
	b.WriteString("FROM debian:12-slim AS run\nARG APP\nARG PORT=8080\nENV APP=$APP PORT=$PORT\nWORKDIR /srv/$APP\n")
	kinds := []func(i int) string{
		func(i int) string { return fmt.Sprintf("ENV VAR_%d=\"value $PORT %d\" OTHER_%d=plain\n", i, i, i) },
		func(i int) string { return fmt.Sprintf("LABEL org.example.key%d=\"v%d\"\n", i, i) },
		func(i int) string {
			return fmt.Sprintf("RUN apt-get install -y pkg%d && \\\n    rm -rf /var/lib/apt/lists/*\n", i)
		},
		func(i int) string { return fmt.Sprintf("COPY --from=build /out/app /usr/local/bin/app%d\n", i) },
		func(i int) string { return fmt.Sprintf("EXPOSE %d ${PORT}/tcp\n", 9000+i%500) },
		func(i int) string { return fmt.Sprintf("ARG OPT_%d=x%d\n", i, i) },
		func(i int) string { return "# a comment explaining the next step\n" },
		func(i int) string { return fmt.Sprintf("USER app%d\n", i%3) },
	}
	lines := strings.Count(b.String(), "\n")
	for i := 0; lines < n-4; i++ {
		s := kinds[i%len(kinds)](i)
		b.WriteString(s)
		lines += strings.Count(s, "\n")
	}
	b.WriteString("HEALTHCHECK --interval=10s CMD [\"/usr/local/bin/app0\", \"-check\"]\nSTOPSIGNAL SIGTERM\nENTRYPOINT [\"/usr/local/bin/app0\"]\nCMD [\"-serve\"]\n")
	return []byte(b.String())
}

func TestBenchDockerfile(t *testing.T) {
	for _, n := range []int{60, 5000} {
		data := benchDockerfile(n)
		if got := bytes.Count(data, []byte("\n")); got < n-2 || got > n+2 {
			t.Errorf("benchDockerfile(%d) has %d lines", n, got)
		}
		im, err := Parse("Dockerfile", bytes.NewReader(data), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Ports) == 0 || im.Cmd == nil || im.Healthcheck == nil {
			t.Errorf("benchDockerfile(%d) model is missing parts: %+v", n, im)
		}
	}
}

// BenchmarkParse runs the model and, side by side on the same input,
// buildkit's parser.Parse + instructions.Parse alone (the bar: the model
// may cost at most 20% more) and parser.Parse alone (what the model builds
// on).
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{60, 5000} {
		data := benchDockerfile(n)
		b.Run(fmt.Sprintf("lines=%d/model", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse("Dockerfile", bytes.NewReader(data), Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("lines=%d/buildkit", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				res, err := parser.Parse(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := instructions.Parse(res.AST, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("lines=%d/parser", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := parser.Parse(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/unit"
)

// sixtyLines is a realistic larger Dockerfile: three stages, ARGs, ENV,
// several ports, a healthcheck.
func sixtyLines() string {
	var b strings.Builder
	b.WriteString("ARG GO_VERSION=1.26\nARG APP=server\nFROM golang:${GO_VERSION} AS deps\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN [\"go\", \"mod\", \"download\"]\n")
	b.WriteString("FROM deps AS build\nARG APP\nARG VERSION=dev\nENV CGO_ENABLED=0 GOFLAGS=-trimpath\nCOPY . .\n")
	for i := 0; i < 19; i++ {
		fmt.Fprintf(&b, "RUN [\"go\", \"build\", \"-o\", \"/out/tool%d\", \"./cmd/tool%d\"]\n", i, i)
	}
	b.WriteString("FROM scratch\nARG APP\nLABEL org.opencontainers.image.title=${APP}\n")
	for i := 0; i < 19; i++ {
		fmt.Fprintf(&b, "COPY --from=build /out/tool%d /bin/tool%d\n", i, i)
	}
	b.WriteString("ENV LANG=C.UTF-8 TZ=UTC\nUSER 65534\nWORKDIR /data\nEXPOSE 8080 8443 9090/udp\n")
	b.WriteString("HEALTHCHECK --interval=10s CMD [\"/bin/tool0\", \"-health\"]\nSTOPSIGNAL SIGTERM\nENTRYPOINT [\"/bin/tool0\"]\nCMD [\"serve\"]\n")
	return b.String()
}

func benchRender(b *testing.B, df string, app string) {
	cfg, err := ParseConfig(nil, []byte(app))
	if err != nil {
		b.Fatal(err)
	}
	rel := Release{App: "bench", Rev: "0123456789abcdef0123456789abcdef01234567"}
	b.ReportAllocs()
	for b.Loop() {
		img, err := dockerfile.Parse("Dockerfile", strings.NewReader(df), dockerfile.Options{})
		if err != nil {
			b.Fatal(err)
		}
		files, err := Render(img, cfg, rel)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			if _, err := unit.Marshal(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRender is the library's main path: parse, render, marshal.
func BenchmarkRender(b *testing.B) {
	b.Run("hello", func(b *testing.B) { benchRender(b, helloDockerfile, "") })
	df := sixtyLines()
	if n := strings.Count(df, "\n"); n != 60 {
		b.Fatalf("the large Dockerfile has %d lines, want 60", n)
	}
	b.Run("60-lines", func(b *testing.B) {
		benchRender(b, df, "processes:\n  web: {ports: [8080, 8443]}\n  worker: {command: [\"/bin/tool1\"], instances: 2}\nenv: {A: b, C: d}\n")
	})
}

func BenchmarkParseConfig(b *testing.B) {
	app := []byte("instances: 2\nenv: {LOG_LEVEL: debug, A: b}\nprocesses:\n  worker: {command: [\"/app\", \"-w\"]}\nmemory: 256m\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseConfig(nil, app); err != nil {
			b.Fatal(err)
		}
	}
}

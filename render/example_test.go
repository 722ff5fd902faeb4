package render_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/unit"
)

// The library's main path: a Dockerfile and both configuration layers in,
// the release's unit files out. The caller reads the files and writes the
// units; render does no I/O.
func Example() {
	img, err := dockerfile.Parse("Dockerfile", strings.NewReader(`
FROM golang:1.26 AS build
COPY . /src
RUN ["go", "build", "-C", "/src", "-o", "/hello", "."]
FROM scratch
COPY --from=build /hello /hello
EXPOSE 8080
CMD ["/hello"]
`), dockerfile.Options{})
	if err != nil {
		log.Fatal(err)
	}
	operator := []byte("registry: 127.0.0.1:5000\ntarget: systemd\n")
	app := []byte("instances: 2\nenv: {GREETING: hello}\n")
	cfg, err := render.ParseConfig(operator, app)
	if err != nil {
		log.Fatal(err)
	}
	files, err := render.Render(img, cfg, render.Release{App: "hello", Rev: "0123456789abcdef0123456789abcdef01234567"})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		b, err := unit.Marshal(f)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Name, len(b) > 0)
	}
	// Output:
	// hello.build.0123456789ab.service true
	// hello.web.0123456789ab@.service true
	// hello.web.0123456789ab.discovery@.service true
}

// Errors in either YAML file name the file and line, and say what to do.
func ExampleParseConfig() {
	_, err := render.ParseConfig(nil, []byte("instances: 2\nregistry: evil.example.com\n"))
	fmt.Println(err)
	_, err = render.ParseConfig(nil, []byte("env:\n  LOG_LEVEL: debug\ninstnces: 2\n"))
	fmt.Println(err)
	// Output:
	// nap.yaml:2: "registry" is set by the operator: remove it from nap.yaml
	// nap.yaml:3: unknown field "instnces"
}

// Check tells what a user should know before deploying.
func ExampleCheck() {
	img, _ := dockerfile.Parse("Dockerfile", strings.NewReader("FROM scratch\nVOLUME /data\nEXPOSE 8080\nCMD [\"/app\"]\n"), dockerfile.Options{})
	cfg, _ := render.ParseConfig(nil, nil)
	warnings, err := render.Check(img, cfg)
	fmt.Println(warnings, err)
	// Output:
	// [Dockerfile: VOLUME "/data": data written there is lost on every redeploy (each release runs new containers); keep state in a database or on the host] <nil>
}

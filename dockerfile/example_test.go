package dockerfile_test

import (
	"fmt"
	"strings"

	"github.com/nap-paas/nap/dockerfile"
)

func Example() {
	const src = `ARG GO=1.26
FROM golang:${GO} AS build
WORKDIR /src
RUN go build -o /app .

FROM scratch
ARG PORT=8080
ENV PORT=$PORT
COPY --from=build /app /app
EXPOSE $PORT 9090/udp
HEALTHCHECK --interval=10s CMD ["/app", "-check"]
USER 1000
ENTRYPOINT ["/app"]
CMD ["-serve"]
`
	img, err := dockerfile.Parse("Dockerfile", strings.NewReader(src), dockerfile.Options{
		BuildArgs: map[string]string{"PORT": "3000"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("base:", img.Base, "external:", img.External)
	fmt.Println("ports:", img.Ports[0], img.Ports[1])
	fmt.Println("env:", img.Env)
	fmt.Println("command:", img.Command())
	fmt.Println("healthcheck:", img.Healthcheck.Test, img.Healthcheck.Interval)

	_, err = dockerfile.Parse("Dockerfile", strings.NewReader("FROM scratch\nEXPOSE 80/http\n"), dockerfile.Options{})
	fmt.Println(err)
	// Output:
	// base: scratch external: false
	// ports: 3000/tcp 9090/udp
	// env: [{PORT 3000}]
	// command: [/app -serve]
	// healthcheck: [CMD /app -check] 10s
	// Dockerfile:2: EXPOSE: invalid port "80/http": protocol must be tcp, udp or sctp
}

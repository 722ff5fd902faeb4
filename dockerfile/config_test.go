package dockerfile

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFromConfig(t *testing.T) {
	config := `{"architecture":"amd64","os":"linux","config":{
		"ExposedPorts":{"8080/tcp":{},"53/udp":{},"8001/tcp":{},"8000/tcp":{}},
		"Env":["PATH=/usr/bin:/bin","EMPTY=","EQ=a=b"],
		"Entrypoint":["/tini","--"],"Cmd":["/app","-v"],
		"Healthcheck":{"Test":["CMD-SHELL","curl -f localhost"],"Interval":5000000000,"Timeout":2000000000,"StartPeriod":60000000000,"Retries":3},
		"User":"app","WorkingDir":"/srv","Volumes":{"/data":{},"/cache":{}},"StopSignal":"SIGQUIT",
		"Labels":{"org.opencontainers.image.title":"hello"}},
		"rootfs":{"type":"layers","diff_ids":[]}}`
	got, err := FromConfig([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	want := &Image{
		Ports:      []Port{{53, 53, "udp"}, {8000, 8000, "tcp"}, {8001, 8001, "tcp"}, {8080, 8080, "tcp"}},
		Env:        []EnvVar{{"PATH", "/usr/bin:/bin"}, {"EMPTY", ""}, {"EQ", "a=b"}},
		Entrypoint: execForm("/tini", "--"),
		Cmd:        execForm("/app", "-v"),
		Healthcheck: &Healthcheck{Test: []string{"CMD-SHELL", "curl -f localhost"}, Interval: 5 * time.Second,
			Timeout: 2 * time.Second, StartPeriod: time.Minute, Retries: 3},
		User: "app", Workdir: "/srv", Volumes: []string{"/cache", "/data"}, StopSignal: "SIGQUIT",
		Labels: map[string]string{"org.opencontainers.image.title": "hello"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromConfig (-want +got):\n%s", diff)
	}
	if argv := got.Command(); strings.Join(argv, " ") != "/tini -- /app -v" {
		t.Errorf("Command() = %q", argv)
	}
}

func TestFromConfigEmpty(t *testing.T) {
	for _, config := range []string{`{}`, `{"config":null}`, `{"config":{}}`} {
		got, err := FromConfig([]byte(config))
		if err != nil || !cmp.Equal(got, &Image{}) {
			t.Errorf("FromConfig(%s) = %+v, %v; want an empty Image", config, got, err)
		}
	}
}

func TestFromConfigErrors(t *testing.T) {
	tests := map[string]string{
		`not json`: "image config: invalid character 'o' in literal null (expecting 'u')",
		`{"config":{"ExposedPorts":{"0/tcp":{}}}}`:                  `image config: ExposedPorts: invalid port "0/tcp": a port is a number from 1 to 65535`,
		`{"config":{"Env":["NOEQUALS"]}}`:                           `image config: Env: "NOEQUALS" is not NAME=value`,
		`{"config":{"Healthcheck":{"Test":["RUN"]}}}`:               `image config: Healthcheck: unknown test type "RUN"`,
		`{"config":{"StopSignal":"SIGNOPE"}}`:                       "image config: StopSignal: invalid signal: SIGNOPE",
		`{"config":{"Healthcheck":{"Test":["NONE"],"Retries":-1}}}`: "image config: Healthcheck: negative duration or retries",
	}
	for config, want := range tests {
		if _, err := FromConfig([]byte(config)); err == nil || err.Error() != want {
			t.Errorf("FromConfig(%s) error = %v, want %q", config, err, want)
		}
	}
}

package render

import (
	"bytes"
	"errors"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/unit"
)

const testRev = "0123456789abcdef0123456789abcdef01234567"

const helloDockerfile = `FROM golang:1.26 AS build
WORKDIR /src
COPY . .
RUN ["go", "build", "-o", "/hello", "."]
FROM scratch
COPY --from=build /hello /hello
EXPOSE 8080
CMD ["/hello"]
`

func parseImage(t testing.TB, dockerfileText string) *dockerfile.Image {
	t.Helper()
	img, err := dockerfile.Parse("Dockerfile", strings.NewReader(dockerfileText), dockerfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustConfig(t testing.TB, op, app string) *Config {
	t.Helper()
	cfg, err := ParseConfig([]byte(op), []byte(app))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func mustRender(t testing.TB, dockerfileText, op, app string) []*unit.File {
	t.Helper()
	files, err := Render(parseImage(t, dockerfileText), mustConfig(t, op, app), Release{App: "hello", Rev: testRev})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// values returns the values of every name= option in [section] of f.
func values(f *unit.File, section, name string) []string {
	var out []string
	for _, s := range f.Sections {
		if s.Name != section {
			continue
		}
		for _, o := range s.Options {
			if o.Name == name {
				out = append(out, o.Value)
			}
		}
	}
	return out
}

// argv is the command line systemd runs for the only name= option of [Service].
func argv(t testing.TB, f *unit.File, name string) []string {
	t.Helper()
	v := values(f, "Service", name)
	if len(v) != 1 {
		t.Fatalf("%s: %d %s= lines, want 1", f.Name, len(v), name)
	}
	args, err := unit.SplitExec(v[0])
	if err != nil {
		t.Fatalf("%s: %s=%s: %v", f.Name, name, v[0], err)
	}
	return args
}

func find(t testing.TB, files []*unit.File, name string) *unit.File {
	t.Helper()
	for _, f := range files {
		if f.Name == name {
			return f
		}
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	t.Fatalf("no unit %s in %v", name, names)
	return nil
}

func TestRenderHello(t *testing.T) {
	files := mustRender(t, helloDockerfile, "", "")
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	want := []string{"hello.build.0123456789ab.service", "hello.web.0123456789ab@.service", "hello.web.0123456789ab.discovery@.service"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("units %q, want %q", names, want)
	}
	image := "127.0.0.1:5000/hello:" + testRev
	src := "/var/lib/nap/hello/src/" + testRev

	build := files[0]
	if got := values(build, "Service", "ExecStart"); len(got) != 2 {
		t.Fatalf("build: ExecStart %q, want build then push", got)
	}
	gotBuild, _ := unit.SplitExec(values(build, "Service", "ExecStart")[0])
	if want := []string{"/usr/bin/docker", "build", "-f", src + "/Dockerfile", "-t", image, src}; !reflect.DeepEqual(gotBuild, want) {
		t.Errorf("build argv\n got %q\nwant %q", gotBuild, want)
	}
	gotPush, _ := unit.SplitExec(values(build, "Service", "ExecStart")[1])
	if want := []string{"/usr/bin/docker", "push", image}; !reflect.DeepEqual(gotPush, want) {
		t.Errorf("push argv %q, want %q", gotPush, want)
	}
	for name, want := range map[string]string{"Type": "oneshot", "RemainAfterExit": "yes", "TimeoutStartSec": "1200"} {
		if got := values(build, "Service", name); !reflect.DeepEqual(got, []string{want}) {
			t.Errorf("build %s=%q, want %q", name, got, want)
		}
	}
	if got := values(build, "X-Fleet", "MachineID"); got != nil {
		t.Errorf("build pinned to %q without a machine id", got)
	}

	run := files[1]
	wantRun := []string{"/usr/bin/docker", "run", "--rm", "--name", "hello.web.0123456789ab.%i", "-p", "8080/tcp",
		"-e", "NAP_APP=hello", "-e", "NAP_PROCESS=web", "-e", "NAP_RELEASE=" + testRev, "-e", "NAP_INSTANCE=%i", "-e", "PORT=8080", image}
	if got := argv(t, run, "ExecStart"); !reflect.DeepEqual(got, wantRun) {
		t.Errorf("run argv\n got %q\nwant %q", got, wantRun)
	}
	if got := values(run, "Service", "ExecStartPre"); !reflect.DeepEqual(got, []string{
		"-/usr/bin/docker rm -f hello.web.0123456789ab.%i", "-/usr/bin/docker pull " + image}) {
		t.Errorf("run ExecStartPre %q", got)
	}
	for name, want := range map[string]string{
		"ExecStop": "/usr/bin/docker stop hello.web.0123456789ab.%i", "Restart": "on-failure", "SuccessExitStatus": "143",
		"RestartSec": "5", "TimeoutStartSec": "300",
	} {
		if got := values(run, "Service", name); !reflect.DeepEqual(got, []string{want}) {
			t.Errorf("run %s=%q, want %q", name, got, want)
		}
	}
	if got := values(run, "X-Fleet", "Conflicts"); !reflect.DeepEqual(got, []string{"hello.web.0123456789ab@*.service"}) {
		t.Errorf("run Conflicts=%q", got)
	}
	if got := values(run, "Install", "WantedBy"); got != nil {
		t.Errorf("fleet run unit has [Install] WantedBy=%q", got)
	}
	sandbox.Verify(t, files...)
	roundTrip(t, files)
}

// roundTrip: what Marshal writes, Read gives back option for option.
func roundTrip(t *testing.T, files []*unit.File) {
	t.Helper()
	for _, f := range files {
		b, err := unit.Marshal(f)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		back, err := unit.Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: read back: %v", f.Name, err)
		}
		back.Name = f.Name
		if !reflect.DeepEqual(back, f) {
			t.Errorf("%s: read back differs:\n got %+v\nwant %+v", f.Name, back, f)
		}
	}
}

func TestRenderSystemdTarget(t *testing.T) {
	op := "target: systemd\nbuilder: {machine_id: 0123456789abcdef0123456789abcdef}\n"
	files := mustRender(t, helloDockerfile, op, "machine: {metadata: []}\n")
	for _, f := range files {
		if len(values(f, "X-Fleet", "Conflicts"))+len(values(f, "X-Fleet", "MachineID"))+len(values(f, "X-Fleet", "MachineOf")) > 0 {
			t.Errorf("%s: [X-Fleet] on the systemd target", f.Name)
		}
	}
	if got := values(files[1], "Install", "WantedBy"); !reflect.DeepEqual(got, []string{"multi-user.target"}) {
		t.Errorf("run unit WantedBy=%q, want multi-user.target", got)
	}
}

func TestRenderFleetPinningAndMetadata(t *testing.T) {
	op := "machines: {allowed_metadata: [disk=ssd, region=eu]}\n"
	cfg := mustConfig(t, op, "machine: {metadata: [region=eu, disk=ssd]}\n")
	rel := Release{App: "hello", Rev: testRev, MachineID: "fedcba9876543210fedcba9876543210"}
	files, err := Render(parseImage(t, helloDockerfile), cfg, rel)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(files[0], "X-Fleet", "MachineID"); !reflect.DeepEqual(got, []string{rel.MachineID}) {
		t.Errorf("build MachineID=%q, want this machine", got)
	}
	if got := values(files[1], "X-Fleet", "MachineMetadata"); !reflect.DeepEqual(got, []string{"disk=ssd", "region=eu"}) {
		t.Errorf("MachineMetadata=%q", got)
	}
	cfg.Operator.Builder.MachineID = "0123456789abcdef0123456789abcdef"
	files, _ = Render(parseImage(t, helloDockerfile), cfg, rel)
	if got := values(files[0], "X-Fleet", "MachineID"); !reflect.DeepEqual(got, []string{"0123456789abcdef0123456789abcdef"}) {
		t.Errorf("build MachineID=%q, want the operator's builder", got)
	}
}

func TestRenderProcessesAndOptions(t *testing.T) {
	op := "env_dir: /etc/nap/env\nregistry: reg.example.com/apps\n"
	app := `memory: 256m
cpu_shares: 512
build_args: {B: "2", A: "1 2"}
stage: build
env: {Z: last, PORT: "9999"}
processes:
  worker: {command: ["/hello", "-worker"], instances: 2}
  admin: {command: ["/hello", "admin"], ports: [8080]}
`
	files := mustRender(t, helloDockerfile, op, app)
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	want := []string{"hello.build.0123456789ab.service",
		"hello.web.0123456789ab@.service", "hello.web.0123456789ab.discovery@.service",
		"hello.admin.0123456789ab@.service", "hello.admin.0123456789ab.discovery@.service",
		"hello.worker.0123456789ab@.service"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("units %q, want %q", names, want)
	}
	image := "reg.example.com/apps/hello:" + testRev
	src := "/var/lib/nap/hello/src/" + testRev
	gotBuild, _ := unit.SplitExec(values(files[0], "Service", "ExecStart")[0])
	if want := []string{"/usr/bin/docker", "build", "--build-arg", "A=1 2", "--build-arg", "B=2", "-f", src + "/Dockerfile", "--target", "build", "-t", image, src}; !reflect.DeepEqual(gotBuild, want) {
		t.Errorf("build argv\n got %q\nwant %q", gotBuild, want)
	}
	worker := find(t, files, "hello.worker.0123456789ab@.service")
	wantWorker := []string{"/usr/bin/docker", "run", "--rm", "--name", "hello.worker.0123456789ab.%i",
		"-e", "NAP_APP=hello", "-e", "NAP_PROCESS=worker", "-e", "NAP_RELEASE=" + testRev, "-e", "NAP_INSTANCE=%i",
		"-e", "PORT=9999", "-e", "Z=last", "--env-file", "/etc/nap/env/hello.env", "--memory", "256m", "--cpu-shares", "512",
		image, "/hello", "-worker"}
	if got := argv(t, worker, "ExecStart"); !reflect.DeepEqual(got, wantWorker) {
		t.Errorf("worker argv\n got %q\nwant %q", got, wantWorker)
	}
	admin := argv(t, find(t, files, "hello.admin.0123456789ab@.service"), "ExecStart")
	if !contains(admin, "-p") || admin[len(admin)-2] != "/hello" {
		t.Errorf("admin argv %q: want -p 8080/tcp and its command", admin)
	}
	sandbox.Verify(t, files...)
	roundTrip(t, files)
}

func TestRenderPorts(t *testing.T) {
	df := "FROM scratch\nEXPOSE 9090 53/udp 8080 7000-7002 53\nCMD [\"/app\"]\n"
	files := mustRender(t, df, "", "")
	got := argv(t, files[1], "ExecStart")
	want := []string{"-p", "53/tcp", "-p", "53/udp", "-p", "7000-7002/tcp", "-p", "8080/tcp", "-p", "9090/tcp"}
	if !reflect.DeepEqual(got[5:15], want) || !contains(got, "PORT=53") {
		t.Errorf("argv %q: want every EXPOSEd port, sorted, and PORT=53 (the lowest TCP)", got)
	}
	files = mustRender(t, df+"EXPOSE 7000-7010\n", "", "processes:\n  web: {ports: [8080, 53, 7001]}\n")
	got = argv(t, files[1], "ExecStart")
	want = []string{"-p", "8080/tcp", "-p", "53/tcp", "-p", "53/udp", "-p", "7001/tcp"}
	if !reflect.DeepEqual(got[5:13], want) || !contains(got, "PORT=8080") {
		t.Errorf("argv %q: want the listed ports in order, and PORT=8080 (the first)", got)
	}

	// A listed port the Dockerfile does not expose: an error at its line,
	// unless the base image (external) may expose it.
	cfg := mustConfig(t, "", "processes:\n  web:\n    ports:\n      - 8080\n      - 9000\n")
	_, err := Render(parseImage(t, df), cfg, Release{App: "hello", Rev: testRev})
	var ce *ConfigError
	if !errors.As(err, &ce) || err.Error() != "nap.yaml:5: processes.web.ports: 9000 is not EXPOSEd: add EXPOSE 9000 to the Dockerfile or remove it here" {
		t.Errorf("err = %v, want nap.yaml:5 naming port 9000", err)
	}
	ext := parseImage(t, "FROM nginx\nEXPOSE 8080\n")
	files, err = Render(ext, cfg, Release{App: "hello", Rev: testRev})
	if err != nil {
		t.Fatal(err)
	}
	if got := argv(t, files[1], "ExecStart"); !contains(got, "9000/tcp") {
		t.Errorf("external base: argv %q, want 9000/tcp published", got)
	}
	warnings, err := Check(ext, cfg)
	if err != nil || len(warnings) != 2 || !strings.Contains(warnings[1], "nap.yaml:5: processes.web.ports: 9000 is not EXPOSEd") {
		t.Errorf("Check = %q, %v", warnings, err)
	}
	// After the build the image's config is known: no more benefit of the doubt.
	built := &dockerfile.Image{Ports: []dockerfile.Port{{Start: 8080, End: 8080, Proto: "tcp"}}, Cmd: &dockerfile.Command{Args: []string{"nginx"}}}
	if _, err := Render(ext, cfg, Release{App: "hello", Rev: testRev, Built: built}); !errors.As(err, &ce) || ce.Line != 5 {
		t.Errorf("built image without 9000: err = %v, want nap.yaml:5", err)
	}
}

func TestRenderBuiltWins(t *testing.T) {
	img := parseImage(t, "FROM nginx\nCMD [\"/app\"]\n")
	built := &dockerfile.Image{
		Ports:       []dockerfile.Port{{Start: 80, End: 80, Proto: "tcp"}},
		Cmd:         &dockerfile.Command{Args: []string{"nginx", "-g", "daemon off;"}},
		Healthcheck: &dockerfile.Healthcheck{Test: []string{"CMD", "true"}},
		StopSignal:  "SIGQUIT",
	}
	cfg := mustConfig(t, "", "")
	files, err := Render(img, cfg, Release{App: "hello", Rev: testRev})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Errorf("before the build: %d units, want build + run (nothing exposed yet)", len(files))
	}
	files, err = Render(img, cfg, Release{App: "hello", Rev: testRev, Built: built})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || !contains(argv(t, files[1], "ExecStart"), "80/tcp") {
		t.Errorf("after the build: want port 80 published and a discovery unit, got %d units", len(files))
	}
	if got := values(files[1], "Service", "SuccessExitStatus"); !reflect.DeepEqual(got, []string{"143 131"}) {
		t.Errorf("SuccessExitStatus=%q, want 143 131 (SIGQUIT)", got)
	}
}

func TestRenderEntrypoint(t *testing.T) {
	exec := "FROM scratch\nENTRYPOINT [\"/app\", \"--flag\"]\nCMD [\"serve\"]\n"
	files := mustRender(t, exec, "", "processes: {worker: {command: [work, \"1\"]}}\n")
	w := argv(t, find(t, files, "hello.worker.0123456789ab@.service"), "ExecStart")
	if got := w[len(w)-3:]; !reflect.DeepEqual(got, []string{"127.0.0.1:5000/hello:" + testRev, "work", "1"}) {
		t.Errorf("exec-form ENTRYPOINT: argv ends %q, want IMAGE work 1 (ENTRYPOINT stays)", got)
	}
	shell := "FROM scratch\nENTRYPOINT /app --flag\n"
	files = mustRender(t, shell, "", "processes: {worker: {command: [/bin/work, \"1\"]}}\n")
	w = argv(t, find(t, files, "hello.worker.0123456789ab@.service"), "ExecStart")
	if got := w[len(w)-4:]; !reflect.DeepEqual(got, []string{"--entrypoint", "/bin/work", "127.0.0.1:5000/hello:" + testRev, "1"}) {
		t.Errorf("shell-form ENTRYPOINT: argv ends %q, want --entrypoint /bin/work IMAGE 1", got)
	}
}

func TestRenderNothingToRun(t *testing.T) {
	_, err := Render(parseImage(t, "FROM scratch\nEXPOSE 80\n"), mustConfig(t, "", ""), Release{App: "hello", Rev: testRev})
	var de *dockerfile.Error
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "Dockerfile: no CMD or ENTRYPOINT: process web has nothing to run") {
		t.Errorf("err = %v", err)
	}
}

func TestRenderBadRelease(t *testing.T) {
	img, cfg := parseImage(t, helloDockerfile), mustConfig(t, "", "")
	for _, rel := range []Release{
		{App: "Hello", Rev: testRev},
		{App: "hello\nExecStart=/bin/sh", Rev: testRev},
		{App: "hello", Rev: "HEAD"},
		{App: "hello", Rev: testRev, MachineID: "x\ny"},
	} {
		if _, err := Render(img, cfg, rel); err == nil {
			t.Errorf("Render(%+v) = nil error", rel)
		}
	}
}

// TestRenderHostileValues: whatever nap.yaml's env and command hold, docker
// receives exactly those bytes as one argument each, and the unit reads back.
func TestRenderHostileValues(t *testing.T) {
	img := parseImage(t, helloDockerfile)
	alphabet := []rune("aZ09 %$\"'\\;`{}()*?~#=:\t!&|<>é€\u00a0\u200b\x01\x7f")
	r := rand.New(rand.NewSource(1))
	word := func() string {
		n := r.Intn(12)
		s := make([]rune, n)
		for i := range s {
			s[i] = alphabet[r.Intn(len(alphabet))]
		}
		return string(s)
	}
	for i := 0; i < 300; i++ {
		v, c := word(), word()
		cfg := mustConfig(t, "", "")
		cfg.App.Env = map[string]string{"V": v}
		cfg.App.Processes["worker"] = Process{Command: []string{"/w", c, ";"}, Instances: 1}
		files, err := Render(img, cfg, Release{App: "hello", Rev: testRev})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if _, err := unit.Marshal(f); err != nil {
				t.Fatalf("env %q command %q: %s: %v", v, c, f.Name, err)
			}
		}
		got := argv(t, find(t, files, "hello.worker.0123456789ab@.service"), "ExecStart")
		if !contains(got, "V="+v) || !reflect.DeepEqual(got[len(got)-3:], []string{"/w", c, ";"}) {
			t.Fatalf("env %q command %q: argv %q", v, c, got)
		}
		if i < 3 || strings.ContainsAny(v+c, "%$\\") && i%50 == 0 {
			roundTrip(t, files)
		}
	}
}

func TestRenderDeterministic(t *testing.T) {
	app := "env: {A: 1, B: 2, C: 3, D: 4, E: 5, F: 6}\nbuild_args: {X: 1, Y: 2, Z: 3}\nprocesses: {b: {command: [x]}, a: {command: [y]}, c: {command: [z]}}\n"
	first := marshal(t, mustRender(t, helloDockerfile, "", app))
	for i := 0; i < 20; i++ {
		if got := marshal(t, mustRender(t, helloDockerfile, "", app)); !bytes.Equal(got, first) {
			t.Fatalf("render %d differs from the first", i)
		}
	}
}

func marshal(t testing.TB, files []*unit.File) []byte {
	var b bytes.Buffer
	for _, f := range files {
		if err := unit.Write(&b, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestCheck(t *testing.T) {
	df := "FROM golang:1.26\nVOLUME /data\nEXPOSE 8080 9090\nCMD [\"/app\"]\n"
	warnings, err := Check(parseImage(t, df), mustConfig(t, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`Dockerfile: the base image "golang:1.26" comes from outside the Dockerfile: the EXPOSE, CMD, ENTRYPOINT, HEALTHCHECK, USER and STOPSIGNAL it brings are read from the registry after the build`,
		`Dockerfile: VOLUME "/data": data written there is lost on every redeploy (each release runs new containers); keep state in a database or on the host`,
		`web publishes 8080/tcp, 9090/tcp and nap.yaml lists no ports: 8080 is the primary port (announced as "port"); list ports in processes.web.ports to choose`,
	}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings\n got %q\nwant %q", warnings, want)
	}
	warnings, err = Check(parseImage(t, helloDockerfile), mustConfig(t, "", ""))
	if err != nil || len(warnings) != 0 {
		t.Errorf("hello: %q, %v; want no warnings", warnings, err)
	}
}

func TestRenderMaxPorts(t *testing.T) {
	const op = "limits: {max_ports: 8}\n"
	// A range counts each port; the limit is per app, over every process.
	df := "FROM scratch\nEXPOSE 8080 20000-20959\nCMD [\"/app\"]\n"
	_, err := Render(parseImage(t, df), mustConfig(t, op, ""), Release{App: "hello", Rev: testRev})
	var de *dockerfile.Error
	const want = "Dockerfile: the app publishes 961 ports (8080/tcp, 20000-20959/tcp); this host allows 8 per app (limits.max_ports): EXPOSE fewer, or list the ones to publish in processes.web.ports of nap.yaml"
	if !errors.As(err, &de) || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	// Listing the ports to publish keeps within the limit.
	if _, err := Render(parseImage(t, df), mustConfig(t, op, "processes:\n  web: {ports: [8080]}\n"), Release{App: "hello", Rev: testRev}); err != nil {
		t.Errorf("with ports listed: %v", err)
	}
	// A base image's inherited EXPOSE is held to the limit after the build.
	ext := parseImage(t, "FROM base\nCMD [\"/app\"]\n")
	cfg := mustConfig(t, op, "")
	if _, err := Render(ext, cfg, Release{App: "hello", Rev: testRev}); err != nil {
		t.Fatalf("before the build: %v", err)
	}
	built := &dockerfile.Image{Ports: []dockerfile.Port{{Start: 7000, End: 7099, Proto: "udp"}}, Cmd: &dockerfile.Command{Args: []string{"/app"}}}
	_, err = Render(ext, cfg, Release{App: "hello", Rev: testRev, Built: built})
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "the built image exposes more than its Dockerfile: publishes 100 ports (7000-7099/udp); this host allows 8 per app") {
		t.Errorf("built: err = %v", err)
	}
	if _, err := Check(parseImage(t, df), mustConfig(t, op, "")); !errors.As(err, &de) {
		t.Errorf("Check: err = %v, want the limit", err)
	}
}

package render

import (
	"errors"
	"strings"
	"testing"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/unit"
)

// FuzzParseConfig: any nap.yaml is either refused with a one-line
// *ConfigError, or rendered into units that marshal, with nap's own settings
// intact and every command line splitting back cleanly.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"", "instances: 2\n", "env: {A: \"%i $HOME \\\\ ;\"}\n",
		"processes:\n  web: {ports: [8080]}\n  worker: {command: [\"/app\", \"-w\"], instances: 3}\n",
		"build_args: {V: 1.2}\nstage: build\nmemory: 256m\ncpu_shares: 512\n",
		"registry: x\n", "env: &a {A: b}\nbuild_args: *a\n", "dockerfile: ../x\n",
	} {
		f.Add(s)
	}
	img, err := dockerfile.Parse("Dockerfile", strings.NewReader("FROM scratch\nEXPOSE 8080 53/udp\nCMD [\"/app\"]\n"), dockerfile.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, app string) {
		cfg, err := ParseConfig(nil, []byte(app))
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v, want *ConfigError", err, err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error holds a line break: %q", err)
			}
			return
		}
		files, err := Render(img, cfg, Release{App: "fuzz", Rev: "0123456789abcdef0123456789abcdef01234567"})
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Render: %T %v", err, err)
			}
			return
		}
		for _, u := range files {
			if _, err := unit.Marshal(u); err != nil {
				t.Fatalf("%s: %v", u.Name, err)
			}
			for _, s := range u.Sections {
				for _, o := range s.Options {
					if strings.HasPrefix(o.Name, "Exec") {
						if _, err := unit.SplitExec(o.Value); err != nil {
							t.Fatalf("%s: %s=%s: %v", u.Name, o.Name, o.Value, err)
						}
					}
				}
			}
		}
		run := files[1]
		for _, o := range run.Sections[1].Options {
			if o.Name == "ExecStart" {
				argv, _ := unit.SplitExec(o.Value)
				if argv[0] != "/usr/bin/docker" || argv[1] != "run" || argv[4] != "fuzz.web.0123456789ab.%i" {
					t.Fatalf("run argv %q", argv)
				}
			}
		}
	})
}

// FuzzRender: any Dockerfile with any nap.yaml either fails with a located
// error or renders units that all marshal.
func FuzzRender(f *testing.F) {
	f.Add(helloDockerfile, "")
	f.Add("FROM scratch\nEXPOSE 53/udp 7000-7002\nENTRYPOINT /app x\nHEALTHCHECK CMD [\"/h\"]\nSTOPSIGNAL SIGINT\n", "processes: {w: {command: [a], ports: [7001]}}\n")
	f.Add("FROM nginx AS a\nFROM a\nEXPOSE 80\n", "processes: {web: {ports: [80, 81]}}\n")
	f.Add("ARG B=scratch\nFROM ${B}\nCMD x\n", "stage: x\n")
	f.Fuzz(func(t *testing.T, df, app string) {
		cfg, err := ParseConfig(nil, []byte(app))
		if err != nil {
			return
		}
		img, err := dockerfile.Parse("Dockerfile", strings.NewReader(df), dockerfile.Options{Stage: cfg.App.Stage, BuildArgs: cfg.App.BuildArgs})
		if err != nil {
			return
		}
		if _, err := Check(img, cfg); err != nil {
			return
		}
		files, err := Render(img, cfg, Release{App: "fuzz", Rev: "0123456789abcdef0123456789abcdef01234567"})
		if err != nil {
			t.Fatalf("Check passed but Render failed: %v", err)
		}
		for _, u := range files {
			if _, err := unit.Marshal(u); err != nil {
				t.Fatalf("%s: %v", u.Name, err)
			}
		}
	})
}

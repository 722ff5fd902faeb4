package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// GoImage is the name of the image Options.GoImage loads: this machine's
// Go toolchain, since no base image can be pulled offline.
const GoImage = "golang:1.26"

// warmDockerfile compiles the standard library into the image's GOCACHE
// once, so that a build FROM it takes seconds, not half a minute.
const warmDockerfile = "FROM " + GoImage + "\nRUN [\"go\", \"build\", \"std\"]\n"

var goImageMu sync.Mutex // one builder per process; flock across processes

// loadGoImage loads GoImage into the machine's dockerd from a cached
// `docker save` tarball, building the tarball first if no test process on
// this host has yet.
func (m *Machine) loadGoImage(ctx context.Context, t testing.TB) error {
	goImageMu.Lock()
	defer goImageMu.Unlock()
	start := time.Now()
	cache, err := goImageCache()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(cache), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(cache+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	if _, err := os.Stat(cache); err != nil {
		if err := m.buildGoImage(ctx, cache); err != nil {
			return err
		}
		t.Logf("sandbox: built %s into %s in %v", GoImage, cache, time.Since(start).Round(time.Millisecond))
		return nil
	}
	f, err := os.Open(cache)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := m.run(ctx, Cmd{Argv: []string{"docker", "load", "--quiet"}, Stdin: f}); err != nil {
		return fmt.Errorf("loading %s: %w", cache, err)
	}
	t.Logf("sandbox: loaded %s on %s in %v", GoImage, m.Name, time.Since(start).Round(time.Millisecond))
	return nil
}

// goImageCache is the path of the cached image tarball, keyed by the Go
// toolchain's version.
func goImageCache() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	out, err := exec.Command("go", "env", "GOVERSION", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return "", fmt.Errorf("go env GOVERSION GOROOT printed %q", out)
	}
	if f[1] != "/usr/local/go" {
		return "", fmt.Errorf("the Go toolchain is at %s; %s is imported from /usr/local/go", f[1], GoImage)
	}
	return filepath.Join(dir, "nap-sandbox", f[0]+"-warm.tar"), nil
}

// buildGoImage imports /usr/local/go as GoImage, warms its build cache, and
// saves it to cache (written atomically).
func (m *Machine) buildGoImage(ctx context.Context, cache string) error {
	stage, err := os.MkdirTemp("", "nap-sandbox-goimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	if err := os.Mkdir(filepath.Join(stage, "tmp"), 0o755); err != nil {
		return err
	}
	// go needs a writable /tmp in the image ("creating work dir")
	if err := os.Chmod(filepath.Join(stage, "tmp"), 0o1777); err != nil {
		return err
	}
	tar := exec.CommandContext(ctx, "tar", "-c", "-C", stage, "tmp", "-C", "/", "usr/local/go")
	var tarErr bytes.Buffer
	tar.Stderr = &tarErr
	tarOut, err := tar.StdoutPipe()
	if err != nil {
		return err
	}
	if err := tar.Start(); err != nil {
		return err
	}
	importErr := m.run(ctx, Cmd{Argv: []string{"docker", "import",
		"-c", "ENV PATH=/usr/local/go/bin:/usr/bin:/bin",
		"-c", "ENV CGO_ENABLED=0 GOCACHE=/tmp/gocache GOPATH=/tmp/gopath GOTOOLCHAIN=local",
		"-", GoImage}, Stdin: tarOut})
	if err := tar.Wait(); err != nil {
		return fmt.Errorf("tar of /usr/local/go: %v: %s", err, tarErr.Bytes())
	}
	if importErr != nil {
		return importErr
	}
	if err := m.run(ctx, Cmd{Argv: []string{"docker", "build", "-q", "-t", GoImage, "-"}, Stdin: strings.NewReader(warmDockerfile)}); err != nil {
		return err
	}
	tmp := cache + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	saveErr := m.run(ctx, Cmd{Argv: []string{"docker", "save", GoImage}, Stdout: out})
	if err := out.Close(); err != nil {
		return err
	}
	if saveErr != nil {
		return saveErr
	}
	return os.Rename(tmp, cache)
}

// run runs c and turns a non-zero exit into an *ExitError. Output that
// goes to c.Stdout is not kept in memory (an image is hundreds of MB).
func (m *Machine) run(ctx context.Context, c Cmd) error {
	c.unbufferedStdout = true
	res, err := m.Run(ctx, c)
	if err == nil && res.Code != 0 {
		err = &ExitError{Argv: c.Argv, Result: res}
	}
	return err
}

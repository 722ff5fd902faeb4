package sandbox

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptTearsDown runs a test process that boots a machine, sends it
// SIGINT as ^C during `go test` does, and checks that the machine went with
// it: its processes and its cgroups.
func TestInterruptTearsDown(t *testing.T) {
	if report := os.Getenv("NAP_SANDBOX_INTERRUPT_CHILD"); report != "" {
		interruptChild(t, report)
		return
	}
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestInterruptTearsDown$", "-test.v")
	cmd.Env = append(os.Environ(), "NAP_SANDBOX_INTERRUPT_CHILD="+report)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var info struct {
		PID     int
		Cgroups []string
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if b, err := os.ReadFile(report); err == nil && json.Unmarshal(b, &info) == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the child did not boot a machine:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("the child ended with %v, want death by SIGINT\n%s", err, out.String())
	}
	if processAlive(info.PID) {
		t.Errorf("PID 1 of the child's machine (%d) survived the interrupt", info.PID)
	}
	for _, d := range info.Cgroups {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s survived the interrupt", d)
		}
	}
}

// interruptChild is TestInterruptTearsDown in the child process: it boots
// a machine, reports it, and waits to be interrupted.
func interruptChild(t *testing.T, report string) {
	m := NewMachine(t, Options{})
	b, _ := json.Marshal(map[string]any{"PID": m.pid, "Cgroups": m.cgroups})
	if err := os.WriteFile(report+".tmp", b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Rename(report+".tmp", report)
	time.Sleep(time.Minute)
	t.Error("not interrupted")
}

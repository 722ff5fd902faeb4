package deploy

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// startGuard starts argv + app detached from this process (its own
// session, no terminal, no inherited output): a process that waits for the
// app's lock and reconciles, so that whatever kills this deploy, what it
// left is undone within moments of its death (the lock dies with it).
func startGuard(argv []string, app string) {
	if len(argv) == 0 {
		return
	}
	// The guard outlives the push: it must not keep what this process
	// inherited — the ssh side's shared lock on the repository, by which a
	// rejected first push's repository is removed once nothing holds it.
	closeInheritedOnExec()
	cmd := exec.Command(argv[0], append(append([]string(nil), argv[1:]...), app)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // nil Stdin/Stdout/Stderr: /dev/null
	if cmd.Start() == nil {
		cmd.Process.Release()
	}
}

// closeInheritedOnExec keeps every descriptor but 0–2 from the programs
// this process starts (Go's own are close-on-exec already; these came from
// the parent).
func closeInheritedOnExec() {
	es, _ := os.ReadDir("/proc/self/fd")
	for _, e := range es {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

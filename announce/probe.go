package announce

import (
	"net/netip"
	"syscall"
	"time"
	"unsafe"
)

// probeTCP reports whether something accepts a TCP connection at ip:port
// within timeout. It makes the connection with plain system calls in the
// calling thread — socket, connect, pselect, close — rather than net.Dial's
// netpoller registration, deadline timer and goroutine hand-offs: the
// announcer probes every instance every second for as long as it runs, and
// this is most of what it costs (BENCHMARKS.md, "discovery").
func probeTCP(ip string, port int, timeout time.Duration) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	var sa syscall.Sockaddr
	family := syscall.AF_INET
	if addr.Is4() {
		sa = &syscall.SockaddrInet4{Port: port, Addr: addr.As4()}
	} else {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: port, Addr: addr.As16()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer syscall.Close(fd)
	if fd >= 64*len(syscall.FdSet{}.Bits) {
		return false // beyond what select takes; an announcer holds a few per instance
	}
	if err := syscall.Connect(fd, sa); err != nil && err != syscall.EINPROGRESS {
		return false
	}
	deadline := time.Now().Add(timeout)
	for {
		var w syscall.FdSet
		w.Bits[fd/64] |= 1 << (uint(fd) % 64)
		ts := syscall.NsecToTimespec(max(time.Until(deadline), 0).Nanoseconds())
		// Not a raw call: the runtime is told, so a probe that waits
		// (a paused container's full backlog drops the SYN) holds no
		// other instance's probe up.
		n, _, errno := syscall.Syscall6(syscall.SYS_PSELECT6, uintptr(fd+1), 0, uintptr(unsafe.Pointer(&w)), 0, uintptr(unsafe.Pointer(&ts)), 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 || n == 0 {
			return false
		}
		break
	}
	soErr, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	return err == nil && soErr == 0
}

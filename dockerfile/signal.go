package dockerfile

import (
	"fmt"
	"strconv"
	"strings"
)

// signals are the names Docker accepts on Linux, without "SIG".
var signals = map[string]bool{
	"ABRT": true, "ALRM": true, "BUS": true, "CHLD": true, "CLD": true, "CONT": true, "FPE": true,
	"HUP": true, "ILL": true, "INT": true, "IO": true, "IOT": true, "KILL": true, "PIPE": true,
	"POLL": true, "PROF": true, "PWR": true, "QUIT": true, "SEGV": true, "STKFLT": true,
	"STOP": true, "SYS": true, "TERM": true, "TRAP": true, "TSTP": true, "TTIN": true,
	"TTOU": true, "URG": true, "USR1": true, "USR2": true, "VTALRM": true, "WINCH": true,
	"XCPU": true, "XFSZ": true, "RTMIN": true, "RTMAX": true,
}

// checkSignal accepts what Docker's STOPSIGNAL accepts on Linux: a name with
// or without SIG in any case, RTMIN+n and RTMAX-n up to 15, or a number;
// numbers are limited to Linux's 1..64.
func checkSignal(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 64 {
			return fmt.Errorf("invalid signal: %s: a signal number is from 1 to 64", s)
		}
		return nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if signals[name] {
		return nil
	}
	for _, prefix := range []string{"RTMIN+", "RTMAX-"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 1 && n <= 15 && rest == strconv.Itoa(n) {
				return nil
			}
		}
	}
	return fmt.Errorf("invalid signal: %s", s)
}

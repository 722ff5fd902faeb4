package sandbox

import (
	"testing"
)

// BenchmarkMachineReady measures the time from NewMachine to a machine
// whose components all answer, and its teardown.
func BenchmarkMachineReady(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"systemd", Options{}},
		{"systemd+docker+registry+etcd", Options{Docker: true, Registry: true, Etcd: true, EtcdV2: true}},
		{"full", Full()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				m := NewMachine(b, bc.opts)
				if err := m.teardown(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

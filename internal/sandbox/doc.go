// Package sandbox runs the real parts nap drives — systemd, dockerd, a
// registry, etcd, sshd — on simulated machines, for tests only.
//
// A Machine is a tree of processes in private pid, mount, net, uts, ipc and
// cgroup namespaces with systemd 252 as PID 1, booting the harness's own
// target (never the host's default one). Its /etc is a copy of the host's;
// /home, /root, /run, /tmp, /var/lib, /var/log, /opt and the journal are its
// own; machine-id and hostname are unique. The components are the Debian
// packages' own unit files (docker.service, etcd.service, …), so units that
// say After=docker.service work unmodified. Machines of one test process
// share a network (10.213.0.0/24 on a bridge that exists only in a namespace
// of the harness), so etcd can live on one machine and an app on another.
//
// Everything is torn down by t.Cleanup (and on SIGINT/SIGTERM): PID 1 is
// killed, which ends every process of the machine, and the machine's cgroup
// directories are removed.
//
// A component that cannot start fails the test (Unavailable): there is no
// skip.
package sandbox

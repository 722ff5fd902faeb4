// Package e2e holds nap's end-to-end test: the one-line promise, checked
// with real parts only on a simulated machine (internal/sandbox).
//
// TestPushToAnswer boots one machine running systemd, dockerd, a registry,
// etcd (v2) and sshd, plus D-Bus and polkit (the host's own unit files), and
// sets it up as an operator would:
//
//   - nap-render in /opt/nap/bin; a `nap` user installed in forced-command
//     mode (`nap-render hooks install --mode shell`, `nap-render keys add`);
//     the operator config /etc/nap/config.yaml (registry 127.0.0.1:5000,
//     target systemd, discovery into the machine's etcd, drain 2s);
//   - the nap user's rights as README's least-privilege list names them: the
//     docker group, the state directory /var/lib/nap, write access to
//     /etc/systemd/system (group-writable rather than setfacl) and the polkit
//     rule for unit management; plus the systemd-journal group and journal
//     files readable by it (what Debian's tmpfiles.d does on a real host),
//     which deploy needs to stream the build unit's output.
//
// A developer user pushes a copy of examples/hello over ssh, and the test
// checks what a user sees, step by step: the push output (progress lines,
// build output, the endpoint last), the etcd key's JSON, the HTTP answer of
// that host:port; a redeploy and a rollback while a client resolves the
// endpoint from etcd before each request, every 50 ms, without retries (no
// request may fail; the old release's units, containers and keys are gone
// afterwards); a broken Dockerfile rejected with Dockerfile:N: while the
// branch and the app stay; scaling to 3 instances through nap.yaml;
// `nap-render destroy` leaving nothing after 1 s; and then the same app on
// target fleet: the machine turned into a one-machine cluster of the real
// fleetd v1.0.0 (socket-activated, its registry in the machine's etcd v2),
// the nap user reaching fleet's socket through its group. The cluster of
// three machines and the loss of one are deploy's TestFleetCluster.
//
// Run it with
//
//	go test -v -run TestPushToAnswer ./e2e
//
// It needs root (the sandbox's namespaces) and the Debian packages make test
// installs; a missing component fails it. It
// takes about a minute on an idle 2-core machine. The "bench:" lines it logs
// are the time from `git push` to the first answer and the raw docker
// build+push+pull+run time of the same tree on the same machine
// (BENCHMARKS.md, "e2e: push to answer").
package e2e

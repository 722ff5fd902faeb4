// Package e2e holds nap's end-to-end test: the one-line promise, checked
// with real parts only on a simulated machine (internal/sandbox).
//
// TestPushToAnswer boots one machine running systemd, dockerd, a registry,
// etcd (v2), sshd, D-Bus and polkit; installs nap for a `nap` user in
// forced-command mode (`nap-render hooks install --mode shell`,
// `nap-render keys add`) with an operator config at /etc/nap/config.yaml
// (registry 127.0.0.1:5000, target systemd, discovery into the machine's
// etcd); and gives the `nap` user only the rights README's "Least privilege"
// list names: the docker group, the state directory, write access to
// /etc/systemd/system and a polkit rule for unit management, plus the
// systemd-journal group so that deploy can stream the build unit's output.
// A developer user then pushes examples/hello over ssh and the test checks,
// step by step, what a user sees: the push output, the etcd keys, the HTTP
// answers of the announced host:port, and that a client resolving the
// endpoint before every request never sees a failure across a redeploy and
// a rollback.
//
// Run it with
//
//	NAP_SANDBOX_REQUIRED=1 go test -v -run TestPushToAnswer ./e2e
//
// It needs root (the sandbox's namespaces) and the Debian packages make
// test installs; without NAP_SANDBOX_REQUIRED=1 a missing component skips
// it. The time from `git push` to the first answer, and the raw docker
// build+push+pull+run time of the same app, are logged as "bench:" lines.
package e2e

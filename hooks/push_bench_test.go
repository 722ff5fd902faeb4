package hooks

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkPush times one push of a non-deploy branch (nap decides to do
// nothing) over ssh on loopback: through nap (forced command, pre-receive,
// nap-render hooks pre-receive) and to a plain bare repository without hooks
// behind the same sshd, in the same run. Each iteration first resets the
// branch (untimed) so every timed push moves it.
func BenchmarkPush(b *testing.B) {
	dir := b.TempDir()
	home := filepath.Join(dir, "nap")
	ak := filepath.Join(dir, "authorized_keys")
	h := startGitHost(b, dir, home, ak)
	must(b, nil, "", h.napRender, "hooks", "install", "--mode", "shell", "--home", home, "--config", h.config)
	alice := userKey(b, dir, "alice")
	must(b, nil, "", h.napRender, "keys", "add", "alice", alice+".pub", "--authorized-keys", ak)
	// The plain key runs git-shell on whatever git asks for, the classic
	// set-up without nap: git-receive-pack on an absolute path.
	plainKey := userKey(b, dir, "plain")
	data, _ := os.ReadFile(plainKey + ".pub")
	f, _ := os.OpenFile(ak, os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString(`restrict,command="git-shell -c \"$SSH_ORIGINAL_COMMAND\"" ` + string(data))
	f.Close()
	plainRepo := filepath.Join(dir, "plain.git")
	must(b, nil, "", "git", "init", "-q", "--bare", "--template=", plainRepo)

	work := filepath.Join(dir, "work")
	appRepo(b, h, work)
	for _, tc := range []struct{ name, key, remote string }{
		{"nap", alice, "root@127.0.0.1:myapp"},
		{"plain", plainKey, "root@127.0.0.1:" + plainRepo},
	} {
		env := h.as(tc.key)
		must(b, env, work, "git", "push", "-q", tc.remote, "dev")
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				must(b, env, work, "git", "push", "-q", "-f", tc.remote, "master:dev")
				b.StartTimer()
				must(b, env, work, "git", "push", "-q", tc.remote, "dev:dev")
			}
		})
	}
}

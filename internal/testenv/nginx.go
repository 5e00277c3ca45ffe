package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// NginxMainConf writes, in dir, a main nginx configuration for one
// foreground process (no daemon, no master, every path inside dir) whose
// http block includes site, written beside it, and returns its path.
func NginxMainConf(t testing.TB, dir, site string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "temp"), 0o755); err != nil {
		t.Fatal(err)
	}
	sitePath := filepath.Join(dir, "site.conf")
	if err := os.WriteFile(sitePath, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "daemon off;\nmaster_process off;\npid %s;\nerror_log %s warn;\n", filepath.Join(dir, "nginx.pid"), filepath.Join(dir, "error.log"))
	b.WriteString("events { worker_connections 512; }\nhttp {\n    access_log off;\n")
	for _, d := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "    %s_temp_path %s;\n", d, filepath.Join(dir, "temp", d))
	}
	fmt.Fprintf(&b, "    include %s;\n}\n", sitePath)
	main := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(main, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return main
}

// nginxWatchdog runs nginx in the background and kills it when its
// standard input ends, which happens however the test binary exits, so
// that nginx never outlives the test; the shell exits when nginx does.
const nginxWatchdog = `exec 3<&0; "$@" </dev/null & pid=$!; (read -r _ <&3; kill "$pid" 2>/dev/null) & wait "$pid"`

// RunNginx starts the nginx binary with the prefix dir and the main
// configuration main (see NginxMainConf) for the rest of the test, and
// returns a channel closed when it exits. It is stopped when the test
// ends, and killed if the test binary dies first.
func RunNginx(t testing.TB, nginx, dir, main string) (exited <-chan struct{}) {
	t.Helper()
	cmd := exec.Command("sh", "-c", nginxWatchdog, "nginx", nginx, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", main)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var once sync.Once
	go func() { _ = cmd.Wait(); once.Do(func() { close(done) }) }()
	t.Cleanup(func() {
		_ = stdin.Close() // the watchdog kills nginx
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("nginx did not stop")
		}
	})
	return done
}

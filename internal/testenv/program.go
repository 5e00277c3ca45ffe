package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sbinDirs are searched after PATH: system programs such as nginx live
// there, and an ordinary user's PATH often lacks them.
var sbinDirs = []string{"/usr/local/sbin", "/usr/sbin", "/sbin"}

// LookPath returns the path of the program name for a test that runs it,
// such as nginx: found on PATH, else in /usr/local/sbin, /usr/sbin or
// /sbin. Without it, it skips t, or fails it when RequireIntegration is
// true.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range sbinDirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if RequireIntegration() {
		t.Fatalf("testenv: %s is required (%s is set) but not installed (not on PATH nor in %v)", name, EnvRequireIntegration, sbinDirs)
	}
	t.Skipf("testenv: skipping, %s is not installed (not on PATH nor in %v)", name, sbinDirs)
	return ""
}

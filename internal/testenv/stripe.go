package testenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// StripeMockVersion is the version of stripe-mock, Stripe's API fake, that
// the tests run against. Install it where StripeMockURL finds it with
//
//	go install github.com/stripe/stripe-mock@v0.203.0
const StripeMockVersion = "v0.203.0"

// EnvStripeMockURL is the URL of a running stripe-mock that tests use, such
// as http://127.0.0.1:12111, instead of starting one.
const EnvStripeMockURL = "RENDEZVOUS_TEST_STRIPE_MOCK_URL"

// stripeMockStartTimeout bounds the start of stripe-mock, which loads
// Stripe's whole OpenAPI specification.
const stripeMockStartTimeout = 30 * time.Second

// StripeMockURL returns the base URL of a stripe-mock server for tests:
// EnvStripeMockURL when set; else a stripe-mock binary found on PATH, in
// $(go env GOBIN), $(go env GOPATH)/bin or <module root>/bin, started once
// per test binary on free loopback ports. Without either it skips t, or
// fails it when RequireIntegration is true.
//
// The started server lives as long as the test binary: it runs under a
// small sh watchdog that kills it when the test binary's end of a pipe
// closes, which happens however the binary exits (a crash or a kill
// included). stripe-mock keeps no state between requests, so tests share
// it freely.
func StripeMockURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvStripeMockURL); u != "" {
		return strings.TrimRight(u, "/")
	}
	u, err := stripeMock()
	if err != nil {
		if RequireIntegration() {
			t.Fatalf("testenv: stripe-mock is required (%s is set) but unavailable: %v; set %s or run go install github.com/stripe/stripe-mock@%s",
				EnvRequireIntegration, err, EnvStripeMockURL, StripeMockVersion)
		}
		t.Skipf("testenv: skipping, stripe-mock is unavailable: %v; set %s or run go install github.com/stripe/stripe-mock@%s",
			err, EnvStripeMockURL, StripeMockVersion)
	}
	return u
}

// stripeMock starts stripe-mock at most once per test binary.
var stripeMock = sync.OnceValues(startStripeMock)

// stripeMockKeepAlive holds the write end of the watchdog's stdin for the
// life of the test binary: closing it, or its collection, stops
// stripe-mock.
var stripeMockKeepAlive io.WriteCloser

// stripeMockWatchdog runs its arguments in the background and kills them
// when its standard input ends.
const stripeMockWatchdog = `"$@" & pid=$!; read -r line; kill "$pid" 2>/dev/null`

func startStripeMock() (string, error) {
	bin, err := findStripeMock()
	if err != nil {
		return "", err
	}
	args := []string{"-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0"}
	var cmd *exec.Cmd
	if sh, err := exec.LookPath("sh"); err == nil {
		cmd = exec.Command(sh, append([]string{"-c", stripeMockWatchdog, "stripe-mock", bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...) // no watchdog: the server outlives the binary
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	stderr := &cappedBuffer{max: 16 << 10}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	stripeMockKeepAlive = stdin
	go func() { _ = cmd.Wait() }()

	// stripe-mock prints "Listening for HTTP at address: 127.0.0.1:PORT",
	// then a few lines per request: read them all, so it never blocks on
	// a full pipe.
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "Listening for HTTP at address: "); ok && !sent {
				addr <- strings.TrimSpace(a)
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var base string
	select {
	case a, ok := <-addr:
		if !ok {
			_ = stdin.Close()
			return "", fmt.Errorf("%s exited without listening: %s", bin, strings.TrimSpace(stderr.String()))
		}
		base = "http://" + a
	case <-time.After(stripeMockStartTimeout):
		_ = stdin.Close()
		return "", fmt.Errorf("%s did not listen within %v", bin, stripeMockStartTimeout)
	}
	if err := waitForStripeMock(base); err != nil {
		_ = stdin.Close()
		return "", err
	}
	return base, nil
}

// cappedBuffer keeps the first max bytes written to it, for concurrent
// writers and readers.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitForStripeMock waits until stripe-mock answers an API request.
func waitForStripeMock(base string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(stripeMockStartTimeout)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/customers", nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		res, err := client.Do(req)
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", res.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stripe-mock at %s does not answer: %w", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// findStripeMock looks for the stripe-mock binary on PATH, in the Go
// installation directories, then in <module root>/bin.
func findStripeMock() (string, error) {
	name := "stripe-mock"
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			if gobin := strings.TrimSpace(lines[0]); gobin != "" {
				dirs = append(dirs, gobin)
			}
			for _, p := range filepath.SplitList(strings.TrimSpace(lines[1])) {
				dirs = append(dirs, filepath.Join(p, "bin"))
			}
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	if root, err := moduleRoot(); err == nil {
		dirs = append(dirs, filepath.Join(root, "bin"))
	}
	for _, d := range dirs {
		for _, file := range []string{name, name + ".exe"} {
			p := filepath.Join(d, file)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", errors.New("no stripe-mock binary on PATH, in $(go env GOBIN), $(go env GOPATH)/bin or <module root>/bin")
}

// moduleRoot returns the nearest directory at or above the working
// directory (a test's package directory) that holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

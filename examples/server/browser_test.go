package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestBrowser runs the browser suite in ../../e2e/browser (playwright-core
// driving Chromium against the demo page of an in-process server on its
// embedded stores). It needs node, `npm ci` in e2e/ and Chromium
// (/usr/bin/chromium, or CHROMIUM_PATH); without them it skips, or fails
// when RENDEZVOUS_REQUIRE_INTEGRATION=1. Screenshots go to
// $RENDEZVOUS_ARTIFACTS/browser when set, else to a temporary directory.
// With RENDEZVOUS_DEMO_SCREENSHOT=1 the rooms scenario also writes the
// README's screenshot, docs/demo.png (1000×700).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser suite skipped in -short mode")
	}
	node, dir := nodeSuite(t, "the browser suite", "playwright-core")
	unavailable := unavailableFunc(t)
	chromium := os.Getenv("CHROMIUM_PATH")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		unavailable("no Chromium at %s (apt-get install chromium, or set CHROMIUM_PATH)", chromium)
	}
	artifacts := os.Getenv("RENDEZVOUS_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else {
		artifacts = filepath.Join(artifacts, "browser")
	}

	env := append(os.Environ(), "BROWSER_ARTIFACTS="+artifacts, "CHROMIUM_PATH="+chromium, "NO_COLOR=1")
	if os.Getenv("RENDEZVOUS_DEMO_SCREENSHOT") == "1" {
		docs, err := filepath.Abs(filepath.Join("..", "..", "docs"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
		env = append(env, "DEMO_SCREENSHOT="+filepath.Join(docs, "demo.png"))
	}

	logs := &testLog{t: t}
	t.Cleanup(logs.stop)
	url := startE2EServer(t, logs, "browser", map[string]string{
		"SIGNUP_BONUS_TOKENS":      "3",
		"SESSION_DURATION_SECONDS": "3",
		"OPTIN_WINDOW_SECONDS":     "30",
		"QUEUE_TICK_MS":            "100",
		"THROTTLE_LIMIT":           "100000",
		"LOG_LEVEL":                "error",
		"SHUTDOWN_TIMEOUT_MS":      "5000",
	})

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "browser/")
	cmd.Dir = dir
	cmd.Env = append(env, "BASE_URL="+url)
	out := &lineLogger{t: t}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	out.flush()
	if ctx.Err() != nil {
		t.Fatalf("node --test browser/ did not finish within 4 minutes")
	}
	if err != nil {
		t.Fatalf("node --test browser/ failed: %v (screenshots in %s)", err, artifacts)
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeServers records which servers were started and stopped, in order.
type fakeServers struct {
	mu     sync.Mutex
	events []string
	fail   string // the server whose start fails
}

func (f *fakeServers) record(ev string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
}

func (f *fakeServers) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

func (f *fakeServers) servers() []server {
	mk := func(name, env, url string) server {
		return server{name: name, env: env, start: func(ctx context.Context) (string, func(context.Context) error, error) {
			if f.fail == name {
				return "", nil, errors.New("no Docker engine")
			}
			f.record("start " + name)
			return url, func(context.Context) error { f.record("stop " + name); return nil }, nil
		}}
	}
	return []server{
		mk("redis", envRedisURL, "redis://127.0.0.1:1/0"),
		mk("postgres", envDatabaseURL, "postgres://u@127.0.0.1:2/db?sslmode=disable"),
	}
}

// env is an environment with PATH, for the commands' shell, and kv, a
// list of names and values.
func env(kv ...string) []string {
	e := []string{"PATH=" + os.Getenv("PATH")}
	for i := 0; i+1 < len(kv); i += 2 {
		e = append(e, kv[i]+"="+kv[i+1])
	}
	return e
}

func TestCommandGetsTheVariablesAndTheServersAreStoppedAfterIt(t *testing.T) {
	f := &fakeServers{}
	var stdout, stderr bytes.Buffer
	code := run([]string{"sh", "-c", `echo "$` + envRedisURL + ` $` + envDatabaseURL + `"; exit 3`},
		env(), &stdout, &stderr, f.servers(), nil)
	if code != 3 {
		t.Errorf("exit status %d, want the command's 3; stderr:\n%s", code, &stderr)
	}
	if got, want := strings.TrimSpace(stdout.String()), "redis://127.0.0.1:1/0 postgres://u@127.0.0.1:2/db?sslmode=disable"; got != want {
		t.Errorf("the command saw %q, want %q", got, want)
	}
	if got, want := f.log(), []string{"start redis", "start postgres", "stop postgres", "stop redis"}; !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
}

func TestSetVariablesAreUsedAsTheyAre(t *testing.T) {
	f := &fakeServers{}
	var stdout, stderr bytes.Buffer
	code := run([]string{"sh", "-c", `echo "$` + envRedisURL + ` $` + envDatabaseURL + `"`},
		env(envRedisURL, "redis://mine:6379/5"), &stdout, &stderr, f.servers(), nil)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, &stderr)
	}
	if got, want := strings.TrimSpace(stdout.String()), "redis://mine:6379/5 postgres://u@127.0.0.1:2/db?sslmode=disable"; got != want {
		t.Errorf("the command saw %q, want %q", got, want)
	}
	if got, want := f.log(), []string{"start postgres", "stop postgres"}; !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
}

func TestDisabledServerIsNotStarted(t *testing.T) {
	f := &fakeServers{}
	var stdout, stderr bytes.Buffer
	code := run([]string{"-postgres=false", "sh", "-c", `echo "[$` + envDatabaseURL + `]"`},
		env(), &stdout, &stderr, f.servers(), nil)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, &stderr)
	}
	if got := strings.TrimSpace(stdout.String()); got != "[]" {
		t.Errorf("the command saw %s=%q, want it unset", envDatabaseURL, got)
	}
	if got, want := f.log(), []string{"start redis", "stop redis"}; !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
}

func TestFailedStartStopsTheStartedServersAndRunsNothing(t *testing.T) {
	f := &fakeServers{fail: "postgres"}
	var stdout, stderr bytes.Buffer
	code := run([]string{"sh", "-c", "echo ran"}, env(), &stdout, &stderr, f.servers(), nil)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if stdout.Len() != 0 {
		t.Errorf("the command ran: %q", &stdout)
	}
	if !strings.Contains(stderr.String(), "start postgres: no Docker engine") {
		t.Errorf("stderr does not name the failure:\n%s", &stderr)
	}
	if got, want := f.log(), []string{"start redis", "stop redis"}; !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
}

func TestWithoutCommandPrintsTheVariablesAndWaitsForASignal(t *testing.T) {
	f := &fakeServers{}
	sig := make(chan os.Signal)
	stdout, stderr := &syncBuffer{}, newSyncBuffer("testservers: ready")
	done := make(chan int, 1)
	go func() { done <- run(nil, env(), stdout, stderr, f.servers(), sig) }()
	select {
	case <-stderr.seen:
	case code := <-done:
		t.Fatalf("run returned %d before a signal; stderr:\n%s", code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("run never got ready; stderr:\n%s", stderr.String())
	}
	want := envRedisURL + "=redis://127.0.0.1:1/0\n" + envDatabaseURL + "=postgres://u@127.0.0.1:2/db?sslmode=disable\n"
	if got := stdout.String(); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, want := f.log(), []string{"start redis", "start postgres"}; !slices.Equal(got, want) {
		t.Errorf("servers %q before the signal, want %q", got, want)
	}
	select {
	case sig <- syscall.SIGTERM:
	case <-time.After(30 * time.Second):
		t.Fatal("run does not wait for a signal")
	}
	if code := <-done; code != 0 {
		t.Errorf("exit status %d; stderr:\n%s", code, stderr.String())
	}
	if got, want := f.log(), []string{"start redis", "start postgres", "stop postgres", "stop redis"}; !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
}

func TestSignalIsPassedOnToTheCommand(t *testing.T) {
	f := &fakeServers{}
	sig := make(chan os.Signal, 1)
	stdout, stderr := newSyncBuffer("ready"), &syncBuffer{}
	done := make(chan int, 1)
	// The command says it is ready, then exits 7 on SIGTERM.
	script := `trap 'exit 7' TERM; echo ready; while :; do sleep 0.1; done`
	go func() { done <- run([]string{"sh", "-c", script}, env(), stdout, stderr, f.servers(), sig) }()
	select {
	case <-stdout.seen:
	case <-time.After(30 * time.Second):
		t.Fatalf("the command never started; stderr:\n%s", stderr.String())
	}
	sig <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != 7 {
			t.Errorf("exit status %d, want the command's 7; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the command did not exit on the passed-on SIGTERM")
	}
	if got, want := f.log(), []string{"start redis", "start postgres", "stop postgres", "stop redis"}; !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
}

func TestSignalWhileStartingCancelsTheStart(t *testing.T) {
	f := &fakeServers{}
	servers := f.servers()
	// Postgres starts until its context is canceled.
	servers[1].start = func(ctx context.Context) (string, func(context.Context) error, error) {
		f.record("start postgres")
		<-ctx.Done()
		return "", nil, ctx.Err()
	}
	sig := make(chan os.Signal)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run([]string{"sh", "-c", "echo ran"}, env(), stdout, stderr, servers, sig) }()
	select {
	case sig <- syscall.SIGINT:
	case <-time.After(30 * time.Second):
		t.Fatal("run never watched for signals")
	}
	select {
	case code := <-done:
		if code != 1 {
			t.Errorf("exit status %d, want 1", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the signal did not cancel the start")
	}
	if stdout.String() != "" {
		t.Errorf("the command ran: %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "interrupted while starting postgres") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if got, want := f.log(), []string{"start redis", "start postgres", "stop redis"}; !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
}

func TestBadFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-nope"}, env(), &stdout, &stderr, (&fakeServers{}).servers(), nil); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "usage: testservers") {
		t.Errorf("no usage on stderr:\n%s", &stderr)
	}
}

// syncBuffer is a bytes.Buffer for one writer and concurrent readers.
// When made by newSyncBuffer, seen is closed once the text written holds
// the awaited string.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	await string
	seen  chan struct{}
}

func newSyncBuffer(await string) *syncBuffer {
	return &syncBuffer{await: await, seen: make(chan struct{})}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.seen != nil && b.await != "" && strings.Contains(b.buf.String(), b.await) {
		close(b.seen)
		b.await = ""
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

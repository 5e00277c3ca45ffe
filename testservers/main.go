package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	tcredis "github.com/testcontainers/testcontainers-go/modules/redis"
)

// The variables internal/testenv reads.
const (
	envRedisURL    = "RENDEZVOUS_TEST_REDIS_URL"
	envDatabaseURL = "RENDEZVOUS_TEST_DATABASE_URL"
)

// Container images.
const (
	redisImage    = "redis:7-alpine"
	postgresImage = "postgres:17-alpine"
)

// stopTimeout bounds the removal of one container.
const stopTimeout = 30 * time.Second

// server is one test server testservers can start.
type server struct {
	name string // for messages and the flag
	env  string // the variable that holds its URL
	// start runs the server; stop removes it.
	start func(ctx context.Context) (url string, stop func(context.Context) error, err error)
}

func main() {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr, containerServers(), sig))
}

// containerServers are the servers started with testcontainers-go.
func containerServers() []server {
	return []server{
		{name: "redis", env: envRedisURL, start: startRedis},
		{name: "postgres", env: envDatabaseURL, start: startPostgres},
	}
}

// run parses args, starts the selected servers whose variable environ
// (the environment, as os.Environ returns it) does not set, and then runs
// the command of args in environ plus the variables or, without a command,
// prints the variables on stdout and waits for a signal. It returns the
// exit status.
func run(args, environ []string, stdout, stderr io.Writer, servers []server, sig <-chan os.Signal) int {
	fs := flag.NewFlagSet("testservers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: testservers [-redis=false] [-postgres=false] [-timeout d] [command [args...]]")
		fs.PrintDefaults()
	}
	enabled := make(map[string]*bool, len(servers))
	for _, s := range servers {
		enabled[s.name] = fs.Bool(s.name, true, "start "+s.name+" unless "+s.env+" is set")
	}
	timeout := fs.Duration("timeout", 5*time.Minute, "bound of the Docker probe and of the container starts, image pulls included")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	command := fs.Args()

	// The variables for the tests: those already set, then the started ones.
	var (
		vars  []string
		stops []func(context.Context) error
	)
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			if err := stops[i](ctx); err != nil {
				fmt.Fprintln(stderr, "testservers: remove a container:", err)
			}
			cancel()
		}
	}()
	// A signal while the containers start (an image pull can be long)
	// cancels the start.
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	interrupted, startDone, watchDone := false, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watchDone)
		select {
		case <-sig:
			interrupted = true
			cancel()
		case <-startDone:
		}
	}()
	started := func() bool {
		close(startDone)
		<-watchDone
		return !interrupted
	}
	for _, s := range servers {
		if u := lookup(environ, s.env); u != "" {
			vars = append(vars, s.env+"="+u)
			continue
		}
		if !*enabled[s.name] {
			continue
		}
		fmt.Fprintf(stderr, "testservers: starting %s\n", s.name)
		u, stop, err := s.start(ctx)
		if err != nil {
			if !started() {
				fmt.Fprintf(stderr, "testservers: interrupted while starting %s\n", s.name)
			} else {
				fmt.Fprintf(stderr, "testservers: start %s: %v\n", s.name, err)
			}
			return 1
		}
		stops = append(stops, stop)
		vars = append(vars, s.env+"="+u)
	}
	if !started() {
		fmt.Fprintln(stderr, "testservers: interrupted")
		return 1
	}
	cancel()

	if len(command) == 0 {
		for _, v := range vars {
			fmt.Fprintln(stdout, v)
		}
		fmt.Fprintln(stderr, "testservers: ready; the containers stay until SIGINT or SIGTERM (Ctrl-C)")
		<-sig
		return 0
	}
	for _, v := range vars {
		fmt.Fprintln(stderr, "testservers:", v)
	}
	return runCommand(command, append(slices.Clip(environ), vars...), stdout, stderr, sig)
}

// lookup returns the value of the variable name in environ, the last one
// when it appears more than once, as exec.Cmd does.
func lookup(environ []string, name string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// runCommand runs command in the environment env, passes the signals
// received on sig on to it, and returns its exit status.
func runCommand(command, env []string, stdout, stderr io.Writer, sig <-chan os.Signal) int {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "testservers:", err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sig:
			_ = cmd.Process.Signal(s)
		case err := <-done:
			var exit *exec.ExitError
			switch {
			case err == nil:
				return 0
			case errors.As(err, &exit) && exit.ExitCode() >= 0:
				return exit.ExitCode()
			default: // killed by a signal
				fmt.Fprintln(stderr, "testservers:", strings.Join(command, " ")+":", err)
				return 1
			}
		}
	}
}

// dockerReady checks once that a Docker engine answers, for a clear error
// before a container start fails in a less obvious way.
func dockerReady(ctx context.Context) (err error) {
	defer func() {
		// Some testcontainers versions panic when no engine is found.
		if r := recover(); r != nil {
			err = fmt.Errorf("no Docker engine: %v", r)
		}
	}()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("no Docker engine: %w", err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("no Docker engine answers: %w", err)
	}
	return nil
}

func startRedis(ctx context.Context) (string, func(context.Context) error, error) {
	if err := dockerReady(ctx); err != nil {
		return "", nil, err
	}
	c, err := tcredis.Run(ctx, redisImage)
	if err != nil {
		return "", nil, errors.Join(err, testcontainers.TerminateContainer(c))
	}
	u, err := c.ConnectionString(ctx)
	if err != nil {
		return "", nil, errors.Join(err, testcontainers.TerminateContainer(c))
	}
	return u + "/0", terminate(c), nil
}

func startPostgres(ctx context.Context) (string, func(context.Context) error, error) {
	if err := dockerReady(ctx); err != nil {
		return "", nil, err
	}
	c, err := tcpostgres.Run(ctx, postgresImage,
		tcpostgres.WithDatabase("rendezvous_test"),
		tcpostgres.WithUsername("rendezvous"),
		tcpostgres.WithPassword("rendezvous"),
		tcpostgres.BasicWaitStrategies(),
	)
	if err != nil {
		return "", nil, errors.Join(err, testcontainers.TerminateContainer(c))
	}
	u, err := c.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		return "", nil, errors.Join(err, testcontainers.TerminateContainer(c))
	}
	return u, terminate(c), nil
}

// terminate returns a stop function that removes c.
func terminate(c testcontainers.Container) func(context.Context) error {
	return func(ctx context.Context) error { return c.Terminate(ctx) }
}

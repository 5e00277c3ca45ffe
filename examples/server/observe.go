package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/metrics"
	"github.com/rendezvous-go/rendezvous/transport"
)

// observability reads the listeners and the metrics switch: HOST binds the
// public listener (every interface by default), METRICS serves GET
// /metrics (default true), DEBUG_ADDR starts pprof on a listener of its
// own (none by default; never on the public one).
func (e *envReader) observability(c *config) {
	c.Host = e.str("HOST", "")
	if strings.ContainsAny(c.Host, "/ ") {
		e.errs = append(e.errs, fmt.Errorf("HOST must be an address or a host name to bind, not %q", c.Host))
	}
	c.Metrics = e.bool("METRICS", true)
	if c.DebugAddr = e.str("DEBUG_ADDR", ""); c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			e.errs = append(e.errs, fmt.Errorf("DEBUG_ADDR must be host:port, such as 127.0.0.1:6060, not %q", c.DebugAddr))
		}
	}
}

// handler is the public mux: GET /metrics (unless METRICS is false, and
// unthrottled), then everything the transport mounts.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	if a.metrics != nil {
		mux.Handle("GET "+a.cfg.APIPrefix+"/metrics", metricsHandler(a.metrics))
	}
	a.transport.Mount(mux)
	return mux
}

// metricsHandler serves the library's families merged with the Go runtime
// and process collectors of this process.
func metricsHandler(reg *metrics.Registry) http.Handler {
	proc := prometheus.NewRegistry()
	proc.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(prometheus.Gatherers{reg.Gatherer(), proc}, promhttp.HandlerOpts{})
}

// instrumentBroker times the broker's publications for the metrics.
func instrumentBroker(b transport.Broker, reg *metrics.Registry) transport.Broker {
	if reg == nil {
		return b
	}
	return timedBroker{Broker: b, reg: reg}
}

type timedBroker struct {
	transport.Broker
	reg *metrics.Registry
}

func (b timedBroker) Notify(ctx context.Context, events ...rv.Event) error {
	start := time.Now()
	err := b.Broker.Notify(ctx, events...)
	b.reg.ObservePublish(time.Since(start), err)
	return err
}

// startDebug serves net/http/pprof on addr, on a mux of its own, until
// the returned function is called.
func (a *app) startDebug(addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("DEBUG_ADDR: %w", err)
	}
	srv := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.log.Warn("debug listener stopped", "err", err)
		}
	}()
	a.log.Info("debug listening (pprof)", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// debugMux is net/http/pprof's endpoints under /debug/pprof/.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

package transport_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rendezvous-go/rendezvous/metrics"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

// BenchmarkObserve measures the cost per request of the metrics and of the
// access log: GET /healthz served in process, without and with each.
func BenchmarkObserve(b *testing.B) {
	for _, c := range []struct {
		name      string
		metrics   bool
		accessLog bool
	}{{"plain", false, false}, {"metrics", true, false}, {"accesslog", false, true}, {"both", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			cfg := transport.Config{
				Modules: []transport.Module{noModule{}},
				Broker:  memory.NewBroker(),
				Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
			}
			if c.metrics {
				cfg.Metrics = metrics.New()
			}
			cfg.AccessLog = c.accessLog
			tr, err := transport.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			h := tr.Handler()
			req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// noModule registers nothing: the benchmark serves only the core's routes.
type noModule struct{}

func (noModule) Register(*transport.Registrar) error { return nil }

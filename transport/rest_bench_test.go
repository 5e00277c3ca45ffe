package transport_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	redisstore "github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/transport"
)

// restBackend builds the room store and the rate limiter of a benchmark.
type restBackend struct {
	name  string
	build func(b *testing.B) (rooms.Store, transport.Limiter)
}

var restBackends = []restBackend{
	{"memory", func(*testing.B) (rooms.Store, transport.Limiter) {
		return memory.NewRoomStore(nil), memory.NewRateLimiter(nil)
	}},
	{"miniredis", func(b *testing.B) (rooms.Store, transport.Limiter) {
		mr := miniredis.RunT(b)
		client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
		b.Cleanup(func() { _ = client.Close() })
		return redisstore.NewRoomStore(client, "rv:"), redisstore.NewRateLimiter(client, "rv:")
	}},
	{"redis", func(b *testing.B) (rooms.Store, transport.Limiter) {
		client, prefix := testenv.Redis(b)
		return redisstore.NewRoomStore(client, prefix), redisstore.NewRateLimiter(client, prefix)
	}},
}

// restHandler is the full transport handler of the rooms module, with the
// HTTP rate limit on (at a limit no benchmark reaches) and the access log
// on or off, writing JSON lines to io.Discard.
func restHandler(b *testing.B, store rooms.Store, limiter transport.Limiter, accessLog bool) (http.Handler, *rooms.Service) {
	b.Helper()
	broker := memory.NewBroker()
	tokens, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte(testSecret)})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := rooms.New(rooms.Config{Store: store, Tokens: tokens, Notifier: broker})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := transport.New(transport.Config{
		Modules:       []transport.Module{transport.RoomsModule(transport.RoomsConfig{Service: svc})},
		Broker:        broker,
		Limiter:       limiter,
		ThrottleLimit: 1 << 40,
		Logger:        slog.New(slog.NewJSONHandler(io.Discard, nil)),
		AccessLog:     accessLog,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr.Handler(), svc
}

// BenchmarkRoomsREST measures GET /rooms/{code} and POST /rooms through
// the full transport handler (routing, CORS, rate limit, error handling,
// JSON, access log), served in process, per backend and with the access
// log off and on. The client address is fixed, so the rate limit counts
// one key per route.
func BenchmarkRoomsREST(b *testing.B) {
	for _, be := range restBackends {
		for _, logged := range []bool{false, true} {
			name := be.name + "/accesslog=off"
			if logged {
				name = be.name + "/accesslog=on"
			}
			b.Run(name+"/GET", func(b *testing.B) {
				store, limiter := be.build(b)
				h, svc := restHandler(b, store, limiter, logged)
				tk, err := svc.Create(context.Background(), rooms.CreateRequest{DisplayName: "Host"})
				if err != nil {
					b.Fatal(err)
				}
				req := httptest.NewRequest(http.MethodGet, "/rooms/"+tk.RoomCode, nil)
				req.RemoteAddr = "192.0.2.1:1234"
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatal(w.Code, w.Body.String())
					}
				}
			})
			b.Run(name+"/POST", func(b *testing.B) {
				store, limiter := be.build(b)
				h, _ := restHandler(b, store, limiter, logged)
				const body = `{"displayName":"Host"}`
				rd := strings.NewReader(body)
				b.ReportAllocs()
				for b.Loop() {
					rd.Reset(body)
					req := httptest.NewRequest(http.MethodPost, "/rooms", rd)
					req.RemoteAddr = "192.0.2.1:1234"
					req.Header.Set("Content-Type", "application/json")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusCreated {
						b.Fatal(w.Code, w.Body.String())
					}
				}
			})
		}
	}
}

package transport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

// oneQueue is a QueueService with a single queue and no debits: a
// stand-in for the matchmaking service.
type oneQueue struct{}

func (oneQueue) Join(_ context.Context, userID, region string, _ json.RawMessage) (matchmaking.JoinResult, error) {
	if region == "" {
		return matchmaking.JoinResult{}, matchmaking.ErrInvalidRegion
	}
	return matchmaking.JoinResult{Status: matchmaking.StatusQueued, QueueKey: region}, nil
}

func (oneQueue) Leave(context.Context, string) (matchmaking.LeaveResult, error) {
	return matchmaking.LeaveResult{Status: matchmaking.StatusNotQueued}, nil
}

func (oneQueue) Status(context.Context, string) (matchmaking.StatusResult, error) {
	return matchmaking.StatusResult{Status: matchmaking.StatusNotQueued}, nil
}

func (oneQueue) SocketConnected(context.Context, string, string) (*matchmaking.Notice, error) {
	return nil, nil
}
func (oneQueue) SocketRefresh(context.Context, string, string) error      { return nil }
func (oneQueue) SocketDisconnected(context.Context, string, string) error { return nil }
func (oneQueue) PresenceTTL() time.Duration                               { return 30 * time.Second }

// The queue module serves any QueueService; the access tokens are checked
// by the Authenticator (here, every token is the user of that name).
func ExampleQueueModule() {
	broker := memory.NewBroker()
	t, _ := transport.New(transport.Config{
		Modules: []transport.Module{transport.QueueModule(transport.QueueConfig{Service: oneQueue{}, Authenticator: tokenIsUser{}})},
		Broker:  broker,
	})
	_ = t.Start(context.Background())
	defer t.Shutdown(context.Background())
	srv := httptest.NewServer(t.Handler())
	defer srv.Close()

	for _, body := range []string{`{"region":"eu"}`, `{"region":7}`, `{"region":"eu","mood":"ok"}`} {
		req, _ := http.NewRequest("POST", srv.URL+"/queue/join", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer alice")
		res, _ := http.DefaultClient.Do(req)
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var e transport.ErrorBody
		if json.Unmarshal(out, &e) == nil && e.Code != "" {
			fmt.Println(res.StatusCode, e.Code)
			continue
		}
		fmt.Println(res.StatusCode, strings.TrimSpace(string(out)))
	}
	// Output:
	// 201 {"status":"queued","queueKey":"eu","position":0}
	// 400 INVALID_REGION
	// 400 INVALID_BODY
}

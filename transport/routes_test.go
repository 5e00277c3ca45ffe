package transport_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

// TestRoutesListsWhatMountServes: Routes lists the modules' routes and the
// built-in probes under the prefix, and each of them is served.
func TestRoutesListsWhatMountServes(t *testing.T) {
	tr, err := transport.New(transport.Config{
		Modules: []transport.Module{whoModule{authn: &fakeAuthenticator{}}},
		Broker:  memory.NewBroker(),
		Prefix:  "/api",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []transport.RouteInfo{
		{Method: "GET", Pattern: "/api/who"},
		{Method: "GET", Pattern: "/api/healthz"},
		{Method: "GET", Pattern: "/api/readyz"},
	}
	got := tr.Routes()
	if !slices.Equal(got, want) {
		t.Fatalf("Routes() = %v, want %v", got, want)
	}
	h := tr.Handler()
	for _, r := range got {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r.Method, r.Pattern, nil))
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d", r.Method, r.Pattern, rec.Code)
		}
	}
}

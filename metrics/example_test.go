package metrics_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rendezvous-go/rendezvous/metrics"
)

func Example() {
	reg := metrics.New()
	// A Transport given reg (transport.Config.Metrics) counts its requests
	// by route pattern; here one is counted by hand.
	reg.ObserveHTTP("GET /rooms/{code}", "GET", 200, 3*time.Millisecond)

	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	res, _ := srv.Client().Get(srv.URL)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "rendezvous_http_requests_total") {
			fmt.Println(line)
		}
	}
	// Output: rendezvous_http_requests_total{method="GET",route="GET /rooms/{code}",status="200"} 1
}

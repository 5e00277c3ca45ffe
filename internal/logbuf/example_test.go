package logbuf_test

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/rendezvous-go/rendezvous/internal/logbuf"
)

func ExampleBuffer() {
	var buf logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Warn("redis unreachable")
	fmt.Println(strings.Contains(buf.String(), "redis unreachable"))
	// Output: true
}

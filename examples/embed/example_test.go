package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// The program serves the host's own routes and rendezvous side by side,
// here on the memory stores and a free port.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	o := options{addr: "127.0.0.1:0", secret: []byte("example-secret-example-secret-example")}
	go func() { done <- serve(ctx, o, slog.New(slog.DiscardHandler), ready) }()
	base := "http://" + <-ready

	for _, path := range []string{"/", "/api/rooms/ABCD"} {
		res, err := http.Get(base + path)
		if err != nil {
			fmt.Println(err)
			continue
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))
	}
	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// 200 the host application's own page
	// 404 {"statusCode":404,"error":"Not Found","message":"room not found","code":"ROOM_NOT_FOUND"}
	// stopped: <nil>
}

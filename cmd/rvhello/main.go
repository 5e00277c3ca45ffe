// Command rvhello is the hello-world net/http server that scripts/bench.sh
// measures with wrk beside examples/server, in the same run on the same
// machine, as the ceiling of the REST figures ("GET /rooms/{code} at least
// 50% of a hello-world server"):
//
//	rvhello -addr 127.0.0.1:45002
//
// Every request, whatever its method and path, is answered 200 with a
// 13-byte text body. It logs "rvhello listening on ADDR" to stderr once it
// holds the port. It runs in its own process, never in the load
// generator's.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:45002", "listen address")
	flag.Parse()
	body := []byte("Hello, World!")
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("rvhello listening on %s", ln.Addr())
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(body)
	})))
}

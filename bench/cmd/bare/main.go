// Command bare serves "200 OK" on every path with net/http's ServeMux: the
// ceiling of the flood benchmarks, on the router the nethttp example uses.
//
//	ADDR=127.0.0.1:8081 go run ./cmd/bare
package main

import (
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8081"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "OK") })
	log.Fatal(http.ListenAndServe(addr, mux))
}

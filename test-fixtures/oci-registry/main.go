// go-containerregistry's in-memory registry (the one cmd/registry serves)
// with its OCI 1.1 referrers API switched on, which cmd/registry leaves off:
// the OCI tests run against both, so signatures are stored and found through
// the referrers API here and through the referrers tag there.
// Built by scripts/setup-go-tools.sh as `registry-referrers`.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	port := flag.Int("port", 1338, "port to serve on, on 127.0.0.1")
	flag.Parse()
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on port %d", listener.Addr().(*net.TCPAddr).Port)
	server := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: registry.New(registry.WithReferrersSupport(true))}
	log.Fatal(server.Serve(listener))
}

package edged

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lmx-video/lmx/internal/tlsca"
)

// testCA is a control node's own CA, made for one test, with the server
// certificate it issued for 127.0.0.1.
type testCA struct {
	pin    string // the CA's pin, as a join token carries it
	bundle *tlsca.Bundle
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	b, err := tlsca.Ensure(t.TempDir(), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{pin: b.Pin, bundle: b}
}

// newTLSServer is an HTTPS test server on 127.0.0.1 with ca's certificate
// and chain.
func newTLSServer(t *testing.T, ca *testCA, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = ca.bundle.ServerConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

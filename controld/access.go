package controld

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/mgmt"
	"github.com/lmx-video/lmx/internal/netaddr"
	"github.com/lmx-video/lmx/internal/tlsca"
)

// loadTLS is the operator's certificate, or the node's own CA and server
// certificate in DATA-DIR/tls (made on first start, its server certificate
// renewed when names change or it nears expiry).
func loadTLS(cfg Config) (*tlsca.Bundle, error) {
	if cfg.TLSCert != "" {
		b, err := tlsca.LoadFiles(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		return b, nil
	}
	names, err := tlsca.DefaultNames(cfg.Hostnames)
	if err != nil {
		return nil, fmt.Errorf("this machine's names: %w", err)
	}
	dir := filepath.Join(cfg.DataDir, "tls")
	b, err := tlsca.Ensure(dir, names, time.Now())
	if errors.Is(err, tlsca.ErrOutsideCA) {
		// The machine's addresses changed since the CA was made (a new DHCP
		// lease): serve the names the operator gave and the stable ones,
		// rather than make a new CA, which every joined edge would have to
		// join again for. A --hostname outside the CA still fails.
		stable := append(append([]string{}, cfg.Hostnames...), "localhost", "127.0.0.1", "::1")
		if h, herr := os.Hostname(); herr == nil {
			stable = append(stable, h)
		}
		if b, err = tlsca.Ensure(dir, stable, time.Now()); err == nil {
			b.Warnings = append(b.Warnings, "some of this machine's addresses are not in the certificate (its CA in "+dir+" was made for other ones); name the node with --hostname, or remove "+dir+" to make a new CA (joined edges then join again)")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the node's own certificate: %w", err)
	}
	return b, nil
}

// listen binds addr, with TLS when the node serves it.
func (s *Server) listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil || s.tls == nil {
		return ln, err
	}
	return tls.NewListener(ln, s.tls.ServerConfig()), nil
}

// joinInfo is what join tokens say of this node.
func (s *Server) joinInfo() mgmt.JoinInfo {
	ji := mgmt.JoinInfo{
		Hostnames: s.cfg.Hostnames, MQTTPort: netaddr.Port(s.bus.Addr().String()), IngestPort: netaddr.Port(s.vodLn.Addr().String()),
		TLS: s.tls != nil,
	}
	if s.tls != nil {
		ji.CAPin = s.tls.Pin
	}
	if s.cfg.Broker != "" {
		ji.MQTTURL = s.cfg.Broker
	}
	if h, err := os.Hostname(); err == nil {
		ji.MachineName = h
	}
	return ji
}

// TLS is the listeners' certificate, nil when they are plain.
func (s *Server) TLS() *tlsca.Bundle { return s.tls }

// AdminTokenFile is where the first admin token's secret is kept ("" with
// --auth none), and whether this start created it.
func (s *Server) AdminTokenFile() (path string, created bool) { return s.adminToken, s.adminCreated }

// AuthOn reports whether access control is on.
func (s *Server) AuthOn() bool { return s.auth != nil }

// APIURL is how a client on this machine reaches the management API.
func (s *Server) APIURL() string {
	scheme := "http://"
	if s.tls != nil {
		scheme = "https://"
	}
	return scheme + netaddr.Dial(s.apiLn.Addr().String())
}

// writeLocal leaves DATA-DIR/local.json for the tools on this machine.
func (s *Server) writeLocal() error {
	ln := api.LocalNode{APIURL: s.APIURL(), PlaybackURL: s.cfg.PublicURL, Auth: s.auth != nil}
	if s.tls != nil {
		ln.CAFile = s.tls.CAFile
	}
	b, err := json.MarshalIndent(ln, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(s.cfg.DataDir, api.LocalFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

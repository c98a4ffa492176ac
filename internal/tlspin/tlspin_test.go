package tlspin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/internal/tlspin"
)

// authority is a certificate and its key, able to sign others.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

// issue makes a certificate from tmpl signed by parent (self-signed when
// parent is nil).
func issue(t *testing.T, tmpl *x509.Certificate, parent *authority) authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl.BasicConstraintsValid = true
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return authority{cert, key}
}

func newCA(t *testing.T, name string, parent *authority) authority {
	t.Helper()
	return issue(t, &x509.Certificate{
		Subject:  pkix.Name{CommonName: name},
		IsCA:     true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, parent)
}

// newLeaf is a server certificate for names (DNS names and IPs).
func newLeaf(t *testing.T, parent authority, names ...string) authority {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: names[0]},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	addNames(tmpl, names)
	return issue(t, tmpl, &parent)
}

func addNames(tmpl *x509.Certificate, names []string) {
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
}

// serve runs a TLS server on 127.0.0.1 presenting leaf and then chain, and
// returns its address.
func serve(t *testing.T, leaf authority, chain ...*x509.Certificate) string {
	t.Helper()
	return serveConfig(t, &tls.Config{}, leaf, chain...)
}

func serveConfig(t *testing.T, cfg *tls.Config, leaf authority, chain ...*x509.Certificate) string {
	t.Helper()
	cert := tls.Certificate{Certificate: [][]byte{leaf.cert.Raw}, PrivateKey: leaf.key}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	cfg.Certificates = []tls.Certificate{cert}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if c.(*tls.Conn).Handshake() == nil {
					c.Write([]byte("ok"))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dial connects to addr trusting pin for serverName and reads the
// server's greeting.
func dial(t *testing.T, addr, pin, serverName string) error {
	t.Helper()
	cfg, err := tlspin.ClientConfig(pin, serverName)
	if err != nil {
		t.Fatalf("ClientConfig: %v", err)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "ok" {
		t.Fatalf("read after handshake: %q, %v", buf, err)
	}
	return nil
}

func wantErr(t *testing.T, err error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("connected; want an error containing %q", substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q; want it to contain %q", err, substr)
	}
}

func TestFingerprintAndParsePin(t *testing.T) {
	ca := newCA(t, "ca", nil)
	pin := tlspin.Fingerprint(ca.cert)
	if !strings.HasPrefix(pin, "sha256/") || len(pin) != len("sha256/")+43 {
		t.Fatalf("Fingerprint = %q", pin)
	}
	sum, err := tlspin.ParsePin(pin)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(ca.cert.Raw); string(sum) != string(want[:]) {
		t.Fatalf("ParsePin digest = %x; want %x", sum, want)
	}

	enc := strings.TrimPrefix(pin, "sha256/")
	// The last character holds 4 bits of the digest and 2 zero bits; one
	// with those bits set decodes leniently to the same digest.
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", enc[42])
	nonCanonical := enc[:42] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1])
	for _, bad := range []string{
		"",
		enc,
		"SHA256/" + enc,
		"sha1/" + enc,
		"sha256:" + enc,
		"sha256/" + enc + "=",
		"sha256/" + enc[:42],
		"sha256/" + enc + "A",
		" sha256/" + enc,
		"sha256/" + enc + "\n",
		"sha256/" + base64.StdEncoding.EncodeToString(sum),
		"sha256/" + strings.Repeat("+", 43),
		"sha256/" + nonCanonical,
	} {
		if _, err := tlspin.ParsePin(bad); err == nil {
			t.Errorf("ParsePin(%q) accepted", bad)
		}
		if _, err := tlspin.ClientConfig(bad, "localhost"); err == nil {
			t.Errorf("ClientConfig(%q) accepted", bad)
		}
	}
}

func TestClientConfig(t *testing.T) {
	ca := newCA(t, "ca", nil)
	pin := tlspin.Fingerprint(ca.cert)
	cfg, err := tlspin.ClientConfig(pin, "control.example")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.ServerName != "control.example" || cfg.VerifyConnection == nil {
		t.Fatalf("config: min %x, server name %q, verify set %v", cfg.MinVersion, cfg.ServerName, cfg.VerifyConnection != nil)
	}
	for _, name := range []string{"", "control.example:8883", "127.0.0.1:8883"} {
		if _, err := tlspin.ClientConfig(pin, name); err == nil {
			t.Errorf("ClientConfig(pin, %q) accepted", name)
		}
	}
	for _, name := range []string{"::1", "[::1]", "127.0.0.1"} {
		if _, err := tlspin.ClientConfig(pin, name); err != nil {
			t.Errorf("ClientConfig(pin, %q): %v", name, err)
		}
	}
}

func TestPinnedHandshake(t *testing.T) {
	ca := newCA(t, "lmx control node CA", nil)
	pin := tlspin.Fingerprint(ca.cert)
	leaf := newLeaf(t, ca, "control.example", "127.0.0.1", "::1")
	addr := serve(t, leaf, ca.cert)

	for _, name := range []string{"control.example", "CONTROL.example", "127.0.0.1", "::1", "[::1]"} {
		if err := dial(t, addr, pin, name); err != nil {
			t.Errorf("server name %q: %v", name, err)
		}
	}

	t.Run("wrong pin", func(t *testing.T) {
		other := newCA(t, "other", nil)
		err := dial(t, addr, tlspin.Fingerprint(other.cert), "control.example")
		wantErr(t, err, "did not send its CA certificate")
	})
	t.Run("name not in the certificate", func(t *testing.T) {
		err := dial(t, addr, pin, "elsewhere.example")
		wantErr(t, err, "control node's certificate is for names [control.example 127.0.0.1 ::1], not elsewhere.example")
		var hostErr x509.HostnameError
		if !errors.As(err, &hostErr) {
			t.Errorf("error %v does not unwrap to x509.HostnameError", err)
		}
		wantErr(t, dial(t, addr, pin, "10.0.0.1"), "not 10.0.0.1")
	})
	t.Run("CA not sent", func(t *testing.T) {
		addr := serve(t, leaf)
		err := dial(t, addr, pin, "control.example")
		wantErr(t, err, "did not send its CA certificate")
		wantErr(t, err, pin)
	})
	t.Run("pinned CA merely present", func(t *testing.T) {
		// A leaf of another CA, with the pinned CA appended to its chain
		// (and with its own CA too): the pinned CA signed nothing of it.
		other := newCA(t, "other", nil)
		foreign := newLeaf(t, other, "control.example", "127.0.0.1")
		for _, chain := range [][]*x509.Certificate{{ca.cert}, {other.cert, ca.cert}, {ca.cert, other.cert}} {
			err := dial(t, serve(t, foreign, chain...), pin, "control.example")
			wantErr(t, err, "control node's certificate is not signed by the pinned CA (pin "+pin+")")
		}
	})
	t.Run("leaf pinned itself", func(t *testing.T) {
		// A pin may name the leaf (a self-signed certificate, say): the
		// leaf is then its own root, whoever signed it.
		other := newCA(t, "other", nil)
		foreign := newLeaf(t, other, "control.example")
		if err := dial(t, serve(t, foreign), tlspin.Fingerprint(foreign.cert), "control.example"); err != nil {
			t.Fatalf("pinning the leaf: %v", err)
		}
		wantErr(t, dial(t, serve(t, foreign), tlspin.Fingerprint(foreign.cert), "elsewhere.example"), "not elsewhere.example")
	})
	t.Run("expired", func(t *testing.T) {
		old := issue(t, &x509.Certificate{
			Subject:     pkix.Name{CommonName: "old"},
			DNSNames:    []string{"control.example"},
			NotBefore:   time.Now().Add(-48 * time.Hour),
			NotAfter:    time.Now().Add(-time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}, &ca)
		wantErr(t, dial(t, serve(t, old, ca.cert), pin, "control.example"), "has expired or is not yet valid")
	})
	t.Run("client certificate only", func(t *testing.T) {
		client := issue(t, &x509.Certificate{
			Subject:     pkix.Name{CommonName: "client"},
			DNSNames:    []string{"control.example"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}, &ca)
		wantErr(t, dial(t, serve(t, client, ca.cert), pin, "control.example"), "not for TLS servers")
	})
	t.Run("TLS 1.1", func(t *testing.T) {
		addr := serveConfig(t, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, leaf, ca.cert)
		if err := dial(t, addr, pin, "control.example"); err == nil {
			t.Fatal("connected with TLS 1.1")
		}
	})
}

func TestIntermediate(t *testing.T) {
	root := newCA(t, "root", nil)
	inter := newCA(t, "intermediate", &root)
	leaf := newLeaf(t, inter, "control.example")
	pin := tlspin.Fingerprint(root.cert)
	if err := dial(t, serve(t, leaf, inter.cert, root.cert), pin, "control.example"); err != nil {
		t.Fatalf("leaf, intermediate, root: %v", err)
	}
	wantErr(t, dial(t, serve(t, leaf, root.cert), pin, "control.example"), "not signed by the pinned CA")

	// Pinning the intermediate makes it the only root.
	if err := dial(t, serve(t, leaf, inter.cert, root.cert), tlspin.Fingerprint(inter.cert), "control.example"); err != nil {
		t.Fatalf("pinned intermediate: %v", err)
	}
}

func TestNameConstraints(t *testing.T) {
	ca := issue(t, &x509.Certificate{
		Subject:                     pkix.Name{CommonName: "constrained"},
		IsCA:                        true,
		KeyUsage:                    x509.KeyUsageCertSign,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{"control.example"},
	}, nil)
	pin := tlspin.Fingerprint(ca.cert)
	evil := newLeaf(t, ca, "bank.example")
	wantErr(t, dial(t, serve(t, evil, ca.cert), pin, "bank.example"), "may not vouch for")
	good := newLeaf(t, ca, "control.example")
	if err := dial(t, serve(t, good, ca.cert), pin, "control.example"); err != nil {
		t.Fatal(err)
	}
}

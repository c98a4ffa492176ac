package tlsca_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/internal/tlsca"
	"github.com/lmx-video/lmx/internal/tlspin"
)

var testNames = []string{"control.example", "localhost", "127.0.0.1", "::1"}

func ensure(t *testing.T, dir string, names []string, now time.Time) *tlsca.Bundle {
	t.Helper()
	b, err := tlsca.Ensure(dir, names, now)
	if err != nil {
		t.Fatalf("Ensure(%v): %v", names, err)
	}
	return b
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestEnsureCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	b := ensure(t, dir, testNames, now)

	for path, want := range map[string]os.FileMode{
		dir:                                     0o700,
		filepath.Join(dir, tlsca.CAKeyFile):     0o600,
		filepath.Join(dir, tlsca.ServerKeyFile): 0o600,
	} {
		if got := mode(t, path); got != want {
			t.Errorf("%s: mode %04o; want %04o", path, got, want)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	if want := []string{"ca.key", "ca.pem", "server.key", "server.pem"}; !slices.Equal(files, want) {
		t.Errorf("files %v; want %v", files, want)
	}

	cas := readCerts(t, filepath.Join(dir, tlsca.CACertFile))
	if len(cas) != 1 {
		t.Fatalf("ca.pem holds %d certificates", len(cas))
	}
	ca := cas[0]
	switch {
	case !ca.IsCA || ca.MaxPathLen != 0 || !ca.MaxPathLenZero:
		t.Errorf("CA: IsCA %v, MaxPathLen %d, MaxPathLenZero %v", ca.IsCA, ca.MaxPathLen, ca.MaxPathLenZero)
	case ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign:
		t.Errorf("CA key usage %v", ca.KeyUsage)
	case !ca.PermittedDNSDomainsCritical || !slices.Equal(ca.PermittedDNSDomains, []string{"control.example", "localhost"}):
		t.Errorf("CA DNS constraints %v (critical %v)", ca.PermittedDNSDomains, ca.PermittedDNSDomainsCritical)
	case len(ca.PermittedIPRanges) != 2 || ca.PermittedIPRanges[0].String() != "127.0.0.1/32" || ca.PermittedIPRanges[1].String() != "::1/128":
		t.Errorf("CA IP constraints %v", ca.PermittedIPRanges)
	case !strings.HasPrefix(ca.Subject.CommonName, "lmx control node CA ("):
		t.Errorf("CA subject %q", ca.Subject.CommonName)
	case ca.NotAfter.Before(now.AddDate(10, 0, -1)):
		t.Errorf("CA expires %v", ca.NotAfter)
	}
	for file, cert := range map[string]*x509.Certificate{tlsca.CAKeyFile: ca, tlsca.ServerKeyFile: readCerts(t, filepath.Join(dir, tlsca.ServerCertFile))[0]} {
		key, ok := readKey(t, filepath.Join(dir, file)).(*ecdsa.PrivateKey)
		if !ok || key.Curve != elliptic.P256() || !key.PublicKey.Equal(cert.PublicKey) {
			t.Errorf("%s: not the certificate's ECDSA P-256 key", file)
		}
	}

	chain := readCerts(t, filepath.Join(dir, tlsca.ServerCertFile))
	if len(chain) != 2 || !chain[1].Equal(ca) {
		t.Fatalf("server.pem holds %d certificates; want the leaf and the CA", len(chain))
	}
	leaf := chain[0]
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		t.Errorf("leaf not signed by the CA: %v", err)
	}
	if !slices.Equal(leaf.DNSNames, []string{"control.example", "localhost"}) || len(leaf.IPAddresses) != 2 {
		t.Errorf("leaf names %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
	if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) || leaf.IsCA {
		t.Errorf("leaf usage %v, CA %v", leaf.ExtKeyUsage, leaf.IsCA)
	}
	if d := leaf.NotAfter.Sub(now); d < 396*24*time.Hour || d > 397*24*time.Hour {
		t.Errorf("leaf lifetime from now %v", d)
	}

	if b.Pin != tlspin.Fingerprint(ca) || b.CAFile != filepath.Join(dir, tlsca.CACertFile) ||
		!slices.Equal(b.Names, testNames) || !b.NotAfter.Equal(leaf.NotAfter) || len(b.Warnings) != 0 {
		t.Errorf("bundle %+v", b)
	}
	if _, err := tlspin.ParsePin(b.Pin); err != nil {
		t.Error(err)
	}
}

func TestEnsureReuses(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	b1 := ensure(t, dir, testNames, now)
	caPEM := readFile(t, filepath.Join(dir, tlsca.CACertFile))
	serverPEM := readFile(t, filepath.Join(dir, tlsca.ServerCertFile))

	// The same names in another order and spelling, later: both reused.
	b2 := ensure(t, dir, []string{"[::1]", "LOCALHOST", "127.0.0.1", "control.example."}, now.Add(300*24*time.Hour))
	if b2.Pin != b1.Pin || !b2.NotAfter.Equal(b1.NotAfter) {
		t.Errorf("second call: pin %s, not after %v; want %s, %v", b2.Pin, b2.NotAfter, b1.Pin, b1.NotAfter)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, tlsca.CACertFile)), caPEM) || !bytes.Equal(readFile(t, filepath.Join(dir, tlsca.ServerCertFile)), serverPEM) {
		t.Error("second call rewrote the certificates")
	}
}

func TestEnsureReissues(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	b1 := ensure(t, dir, testNames, now)
	caPEM := readFile(t, filepath.Join(dir, tlsca.CACertFile))
	leafOf := func() *x509.Certificate { return readCerts(t, filepath.Join(dir, tlsca.ServerCertFile))[0] }
	first := leafOf()

	// Fewer names, and one below a permitted domain: a new server
	// certificate from the same CA.
	names := []string{"api.control.example", "127.0.0.1"}
	b2 := ensure(t, dir, names, now)
	second := leafOf()
	if second.Equal(first) {
		t.Fatal("changed names: server certificate not re-issued")
	}
	if b2.Pin != b1.Pin || !bytes.Equal(readFile(t, filepath.Join(dir, tlsca.CACertFile)), caPEM) {
		t.Fatal("changed names: the CA changed")
	}
	if !slices.Equal(second.DNSNames, []string{"api.control.example"}) || len(second.IPAddresses) != 1 {
		t.Errorf("re-issued for %v %v", second.DNSNames, second.IPAddresses)
	}

	// 17 days before the end: re-issued, for 397 days from then.
	later := second.NotAfter.Add(-17 * 24 * time.Hour)
	b3 := ensure(t, dir, names, later)
	third := leafOf()
	if third.Equal(second) {
		t.Fatal("expiring certificate not re-issued")
	}
	if d := b3.NotAfter.Sub(later); d < 396*24*time.Hour {
		t.Errorf("re-issued certificate ends %v after its start", d)
	}
	if b3.Pin != b1.Pin {
		t.Error("re-issue changed the CA")
	}

	// The CA's key gone: an error, as the pin would change.
	if err := os.Rename(filepath.Join(dir, tlsca.CAKeyFile), filepath.Join(dir, "ca.key.bak")); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsca.Ensure(dir, names, later); err == nil || !strings.Contains(err.Error(), "has no key") {
		t.Fatalf("CA key missing: %v", err)
	}
	os.Rename(filepath.Join(dir, "ca.key.bak"), filepath.Join(dir, tlsca.CAKeyFile))

	// A server key of another certificate: re-issued.
	caKey := readFile(t, filepath.Join(dir, tlsca.CAKeyFile))
	writeFile(t, dir, tlsca.ServerKeyFile, string(caKey), 0o600)
	ensure(t, dir, names, later)
	if leafOf().Equal(third) {
		t.Error("server key not matching: not re-issued")
	}

	// Past the CA's end: an error saying what to do.
	_, err := tlsca.Ensure(dir, names, now.AddDate(11, 0, 0))
	wantErr(t, err, "expired", "remove "+dir)
}

func TestEnsureOutsideCA(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ensure(t, dir, testNames, now)
	before := readFile(t, filepath.Join(dir, tlsca.ServerCertFile))
	for _, extra := range []string{"other.example", "example", "10.1.2.3", "::2"} {
		_, err := tlsca.Ensure(dir, append(slices.Clone(testNames), extra), now)
		if !errors.Is(err, tlsca.ErrOutsideCA) {
			t.Fatalf("%s: %v; want ErrOutsideCA", extra, err)
		}
		wantErr(t, err, extra+" not covered", "in "+dir, "remove "+dir+" to make a new CA; edges joined with the old CA's pin must then join again")
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, tlsca.ServerCertFile)), before) {
		t.Error("a refused name changed the server certificate")
	}
}

func TestEnsureBadInput(t *testing.T) {
	for _, names := range [][]string{nil, {""}, {"host:8080"}, {"*.example.com"}, {"a..b"}, {"-a.example"}, {"ex ample"}} {
		if _, err := tlsca.Ensure(t.TempDir(), names, time.Now()); err == nil {
			t.Errorf("Ensure(%q) accepted", names)
		}
	}

	// A CA file that is not one, and key files anyone may write.
	dir := t.TempDir()
	writeFile(t, dir, tlsca.CACertFile, "garbage", 0o644)
	wantErr(t, func() error { _, err := tlsca.Ensure(dir, testNames, time.Now()); return err }(), "no PEM certificate", "remove "+dir)

	dir = t.TempDir()
	ensure(t, dir, testNames, time.Now())
	os.Chmod(filepath.Join(dir, tlsca.CAKeyFile), 0o666)
	_, err := tlsca.Ensure(dir, testNames, time.Now())
	wantErr(t, err, "anyone could have replaced the key", "chmod 600")
	os.Chmod(filepath.Join(dir, tlsca.CAKeyFile), 0o640)
	b := ensure(t, dir, testNames, time.Now())
	if len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0], "chmod 600") {
		t.Errorf("group-readable key: warnings %q", b.Warnings)
	}
}

func TestEnsureHandshake(t *testing.T) {
	dir := t.TempDir()
	b := ensure(t, dir, testNames, time.Now())
	url := serveHTTPS(t, b.ServerConfig())
	if v := b.ServerConfig().MinVersion; v != tls.VersionTLS12 {
		t.Errorf("server min version %x", v)
	}

	pinned := func(name string) *tls.Config {
		cfg, err := tlspin.ClientConfig(b.Pin, name)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	for _, name := range []string{"localhost", "control.example", "127.0.0.1", "::1"} {
		if err := get(t, url, pinned(name)); err != nil {
			t.Errorf("pinned, as %s: %v", name, err)
		}
		if err := get(t, url, b.ClientConfig(name)); err != nil {
			t.Errorf("bundle's client config, as %s: %v", name, err)
		}
	}

	wantErr(t, get(t, url, pinned("other.example")), "control node's certificate is for names [control.example localhost 127.0.0.1 ::1], not other.example")
	wantErr(t, get(t, url, pinned("10.0.0.1")), "not 10.0.0.1")

	other := ensure(t, t.TempDir(), testNames, time.Now())
	cfg, err := tlspin.ClientConfig(other.Pin, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, get(t, url, cfg), "did not send its CA certificate")
	if err := get(t, url, other.ClientConfig("localhost")); err == nil {
		t.Error("another CA's client config connected")
	}

	// Another CA's leaf, with our CA appended to its chain: our CA did not
	// sign it.
	theirs := other.ServerConfig().Certificates[0]
	ours := b.ServerConfig().Certificates[0]
	for _, chain := range [][][]byte{
		{theirs.Certificate[0], ours.Certificate[1]},
		{theirs.Certificate[0], theirs.Certificate[1], ours.Certificate[1]},
	} {
		url := serveHTTPS(t, &tls.Config{Certificates: []tls.Certificate{{Certificate: chain, PrivateKey: theirs.PrivateKey}}})
		wantErr(t, get(t, url, pinned("localhost")), "control node's certificate is not signed by the pinned CA (pin "+b.Pin+")")
	}

	// Our leaf without the CA: a pinning client cannot find it.
	url = serveHTTPS(t, &tls.Config{Certificates: []tls.Certificate{{Certificate: ours.Certificate[:1], PrivateKey: ours.PrivateKey}}})
	wantErr(t, get(t, url, pinned("localhost")), "did not send its CA certificate")
}

func TestNameConstraintsHold(t *testing.T) {
	dir := t.TempDir()
	b := ensure(t, dir, testNames, time.Now())
	ca := authority{readCerts(t, filepath.Join(dir, tlsca.CACertFile))[0], readKey(t, filepath.Join(dir, tlsca.CAKeyFile))}
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	verify := func(leaf *x509.Certificate, inter ...*x509.Certificate) error {
		pool := x509.NewCertPool()
		for _, c := range inter {
			pool.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		return err
	}

	// The CA's own key signs a leaf for names it was not made for.
	for _, names := range [][]string{{"bank.example"}, {"localhost", "bank.example"}, {"10.9.9.9"}, {"127.0.0.1", "::2"}} {
		evil := newLeaf(t, ca, names...)
		var invalid x509.CertificateInvalidError
		if err := verify(evil.cert); !errors.As(err, &invalid) || invalid.Reason != x509.CANotAuthorizedForThisName {
			t.Errorf("leaf for %v: %v; want CANotAuthorizedForThisName", names, err)
		}
		url := serveChain(t, evil.key, evil.cert, ca.cert)
		cfg, err := tlspin.ClientConfig(b.Pin, names[len(names)-1])
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, get(t, url, cfg), "may not vouch for")
	}
	// Names below a permitted domain are permitted (RFC 5280).
	if err := verify(newLeaf(t, ca, "sub.localhost").cert); err != nil {
		t.Errorf("leaf for sub.localhost: %v", err)
	}
	// The CA signs leaves only: no intermediate below it.
	inter := newCA(t, "intermediate", &ca)
	if err := verify(newLeaf(t, inter, "localhost").cert, inter.cert); err == nil {
		t.Error("a leaf below an intermediate of the CA verified")
	}
}

// A CA for addresses only, or for DNS names only, permits none of the other
// kind: an empty permitted list alone would permit all of them.
func TestNameConstraintsOneKind(t *testing.T) {
	for _, c := range []struct {
		names []string
		evil  string
	}{
		{[]string{"127.0.0.1", "::1"}, "bank.example"},
		{[]string{"control.example"}, "10.9.9.9"},
	} {
		dir := t.TempDir()
		ensure(t, dir, c.names, time.Now())
		ca := authority{readCerts(t, filepath.Join(dir, tlsca.CACertFile))[0], readKey(t, filepath.Join(dir, tlsca.CAKeyFile))}
		roots := x509.NewCertPool()
		roots.AddCert(ca.cert)
		_, err := newLeaf(t, ca, c.evil).cert.Verify(x509.VerifyOptions{Roots: roots})
		var invalid x509.CertificateInvalidError
		if !errors.As(err, &invalid) || invalid.Reason != x509.CANotAuthorizedForThisName {
			t.Errorf("CA for %v, leaf for %s: %v; want CANotAuthorizedForThisName", c.names, c.evil, err)
		}
		_, err = tlsca.Ensure(dir, append(c.names, c.evil), time.Now())
		if !errors.Is(err, tlsca.ErrOutsideCA) {
			t.Errorf("CA for %v, Ensure with %s: %v; want ErrOutsideCA", c.names, c.evil, err)
		}
	}
}

func TestDefaultNames(t *testing.T) {
	names, err := tlsca.DefaultNames([]string{"Control.Example.", "10.0.0.7", "control.example", "[fd00::7]"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names[:3], []string{"control.example", "10.0.0.7", "fd00::7"}) {
		t.Errorf("extra names first: %v", names)
	}
	for _, want := range []string{"localhost", "127.0.0.1", "::1"} {
		if !slices.Contains(names, want) {
			t.Errorf("%v lacks %s", names, want)
		}
	}
	seen := map[string]bool{}
	rest := names[3:]
	for _, n := range names {
		if seen[n] {
			t.Errorf("%s twice in %v", n, names)
		}
		seen[n] = true
		if ip := net.ParseIP(n); ip != nil && ip.IsLinkLocalUnicast() {
			t.Errorf("link-local %s in %v", n, names)
		}
	}
	// DNS names, then IPv4, then IPv6 addresses, each sorted.
	kind := func(n string) int {
		ip := net.ParseIP(n)
		switch {
		case ip == nil:
			return 0
		case ip.To4() != nil:
			return 1
		}
		return 2
	}
	if !slices.IsSortedFunc(rest, func(a, b string) int {
		if ka, kb := kind(a), kind(b); ka != kb {
			return ka - kb
		}
		if kind(a) == 0 {
			return strings.Compare(a, b)
		}
		return bytes.Compare(net.ParseIP(a).To16(), net.ParseIP(b).To16())
	}) {
		t.Errorf("not in order: %v", rest)
	}
	again, err := tlsca.DefaultNames([]string{"Control.Example.", "10.0.0.7", "control.example", "[fd00::7]"})
	if err != nil || !slices.Equal(again, names) {
		t.Errorf("second call %v, %v; want %v", again, err, names)
	}
	// They make a certificate.
	ensure(t, t.TempDir(), names, time.Now())

	for _, bad := range []string{"host:8080", "*.example.com", "", "a b"} {
		if _, err := tlsca.DefaultNames([]string{bad}); err == nil {
			t.Errorf("DefaultNames(%q) accepted", bad)
		}
	}
}

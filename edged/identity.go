package edged

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/internal/netaddr"
	"github.com/lmx-video/lmx/internal/secret"
	"github.com/lmx-video/lmx/internal/tlspin"
)

// An edge's identity: started once with --join, it exchanges the join
// token's single-use secret for its own long-lived credential and keeps it,
// with the control node's URLs and CA pin, in StateDir/credential.json.
// Every later start reads it from there.

// stateFile is the name of the file in the state dir that holds the edge's
// credential.
const stateFile = "credential.json"

// joinTimeout bounds the join exchange.
const joinTimeout = 15 * time.Second

// ErrJoinRefused is wrapped when the control node refuses a join token: it
// was used already, has expired, or was never issued.
var ErrJoinRefused = errors.New("join token already used or expired")

// edgeState is the content of stateFile.
type edgeState struct {
	// Edge is the name the credential belongs to.
	Edge string `json:"edge"`
	// MQTT is the control node's broker URL.
	MQTT string `json:"mqtt"`
	// Ingest is the control node's ingest base URL.
	Ingest string `json:"ingest"`
	// CAPin is the control node's CA pin, "" to trust the system's roots.
	CAPin string `json:"ca_pin"`
	// Credential is the edge's secret.
	Credential string `json:"credential"`
	// JoinID is the ID of the join secret the credential was obtained with,
	// so that a start with the same (spent) --join uses it.
	JoinID string `json:"join_id"`
	// JoinedAt is when the edge joined.
	JoinedAt time.Time `json:"joined_at"`
}

// DefaultStateDir is the state dir used when none is given: systemd's
// $STATE_DIRECTORY (StateDirectory= in the unit), else
// $XDG_STATE_HOME/lmx-edge, else ~/.local/state/lmx-edge; "" when none of
// them can be found.
func DefaultStateDir() string {
	if d, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "lmx-edge")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "state", "lmx-edge")
	}
	return ""
}

// statePath is the path of the state file, "" without a state dir.
func (c *Config) statePath() string {
	if c.StateDir == "" {
		return ""
	}
	return filepath.Join(c.StateDir, stateFile)
}

// resolveIdentity settles who the edge is and where its control node is,
// from --join and the state dir: the join token's edge name and URLs, or
// those of the credential kept in the state dir. URLs already set (flags)
// win. It reads local files only: the join exchange, if one is needed, is
// joinIfNeeded's.
func (c *Config) resolveIdentity() error {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir()
	}
	var join *secret.Join
	if c.Join != "" {
		j, err := secret.ParseJoin(c.Join)
		if err != nil {
			// The error says what is wrong, never the token itself.
			return fmt.Errorf("--join: %w", err)
		}
		if c.Name != "" && c.Name != j.Edge {
			return fmt.Errorf("--name %q, but the join token is for edge %q: drop --name, or run `lmx edge add %s` on the control node for a token of that name", c.Name, j.Edge, c.Name)
		}
		c.Name = j.Edge
		join = &j
	}
	if c.Credential != "" {
		// Set by the program that embeds the edge, or by an earlier Validate.
		return nil
	}
	st, err := readState(c.StateDir)
	if err != nil {
		return err
	}
	switch {
	case join != nil && st != nil && st.JoinID == join.Secret.ID && st.Edge == join.Edge:
		// Joined with this token already (it is single-use): a unit file
		// that keeps --join on its command line restarts with the credential.
		c.useState(st)
	case join != nil:
		c.MQTT = cmp.Or(c.MQTT, join.MQTT)
		c.Ingest = cmp.Or(c.Ingest, join.Ingest)
		c.CAPin = cmp.Or(c.CAPin, join.CAPin)
	case st != nil:
		if c.Name != "" && c.Name != st.Edge {
			return fmt.Errorf("--name %q, but %s holds the credential of edge %q: drop --name, or give the edge its own --state-dir", c.Name, c.statePath(), st.Edge)
		}
		c.Name = st.Edge
		c.useState(st)
	}
	return nil
}

// useState takes the edge's identity from st; URLs already set win.
func (c *Config) useState(st *edgeState) {
	c.MQTT = cmp.Or(c.MQTT, st.MQTT)
	c.Ingest = cmp.Or(c.Ingest, st.Ingest)
	c.CAPin = cmp.Or(c.CAPin, st.CAPin)
	c.Credential = st.Credential
	c.credentialFile = c.statePath()
}

// needsJoin reports whether the edge must still exchange its join token.
func (c *Config) needsJoin() bool { return c.Join != "" && c.Credential == "" }

// checkLink checks the control node's URLs and the CA pin against them.
func (c *Config) checkLink() error {
	u, err := url.Parse(c.MQTT)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--mqtt %q: want mqtt://host:%d or mqtts://host:8883", c.MQTT, netaddr.MQTTPort)
	}
	switch u.Scheme {
	case "mqtt", "tcp", "mqtts", "tls", "ssl":
	default:
		return fmt.Errorf("--mqtt %q: want mqtt://host:%d or mqtts://host:8883", c.MQTT, netaddr.MQTTPort)
	}
	if u, err := url.Parse(c.Ingest); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--ingest %q: want http://host:%d or https://host:%d", c.Ingest, netaddr.PlaybackPort, netaddr.PlaybackPort)
	}
	if c.CAPin == "" {
		return nil
	}
	for _, link := range []struct{ flag, url, pin string }{{"--mqtt", c.MQTT, c.mqttPin()}, {"--ingest", c.Ingest, c.CAPin}} {
		if link.pin == "" {
			continue // an external broker: see mqttPin
		}
		if !isTLS(link.url) {
			return fmt.Errorf("%s %s is not TLS, but the edge pins the control node's CA (%s): use mqtts:// and https:// URLs", link.flag, link.url, c.CAPin)
		}
		if _, err := linkTLS(link.url, c.CAPin); err != nil {
			return fmt.Errorf("CA pin: %w", err)
		}
	}
	return nil
}

// mqttPin is the pin the MQTT link is verified with. The pin names the
// control node's CA: it covers the ingest link always, and the MQTT link
// when the broker is the control node's own (on the ingest URL's host). An
// external broker (--broker on the control node, another host) has
// certificates of its own: it is trusted by the system's roots (mqtts://),
// or the link is plain (mqtt://), as its operator set it up.
func (c *Config) mqttPin() string {
	m, err1 := url.Parse(c.MQTT)
	i, err2 := url.Parse(c.Ingest)
	if err1 != nil || err2 != nil || m.Hostname() != i.Hostname() {
		return ""
	}
	return c.CAPin
}

// isTLS reports whether rawURL's scheme is one of TLS.
func isTLS(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "https", "mqtts", "tls", "ssl":
		return true
	}
	return false
}

// linkTLS is the TLS configuration of a connection to rawURL: trusting
// exactly the CA pin names when there is a pin, else the system's roots;
// nil for a plain URL.
func linkTLS(rawURL, pin string) (*tls.Config, error) {
	if !isTLS(rawURL) {
		return nil, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if pin == "" {
		return &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}, nil
	}
	cfg, err := tlspin.ClientConfig(pin, u.Hostname())
	if err != nil {
		return nil, err
	}
	if verify := cfg.VerifyConnection; verify != nil {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := verify(cs); err != nil {
				return fmt.Errorf("CA pin check failed: %w", err)
			}
			return nil
		}
	}
	return cfg, nil
}

// readState reads the state file in dir: nil, and no error, when there is
// none. A file that group or others may read or write is refused, as ssh
// refuses such a private key: the credential in it may have leaked.
func readState(dir string) (*edgeState, error) {
	if dir == "" {
		return nil, nil
	}
	path := filepath.Join(dir, stateFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("edge state: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("edge state: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("edge state %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("edge state %s is accessible by others (mode %04o) and holds this edge's credential: run chmod 600 %s (if others may have read it, revoke the edge on the control node and join again)", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("edge state: %w", err)
	}
	var st edgeState
	damaged := func(why string) error {
		return fmt.Errorf("edge state %s is damaged (%s): remove it and join again with a new token from `lmx edge add NAME`", path, why)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, damaged("not JSON")
	}
	switch {
	case broker.ValidateName(st.Edge) != nil:
		return nil, damaged("no valid edge name")
	case st.MQTT == "" || st.Ingest == "":
		return nil, damaged("no control node URLs")
	case st.Credential == "":
		return nil, damaged("no credential")
	}
	return &st, nil
}

// writeState writes st to the state file in dir, mode 0600 (the dir 0700
// when it is made), replacing any earlier one atomically: a crash leaves the
// old file or the new one, never a part of either.
func writeState(dir string, st edgeState) error {
	if dir == "" {
		return errors.New("no state dir to keep the edge's credential in (no home directory): set --state-dir")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("edge state: %w", err)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+stateFile+".*")
	if err != nil {
		return fmt.Errorf("edge state: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("edge state: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("edge state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("edge state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("edge state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("edge state: %w", err)
	}
	done = true
	// The rename itself is durable once the directory is synced.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// joinIfNeeded exchanges the join token for the edge's credential when the
// state dir does not hold it yet, keeps it there, and sets c.Credential.
func (c *Config) joinIfNeeded(ctx context.Context, logger *slog.Logger) error {
	if !c.needsJoin() {
		return nil
	}
	j, err := secret.ParseJoin(c.Join)
	if err != nil {
		return fmt.Errorf("--join: %w", err)
	}
	if c.StateDir == "" {
		return errors.New("no state dir to keep the edge's credential in (no home directory): set --state-dir")
	}
	reply, err := exchangeJoin(ctx, c.Ingest, c.CAPin, j)
	if err != nil {
		return err
	}
	st := edgeState{Edge: j.Edge, MQTT: c.MQTT, Ingest: c.Ingest, CAPin: c.CAPin,
		Credential: reply.Credential, JoinID: j.Secret.ID, JoinedAt: time.Now().UTC()}
	if err := writeState(c.StateDir, st); err != nil {
		// The join secret is spent: say so, or the next try only meets a 410.
		return fmt.Errorf("joined the control node, but could not keep the credential (the join token is now spent; fix this, then run `lmx edge add %s` again on the control node): %w", j.Edge, err)
	}
	c.Credential, c.credentialFile = reply.Credential, c.statePath()
	logger.Info("joined the control node", "edge", j.Edge, "credential", secret.Redact(reply.Credential), "state", c.statePath())
	return nil
}

// exchangeJoin sends the join secret to the control node at ingest and
// returns its answer.
func exchangeJoin(ctx context.Context, ingest, pin string, j secret.Join) (broker.JoinReply, error) {
	var out broker.JoinReply
	tlsCfg, err := linkTLS(ingest, pin)
	if err != nil {
		return out, fmt.Errorf("join: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	defer tr.CloseIdleConnections()
	hc := &http.Client{
		Transport: tr,
		Timeout:   joinTimeout,
		// The join secret goes to the control node named in the token, and
		// to no other place a redirect might point at.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(ingest, "/")+broker.JoinPath, http.NoBody)
	if err != nil {
		return out, fmt.Errorf("join: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+j.Secret.String())
	req.Header.Set("Accept", "application/json")
	req.Header.Set(broker.HeaderEdge, j.Edge)
	resp, err := hc.Do(req)
	if err != nil {
		return out, fmt.Errorf("join: could not reach the control node: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated:
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusGone:
		return out, fmt.Errorf("%w: run `lmx edge add %s` again on the control node (it answered %s: %s)", ErrJoinRefused, j.Edge, resp.Status, serverMessage(body))
	default:
		return out, fmt.Errorf("join: the control node answered %s: %s", resp.Status, serverMessage(body))
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out, fmt.Errorf("join: the control node's answer is not a join reply: %v", err)
	}
	switch {
	case out.Credential == "":
		return out, errors.New("join: the control node answered no credential")
	case out.Edge != j.Edge:
		return out, fmt.Errorf("join: the control node answered a credential for edge %q, not %q", out.Edge, j.Edge)
	}
	return out, nil
}

// serverMessage is what an error answer says: the message of the control
// node's error envelope, else its text, on one short line.
func serverMessage(body []byte) string {
	var env struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error != nil && env.Error.Message != "" {
		return env.Error.Message
	}
	msg := strings.Join(strings.Fields(string(bytes.ToValidUTF8(body, nil))), " ")
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "") + "…"
	}
	return cmp.Or(msg, "(no message)")
}

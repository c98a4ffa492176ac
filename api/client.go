package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors.
var (
	// ErrUnreachable means the control node did not answer at all.
	ErrUnreachable = errors.New("control node not reachable")
	// ErrNotFound means the control node answered 404.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized means the control node answered 401: it wants a
	// token, or does not take the one sent (unknown, expired, revoked).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden means the control node answered 403: the token's role
	// may not do what was asked.
	ErrForbidden = errors.New("forbidden")
	// ErrRateLimited means the control node answered 429: too many
	// requests (or failed tokens) from this client for now.
	ErrRateLimited = errors.New("too many requests")
)

// StatusError is a control node's non-2xx answer.
type StatusError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the control node's message.
	Message string
	// Detail is the control node's detail, if any.
	Detail string
	// RequiredRole is, on a 403, the least role the control node says may
	// do what was asked ("" when it did not say).
	RequiredRole string
	// RetryAfter is, on a 429, how long the control node asks to wait
	// (its Retry-After header; 0 when it did not say).
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := e.Said()
	switch e.Status {
	case http.StatusUnauthorized:
		msg += ": pass --token or set LMX_TOKEN"
	case http.StatusForbidden:
		if e.RequiredRole != "" {
			msg += ": it takes role " + e.RequiredRole
		}
	case http.StatusTooManyRequests:
		if e.RetryAfter > 0 {
			msg += "; try again in " + e.RetryAfter.String()
		} else {
			msg += "; try again later"
		}
	}
	return msg
}

// Said is what the control node said: its message and detail, or the
// status text when it gave none.
func (e *StatusError) Said() string {
	msg := e.Message
	if msg == "" {
		msg = strings.ToLower(http.StatusText(e.Status))
		if msg == "" {
			msg = fmt.Sprintf("status %d", e.Status)
		}
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Is lets errors.Is match ErrNotFound to a 404, ErrUnauthorized to a 401,
// ErrForbidden to a 403 and ErrRateLimited to a 429.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// statusError makes the StatusError for a non-2xx answer whose body (raw)
// may be an Envelope.
func statusError(resp *http.Response, raw []byte, now time.Time) *StatusError {
	se := &StatusError{Status: resp.StatusCode}
	var env Envelope
	if json.Unmarshal(raw, &env) == nil && env.Error != nil {
		se.Message, se.Detail, se.RequiredRole = env.Error.Message, env.Error.Detail, env.Error.RequiredRole
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	}
	return se
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// Client talks to a control node's management API.
type Client struct {
	base  *url.URL
	http  *http.Client
	token string
	// caFile is ClientOptions.CAFile, for messages.
	caFile string
}

// ClientOptions are how NewClientWith reaches a control node that wants a
// token, over https with a CA of its own.
type ClientOptions struct {
	// Token is sent as "Authorization: Bearer TOKEN" on every request,
	// the event stream included ("" sends none). It never appears in an
	// error.
	Token string
	// CAFile is a PEM file of the CA certificates to trust for https, in
	// place of the system's ("" trusts the system's).
	CAFile string
	// Timeout bounds each request but the event stream (default 15s).
	Timeout time.Duration
}

// NewClient returns a client for the management API at base (e.g.
// http://127.0.0.1:8080) over hc (nil: a default client), sending no token.
func NewClient(base string, hc *http.Client) (*Client, error) {
	u, err := parseBase(base)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{base: u, http: hc}, nil
}

// NewClientWith returns a client for the management API at base that sends
// opts.Token and trusts opts.CAFile.
func NewClientWith(base string, opts ClientOptions) (*Client, error) {
	u, err := parseBase(base)
	if err != nil {
		return nil, err
	}
	if err := checkToken(opts.Token); err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: opts.Timeout}
	if hc.Timeout <= 0 {
		hc.Timeout = 15 * time.Second
	}
	if opts.CAFile != "" {
		pool, err := readCAFile(opts.CAFile)
		if err != nil {
			return nil, err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		hc.Transport = tr
	}
	return &Client{base: u, http: hc, token: opts.Token, caFile: opts.CAFile}, nil
}

// parseBase reads a server address; "host:port" means http://host:port.
func parseBase(base string) (*url.URL, error) {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("server address %q is not a URL like http://host:8080", base)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server address %q: scheme must be http or https", base)
	}
	return u, nil
}

// checkToken refuses what cannot travel in an Authorization header, without
// saying what the token is.
func checkToken(token string) error {
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c >= 0x7f {
			return errors.New("the token has a space, a line break or another character a token never has: pass the secret alone, as lmx token create printed it")
		}
	}
	return nil
}

// readCAFile reads PEM CA certificates for https.
func readCAFile(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", file)
	}
	return pool, nil
}

// url is the address of path (escaped, as Expand makes it) on the server.
func (c *Client) url(path string) url.URL {
	u := *c.base
	u.RawPath = strings.TrimSuffix(c.base.EscapedPath(), "/") + path
	if p, err := url.PathUnescape(u.RawPath); err == nil {
		u.Path = p
	} else {
		u.Path, u.RawPath = strings.TrimSuffix(c.base.Path, "/")+path, ""
	}
	return u
}

// authorize adds the token to req, if there is one.
func (c *Client) authorize(req *http.Request) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
}

// unreachable explains a request that got no answer: nothing listens, or
// the certificate is not one this client trusts.
func (c *Client) unreachable(err error) error {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		verify    *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &hostname):
		return fmt.Errorf("%w at %s: its certificate is not for this address: use the name the certificate is for in --server: %v", ErrUnreachable, c.base, err)
	case errors.As(err, &unknownCA) && c.caFile != "":
		return fmt.Errorf("%w at %s: its certificate is not signed by the CA in %s: give --ca-file or LMX_CA_FILE the control node's own CA certificate: %v", ErrUnreachable, c.base, c.caFile, err)
	case errors.As(err, &unknownCA):
		return fmt.Errorf("%w at %s: its certificate is not signed by a CA this client trusts: pass --ca-file or set LMX_CA_FILE to the control node's CA certificate: %v", ErrUnreachable, c.base, err)
	case errors.As(err, &verify):
		return fmt.Errorf("%w at %s: its certificate does not verify: %v", ErrUnreachable, c.base, err)
	}
	var nerr net.Error
	if errors.As(err, &nerr) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%w at %s: is `lmx controld` running? set --server or LMX_SERVER: %v", ErrUnreachable, c.base, err)
	}
	return fmt.Errorf("%w at %s: %v", ErrUnreachable, c.base, err)
}

// Base is the server address the client talks to.
func (c *Client) Base() string { return c.base.String() }

// do sends a request and decodes the answer into out, a *…Reply type of
// this package (nil to ignore the payload); a non-2xx answer becomes a
// *StatusError with the control node's message.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	u := c.url(path)
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading answer from %s: %w", c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		se := statusError(resp, raw, time.Now())
		if se.Message == "" && len(bytes.TrimSpace(raw)) > 0 && !json.Valid(raw) {
			se.Message = fmt.Sprintf("%s %s: unexpected answer (%s): %.200s", method, path, resp.Status, raw)
		}
		return se
	}
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return &StatusError{Status: resp.StatusCode, Message: fmt.Sprintf("%s %s: unexpected answer (%s): %.200s", method, path, resp.Status, raw)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// ListSources lists sources, filtered by exact name when name is not empty.
func (c *Client) ListSources(ctx context.Context, name string) ([]Source, error) {
	q := url.Values{}
	if name != "" {
		q.Set("source_name", name)
	}
	var out SourcesReply
	return out.Sources, c.do(ctx, http.MethodGet, PathSources, q, nil, &out)
}

// GetSource returns a source by id or name.
func (c *Client) GetSource(ctx context.Context, idOrName string) (Source, error) {
	var out SourceReply
	return out.Source, c.do(ctx, http.MethodGet, Expand(PathSource, idOrName), nil, nil, &out)
}

// CreateSource creates a source.
func (c *Client) CreateSource(ctx context.Context, s NewSource) (Source, error) {
	var out SourceReply
	return out.Source, c.do(ctx, http.MethodPost, PathSources, nil, s, &out)
}

// DeleteSource deletes a source by id or name. A source still pushed to an
// edge is refused (409) unless force: then it is removed and its name is
// not registered again by a push until it is created again.
func (c *Client) DeleteSource(ctx context.Context, idOrName string, force bool) error {
	q := url.Values{}
	if force {
		q.Set("force", "true")
	}
	return c.do(ctx, http.MethodDelete, Expand(PathSource, idOrName), q, nil, nil)
}

// SetStreaming turns a source's streaming on or off.
func (c *Client) SetStreaming(ctx context.Context, idOrName string, on bool) (Source, error) {
	q := url.Values{"new_state": {fmt.Sprint(on)}}
	var out SourceReply
	return out.Source, c.do(ctx, http.MethodPut, Expand(PathSourceStreaming, idOrName), q, nil, &out)
}

// ListEdges lists the edges the control node knows.
func (c *Client) ListEdges(ctx context.Context) ([]Edge, error) {
	var out EdgesReply
	return out.Edges, c.do(ctx, http.MethodGet, PathEdges, nil, nil, &out)
}

// StartRecording starts a recording of a source.
func (c *Client) StartRecording(ctx context.Context, source string, r NewRecording) (Recording, error) {
	var out RecordingReply
	return out.Recording, c.do(ctx, http.MethodPost, Expand(PathSourceRecordings, source), nil, r, &out)
}

// StopRecording stops a recording.
func (c *Client) StopRecording(ctx context.Context, id string) (Recording, error) {
	var out RecordingReply
	return out.Recording, c.do(ctx, http.MethodPost, Expand(PathRecordingStop, id), nil, nil, &out)
}

// PinRecording pins (or, with pinned false, unpins) a recording and
// returns it: retention never deletes a pinned recording.
func (c *Client) PinRecording(ctx context.Context, id string, pinned bool) (Recording, error) {
	path := PathRecordingPin
	if !pinned {
		path = PathRecordingUnpin
	}
	var out RecordingReply
	return out.Recording, c.do(ctx, http.MethodPost, Expand(path, id), nil, nil, &out)
}

// ListRecordings lists recordings (newest first), of one source when source
// is not empty, only the active ones when activeOnly.
func (c *Client) ListRecordings(ctx context.Context, source string, activeOnly bool) ([]Recording, error) {
	path := PathRecordings
	if source != "" {
		path = Expand(PathSourceRecordings, source)
	}
	q := url.Values{}
	if activeOnly {
		q.Set("active", "true")
	}
	var out RecordingsReply
	return out.Recordings, c.do(ctx, http.MethodGet, path, q, nil, &out)
}

// GetRecording returns one recording.
func (c *Client) GetRecording(ctx context.Context, id string) (Recording, error) {
	var out RecordingReply
	return out.Recording, c.do(ctx, http.MethodGet, Expand(PathRecording, id), nil, nil, &out)
}

// DeleteRecording deletes a recording and the objects no other recording uses.
func (c *Client) DeleteRecording(ctx context.Context, id string, force bool) error {
	q := url.Values{}
	if force {
		q.Set("force", "true")
	}
	return c.do(ctx, http.MethodDelete, Expand(PathRecording, id), q, nil, nil)
}

// Whoami says which token the control node takes the caller for.
func (c *Client) Whoami(ctx context.Context) (Whoami, error) {
	var out WhoamiReply
	return out.Whoami, c.do(ctx, http.MethodGet, PathWhoami, nil, nil, &out)
}

// CreateToken makes an API token and returns it with its secret, which the
// control node never shows again.
func (c *Client) CreateToken(ctx context.Context, t NewToken) (Token, string, error) {
	var out NewTokenReply
	err := c.do(ctx, http.MethodPost, PathTokens, nil, t, &out)
	return out.Token, out.Secret, err
}

// ListTokens lists the API tokens, by name.
func (c *Client) ListTokens(ctx context.Context) ([]Token, error) {
	var out TokensReply
	return out.Tokens, c.do(ctx, http.MethodGet, PathTokens, nil, nil, &out)
}

// RevokeToken revokes a token by name and returns it as it now is.
func (c *Client) RevokeToken(ctx context.Context, name string) (Token, error) {
	var out TokenReply
	return out.Token, c.do(ctx, http.MethodDelete, Expand(PathToken, name), nil, nil, &out)
}

// AddEdge registers an edge and returns its single-use join token and the
// command line that starts it.
func (c *Client) AddEdge(ctx context.Context, e NewEdge) (EdgeJoinReply, error) {
	var out EdgeJoinReply
	return out, c.do(ctx, http.MethodPost, PathEdges, nil, e, &out)
}

// GetEdge returns one edge by name.
func (c *Client) GetEdge(ctx context.Context, name string) (Edge, error) {
	var out EdgeReply
	return out.Edge, c.do(ctx, http.MethodGet, Expand(PathEdge, name), nil, nil, &out)
}

// RevokeEdge cuts an edge off and returns it as it now is.
func (c *Client) RevokeEdge(ctx context.Context, name string) (Edge, error) {
	var out EdgeReply
	return out.Edge, c.do(ctx, http.MethodPost, Expand(PathEdgeRevoke, name), nil, nil, &out)
}

// RestoreEdge lets a revoked edge back in with its same credential.
func (c *Client) RestoreEdge(ctx context.Context, name string) (Edge, error) {
	var out EdgeReply
	return out.Edge, c.do(ctx, http.MethodPost, Expand(PathEdgeRestore, name), nil, nil, &out)
}

// SourceGrant mints a signed URL of a source's live playlist that plays for
// ttl (0: the control node's default).
func (c *Client) SourceGrant(ctx context.Context, source string, ttl time.Duration) (Grant, error) {
	return c.grant(ctx, Expand(PathSourceGrant, source), ttl)
}

// RecordingGrant mints a signed URL of a recording's playlist that plays
// for ttl (0: the control node's default).
func (c *Client) RecordingGrant(ctx context.Context, id string, ttl time.Duration) (Grant, error) {
	return c.grant(ctx, Expand(PathRecordingGrant, id), ttl)
}

func (c *Client) grant(ctx context.Context, path string, ttl time.Duration) (Grant, error) {
	secs, err := TTLSeconds(ttl)
	if err != nil {
		return Grant{}, err
	}
	var out GrantReply
	return out.Grant, c.do(ctx, http.MethodPost, path, nil, NewGrant{TTLSeconds: secs}, &out)
}

// UpdateSource changes the fields of a source that u sets and returns the
// source as it now is.
func (c *Client) UpdateSource(ctx context.Context, idOrName string, u SourceUpdate) (Source, error) {
	var out SourceReply
	return out.Source, c.do(ctx, http.MethodPatch, Expand(PathSource, idOrName), nil, u, &out)
}

// TTLSeconds is d in whole seconds for a ttl_seconds field, rounded up so
// a short lifetime never becomes 0 (which means the default).
func TTLSeconds(d time.Duration) (int64, error) {
	if d < 0 {
		return 0, fmt.Errorf("a lifetime can't be negative (%s)", d)
	}
	return int64((d + time.Second - 1) / time.Second), nil
}

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sentinel errors.
var (
	// ErrUnreachable means the control node did not answer at all.
	ErrUnreachable = errors.New("control node not reachable")
	// ErrNotFound means the control node answered 404.
	ErrNotFound = errors.New("not found")
)

// StatusError is a control node's non-2xx answer.
type StatusError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the control node's message.
	Message string
	// Detail is the control node's detail, if any.
	Detail string
}

func (e *StatusError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Is lets errors.Is(err, ErrNotFound) match a 404.
func (e *StatusError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// Client talks to a control node's management API.
type Client struct {
	base *url.URL
	http *http.Client
}

// NewClient returns a client for the management API at base (e.g. http://127.0.0.1:8080).
func NewClient(base string, hc *http.Client) (*Client, error) {
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
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{base: u, http: hc}, nil
}

// Base is the server address the client talks to.
func (c *Client) Base() string { return c.base.String() }

// do sends a request and decodes the answer into out, a *…Reply type of
// this package (nil to ignore the payload); a non-2xx answer becomes a
// *StatusError with the control node's message.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
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
	resp, err := c.http.Do(req)
	if err != nil {
		var nerr net.Error
		if errors.Is(err, context.Canceled) {
			return err
		}
		if errors.As(err, &nerr) || strings.Contains(err.Error(), "connection refused") {
			return fmt.Errorf("%w at %s: is `lmx controld` running? set --server or LMX_SERVER: %v", ErrUnreachable, c.base, err)
		}
		return fmt.Errorf("%w at %s: %v", ErrUnreachable, c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading answer from %s: %w", c.base, err)
	}
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return &StatusError{Status: resp.StatusCode, Message: fmt.Sprintf("%s %s: unexpected answer (%s): %.200s", method, path, resp.Status, raw)}
	}
	if resp.StatusCode/100 != 2 {
		se := &StatusError{Status: resp.StatusCode}
		if env.Error != nil {
			se.Message, se.Detail = env.Error.Message, env.Error.Detail
		}
		return se
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

// DeleteSource deletes a source by id or name.
func (c *Client) DeleteSource(ctx context.Context, idOrName string) error {
	return c.do(ctx, http.MethodDelete, Expand(PathSource, idOrName), nil, nil, nil)
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

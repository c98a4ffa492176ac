package events

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestServeForEndsAtExpiry: a stream opened with a token that expires ends
// when it does, having delivered what came before.
func TestServeForEndsAtExpiry(t *testing.T) {
	h := NewHub("v9.9")
	until := time.Now().Add(700 * time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeFor(w, r, "tok-a", until, nil)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)

	_, r := follow(t, srv.URL)
	h.Publish("edge.status", []byte(`{"n":1}`))
	if f, err := readFrame(t, r); err != nil || f.data != `{"n":1}` {
		t.Fatalf("before the expiry: %+v, %v", f, err)
	}
	f, err := readFrame(t, r)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("after the expiry: %+v, %v; want the stream to end", f, err)
	}
	if now := time.Now(); now.Before(until) {
		t.Errorf("the stream ended %s before its token expired", until.Sub(now))
	}
}

// TestServeForRefusesATokenRevokedMeanwhile: a token revoked between the
// caller's check and the stream's registration (valid false by then) gets
// 401, not a stream CloseOwner already missed.
func TestServeForRefusesATokenRevokedMeanwhile(t *testing.T) {
	h := NewHub("v9.9")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeFor(w, r, "tok-a", time.Time{}, func() bool { return false })
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		b, _ := io.ReadAll(bufio.NewReader(resp.Body))
		t.Fatalf("status %d (%s), want 401", resp.StatusCode, b)
	}
	h.mu.Lock()
	n := len(h.subs)
	h.mu.Unlock()
	if n != 0 {
		t.Errorf("%d followers left subscribed", n)
	}
}

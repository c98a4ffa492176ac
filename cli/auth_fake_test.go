package cli

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/redact"
)

// The fake control node's access control: tokens, edge joins, signed URLs
// and source updates. Their state lives in fakeClient (fake_test.go).

// authCall is what an access-control method was asked.
type authCall struct {
	method string
	ref    string // token, edge, source or recording name/id
	ttl    time.Duration
	token  api.NewToken
	edge   api.NewEdge
	update api.SourceUpdate
}

// The secret and join command the fake hands out.
const (
	fakeSecret  = "lmx_tok_ci_Zm9vYmFyYmF6"
	fakeJoin    = "lmx_join_Y2FtLWd3LTM"
	fakeCommand = "lmx edged --name cam-gw-3 --controld ctl.example --join " + fakeJoin
)

// authFake is newFake with three tokens: the first admin token, an active
// viewer token with an expiry, and a revoked one; cam-gw-1 has joined.
func authFake() *fakeClient {
	fc := newFake()
	fc.edges[1].Credential = api.CredentialJoined
	fc.tokens = []api.Token{
		{Name: "old-ci", Role: api.RoleOperator, CreatedAt: testNow.Add(-30 * 24 * time.Hour), CreatedBy: "admin",
			RevokedAt: testNow.Add(-24 * time.Hour), LastUsedAt: testNow.Add(-25 * time.Hour)},
		{Name: "admin", Role: api.RoleAdmin, CreatedAt: testNow.Add(-72 * time.Hour), LastUsedAt: testNow.Add(-time.Minute)},
		{Name: "ci", Role: api.RoleViewer, CreatedAt: testNow.Add(-2 * time.Hour), CreatedBy: "admin",
			ExpiresAt: testNow.Add(28 * 24 * time.Hour)},
		{Name: "night", Role: api.RoleOperator, CreatedAt: testNow.Add(-36 * time.Hour), CreatedBy: "admin",
			ExpiresAt: testNow.Add(-24 * time.Hour), LastUsedAt: testNow.Add(-25 * time.Hour)},
	}
	return fc
}

func statusErr(status int, msg string) error {
	return &api.StatusError{Status: status, Message: msg}
}

func (f *fakeClient) authCall(c authCall) error {
	f.authCalls = append(f.authCalls, c)
	return f.call(c.method)
}

func (f *fakeClient) findToken(name string) int {
	return slices.IndexFunc(f.tokens, func(t api.Token) bool { return t.Name == name })
}

func (f *fakeClient) findEdge(name string) int {
	return slices.IndexFunc(f.edges, func(e api.Edge) bool { return e.Name == name })
}

func (f *fakeClient) CreateToken(_ context.Context, nt api.NewToken) (api.Token, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authCall(authCall{method: "CreateToken", ref: nt.Name, token: nt}); err != nil {
		return api.Token{}, "", err
	}
	if f.findToken(nt.Name) >= 0 {
		return api.Token{}, "", statusErr(http.StatusConflict, fmt.Sprintf("a token named %q exists", nt.Name))
	}
	t := api.Token{Name: nt.Name, Role: nt.Role, CreatedAt: testNow, CreatedBy: "admin"}
	if nt.TTLSeconds > 0 {
		t.ExpiresAt = testNow.Add(time.Duration(nt.TTLSeconds) * time.Second)
	}
	f.tokens = append(f.tokens, t)
	return t, fakeSecret, nil
}

func (f *fakeClient) ListTokens(context.Context) ([]api.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authCall(authCall{method: "ListTokens"}); err != nil {
		return nil, err
	}
	return slices.Clone(f.tokens), nil
}

func (f *fakeClient) RevokeToken(_ context.Context, name string) (api.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authCall(authCall{method: "RevokeToken", ref: name}); err != nil {
		return api.Token{}, err
	}
	i := f.findToken(name)
	if i < 0 {
		return api.Token{}, statusErr(http.StatusNotFound, "token not found")
	}
	f.tokens[i].RevokedAt = testNow
	return f.tokens[i], nil
}

func (f *fakeClient) AddEdge(_ context.Context, ne api.NewEdge) (api.EdgeJoinReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authCall(authCall{method: "AddEdge", ref: ne.Name, edge: ne}); err != nil {
		return api.EdgeJoinReply{}, err
	}
	ttl := time.Hour
	if ne.TTLSeconds > 0 {
		ttl = time.Duration(ne.TTLSeconds) * time.Second
	}
	e := api.Edge{Name: ne.Name, FirstSeen: testNow, Credential: api.CredentialPending}
	if i := f.findEdge(ne.Name); i >= 0 {
		f.edges[i].Credential = api.CredentialPending
		e = f.edges[i]
	} else {
		f.edges = append(f.edges, e)
	}
	return api.EdgeJoinReply{
		Envelope:  api.Envelope{Success: true, RequestID: "req-1"},
		Edge:      e,
		JoinToken: fakeJoin,
		ExpiresAt: testNow.Add(ttl),
		Command:   fakeCommand,
	}, nil
}

func (f *fakeClient) GetEdge(_ context.Context, name string) (api.Edge, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authCall(authCall{method: "GetEdge", ref: name}); err != nil {
		return api.Edge{}, err
	}
	i := f.findEdge(name)
	if i < 0 {
		return api.Edge{}, statusErr(http.StatusNotFound, "edge not found")
	}
	return f.edges[i], nil
}

func (f *fakeClient) setCredential(method, name, state string) (api.Edge, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authCall(authCall{method: method, ref: name}); err != nil {
		return api.Edge{}, err
	}
	i := f.findEdge(name)
	if i < 0 {
		return api.Edge{}, statusErr(http.StatusNotFound, "edge not found")
	}
	f.edges[i].Credential = state
	if state == api.CredentialRevoked {
		f.edges[i].Online = false
	}
	return f.edges[i], nil
}

func (f *fakeClient) RevokeEdge(_ context.Context, name string) (api.Edge, error) {
	return f.setCredential("RevokeEdge", name, api.CredentialRevoked)
}

func (f *fakeClient) RestoreEdge(_ context.Context, name string) (api.Edge, error) {
	return f.setCredential("RestoreEdge", name, api.CredentialJoined)
}

// fakeGrant is the signed URL the fake mints for a playlist URL.
func fakeGrant(playlist string, ttl time.Duration) api.Grant {
	if ttl == 0 {
		ttl = 2 * time.Hour
	}
	return api.Grant{URL: playlist + "?" + api.GrantParam + "=g1.sig", ExpiresAt: testNow.Add(ttl)}
}

func (f *fakeClient) SourceGrant(_ context.Context, source string, ttl time.Duration) (api.Grant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authCall(authCall{method: "SourceGrant", ref: source, ttl: ttl}); err != nil {
		return api.Grant{}, err
	}
	i := f.find(source)
	if i < 0 {
		return api.Grant{}, notFound()
	}
	return fakeGrant("http://ctl.example:8081"+api.LivePlaylistPath(f.sources[i].Name), ttl), nil
}

func (f *fakeClient) RecordingGrant(_ context.Context, id string, ttl time.Duration) (api.Grant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authCall(authCall{method: "RecordingGrant", ref: id, ttl: ttl}); err != nil {
		return api.Grant{}, err
	}
	if f.findRec(id) < 0 {
		return api.Grant{}, recNotFound(id)
	}
	return fakeGrant(recPlayback(id), ttl), nil
}

func (f *fakeClient) UpdateSource(_ context.Context, ref string, u api.SourceUpdate) (api.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authCall(authCall{method: "UpdateSource", ref: ref, update: u}); err != nil {
		return api.Source{}, err
	}
	i := f.find(ref)
	if i < 0 {
		return api.Source{}, notFound()
	}
	s := &f.sources[i]
	if u.Public != nil {
		s.Public = *u.Public
	}
	if u.Edge != nil {
		if f.findEdge(*u.Edge) < 0 {
			return api.Source{}, statusErr(http.StatusUnprocessableEntity, fmt.Sprintf("no edge named %q", *u.Edge))
		}
		s.Edge, s.RRTarget = *u.Edge, *u.Edge
	}
	if u.Description != nil {
		s.Description = *u.Description
	}
	if u.PullURL != nil {
		s.PullURL = redact.URL(*u.PullURL)
		if *u.PullURL == "" {
			s.Pull = nil
		}
	}
	if u.OnDemand != nil {
		s.OnDemand, s.IdleSeconds = *u.OnDemand, 60
		s.EdgeStreaming = s.IsStreaming() && !*u.OnDemand // asleep until watched
	}
	if u.IdleSeconds != nil && *u.IdleSeconds > 0 {
		s.IdleSeconds = *u.IdleSeconds
	}
	s.UpdatedAt = testNow
	return *s, nil
}

package mgmt

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/internal/secret"
)

// Access is what the API needs of access control (auth.Authority).
type Access interface {
	Authenticate(token string) (auth.Principal, error)
	CreateToken(ctx context.Context, by auth.Principal, nt api.NewToken) (api.Token, string, error)
	ListTokens(ctx context.Context) ([]api.Token, error)
	RevokeToken(ctx context.Context, by auth.Principal, name string) (api.Token, error)
	AddEdge(ctx context.Context, by auth.Principal, name string, ttl time.Duration) (secret.Secret, time.Time, error)
	RevokeEdge(ctx context.Context, by auth.Principal, name string) error
	RestoreEdge(ctx context.Context, by auth.Principal, name string) error
	EdgeCredential(name string) string
	EdgeNames() []string
	MintGrant(by auth.Principal, scope grant.Scope, ttl time.Duration) (string, time.Time, error)
	SetPublic(sourceID string, public bool)
	TokenValid(tokenID string) bool
}

// EventStream serves GET /v1/events to a follower whose token is owner,
// until that token expires (until) or is no longer valid.
type EventStream interface {
	ServeFor(w http.ResponseWriter, r *http.Request, owner string, until time.Time, valid func() bool)
}

// JoinInfo is how edges reach this control node, for join tokens.
type JoinInfo struct {
	// Hostnames are the operator's --hostname values; the first is the
	// host join tokens name unless the request says otherwise.
	Hostnames []string
	// MQTTPort and IngestPort are the broker's and the playback listener's ports.
	MQTTPort, IngestPort int
	// TLS is true when both listen with TLS.
	TLS bool
	// CAPin pins the CA edges verify the control node with ("" for system trust).
	CAPin string
	// MQTTURL, when set, is the broker URL edges use as it is (--broker).
	MQTTURL string
	// MachineName is this machine's host name: the join tokens' host when
	// no --hostname is given and the request came over loopback.
	MachineName string
}

// authError answers an access-control refusal or a store error.
func (a *API) authError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, auth.ErrForbidden):
		envelope.Fail(w, r, http.StatusForbidden, err.Error(), "")
	case errors.Is(err, auth.ErrInvalid):
		envelope.Fail(w, r, http.StatusBadRequest, err.Error(), "")
	case errors.Is(err, auth.ErrBadCredential), errors.Is(err, auth.ErrNoCredential):
		envelope.Fail(w, r, http.StatusUnauthorized, err.Error(), "")
	default:
		a.storeError(w, r, err)
	}
}

// emit records an event with the token that caused it.
func (a *API) emit(kind string, ev broker.Event, p auth.Principal) {
	ev.Actor = p.Name
	a.d.Events.Emit(kind, ev)
}

// authOff refuses the calls that make no sense with --auth none.
func (a *API) authOff(w http.ResponseWriter, r *http.Request) bool {
	if a.d.Access != nil {
		return false
	}
	envelope.Fail(w, r, http.StatusBadRequest, "access control is off on this control node (--auth none): there are no tokens, edge credentials or grants", "restart it without --auth none to use them")
	return true
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	envelope.Write(w, http.StatusOK, api.WhoamiReply{Envelope: envelope.OK(w, r), Whoami: api.Whoami{Token: p.Name, Role: p.Role, Auth: a.d.Access != nil}})
}

func (a *API) events(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var valid func() bool
	if a.d.Access != nil && p.TokenID != "" {
		valid = func() bool { return a.d.Access.TokenValid(p.TokenID) }
	}
	a.d.Stream.ServeFor(w, r, p.TokenID, p.Expires, valid)
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.authOff(w, r) {
		return
	}
	ts, err := a.d.Access.ListTokens(r.Context())
	if err != nil {
		a.authError(w, r, err)
		return
	}
	envelope.Write(w, http.StatusOK, api.TokensReply{Envelope: envelope.OK(w, r), Tokens: ts})
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if a.authOff(w, r) {
		return
	}
	var in api.NewToken
	if !decodeJSON(w, r, &in) {
		return
	}
	t, sec, err := a.d.Access.CreateToken(r.Context(), p, in)
	if err != nil {
		a.authError(w, r, err)
		return
	}
	a.logger.Info("token created", "token", t.Name, "role", t.Role, "by", p.Name)
	a.emit(broker.EventTokenCreated, broker.Event{Detail: t.Name + " (" + t.Role + ")"}, p)
	envelope.Write(w, http.StatusOK, api.NewTokenReply{Envelope: envelope.OK(w, r), Token: t, Secret: sec})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if a.authOff(w, r) {
		return
	}
	t, err := a.d.Access.RevokeToken(r.Context(), p, r.PathValue("id"))
	if err != nil {
		a.authError(w, r, err)
		return
	}
	a.logger.Info("token revoked", "token", t.Name, "by", p.Name)
	a.emit(broker.EventTokenRevoked, broker.Event{Detail: t.Name}, p)
	envelope.Write(w, http.StatusOK, api.TokenReply{Envelope: envelope.OK(w, r), Token: t})
}

func (a *API) addEdge(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if a.authOff(w, r) {
		return
	}
	var in api.NewEdge
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.TTLSeconds < 0 || in.TTLSeconds > 30*24*3600 {
		envelope.Fail(w, r, http.StatusBadRequest, "ttl_seconds "+strconv.FormatInt(in.TTLSeconds, 10)+": must be between 0 (default 1 h) and 30 days", "")
		return
	}
	host := in.Host
	if host == "" && len(a.cfg.Join.Hostnames) > 0 {
		host = a.cfg.Join.Hostnames[0]
	}
	if host == "" {
		host = r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		// Asked on the control node's own machine: loopback would send the
		// edge to itself; the machine's name (in the node's certificate)
		// is the better guess.
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			if a.cfg.Join.MachineName != "" {
				host = a.cfg.Join.MachineName
			}
		}
	}
	if host == "" {
		envelope.Fail(w, r, http.StatusBadRequest, "no host for the join token", "pass host (lmx edge add --host HOST)")
		return
	}
	if err := broker.ValidateName(in.Name); err != nil {
		envelope.Fail(w, r, http.StatusBadRequest, "edge name: "+err.Error(), "")
		return
	}
	// The join token must be one before the edge is added: adding an edge
	// that joined replaces its credential, which a refused request must not
	// do. Every join secret has the same length, so a stand-in shows it.
	standIn, err := secret.New(secret.KindJoin)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if _, err := a.joinToken(in.Name, host, standIn).Encode(); err != nil {
		envelope.Fail(w, r, http.StatusBadRequest, "join token: "+err.Error(), "check host (lmx edge add --host HOST)")
		return
	}
	js, exp, err := a.d.Access.AddEdge(r.Context(), p, in.Name, time.Duration(in.TTLSeconds)*time.Second)
	if err != nil {
		a.authError(w, r, err)
		return
	}
	j := a.joinToken(in.Name, host, js)
	tok, err := j.Encode()
	if err != nil {
		envelope.Fail(w, r, http.StatusBadRequest, "join token: "+err.Error(), "check host (lmx edge add --host HOST)")
		return
	}
	a.logger.Info("edge added", "edge", in.Name, "host", host, "by", p.Name)
	a.emit(broker.EventEdgeAdded, broker.Event{Edge: in.Name}, p)
	cmd := "lmx edged --join " + tok + " --allow-dir /path/to/segments"
	if a.cfg.Join.MQTTURL != "" {
		// An external broker cannot take the edge's credential: the edge
		// logs in there with the password of its own user.
		cmd = "LMX_MQTT_PASSWORD=MQTT-PASSWORD " + cmd
	}
	envelope.Write(w, http.StatusOK, api.EdgeJoinReply{
		Envelope: envelope.OK(w, r), Edge: a.edgeView(r.Context(), in.Name), JoinToken: tok, ExpiresAt: exp,
		Command: cmd,
	})
}

// joinToken is what an edge needs to find, verify and join this node via host.
func (a *API) joinToken(edge, host string, js secret.Secret) secret.Join {
	ji := a.cfg.Join
	mqttScheme, httpScheme := "mqtt", "http"
	if ji.TLS {
		mqttScheme, httpScheme = "mqtts", "https"
	}
	j := secret.Join{
		Edge:   edge,
		MQTT:   mqttScheme + "://" + net.JoinHostPort(host, strconv.Itoa(ji.MQTTPort)),
		Ingest: httpScheme + "://" + net.JoinHostPort(host, strconv.Itoa(ji.IngestPort)),
		Secret: js,
	}
	if ji.TLS {
		j.CAPin = ji.CAPin
	}
	if ji.MQTTURL != "" {
		j.MQTT = ji.MQTTURL
	}
	return j
}

func (a *API) getEdge(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	name := r.PathValue("id")
	e := a.edgeView(r.Context(), name)
	if e.FirstSeen.IsZero() && e.Credential == "" {
		envelope.Fail(w, r, http.StatusNotFound, "edge "+strconv.Quote(name)+": not found", "lmx edge ls lists the edges")
		return
	}
	envelope.Write(w, http.StatusOK, api.EdgeReply{Envelope: envelope.OK(w, r), Edge: e})
}

// revokeEdge and restoreEdge check authOff before they name a method of
// a.d.Access, which is nil then.

func (a *API) revokeEdge(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if a.authOff(w, r) {
		return
	}
	a.edgeChange(w, r, p, "revoked", broker.EventEdgeRevoked, a.d.Access.RevokeEdge)
}

func (a *API) restoreEdge(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if a.authOff(w, r) {
		return
	}
	a.edgeChange(w, r, p, "restored", broker.EventEdgeRestored, a.d.Access.RestoreEdge)
}

func (a *API) edgeChange(w http.ResponseWriter, r *http.Request, p auth.Principal, what, kind string, change func(context.Context, auth.Principal, string) error) {
	name := r.PathValue("id")
	if err := change(r.Context(), p, name); err != nil {
		a.authError(w, r, err)
		return
	}
	a.logger.Info("edge "+what, "edge", name, "by", p.Name)
	a.emit(kind, broker.Event{Edge: name}, p)
	envelope.Write(w, http.StatusOK, api.EdgeReply{Envelope: envelope.OK(w, r), Edge: a.edgeView(r.Context(), name)})
}

func (a *API) sourceGrant(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var in api.NewGrant
	if r.ContentLength != 0 && !decodeJSON(w, r, &in) {
		return
	}
	src, err := a.d.Store.GetSource(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	a.grant(w, r, p, in, grant.SourceScope(src.ID), api.LivePlaylistPath(src.Name))
}

func (a *API) recordingGrant(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var in api.NewGrant
	if r.ContentLength != 0 && !decodeJSON(w, r, &in) {
		return
	}
	rec, err := a.d.Store.GetRecording(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	a.grant(w, r, p, in, grant.RecordingScope(rec.ID), api.RecordingPlaylistPath(rec.ID))
}

func (a *API) grant(w http.ResponseWriter, r *http.Request, p auth.Principal, in api.NewGrant, scope grant.Scope, path string) {
	if in.TTLSeconds < 0 || in.TTLSeconds > 366*24*3600 {
		envelope.Fail(w, r, http.StatusBadRequest, "ttl_seconds "+strconv.FormatInt(in.TTLSeconds, 10)+": must be between 0 (default 2 h) and a year", "")
		return
	}
	u, exp, err := a.signedURL(p, scope, path, time.Duration(in.TTLSeconds)*time.Second)
	if err != nil {
		a.authError(w, r, err)
		return
	}
	envelope.Write(w, http.StatusOK, api.GrantReply{Envelope: envelope.OK(w, r), Grant: api.Grant{URL: u, ExpiresAt: exp}})
}

// signedURL is path on the playback listener with a grant for p (none when
// auth is off).
func (a *API) signedURL(p auth.Principal, scope grant.Scope, path string, ttl time.Duration) (string, time.Time, error) {
	u := a.cfg.PublicURL + path
	if a.d.Access == nil {
		return u, time.Time{}, nil
	}
	g, exp, err := a.d.Access.MintGrant(p, scope, ttl)
	if err != nil || g == "" {
		return u, exp, err
	}
	return u + "?" + api.GrantParam + "=" + g, exp, nil
}

// edgeView is an edge as the store, its status and access control know it.
func (a *API) edgeView(ctx context.Context, name string) api.Edge {
	ae := api.Edge{Name: name, Sources: []api.EdgeSource{}}
	if e, err := a.d.Store.GetEdge(ctx, name); err == nil {
		ae = api.Edge{Name: e.Name, Online: e.Online, Version: e.Version, IngestAddr: e.IngestAddr, StartedAt: e.StartedAt, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen, Sources: []api.EdgeSource{}}
	}
	if st, _, ok := a.d.Edges.Status(name); ok {
		for _, src := range st.Sources {
			ae.Sources = append(ae.Sources, api.EdgeSource{
				Name: src.Name, Streaming: src.Streaming, LastSegmentAt: src.LastSegmentAt, BitrateBPS: src.BitrateBPS,
				BufferedSeconds: src.BufferedSeconds, BufferedBytes: src.BufferedBytes, Uploaded: src.Uploaded, Dropped: src.Dropped,
				Pull: a.edgePull(ctx, name, src),
			})
		}
	}
	if a.d.Access != nil {
		ae.Credential = a.d.Access.EdgeCredential(name)
	}
	return ae
}

// addedEdges are the edges access control knows of that never reported.
func (a *API) addedEdges(seen map[string]bool) []string {
	if a.d.Access == nil {
		return nil
	}
	var out []string
	for _, n := range a.d.Access.EdgeNames() {
		if !seen[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

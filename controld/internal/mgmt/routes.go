package mgmt

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/envelope"
)

// Route is one path of the management API and what it needs.
type Route struct {
	// Method and Path are the ServeMux pattern's parts.
	Method, Path string
	// Perm is the permission a token needs; "" means open to anyone
	// (health and readiness only).
	Perm auth.Permission

	h func(w http.ResponseWriter, r *http.Request, p auth.Principal)
}

// Routes lists every route with the permission it needs: the roles table
// (docs/architecture.md) checked against it, and a test walks each.
func (a *API) Routes() []Route {
	read := func(h http.HandlerFunc) func(http.ResponseWriter, *http.Request, auth.Principal) {
		return func(w http.ResponseWriter, r *http.Request, _ auth.Principal) { h(w, r) }
	}
	return []Route{
		{"POST", api.PathSources, auth.PermSources, a.createSource},
		{"GET", api.PathSources, auth.PermRead, a.listSources},
		{"GET", api.PathSource, auth.PermRead, a.getSource},
		{"PATCH", api.PathSource, auth.PermSources, a.updateSource},
		{"DELETE", api.PathSource, auth.PermSources, a.deleteSource},
		{"PUT", api.PathSourceStreaming, auth.PermSources, a.setStreaming},
		{"POST", api.PathSourceGrant, auth.PermWatch, a.sourceGrant},
		{"POST", api.PathSourceRecordings, auth.PermRecord, a.startRecording},
		{"GET", api.PathSourceRecordings, auth.PermRead, a.listSourceRecordings},
		{"GET", api.PathRecordings, auth.PermRead, a.listRecordings},
		{"GET", api.PathRecording, auth.PermRead, a.getRecording},
		{"DELETE", api.PathRecording, auth.PermDelete, a.deleteRecording},
		{"POST", api.PathRecordingStop, auth.PermRecord, a.stopRecording},
		{"POST", api.PathRecordingPin, auth.PermRecord, a.pinRecording},
		{"POST", api.PathRecordingUnpin, auth.PermRecord, a.unpinRecording},
		{"POST", api.PathRecordingGrant, auth.PermWatch, a.recordingGrant},
		{"GET", api.PathEdges, auth.PermRead, a.listEdges},
		{"POST", api.PathEdges, auth.PermEdges, a.addEdge},
		{"GET", api.PathEdge, auth.PermRead, a.getEdge},
		{"POST", api.PathEdgeRevoke, auth.PermEdges, a.revokeEdge},
		{"POST", api.PathEdgeRestore, auth.PermEdges, a.restoreEdge},
		{"GET", api.PathTokens, auth.PermTokens, a.listTokens},
		{"POST", api.PathTokens, auth.PermTokens, a.createToken},
		{"DELETE", api.PathToken, auth.PermTokens, a.revokeToken},
		{"GET", api.PathWhoami, auth.PermRead, a.whoami},
		{"GET", api.PathEvents, auth.PermRead, a.events},
		{"GET", api.PathMetrics, auth.PermRead, read(a.d.Metrics.ServeHTTP)},
		{"GET", api.PathHealth, "", read(health)},
		{"GET", api.PathReady, "", read(a.ready)},
	}
}

// Handler routes the API's paths (api.Path*), each behind its check.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range a.Routes() {
		mux.HandleFunc(rt.Method+" "+rt.Path, a.guard(rt))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allowed := methodsFor(mux, r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			envelope.Fail(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path), "use "+strings.Join(allowed, " or "))
			return
		}
		envelope.Fail(w, r, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path), "see the HTTP API in the README")
	})
	return mux
}

// guard authenticates a request on its headers alone (no body is read
// before), checks its token's role against the route, and hands the
// principal to the handler. With auth off every request is auth.Open.
func (a *API) guard(rt Route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if rt.Perm == "" || a.d.Access == nil {
			rt.h(w, r, auth.Open)
			return
		}
		ip := a.d.Gate.ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
		if retry, blocked := a.d.Gate.Blocked(ip); blocked {
			tooMany(w, r, ip, retry)
			return
		}
		tok, err := auth.Bearer(r.Header.Get("Authorization"))
		if err != nil {
			a.d.Gate.Failed(ip, "malformed", err)
			envelope.Fail(w, r, http.StatusBadRequest, err.Error(), "send Authorization: Bearer TOKEN")
			return
		}
		p, err := a.d.Access.Authenticate(tok)
		if err != nil {
			if tok != "" {
				a.d.Gate.Failed(ip, "token", err)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="lmx"`)
			envelope.Fail(w, r, http.StatusUnauthorized, err.Error(), "pass --token or set LMX_TOKEN; on the control node's machine lmx reads DATA-DIR/"+api.AdminTokenFile)
			return
		}
		if err := auth.Allow(p, rt.Perm); err != nil {
			envelope.Forbidden(w, r, err.Error(), auth.LeastRole(rt.Perm))
			return
		}
		rt.h(w, r, p)
	}
}

// tooMany answers 429 to an address that failed authentication too often.
func tooMany(w http.ResponseWriter, r *http.Request, ip netip.Addr, retry time.Duration) {
	secs := int(retry.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	envelope.Fail(w, r, http.StatusTooManyRequests, fmt.Sprintf("too many failed authentications from %s", ip), fmt.Sprintf("retry in %d s", secs))
}

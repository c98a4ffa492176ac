package mgmt_test

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/mgmt"
	"github.com/lmx-video/lmx/internal/secret"
)

// repoRoot is the module's root, from this package's directory.
const repoRoot = "../../.."

// openRoutes are the only routes anyone may call without a token.
var openRoutes = []string{"GET " + api.PathHealth, "GET " + api.PathReady}

// wantPerm is the permission each route needs, from the permissions'
// definitions (auth.Perm*): the walker checks Routes() against it, so a
// route given the wrong permission, or added without saying here which it
// needs, fails.
var wantPerm = map[string]auth.Permission{
	"POST " + api.PathSources:          auth.PermSources,
	"GET " + api.PathSources:           auth.PermRead,
	"GET " + api.PathSource:            auth.PermRead,
	"PATCH " + api.PathSource:          auth.PermSources,
	"DELETE " + api.PathSource:         auth.PermSources,
	"PUT " + api.PathSourceStreaming:   auth.PermSources,
	"POST " + api.PathSourceGrant:      auth.PermWatch,
	"POST " + api.PathSourceRecordings: auth.PermRecord,
	"GET " + api.PathSourceRecordings:  auth.PermRead,
	"GET " + api.PathRecordings:        auth.PermRead,
	"GET " + api.PathRecording:         auth.PermRead,
	"DELETE " + api.PathRecording:      auth.PermDelete,
	"POST " + api.PathRecordingStop:    auth.PermRecord,
	"POST " + api.PathRecordingPin:     auth.PermRecord,
	"POST " + api.PathRecordingUnpin:   auth.PermRecord,
	"POST " + api.PathRecordingGrant:   auth.PermWatch,
	"GET " + api.PathEdges:             auth.PermRead,
	"POST " + api.PathEdges:            auth.PermEdges,
	"GET " + api.PathEdge:              auth.PermRead,
	"POST " + api.PathEdgeRevoke:       auth.PermEdges,
	"POST " + api.PathEdgeRestore:      auth.PermEdges,
	"GET " + api.PathTokens:            auth.PermTokens,
	"POST " + api.PathTokens:           auth.PermTokens,
	"DELETE " + api.PathToken:          auth.PermTokens,
	"GET " + api.PathWhoami:            auth.PermRead,
	"GET " + api.PathEvents:            auth.PermRead,
	"GET " + api.PathMetrics:           auth.PermRead,
	"GET " + api.PathHealth:            "",
	"GET " + api.PathReady:             "",
}

// mutating reports whether a successful call of rt changes something, and
// so must emit an event naming its caller.
func mutating(rt mgmt.Route) bool {
	return rt.Method != http.MethodGet && rt.Path != api.PathSourceGrant && rt.Path != api.PathRecordingGrant
}

// prepare makes what a call of rt needs, fresh, so that each call can
// succeed when allowed whatever ran before: it returns the path to call
// (with {id} filled and a query if needed), a body, and whether it knows
// the route (for a route it does not know, the path has {id} = "x" and the
// call is only checked not to be refused when allowed).
func (n *authNode) prepare(t *testing.T, rt mgmt.Route) (path, body string, known bool) {
	t.Helper()
	tag := n.tag()
	switch rt.Path {
	case api.PathSources:
		if rt.Method == http.MethodPost {
			body = `{"name":"new-` + tag + `","description":"made by the walker"}`
		}
		return rt.Path, body, true
	case api.PathSource, api.PathSourceStreaming, api.PathSourceGrant, api.PathSourceRecordings:
		src := n.source(t, "src-"+tag)
		path = api.Expand(rt.Path, src.Name)
		switch {
		case rt.Path == api.PathSourceStreaming:
			path += "?new_state=true"
		case rt.Method == http.MethodPatch:
			body = `{"description":"changed","public":true}`
		case rt.Path == api.PathSourceGrant:
			body = `{"ttl_seconds":600}`
		case rt.Method == http.MethodPost:
			body = `{"alias":"a-` + tag + `"}`
		}
		return path, body, true
	case api.PathRecordings, api.PathEdges, api.PathTokens:
		if rt.Method == http.MethodPost && rt.Path == api.PathEdges {
			body = `{"name":"new-edge-` + tag + `"}`
		}
		if rt.Method == http.MethodPost && rt.Path == api.PathTokens {
			body = `{"name":"new-token-` + tag + `","role":"viewer","ttl_seconds":3600}`
		}
		return rt.Path, body, true
	case api.PathRecording, api.PathRecordingStop, api.PathRecordingGrant, api.PathRecordingPin, api.PathRecordingUnpin:
		rec := n.recording(t, tag, rt.Method == http.MethodDelete)
		if rt.Path == api.PathRecordingGrant {
			body = `{}`
		}
		return api.Expand(rt.Path, rec.ID), body, true
	case api.PathEdge, api.PathEdgeRevoke, api.PathEdgeRestore:
		name := "edge-" + tag
		n.edge(t, name, rt.Path == api.PathEdgeRestore)
		if rt.Path == api.PathEdgeRestore {
			if err := n.auth.RevokeEdge(t.Context(), n.admin, name); err != nil {
				t.Fatal(err)
			}
		}
		return api.Expand(rt.Path, name), "", true
	case api.PathToken:
		name := "victim-" + tag
		n.newToken(t, name, api.RoleViewer)
		return api.Expand(rt.Path, name), "", true
	case api.PathWhoami, api.PathEvents, api.PathMetrics, api.PathHealth, api.PathReady:
		return rt.Path, "", true
	}
	return api.Expand(rt.Path, "x"), "{}", false
}

// TestRolesWalk calls every route of the API without credentials, with
// bad ones, and with a token of each role, and checks each answer against
// the roles table (auth.Allows): a route whose permission is wrong, or
// that skips its check, fails here.
func TestRolesWalk(t *testing.T) {
	n := startAuth(t, authOpts{})
	close(n.ready)
	routes := n.api.Routes()

	var open []string
	seen := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		if seen[key] {
			t.Errorf("%s is listed twice", key)
		}
		seen[key] = true
		if want, ok := wantPerm[key]; !ok {
			t.Errorf("%s is not in wantPerm: add it with the permission it needs", key)
		} else if rt.Perm != want {
			t.Errorf("%s needs %q, want %q", key, rt.Perm, want)
		}
		if rt.Perm == "" {
			open = append(open, key)
		} else if !slices.Contains(auth.Permissions, rt.Perm) {
			t.Errorf("%s needs %q, which is not a permission of the roles table", key, rt.Perm)
		}
	}
	for key := range wantPerm {
		if !seen[key] {
			t.Errorf("%s is in wantPerm but not in Routes()", key)
		}
	}
	if slices.Sort(open); !slices.Equal(open, slices.Sorted(slices.Values(openRoutes))) {
		t.Errorf("routes open to anyone: %v, want only %v", open, openRoutes)
	}

	garbage := bearer("garbage")
	unk, err := secret.New(secret.KindToken)
	if err != nil {
		t.Fatal(err)
	}
	unknown := bearer(unk.String())
	var exercised []string // mutating routes that succeeded at least once
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		t.Run(strings.ReplaceAll(key, "/", "_"), func(t *testing.T) {
			call := func(authz string) (*httptest.ResponseRecorder, string) {
				path, body, _ := n.prepare(t, rt)
				what := rt.Method + " " + path
				if authz != "" {
					what += " with " + strings.Fields(authz)[0]
				}
				return n.do(t, req{method: rt.Method, path: path, body: body, authz: authz}), what
			}
			noEvents := func(what string) {
				t.Helper()
				if evs := n.takeEvents(); len(evs) != 0 {
					t.Errorf("%s: refused, yet events %v were emitted", what, evs)
				}
				if n.stream.take() != nil {
					t.Errorf("%s: refused, yet the event stream was served", what)
				}
			}

			if rt.Perm == "" {
				for _, authz := range []string{"", "Basic x", garbage, bearer(n.tokens[api.RoleViewer].secret)} {
					rec, what := call(authz)
					if rec.Code != http.StatusOK {
						t.Errorf("%s: %d, want 200: an open route answers whatever is sent\n%s", what, rec.Code, rec.Body)
					}
				}
				n.takeEvents()
				return
			}

			// (a) No credentials: 401, with the envelope and a challenge.
			rec, what := call("")
			failure(t, what, rec, http.StatusUnauthorized)
			if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="lmx"` {
				t.Errorf("%s: WWW-Authenticate %q", what, got)
			}
			noEvents(what)

			// (b) Not a bearer token: 400.
			rec, what = call("Basic x")
			failure(t, what, rec, http.StatusBadRequest)
			noEvents(what)

			// (c) A bearer token that is not one: 401, quoting nothing of it.
			for _, authz := range []string{garbage, unknown} {
				rec, what = call(authz)
				failure(t, what, rec, http.StatusUnauthorized)
				if tok := strings.TrimPrefix(authz, "Bearer "); strings.Contains(rec.Body.String(), tok) {
					t.Errorf("%s: the answer quotes the token presented", what)
				}
				noEvents(what)
			}

			// (d) Each role: 403 exactly when the roles table says no.
			for _, role := range roles {
				tok := n.tokens[role]
				path, body, known := n.prepare(t, rt)
				what := rt.Method + " " + path + " as " + role
				rec := n.do(t, req{method: rt.Method, path: path, body: body, authz: bearer(tok.secret)})
				if !auth.Allows(role, rt.Perm) {
					env := failure(t, what, rec, http.StatusForbidden)
					if env.Error != nil && !strings.Contains(env.Error.Message, auth.LeastRole(rt.Perm)) {
						t.Errorf("%s: message %q does not say which role is needed (%s)", what, env.Error.Message, auth.LeastRole(rt.Perm))
					}
					noEvents(what)
					continue
				}
				switch {
				case rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden:
					t.Errorf("%s: %d, but the roles table allows %s to %s\n%s", what, rec.Code, role, rt.Perm, rec.Body)
				case known && rec.Code != http.StatusOK:
					t.Errorf("%s: %d, want 200\n%s", what, rec.Code, rec.Body)
				}
				evs := n.takeEvents()
				if mutating(rt) && rec.Code == http.StatusOK {
					if len(evs) == 0 {
						t.Errorf("%s: changed something and emitted no event", what)
					}
					exercised = append(exercised, key)
				}
				if !mutating(rt) && len(evs) != 0 {
					t.Errorf("%s: changed nothing, yet emitted %v", what, evs)
				}
				for _, ev := range evs {
					if ev.Event.Actor != tok.p.Name {
						t.Errorf("%s: event %s has actor %q, want the caller's token %q", what, ev.Kind, ev.Event.Actor, tok.p.Name)
					}
				}
				if rt.Path == api.PathEvents {
					if got := n.stream.take(); !slices.Equal(got, []string{tok.p.TokenID}) {
						t.Errorf("%s: the stream was opened for %v, want the caller's token id %s", what, got, tok.p.TokenID)
					}
				}
			}
		})
	}

	for _, rt := range routes {
		if key := rt.Method + " " + rt.Path; mutating(rt) && !slices.Contains(exercised, key) {
			t.Errorf("%s never succeeded: its event was not checked", key)
		}
	}
	n.checkNoSecrets(t)
}

// apiPaths are the values of the api package's Path* constants.
func apiPaths(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(repoRoot, "api")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Path") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					if v, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(v, "/") {
						out = append(out, v)
					}
				}
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("found only %d Path constants in %s: %v", len(out), dir, out)
	}
	return out
}

// TestNoRouteBypassesGuard checks that the API answers nothing but what
// Routes lists: every api.Path* pattern with every method is either a
// listed route or a 404/405, even with an admin token. Since Handler puts
// each listed route behind guard, a route registered any other way fails
// here.
func TestNoRouteBypassesGuard(t *testing.T) {
	n := startAuth(t, authOpts{})
	close(n.ready)
	listed := map[string]bool{}
	for _, rt := range n.api.Routes() {
		listed[rt.Method+" "+rt.Path] = true
	}
	mux, isMux := n.h.(*http.ServeMux)
	admin := bearer(n.tokens[api.RoleAdmin].secret)
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "PROPFIND"}
	for _, path := range apiPaths(t) {
		for _, m := range methods {
			key := m + " " + path
			url := api.Expand(path, "x")
			if isMux {
				_, pattern := mux.Handler(httptest.NewRequest(m, url, nil))
				want := "/"
				if listed[key] {
					want = key
				} else if m == http.MethodHead && listed["GET "+path] {
					want = "GET " + path // a GET route answers HEAD, behind the same guard
				}
				if pattern != want {
					t.Errorf("%s %s is served by pattern %q, want %q", m, url, pattern, want)
				}
			}
			if listed[key] || m == http.MethodHead && listed["GET "+path] {
				continue
			}
			for _, authz := range []string{"", admin} {
				rec := n.do(t, req{method: m, path: url, authz: authz})
				if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
					t.Errorf("%s %s answers %d, but is not in Routes()", m, url, rec.Code)
				}
			}
		}
	}
	if !isMux {
		t.Log("the handler is not a *http.ServeMux: patterns not checked")
	}
}

// TestRolesTableInDocs checks docs/architecture.md's roles table against
// the roles table in code. The table has a row per permission, its first
// cell naming it (in backticks), and a column per role, whose cell is
// empty, "-", "–", "—", "no" or "✗" where the role lacks the permission.
func TestRolesTableInDocs(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cells := func(line string) []string {
		parts := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	col := map[string]int{}
	rows := map[auth.Permission][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(strings.TrimSpace(line), "|") {
			if len(col) > 0 && len(rows) > 0 {
				break // the end of the roles table
			}
			col = map[string]int{}
			continue
		}
		cs := cells(line)
		if len(col) == 0 {
			for i, c := range cs {
				for _, r := range roles {
					if strings.EqualFold(strings.Trim(c, "`*"), r) {
						col[r] = i
					}
				}
			}
			if len(col) != len(roles) {
				col = map[string]int{}
			}
			continue
		}
		for _, p := range auth.Permissions {
			if strings.Contains(cs[0], "`"+string(p)+"`") {
				rows[p] = cs
			}
		}
	}
	if len(col) == 0 {
		t.Skip("docs/architecture.md has no roles table (a row per permission, a column per role) yet")
	}
	for _, p := range auth.Permissions {
		cs, ok := rows[p]
		if !ok {
			t.Errorf("the roles table in docs/architecture.md has no row for `%s`", p)
			continue
		}
		for _, r := range roles {
			cell := ""
			if col[r] < len(cs) {
				cell = cs[col[r]]
			}
			documented := !slices.Contains([]string{"", "-", "–", "—", "no", "✗"}, strings.ToLower(cell))
			if documented != auth.Allows(r, p) {
				t.Errorf("docs/architecture.md says %s may %s: %v; the code says %v", r, p, documented, auth.Allows(r, p))
			}
		}
	}
}

// withTimeout fails the test instead of hanging it.
func withTimeout(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still waiting after %s", what, d)
	}
}

package lmx_test

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The package boundaries of docs/architecture.md, kept true by the tests in
// this file:
//
//   - TestImportAllowlist: every lmx package is covered by exactly one rule
//     of importRules, and imports directly only the lmx packages its rule
//     allows. A new package fails the test until it is given a rule.
//   - TestDependencyBans: the edge binary never links the broker, SQLite,
//     MinIO, the TUI, the segment cache, Prometheus or fasthttp, on any
//     platform it ships for.
//   - TestStandardLibraryOnly: the MQTT contract, the API types, the
//     playlist rules, the TLS packages, the secret formats and the
//     playback grants use the standard library only.

// module is the lmx module path; rules name packages relative to it.
const module = "github.com/lmx-video/lmx"

// importRule says which lmx packages the packages matched by pkg may import
// directly.
//
// Patterns, in pkg, allow and deny, are package paths relative to the
// module: "." is the module root, "x" is package x only, "x/..." is x and
// every package below it (on path boundaries: "controld/..." does not match
// controld2), and "..." is every lmx package.
type importRule struct {
	pkg   string   // the packages the rule covers
	allow []string // the lmx packages they may import
	deny  []string // exceptions to allow
	tests bool     // the rule holds for the packages' test files too
	why   string   // the reason, printed when the rule is broken
}

// controldAllowed is what the control node and its parts may build on.
var controldAllowed = []string{
	"api", "broker", "broker/client", "broker/embedded", "hls",
	"sqlstore", "objstore", "internal/bytesize", "internal/days", "internal/netaddr",
	"internal/tlsca", "internal/tlspin", "internal/secret", "internal/redact", "internal/pullurl",
}

// edgeAllowed is what the edge agent may build on.
var edgeAllowed = []string{"broker", "broker/client", "hls", "internal/bytesize", "internal/netaddr", "internal/secret", "internal/tlspin", "internal/redact", "internal/pullurl"}

// importRules covers every package of the module. The rules hold for a
// package's own (non-test) files: test files may reach further (controld's
// tests run a real edge) because they are never linked into a binary. The
// rule for e2e holds for its tests too, as they are all it has.
var importRules = []importRule{
	{pkg: ".", tests: true,
		why: "the module root holds only repository-wide tests, which read the tree with go list"},
	{pkg: "api",
		why: "the API's types and client are shared by controld, cli, tui and humanfmt, so the package is a leaf"},
	{pkg: "broker",
		why: "the MQTT contract (topics, payloads, QoS) is imported by the edge and every other side, so the package is a leaf"},
	{pkg: "broker/client", allow: []string{"broker", "internal/netaddr"},
		why: "the MQTT client of the edge and of controld with an external broker may know the contract, nothing above it"},
	{pkg: "broker/embedded", allow: []string{"broker"},
		why: "the control node's broker enforces the contract's topics in its ACL and knows nothing above it"},
	{pkg: "hls", why: "the RFC 8216 playlist rules are shared by both nodes, so the package is a leaf"},
	{pkg: "sqlstore", why: "the SQLite store sits below controld and knows nothing of the nodes"},
	{pkg: "objstore", why: "the recording store (file or S3) sits below controld and the benchmarks and knows nothing of the nodes"},
	{pkg: "internal/bytesize", why: "a small helper used by both nodes, so it is a leaf"},
	{pkg: "internal/days", why: "durations with days and weeks (7d, 2w) read the same in the control node's flags and the CLI's, so the package is a leaf"},
	{pkg: "internal/buildinfo", why: "both binaries say which build they are the same way, so the package is a leaf"},
	{pkg: "internal/syncbuf", why: "a concurrency-safe buffer the tests of several packages hand daemons and loggers, so the package is a leaf"},
	{pkg: "internal/config", why: "both daemons read their flags from YAML files the same way, in the small edge binary too, so the package is a leaf (kong and a YAML parser only)"},
	{pkg: "internal/netaddr", why: "the default ports and addresses are used by both nodes and the CLI, so the package is a leaf"},
	{pkg: "internal/tlspin", why: "the edge trusts the control node's CA by its pin in the small edge binary, so the package is a leaf"},
	{pkg: "internal/tlsca", allow: []string{"internal/tlspin"},
		why: "the control node's CA and certificate files know nothing of the nodes; they only write pins the way edges read them"},
	{pkg: "internal/secret", allow: []string{"broker"},
		why: "the formats of secrets and join tokens are read by the edge binary and by the control node; they build on the MQTT contract's name rules and nothing else"},
	{pkg: "internal/redact", why: "camera credentials are masked the same way by the edge, the control node and the CLI, so the package is a leaf"},
	{pkg: "internal/pullurl", allow: []string{"internal/redact"},
		why: "which camera URLs ffmpeg may read is checked by the control node and again by the edge; it masks what it quotes and knows nothing else"},
	{pkg: "internal/humanfmt", allow: []string{"api"},
		why: "formats API values for people for both cli and tui, so it may import neither"},
	{pkg: "controld", allow: append(slices.Clone(controldAllowed), "controld/internal/..."),
		deny: []string{"cli", "tui", "edged", "internal/demo"},
		why:  "the control node is built from the broker, stores, caches and playlists; cli, tui, edged and internal/demo are built on it or talk to it over the network, never the reverse"},
	// The control node's components: each may use the shared packages it
	// needs and the components it is built on, never one beside or above it,
	// so each concern keeps one home (see docs/architecture.md).
	{pkg: "controld/internal/eventstest", allow: []string{"broker"},
		why: "records emitted events for the components' tests; only tests import it"},
	{pkg: "controld/internal/metrics",
		why: "the Prometheus series are handed to every component, so the package is a leaf"},
	{pkg: "controld/internal/grant",
		why: "playback grants are signed and checked with the standard library alone, for the listener and the management API both, so the package is a leaf"},
	{pkg: "controld/internal/envelope", allow: []string{"api"},
		why: "the LiveMix reply envelope is written by both HTTP stacks from the API's types, and knows nothing else"},
	{pkg: "controld/internal/live", allow: []string{"hls"},
		why: "live windows hold segments and render playlists; who uploads or watches them is not theirs to know"},
	{pkg: "controld/internal/events", allow: []string{"broker", "controld/internal/envelope"},
		why: "the event stream relays the control plane's events and edge statuses; it serves them, it does not make them"},
	{pkg: "controld/internal/edges", allow: []string{"broker", "sqlstore", "internal/redact"},
		why: "the edge tracker reads the status topic and writes desired state from the store, masking camera credentials in what edges report of their pulls; it knows no HTTP"},
	{pkg: "controld/internal/ondemand", allow: []string{"broker", "sqlstore"},
		why: "which on-demand sources are awake is decided here from playlist requests and a clock; it changes live windows and desired states only through the small interfaces it defines"},
	{pkg: "controld/internal/auth", allow: []string{"api", "broker", "sqlstore", "internal/secret", "controld/internal/grant", "controld/internal/envelope", "controld/internal/metrics"},
		why: "access control tells who a request comes from and what it may do, from the store's tokens and credentials; it runs no listener, so both HTTP stacks and the broker's hooks are handed it"},
	{pkg: "controld/internal/recording", allow: []string{"broker", "hls", "objstore", "sqlstore"},
		why: "recording and replay own the spool, the object store and the replay cache, below every HTTP layer (broker: the form of an fMP4 init segment's id)"},
	{pkg: "controld/internal/continuous", allow: []string{"broker", "sqlstore", "internal/days"},
		why: "continuous recording cuts chunks in the store and asks for desired states through a small interface; recording asks it where chunks end, never the reverse"},
	{pkg: "controld/internal/retention", allow: []string{"broker", "sqlstore", "internal/bytesize", "internal/days"},
		why: "retention deletes what the store says is expired and hands the object keys to a small interface; it serves nothing and knows no HTTP"},
	{pkg: "controld/internal/feeds", allow: []string{"broker"},
		why: "which feed of a multi-feed source is listed is decided here from uploads and a clock; it hands a new feed's held segments to a small interface and knows no store, HTTP or live window"},
	{pkg: "controld/internal/ingest", allow: []string{"api", "broker", "hls", "sqlstore", "internal/bytesize", "controld/internal/feeds", "controld/internal/live", "controld/internal/recording"},
		why: "ingest feeds live windows and recordings; it knows no HTTP stack (the listener hands it an Upload)"},
	{pkg: "controld/internal/vod", allow: []string{"api", "broker", "hls", "sqlstore", "controld/internal/auth", "controld/internal/grant", "controld/internal/envelope", "controld/internal/ingest", "controld/internal/live", "controld/internal/metrics", "controld/internal/recording"},
		why: "the playback and ingest listener serves live windows and recordings, checked against access control, and hands uploads to ingest; it holds no state of its own"},
	{pkg: "controld/internal/mgmt", allow: []string{"api", "broker", "sqlstore", "internal/secret", "internal/redact", "internal/pullurl", "controld/internal/auth", "controld/internal/grant", "controld/internal/envelope", "controld/internal/feeds", "controld/internal/live", "controld/internal/recording"},
		why: "the management API changes state through the store, access control and the components' small interfaces, never through the listener or ingest"},
	{pkg: "edged", allow: edgeAllowed,
		why: "the edge agent ships in the small lmx-edge binary and reaches the control node only over MQTT and HTTP: no control node, store, API or TUI"},
	{pkg: "cmd/lmx-edge", allow: append(slices.Clone(edgeAllowed), "edged", "internal/buildinfo", "internal/config"),
		why: "the edge binary is the edge agent and what the agent may use, nothing more"},
	{pkg: "tui", allow: []string{"api", "broker", "internal/humanfmt"},
		why: "the dashboard reaches the control node through the API client interface, reads edge status and events with the MQTT contract, and never links a node or the CLI"},
	{pkg: "cli", allow: []string{"..."}, deny: []string{"e2e"},
		why: "the commands assemble the lmx binary from every part, but never the end-to-end tests"},
	{pkg: "cmd/lmx", allow: []string{"cli", "internal/buildinfo"},
		why: "main is the one exit point; the commands live in cli"},
	{pkg: "internal/demo", allow: []string{"api", "controld", "edged", "internal/netaddr"},
		why: "lmx demo runs a control node and an edge in one process and drives them through the API"},
	{pkg: "bench/lmxbench", allow: []string{"api", "hls", "objstore"},
		why: "the benchmarks drive the built binaries like a client and may read the recording store, but never link a node, so they measure the binaries"},
	{pkg: "packaging", tests: true,
		why: "the package tests build the binaries and run them, as a machine that installs the packages does: they import no lmx package"},
	{pkg: "e2e", allow: []string{"api", "broker", "hls", "internal/secret", "internal/tlsca"}, tests: true,
		why: "the end-to-end tests drive the built binaries and share only the wire contract's types with them, plus the credential formats and a CA maker to forge what an attacker would"},
}

// matchPattern reports whether the module-relative package path pkg
// matches pattern (see importRule).
func matchPattern(pattern, pkg string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// matchAny reports whether pkg matches one of patterns.
func matchAny(patterns []string, pkg string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matchPattern(p, pkg) })
}

// relPath is an import path relative to the module, and whether it is an
// lmx package at all.
func relPath(importPath string) (string, bool) {
	if importPath == module {
		return ".", true
	}
	return strings.CutPrefix(importPath, module+"/")
}

// isPattern reports whether p stands for more than one package.
func isPattern(p string) bool { return p == "..." || strings.HasSuffix(p, "/...") }

// goList runs go list with args and extra environment and returns its output lines.
func goList(t *testing.T, env []string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s go list %s: %v\n%s", strings.Join(env, " "), strings.Join(args, " "), err, stderr)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// listError is the go list template of a package's error, quoted onto one
// line. The tests list with -e, so that a broken package (an import cycle
// is what a forbidden import often makes) is reported along with the rule
// it breaks.
const listError = `{{with .Error}}{{printf "%q" .Err}}{{end}}`

// reportListError fails the test with the error go list gave for pkg, if any.
func reportListError(t *testing.T, pkg, quoted string) {
	t.Helper()
	if quoted == "" {
		return
	}
	msg, err := strconv.Unquote(quoted)
	if err != nil {
		msg = quoted
	}
	t.Errorf("go list: %s: %s", pkg, msg)
}

func TestMatchPattern(t *testing.T) {
	for _, c := range []struct {
		pattern, pkg string
		want         bool
	}{
		{"controld", "controld", true},
		{"controld", "controld2", false},
		{"controld", "controld/internal/live", false},
		{"controld/internal/...", "controld/internal", true},
		{"controld/internal/...", "controld/internal/live", true},
		{"controld/internal/...", "controld/internal/live/hls", true},
		{"controld/internal/...", "controld", false},
		{"controld/internal/...", "controld/internalx", false},
		{"controld/internal/...", "controld/internalx/live", false},
		{"broker/...", "broker", true},
		{"broker/...", "brokers", false},
		{"...", "anything/at/all", true},
		{"...", ".", true},
		{".", ".", true},
		{".", "api", false},
	} {
		if got := matchPattern(c.pattern, c.pkg); got != c.want {
			t.Errorf("matchPattern(%q, %q) = %v; want %v", c.pattern, c.pkg, got, c.want)
		}
	}
}

// lmxPackage is one package of the module and its direct lmx imports.
type lmxPackage struct {
	rel         string
	imports     []string // from its own files
	testImports []string // from its test files
}

// listPackages lists the module's packages and their direct imports.
func listPackages(t *testing.T) []lmxPackage {
	t.Helper()
	var pkgs []lmxPackage
	for _, line := range goList(t, nil, "-e", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .TestImports " "}} {{join .XTestImports " "}}|`+listError, "./...") {
		fields := strings.SplitN(line, "|", 4)
		if len(fields) != 4 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		rel, ok := relPath(fields[0])
		if !ok {
			t.Fatalf("go list: %s is outside %s", fields[0], module)
		}
		reportListError(t, fields[0], fields[3])
		lmxOnly := func(s string) []string {
			var out []string
			for _, imp := range strings.Fields(s) {
				if r, ok := relPath(imp); ok && r != rel {
					out = append(out, r)
				}
			}
			return out
		}
		pkgs = append(pkgs, lmxPackage{rel: rel, imports: lmxOnly(fields[1]), testImports: lmxOnly(fields[2])})
	}
	return pkgs
}

// checkRuleTable fails on a malformed pattern or on an exact package name in
// the table that names no package.
func checkRuleTable(t *testing.T, pkgs []lmxPackage) {
	t.Helper()
	exists := map[string]bool{}
	for _, p := range pkgs {
		exists[p.rel] = true
	}
	check := func(where, p string) {
		switch {
		case p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "./") || strings.HasSuffix(p, "/"):
			t.Errorf("%s: %q is not a module-relative package path or pattern", where, p)
		case strings.Contains(strings.TrimSuffix(p, "..."), "..."):
			t.Errorf("%s: %q: \"...\" may only end a pattern, after a slash", where, p)
		case !isPattern(p) && !exists[p]:
			t.Errorf("%s: there is no package %q; remove it from the rules", where, p)
		}
	}
	seen := map[string]bool{}
	for _, r := range importRules {
		where := "rule " + r.pkg
		if seen[r.pkg] {
			t.Errorf("%s: two rules for the same packages", where)
		}
		seen[r.pkg] = true
		if r.why == "" {
			t.Errorf("%s: give the rule its reason", where)
		}
		check(where, r.pkg)
		for _, p := range r.allow {
			check(where+", allow", p)
		}
		for _, p := range r.deny {
			check(where+", deny", p)
		}
	}
}

// TestImportAllowlist checks every package's direct lmx imports against its
// rule, and that every package has exactly one rule.
func TestImportAllowlist(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	pkgs := listPackages(t)
	checkRuleTable(t, pkgs)
	for _, p := range pkgs {
		var rules []importRule
		for _, r := range importRules {
			if matchPattern(r.pkg, p.rel) {
				rules = append(rules, r)
			}
		}
		switch len(rules) {
		case 0:
			t.Errorf("%s/%s: no rule covers the package; add one to importRules in arch_test.go, with its reason", module, p.rel)
			continue
		case 1:
		default:
			var keys []string
			for _, r := range rules {
				keys = append(keys, r.pkg)
			}
			t.Errorf("%s/%s: several rules cover the package (%s); keep one", module, p.rel, strings.Join(keys, ", "))
			continue
		}
		r := rules[0]
		check := func(imports []string, what string) {
			for _, imp := range imports {
				if !matchAny(r.allow, imp) || matchAny(r.deny, imp) {
					t.Errorf("%s/%s%s imports %s/%s, which rule %q does not allow: %s", module, p.rel, what, module, imp, r.pkg, r.why)
				}
			}
		}
		check(p.imports, "")
		if r.tests {
			check(p.testImports, " (tests)")
		}
	}
}

// depGraph is a package's transitive dependencies: each one's direct imports.
type depGraph struct {
	root     string
	imports  map[string][]string
	standard map[string]bool
	order    []string
}

// listDeps lists pkg's dependencies (pkg included) with env set.
func listDeps(t *testing.T, env []string, pkg string) depGraph {
	t.Helper()
	g := depGraph{imports: map[string][]string{}, standard: map[string]bool{}}
	for _, line := range goList(t, env, "-e", "-deps", "-f", `{{.ImportPath}}|{{.Standard}}|{{join .Imports " "}}|`+listError, pkg) {
		fields := strings.SplitN(line, "|", 4)
		if len(fields) != 4 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		reportListError(t, fields[0], fields[3])
		g.imports[fields[0]] = strings.Fields(fields[2])
		g.standard[fields[0]] = fields[1] == "true"
		g.order = append(g.order, fields[0])
	}
	g.root = g.order[len(g.order)-1] // go list -deps lists the named package last
	return g
}

// chain is the shortest import chain from the root to dep.
func (g depGraph) chain(dep string) string {
	prev := map[string]string{g.root: ""}
	queue := []string{g.root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == dep {
			var path []string
			for ; p != ""; p = prev[p] {
				path = append(path, p)
			}
			slices.Reverse(path)
			return strings.Join(path, " -> ")
		}
		for _, imp := range g.imports[p] {
			if _, ok := prev[imp]; !ok {
				prev[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return dep
}

// underModule reports whether importPath is module or a package in it, on
// path boundaries.
func underModule(module, importPath string) bool {
	return importPath == module || strings.HasPrefix(importPath, module+"/")
}

// TestDependencyBans keeps heavy third-party code out of the packages
// that must stay small, following every transitive dependency.
func TestDependencyBans(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	edgeHeavy := []string{
		"github.com/mochi-mqtt/server",        // the broker runs on the control node only
		"modernc.org/sqlite",                  // state lives on the control node
		"github.com/minio/minio-go",           // recordings are written by the control node
		"github.com/charmbracelet/bubbletea",  // the TUI is an operator tool
		"charm.land/bubbletea",                // the TUI, under bubbletea's newer module path
		"github.com/coocood/freecache",        // the segment cache is the control node's
		"github.com/prometheus/client_golang", // metrics are served by the control node
		"github.com/valyala/fasthttp",         // the control node's fast VOD server
	}
	// The edge binary ships for the host and for these (docs/architecture.md).
	edgePlatforms := [][]string{
		nil,
		{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"},
		{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm", "GOARM=7"},
	}
	bans := []struct {
		pkgs      []string
		banned    []string
		platforms [][]string
		why       string
	}{
		{[]string{"./cmd/lmx-edge", "./edged"}, edgeHeavy, edgePlatforms,
			"the edge binary must stay small enough for a Raspberry Pi and link nothing of the control node or the TUI"},
		{[]string{"./sqlstore"}, []string{"github.com/mochi-mqtt/server"}, [][]string{nil},
			"the store knows nothing of the broker"},
	}
	for _, b := range bans {
		for _, pkg := range b.pkgs {
			reported := map[string]bool{} // each ban once per package, on the first platform that breaks it
			for _, env := range b.platforms {
				g := listDeps(t, env, pkg)
				for _, banned := range b.banned {
					if reported[banned] {
						continue
					}
					var hits []string
					for _, dep := range g.order {
						if underModule(banned, dep) {
							hits = append(hits, dep)
						}
					}
					if len(hits) == 0 {
						continue
					}
					reported[banned] = true
					chain := g.chain(hits[0])
					for _, h := range hits[1:] {
						if c := g.chain(h); strings.Count(c, " -> ") < strings.Count(chain, " -> ") {
							chain = c
						}
					}
					t.Errorf("%s%s depends on %s (banned: %s): %s\n\timport chain: %s", pkg, platform(env), strings.Join(hits, ", "), banned, b.why, chain)
				}
			}
		}
	}
}

// platform names the GOOS/GOARCH set in env, for messages.
func platform(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return " (" + strings.Join(env, " ") + ")"
}

// TestStandardLibraryOnly keeps the packages every side imports free of
// third-party code: their only dependencies outside the standard library
// may be lmx packages, which TestImportAllowlist governs and this test
// follows.
func TestStandardLibraryOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, c := range []struct{ pkg, why string }{
		{"./broker", "the MQTT contract is imported by the smallest edge binary and by anyone's scripts"},
		{"./api", "the API's types and client are shared by every side and by anyone's tools"},
		{"./hls", "the playlist rules are shared by both nodes"},
		{"./internal/tlspin", "certificate pinning is linked into the smallest edge binary"},
		{"./internal/tlsca", "the control node's certificates need nothing beyond crypto/x509 and crypto/tls"},
		{"./internal/secret", "the secret and join-token formats are linked into the smallest edge binary"},
		{"./internal/redact", "credential masking is linked into the smallest edge binary"},
		{"./internal/days", "durations with days and weeks are parsed with strconv and time alone"},
		{"./internal/pullurl", "pull URL checks are linked into the smallest edge binary"},
		{"./controld/internal/grant", "playback grants are signed and checked with crypto/hmac and crypto/sha256 alone"},
	} {
		g := listDeps(t, nil, c.pkg)
		for _, dep := range g.order {
			if !g.standard[dep] && !underModule(module, dep) {
				t.Errorf("%s depends on %s, outside the standard library: %s\n\timport chain: %s", c.pkg, dep, c.why, g.chain(dep))
			}
		}
	}
}

package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
)

// lastAuth is the last access-control call the fake saw.
func lastAuth(t *testing.T, fc *fakeClient) authCall {
	t.Helper()
	if len(fc.authCalls) == 0 {
		t.Fatal("no access-control call")
	}
	return fc.authCalls[len(fc.authCalls)-1]
}

// wantOut fails the test unless r succeeded with exactly stdout and stderr.
func wantOut(t *testing.T, r result, stdout, stderr string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if r.stdout != stdout {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, stdout)
	}
	if r.stderr != stderr {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, stderr)
	}
}

func TestTokenCreate(t *testing.T) {
	fc := authFake()
	r := runCLI(t, fc, "token", "create", "deploy", "--role", "operator")
	// Just the secret on stdout, so TOKEN=$(lmx token create …) works.
	wantOut(t, r, fakeSecret+"\n", `created token deploy (role operator), valid until revoked
its secret is shown this once: keep it now
`)
	if c := lastAuth(t, fc); c.token != (api.NewToken{Name: "deploy", Role: api.RoleOperator}) {
		t.Errorf("asked for %+v", c.token)
	}
}

func TestTokenCreateTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl  string
		want int64
		note string
	}{
		{"30d", 30 * 86400, "2025-03-31 12:00:00 (in 30d)"},
		{"12h", 12 * 3600, "2025-03-02 00:00:00 (in 12h)"},
		{"1d12h", 36 * 3600, "2025-03-03 00:00:00 (in 36h)"},
		{"90m", 5400, "2025-03-01 13:30:00 (in 1h)"},
		{"0", 0, ""},
	} {
		t.Run(tc.ttl, func(t *testing.T) {
			fc := authFake()
			r := runCLI(t, fc, "token", "create", "ci-2", "--role", "viewer", "--ttl", tc.ttl)
			if r.code != 0 || r.stdout != fakeSecret+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if got := lastAuth(t, fc).token.TTLSeconds; got != tc.want {
				t.Errorf("ttl_seconds %d, want %d", got, tc.want)
			}
			want := "valid until revoked"
			if tc.note != "" {
				want = "valid until " + tc.note
			}
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		})
	}
}

func TestTokenCreateJSON(t *testing.T) {
	fc := authFake()
	r := runCLI(t, fc, "token", "create", "ci-2", "--role", "viewer", "--ttl", "1h", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got struct {
		Token  api.Token `json:"token"`
		Secret string    `json:"secret"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	if got.Secret != fakeSecret || got.Token.Name != "ci-2" || got.Token.Role != api.RoleViewer || !got.Token.ExpiresAt.Equal(testNow.Add(time.Hour)) {
		t.Errorf("got %+v", got)
	}
	if strings.Contains(r.stdout, "success") || strings.Contains(r.stdout, "request_id") {
		t.Errorf("the envelope leaked into the output:\n%s", r.stdout)
	}
}

func TestTokenCreateUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"token", "create", "ci"}, "lmx: missing flags: --role=ROLE\n"},
		{[]string{"token", "create", "ci", "--role", "root"}, "lmx: --role must be one of \"admin\",\"operator\",\"viewer\" but got \"root\"\n"},
		{[]string{"token", "create", "ci", "--role", "viewer", "--ttl", "soon"}, "--ttl: \"soon\" is not a lifetime: write one such as 90m, 12h, 30d or 1d12h\n"},
		{[]string{"token", "create", "ci", "--role", "viewer", "--ttl", "500ms"}, "is shorter than a second"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.msg) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant it to hold %q", r.code, r.stdout, r.stderr, tc.msg)
			}
		})
	}
}

func TestTokenCreateRefused(t *testing.T) {
	wantErr(t, runCLI(t, authFake(), "token", "create", "ci", "--role", "viewer"), 1,
		`creating token "ci": a token named "ci" exists`)
}

func TestTokenLs(t *testing.T) {
	wantOK(t, runCLI(t, authFake(), "token", "ls"), `NAME    ROLE      CREATED  BY     EXPIRES  LAST USED  STATE
admin   admin     3d ago   -      never    1m ago     active
ci      viewer    2h ago   admin  in 28d   -          active
night   operator  36h ago  admin  24h ago  25h ago    expired
old-ci  operator  30d ago  admin  never    25h ago    revoked
`)
}

func TestTokenLsEmpty(t *testing.T) {
	wantOK(t, runCLI(t, &fakeClient{}, "token", "ls"), "no tokens yet: create one with lmx token create NAME --role viewer\n")
	wantOK(t, runCLI(t, &fakeClient{}, "token", "ls", "--json"), "[]\n")
}

func TestTokenLsJSON(t *testing.T) {
	r := runCLI(t, authFake(), "token", "ls", "--json")
	var got []api.Token
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(got) != 4 || got[0].Name != "admin" || got[3].Name != "old-ci" || got[3].RevokedAt.IsZero() {
		t.Errorf("got %+v", got)
	}
	if strings.Contains(r.stdout, "secret") {
		t.Errorf("a listing shows secrets:\n%s", r.stdout)
	}
}

func TestTokenRevoke(t *testing.T) {
	fc := authFake()
	wantOK(t, runCLI(t, fc, "token", "revoke", "ci"), "revoked token ci\n")
	if c := lastAuth(t, fc); c.method != "RevokeToken" || c.ref != "ci" {
		t.Errorf("asked for %+v", c)
	}
	r := runCLI(t, fc, "token", "revoke", "ci", "--json")
	var got api.Token
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Name != "ci" || got.RevokedAt.IsZero() {
		t.Errorf("%v: %+v", err, got)
	}
}

func TestTokenRevokeNotFound(t *testing.T) {
	wantErr(t, runCLI(t, authFake(), "token", "revoke", "nope"), 1, `token "nope" not found: see lmx token ls`)
}

func TestTokenState(t *testing.T) {
	for _, tc := range []struct {
		tok  api.Token
		want string
	}{
		{api.Token{}, "active"},
		{api.Token{ExpiresAt: testNow.Add(time.Second)}, "active"},
		{api.Token{ExpiresAt: testNow}, "expired"},
		{api.Token{ExpiresAt: testNow.Add(-time.Second), RevokedAt: testNow.Add(-time.Hour)}, "revoked"},
	} {
		if got := tokenState(tc.tok, testNow); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.tok, got, tc.want)
		}
	}
}

func TestParseTTL(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"0": 0, "1s": time.Second, "90m": 90 * time.Minute, "12h": 12 * time.Hour, "30d": 30 * 24 * time.Hour,
		"1d12h": 36 * time.Hour, "1.5d": 36 * time.Hour, "2d30m": 48*time.Hour + 30*time.Minute, " 7d ": 7 * 24 * time.Hour,
	} {
		if got, err := parseTTL(s); err != nil || got != want {
			t.Errorf("parseTTL(%q) = %s, %v; want %s", s, got, err, want)
		}
	}
	for _, s := range []string{"", "d", "soon", "30days", "-1h", "1d-2h", "-1d", "1h-", "500ms", "40000d", "1e9d", "NaNd", "Infd"} {
		if got, err := parseTTL(s); err == nil {
			t.Errorf("parseTTL(%q) = %s, want an error", s, got)
		}
	}
}

func TestForbiddenSaysWhichRole(t *testing.T) {
	fc := authFake()
	fc.err = &api.StatusError{Status: http.StatusForbidden, Message: "viewers may not create tokens", RequiredRole: api.RoleOperator}
	wantErr(t, runCLI(t, fc, "token", "create", "x", "--role", "viewer"), 1,
		"the token's role is not allowed to do this: it takes a token with role operator or above (the control node said: viewers may not create tokens)")

	fc.err = &api.StatusError{Status: http.StatusForbidden, Message: "admin only", RequiredRole: api.RoleAdmin}
	wantErr(t, runCLI(t, fc, "edge", "add", "gw"), 1,
		"the token's role is not allowed to do this: it takes a token with role admin (the control node said: admin only)")

	fc.err = &api.StatusError{Status: http.StatusForbidden}
	wantErr(t, runCLI(t, fc, "token", "ls"), 1,
		"the token's role is not allowed to do this (the control node said: forbidden)")
}

func TestUnauthorizedSaysWhatToDo(t *testing.T) {
	fc := authFake()
	fc.err = &api.StatusError{Status: http.StatusUnauthorized, Message: "a token is required"}
	for _, args := range [][]string{{"source", "ls"}, {"rec", "show", recActive}, {"token", "ls"}, {"edge", "show", "cam-gw-1"}} {
		wantErr(t, runCLI(t, fc, args...), 1,
			"the control node wants a token: pass --token, set LMX_TOKEN, or run this on the control node's machine as the user that runs it (it reads "+testDataDir+"/admin.token)")
	}
	// With a token, the token is what is wrong, and it is not shown.
	r := runCLI(t, fc, "source", "ls", "--token", "s3cret")
	wantErr(t, r, 1, "the control node refused the token from --token or LMX_TOKEN (a token is required): it may have expired or been revoked; pass another with --token or LMX_TOKEN")
	if strings.Contains(r.stderr, "s3cret") {
		t.Errorf("the token was shown: %s", r.stderr)
	}
}

package secret

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lmx-video/lmx/broker"
)

// testPin is a valid CA pin.
var testPin = PinCA([]byte("not really a certificate"))

func plainJoin() Join {
	return Join{Edge: "edge-1", MQTT: "mqtt://10.0.0.5:1883", Ingest: "http://10.0.0.5:8081", Secret: fixed(KindJoin)}
}

func tlsJoin() Join {
	return Join{Edge: "pi.kitchen_2", MQTT: "mqtts://control.example.com:8883", Ingest: "https://control.example.com/lmx", CAPin: testPin, Secret: fixed(KindJoin)}
}

// rawToken wraps a JSON payload as a join token.
func rawToken(payload string) string {
	return JoinPrefix + base64.RawURLEncoding.EncodeToString([]byte(payload))
}

// payload is the JSON of a valid join token with fields replaced (a nil
// value removes the field).
func payload(t testing.TB, change map[string]any) string {
	t.Helper()
	j := tlsJoin()
	m := map[string]any{"edge": j.Edge, "mqtt": j.MQTT, "ingest": j.Ingest, "ca": j.CAPin, "secret": j.Secret.String()}
	for k, v := range change {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestJoinRoundTrip(t *testing.T) {
	for name, j := range map[string]Join{
		"plain": plainJoin(),
		"tls":   tlsJoin(),
		// An external broker (another host) keeps its own link; the pin
		// covers the control node's ingest.
		"pin with an external plain broker": {Edge: "e", MQTT: "mqtt://broker.example:1883", Ingest: "https://control.example.com:8081", CAPin: testPin, Secret: fixed(KindJoin)},
		"tls without pin": {Edge: "e", MQTT: "mqtts://broker.example", Ingest: "https://cdn.example/",
			Secret: fixed(KindJoin)},
		"ipv6":    {Edge: "e", MQTT: "mqtt://[2001:db8::1]:1883", Ingest: "http://[2001:db8::1]:8081", Secret: fixed(KindJoin)},
		"no port": {Edge: "E.1", MQTT: "mqtt://control", Ingest: "http://control/a/b/", Secret: fixed(KindJoin)},
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := j.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !strings.HasPrefix(tok, JoinPrefix) {
				t.Fatalf("token %q does not start with %q", tok, JoinPrefix)
			}
			got, err := ParseJoin(tok)
			if err != nil {
				t.Fatalf("ParseJoin: %v", err)
			}
			if got != j {
				t.Fatalf("ParseJoin(Encode(j)) = %+v; want %+v", got, j)
			}
			again, err := got.Encode()
			if err != nil || again != tok {
				t.Fatalf("Encode is not stable: %q, %v", again, err)
			}
		})
	}
}

func TestJoinPayload(t *testing.T) {
	tok, err := tlsJoin().Encode()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, JoinPrefix))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(m)), []string{"ca", "edge", "ingest", "mqtt", "secret"}; !slices.Equal(got, want) {
		t.Fatalf("payload fields %v; want %v", got, want)
	}
	if m["secret"] != fixed(KindJoin).String() || m["ca"] != testPin {
		t.Fatalf("payload %s", raw)
	}
	// JSON's insignificant white space is allowed.
	if j, err := ParseJoin(rawToken(" \n" + strings.ReplaceAll(payload(t, nil), ",", ",\n\t") + "\n")); err != nil || j != tlsJoin() {
		t.Fatalf("token with indented JSON: %+v, %v", j, err)
	}
	// The CA pin may be left out.
	j, err := ParseJoin(rawToken(payload(t, map[string]any{"ca": nil, "mqtt": "mqtt://h", "ingest": "http://h"})))
	if err != nil || j.CAPin != "" {
		t.Fatalf("token without ca: %+v, %v", j, err)
	}
}

func TestPinCA(t *testing.T) {
	if len(testPin) != pinLen || !strings.HasPrefix(testPin, PinPrefix) {
		t.Fatalf("PinCA = %q", testPin)
	}
	// sha256 of "abc", a published test vector, in base64url.
	if got, want := PinCA([]byte("abc")), "sha256/ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"; got != want {
		t.Fatalf("PinCA(abc) = %q; want %q", got, want)
	}
}

func TestJoinValidate(t *testing.T) {
	with := func(f func(*Join)) Join { j := tlsJoin(); f(&j); return j }
	plainWith := func(f func(*Join)) Join { j := plainJoin(); f(&j); return j }
	cases := []struct {
		name string
		j    Join
		msg  string
	}{
		{"no edge", with(func(j *Join) { j.Edge = "" }), "edge name"},
		{"bad edge", with(func(j *Join) { j.Edge = "a/b" }), "edge name"},
		{"dot edge", with(func(j *Join) { j.Edge = ".hidden" }), "edge name"},
		{"no mqtt", with(func(j *Join) { j.MQTT = "" }), "MQTT broker URL is missing"},
		{"mqtt tcp", with(func(j *Join) { j.MQTT = "tcp://h:1883" }), "mqtt:// or mqtts://"},
		{"mqtt http", with(func(j *Join) { j.MQTT = "https://h" }), "mqtt:// or mqtts://"},
		{"mqtt bare host", with(func(j *Join) { j.MQTT = "h:1883" }), "mqtt:// or mqtts://"},
		{"mqtt path", with(func(j *Join) { j.MQTT = "mqtts://h:8883/x" }), "must not have a path"},
		{"mqtt slash", with(func(j *Join) { j.MQTT = "mqtts://h:8883/" }), "must not have a path"},
		{"mqtt user", with(func(j *Join) { j.MQTT = "mqtts://edge:hunter2@h:8883" }), "user or password"},
		{"mqtt opaque", with(func(j *Join) { j.MQTT = "mqtts:h" }), "no host"},
		{"mqtt no host", with(func(j *Join) { j.MQTT = "mqtts://:8883" }), "host name"},
		{"mqtt port 0", with(func(j *Join) { j.MQTT = "mqtts://h:0" }), "port"},
		{"mqtt port big", with(func(j *Join) { j.MQTT = "mqtts://h:65536" }), "port"},
		{"mqtt port leading zero", with(func(j *Join) { j.MQTT = "mqtts://h:08883" }), "port"},
		{"mqtt empty port", with(func(j *Join) { j.MQTT = "mqtts://h:" }), "port is empty"},
		{"mqtt bad port", with(func(j *Join) { j.MQTT = "mqtts://h:x" }), "not a URL"},
		{"mqtt upper scheme", with(func(j *Join) { j.MQTT = "MQTTS://h" }), "not written plainly"},
		{"mqtt zone", with(func(j *Join) { j.MQTT = "mqtts://[fe80::1%25eth0]:8883" }), "IPv6"},
		{"mqtt ipv4 in brackets", with(func(j *Join) { j.MQTT = "mqtts://[10.0.0.1]:8883" }), "not a URL"},
		{"mqtt unicode host", with(func(j *Join) { j.MQTT = "mqtts://bröker:8883" }), "host"},
		{"mqtt control char", with(func(j *Join) { j.MQTT = "mqtts://h\n:8883" }), "not a URL"},
		{"no ingest", with(func(j *Join) { j.Ingest = "" }), "ingest URL is missing"},
		{"ingest ftp", with(func(j *Join) { j.Ingest = "ftp://h" }), "http:// or https://"},
		{"ingest query", with(func(j *Join) { j.Ingest = "https://h/?a=b" }), "query or fragment"},
		{"ingest empty query", with(func(j *Join) { j.Ingest = "https://h/?" }), "query or fragment"},
		{"ingest fragment", with(func(j *Join) { j.Ingest = "https://h/#x" }), "query or fragment"},
		{"ingest user", with(func(j *Join) { j.Ingest = "https://u@h/" }), "user or password"},
		{"ingest space", with(func(j *Join) { j.Ingest = "https://h/a b" }), "not written plainly"},
		{"ingest unicode path", with(func(j *Join) { j.Ingest = "https://h/é" }), "not written plainly"},
		{"ingest no host", with(func(j *Join) { j.Ingest = "https:///x" }), "no host"},
		{"pin short", with(func(j *Join) { j.CAPin = testPin[:len(testPin)-1] }), "CA pin"},
		{"pin prefix", with(func(j *Join) { j.CAPin = "sha1//" + testPin[7:] }), "CA pin"},
		{"pin padded", with(func(j *Join) { j.CAPin = testPin[:len(testPin)-1] + "=" }), "CA pin"},
		{"pin without mqtts", with(func(j *Join) { j.MQTT = "mqtt://control.example.com:1883" }), "CA pin needs TLS, but the control node's MQTT broker URL is mqtt://"},
		{"pin without https", with(func(j *Join) { j.Ingest = "http://h:8081" }), "CA pin needs TLS, but the ingest URL is http://"},
		{"pin on plain", plainWith(func(j *Join) { j.CAPin = testPin }), "CA pin needs TLS"},
		{"no secret", with(func(j *Join) { j.Secret = Secret{} }), "join secret is missing"},
		{"edge credential", with(func(j *Join) { j.Secret = fixed(KindEdge) }), "this is an edge credential, not a join secret"},
		{"api token", with(func(j *Join) { j.Secret = fixed(KindToken) }), "this is an API token, not a join secret"},
		{"bad secret id", with(func(j *Join) { j.Secret.ID = "XYZ" }), "malformed secret"},
		{"bad secret key", with(func(j *Join) { j.Secret.Key = j.Secret.Key[1:] + "." }), "malformed secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.j.Validate()
			if !errors.Is(err, ErrBadJoin) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Validate = %v; want ErrBadJoin saying %q", err, c.msg)
			}
			noEcho(t, err, c.j.Secret.Key)
			if _, err := c.j.Encode(); !errors.Is(err, ErrBadJoin) {
				t.Fatalf("Encode = %v; want ErrBadJoin", err)
			}
			// The same fields in a token fail to parse the same way.
			tok := rawToken(payload(t, map[string]any{"edge": c.j.Edge, "mqtt": c.j.MQTT, "ingest": c.j.Ingest, "ca": c.j.CAPin, "secret": c.j.Secret.String()}))
			if _, err := ParseJoin(tok); !errors.Is(err, ErrBadJoin) {
				t.Fatalf("ParseJoin = %v; want ErrBadJoin", err)
			}
		})
	}
	if err := with(func(j *Join) { j.Edge = "a/b" }).Validate(); !errors.Is(err, broker.ErrBadName) {
		t.Errorf("a bad edge name does not wrap broker.ErrBadName: %v", err)
	}
}

func TestParseJoinRejects(t *testing.T) {
	good, err := tlsJoin().Encode()
	if err != nil {
		t.Fatal(err)
	}
	enc := strings.TrimPrefix(good, JoinPrefix)
	cases := []struct {
		name, in, msg string
	}{
		{"empty", "", "empty"},
		{"prefix only", JoinPrefix, "not a complete JSON object"},
		{"too long", JoinPrefix + strings.Repeat("A", MaxJoinLen), "4105 bytes long, at most 4096"},
		{"huge", strings.Repeat("x", 10<<20), "at most 4096"},
		{"newline", good + "\n", "white space"},
		{"spaces", "  " + good, "white space"},
		{"wrong prefix", "lmxjoin." + enc, `does not start with "lmxjoin1."`},
		{"upper prefix", "LMXJOIN1." + enc, `does not start with "lmxjoin1."`},
		{"other version", "lmxjoin2." + enc, "unsupported version"},
		{"version 10", "lmxjoin10." + enc, "unsupported version"},
		{"edge credential", fixed(KindEdge).String(), "this is an edge credential, not a join token"},
		{"bare join secret", fixed(KindJoin).String(), "this is a join secret, not a join token"},
		{"std base64", JoinPrefix + enc[:10] + "+/" + enc[12:], "base64url without padding"},
		{"padded", good + "==", "base64url without padding"},
		{"line break", JoinPrefix + enc[:40] + "\n" + enc[40:], "base64url without padding"},
		{"truncated", good[:len(good)-7], ""},
		{"truncated by one", good[:len(good)-1], ""},
		{"stray bits", JoinPrefix + "e31", "not valid base64url"},
		{"not json", rawToken("edge=x"), "not valid JSON"},
		{"array", rawToken(`["edge"]`), "not a JSON object"},
		{"string", rawToken(`"lmxj"`), "not a JSON object"},
		{"null", rawToken(`null`), "not a JSON object"},
		{"empty object", rawToken(`{}`), `field "edge" is missing`},
		{"unknown field", rawToken(payload(t, map[string]any{"admin": "yes"})), `unknown field "admin"`},
		{"long unknown field", rawToken(`{"` + fixed(KindJoin).String() + `":""}`), "unknown field"},
		{"case-folded field", rawToken(strings.Replace(payload(t, nil), `"edge"`, `"Edge"`, 1)), `unknown field "Edge"`},
		{"duplicate field", rawToken(strings.Replace(payload(t, nil), `{`, `{"edge":"other",`, 1)), `field "edge" appears twice`},
		{"number", rawToken(payload(t, map[string]any{"edge": 7})), `field "edge" must be a string`},
		{"null field", rawToken(strings.Replace(payload(t, nil), `"ca":"`+testPin+`"`, `"ca":null`, 1)), `field "ca" must be a string`},
		{"object field", rawToken(payload(t, map[string]any{"secret": map[string]string{"id": "x"}})), `field "secret" must be a string`},
		{"two objects", rawToken(payload(t, nil) + payload(t, nil)), "data after its JSON object"},
		{"trailing garbage", rawToken(payload(t, nil) + "x"), "data after its JSON object"},
		{"unclosed", rawToken(strings.TrimSuffix(payload(t, nil), "}")), "not a complete JSON object"},
		{"missing secret", rawToken(payload(t, map[string]any{"secret": nil})), `field "secret" is missing`},
		{"empty secret", rawToken(payload(t, map[string]any{"secret": ""})), "join secret is missing"},
		{"secret with space", rawToken(payload(t, map[string]any{"secret": fixed(KindJoin).String() + " "})), "white space"},
		{"wrong secret kind", rawToken(payload(t, map[string]any{"secret": fixed(KindEdge).String()})), "this is an edge credential, not a join secret"},
		{"nested join", rawToken(payload(t, map[string]any{"secret": good})), "join token"},
		{"missing mqtt", rawToken(payload(t, map[string]any{"mqtt": nil})), `field "mqtt" is missing`},
		{"pin on plain", rawToken(payload(t, map[string]any{"mqtt": "mqtt://control.example.com"})), "CA pin needs TLS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j, err := ParseJoin(c.in)
			if !errors.Is(err, ErrBadJoin) {
				t.Fatalf("ParseJoin = %+v, %v; want ErrBadJoin", j, err)
			}
			if j != (Join{}) {
				t.Errorf("ParseJoin returned %+v with its error", j)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("ParseJoin error %q does not say %q", err, c.msg)
			}
			noEcho(t, err, c.in)
		})
	}
}

func TestJoinEncodeTooLong(t *testing.T) {
	j := tlsJoin()
	j.Ingest = "https://h/" + strings.Repeat("a", MaxJoinLen)
	if _, err := j.Encode(); !errors.Is(err, ErrBadJoin) || !strings.Contains(err.Error(), "shorten") {
		t.Fatalf("Encode of a huge URL = %v; want ErrBadJoin", err)
	}
}

func TestJoinLogValue(t *testing.T) {
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("join", "token", tlsJoin())
	out := buf.String()
	if strings.Contains(out, testKey) || !strings.Contains(out, "token.secret=lmxj.0123456789abcdef.…") || !strings.Contains(out, "token.edge=pi.kitchen_2") {
		t.Fatalf("log line %s", out)
	}
}

func FuzzParseJoin(f *testing.F) {
	// More seeds are in testdata/fuzz/FuzzParseJoin.
	for _, j := range []Join{plainJoin(), tlsJoin()} {
		tok, err := j.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Add(rawToken(payload(f, map[string]any{"ca": nil})))
	f.Fuzz(func(t *testing.T, in string) {
		j, err := ParseJoin(in)
		if err != nil {
			if !errors.Is(err, ErrBadJoin) {
				t.Fatalf("error does not wrap ErrBadJoin: %v", err)
			}
			if j != (Join{}) {
				t.Fatalf("ParseJoin returned %+v with its error", j)
			}
			if len(in) > len(JoinPrefix)+KeyLen && strings.Contains(err.Error(), in[len(JoinPrefix):]) {
				t.Fatalf("error quotes the token: %v", err)
			}
			return
		}
		if err := j.Validate(); err != nil {
			t.Fatalf("ParseJoin accepted what Validate refuses: %v", err)
		}
		tok, err := j.Encode()
		if err != nil {
			t.Fatalf("Encode of a parsed token: %v", err)
		}
		again, err := ParseJoin(tok)
		if err != nil {
			t.Fatalf("ParseJoin(Encode(ParseJoin(in))): %v", err)
		}
		if again != j {
			t.Fatalf("re-encoding changed the token: %+v, then %+v", j, again)
		}
		if tok2, _ := again.Encode(); tok2 != tok {
			t.Fatalf("Encode is not stable")
		}
	})
}

// FuzzJoinPayload fuzzes the JSON inside a join token, which mutations of
// the base64 FuzzParseJoin sees rarely keep readable, so the field checks
// (URLs above all) meet the inputs they are for.
func FuzzJoinPayload(f *testing.F) {
	f.Add(payload(f, nil))
	f.Add(payload(f, map[string]any{"ca": nil, "mqtt": "mqtt://[2001:db8::1]:1883", "ingest": "http://h:8081/a/b/"}))
	f.Add(payload(f, map[string]any{"ca": "", "mqtt": "mqtt://h", "ingest": "http://h/%2F%7E"}))
	f.Add(payload(f, map[string]any{"mqtt": "mqtts://u:p@h:8883", "ingest": "https://h/?q#f"}))
	f.Add(payload(f, map[string]any{"edge": "x", "Edge": "y"}))
	f.Fuzz(func(t *testing.T, payload string) {
		tok := rawToken(payload)
		j, err := ParseJoin(tok)
		if err != nil {
			if !errors.Is(err, ErrBadJoin) {
				t.Fatalf("error does not wrap ErrBadJoin: %v", err)
			}
			if strings.Contains(err.Error(), fixed(KindJoin).Key) {
				t.Fatalf("error quotes the secret: %v", err)
			}
			return
		}
		again, err := j.Encode()
		if err != nil {
			t.Fatalf("Encode of a parsed token: %v", err)
		}
		if j2, err := ParseJoin(again); err != nil || j2 != j {
			t.Fatalf("re-encoding changed the token: %+v, then %+v, %v", j, j2, err)
		}
	})
}

// readCorpus reads the seed files of a fuzz target that takes one string,
// by file name.
func readCorpus(t *testing.T, target string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds for %s: %v", target, err)
	}
	seeds := map[string]string{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		quoted, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "go test fuzz v1\nstring(")
		quoted, ok2 := strings.CutSuffix(quoted, ")")
		s, err := strconv.Unquote(quoted)
		if !ok || !ok2 || err != nil {
			t.Fatalf("%s is not a one-string fuzz seed: %v", name, err)
		}
		seeds[filepath.Base(name)] = s
	}
	return seeds
}

// The seeds named valid-* parse and the others do not, so the corpus
// keeps covering both sides.
func TestFuzzSeeds(t *testing.T) {
	for name, s := range readCorpus(t, "FuzzParseJoin") {
		if _, err := ParseJoin(s); (err == nil) != strings.HasPrefix(name, "valid-") {
			t.Errorf("FuzzParseJoin seed %s: ParseJoin = %v", name, err)
		}
	}
	for name, s := range readCorpus(t, "FuzzParse") {
		if _, err := Parse(s); (err == nil) != strings.HasPrefix(name, "valid-") {
			t.Errorf("FuzzParse seed %s: Parse = %v", name, err)
		}
	}
}

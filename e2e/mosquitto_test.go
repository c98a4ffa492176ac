package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// The control node against an external broker: Debian's Mosquitto, set up
// as docs/architecture.md says (its configuration lines and its ACL are read
// from there, so the documentation is what is tested), with real MQTT
// clients checking what the ACL lets through, and the whole path from an
// edge that joined to a live stream.

// Reason codes Mosquitto answers with (MQTT 5).
const (
	rcSuccess       = 0x00
	rcGrantedQoS1   = 0x01
	rcNotAuthorized = 0x87
)

var (
	mosquittoOnce                    sync.Once
	mosquittoBin, mosquittoPasswdBin string
	mosquittoWhy                     string
)

// mosquittoTools finds mosquitto and mosquitto_passwd: on PATH, else where
// Debian's package puts them (the broker in /usr/sbin, not on every user's
// PATH). Without them the test fails, saying how to get them.
func mosquittoTools(t *testing.T) (broker, passwd string) {
	t.Helper()
	mosquittoOnce.Do(func() {
		find := func(name, dir string) string {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p
			}
			return ""
		}
		mosquittoBin, mosquittoPasswdBin = find("mosquitto", "/usr/sbin"), find("mosquitto_passwd", "/usr/bin")
		var missing []string
		if mosquittoBin == "" {
			missing = append(missing, "mosquitto (on PATH or in /usr/sbin)")
		}
		if mosquittoPasswdBin == "" {
			missing = append(missing, "mosquitto_passwd")
		}
		if len(missing) > 0 {
			mosquittoWhy = strings.Join(missing, " and ") + " not found"
		}
	})
	if mosquittoWhy != "" {
		t.Fatalf("%s: run `make test` (scripts/test-deps.sh installs Debian's mosquitto and mosquitto-clients)", mosquittoWhy)
	}
	return mosquittoBin, mosquittoPasswdBin
}

// docsMosquitto is the Mosquitto set-up docs/architecture.md gives: the
// lines of its lmx.conf (comments and blank lines left out) and its ACL file.
func docsMosquitto(t *testing.T) (conf []string, acl string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	const confHead, aclHead = "# /etc/mosquitto/conf.d/lmx.conf", "# /etc/mosquitto/lmx.acl"
	var (
		section string
		aclB    strings.Builder
	)
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == confHead:
			section = "conf"
			continue
		case line == aclHead && section == "conf":
			section = "acl"
			continue
		case section != "" && strings.HasPrefix(line, "```"):
			section = "done"
		}
		text := strings.TrimSpace(line)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		switch section {
		case "conf":
			conf = append(conf, text)
		case "acl":
			aclB.WriteString(text + "\n")
		}
	}
	if section != "done" || len(conf) == 0 || aclB.Len() == 0 {
		t.Fatalf("docs/architecture.md: no Mosquitto configuration (%q, then %q, in one code block)", confHead, aclHead)
	}
	return conf, aclB.String()
}

// mosquittoBroker is a Mosquitto process of the test's own.
type mosquittoBroker struct {
	t          *testing.T
	passwdBin  string
	passwdFile string
	addr       string // host:port
	url        string // mqtt://host:port
	// passwords are the users' passwords.
	passwords map[string]string
	proc      *proc
}

// startMosquitto starts Mosquitto on a free loopback port with the
// documentation's configuration (its listener replaced by the test's, and
// the settings named in omit left out), no persistence, and a user with a
// random password for each of users; it returns once the broker takes a
// login.
func startMosquitto(t *testing.T, users []string, omit ...string) *mosquittoBroker {
	t.Helper()
	bin, passwdBin := mosquittoTools(t)
	docConf, acl := docsMosquitto(t)
	dir := t.TempDir()
	b := &mosquittoBroker{t: t, passwdBin: passwdBin, passwdFile: filepath.Join(dir, "lmx.passwd"), passwords: map[string]string{}}
	aclFile := filepath.Join(dir, "lmx.acl")
	if err := os.WriteFile(aclFile, []byte(acl), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, u := range users {
		b.addUser(u, i == 0)
	}
	port := freePort(t)
	b.addr = loopback(port)
	b.url = "mqtt://" + b.addr
	conf := []string{fmt.Sprintf("listener %d 127.0.0.1", port)}
	for _, line := range docConf {
		key, _, _ := strings.Cut(line, " ")
		switch {
		case key == "listener", slices.Contains(omit, key):
		case key == "password_file":
			conf = append(conf, "password_file "+b.passwdFile)
		case key == "acl_file":
			conf = append(conf, "acl_file "+aclFile)
		default:
			conf = append(conf, line)
		}
	}
	// Started as root, Mosquitto would become user mosquitto, who cannot
	// read the test's temp dir: it stays the user who runs the test.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	conf = append(conf, "user "+me.Username, "persistence false", "log_dest stderr", "log_type all", "log_timestamp_format %H:%M:%S")
	confFile := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(confFile, []byte(strings.Join(conf, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("mosquitto.conf:\n%s\nlmx.acl:\n%s", strings.Join(conf, "\n"), acl)
	start := time.Now()
	b.proc = startProc(t, fmt.Sprintf("mosquitto :%d", port), true, bin, "-c", confFile)
	eventually(t, 10*time.Second, 50*time.Millisecond, "mosquitto takes a login", func() (bool, string) {
		if b.proc.Exited() {
			t.Fatalf("mosquitto exited while starting (status %d)", b.proc.ExitCode())
		}
		c, ca, err := mqttConnect(t, b.addr, "lmx-test-ready", users[0], b.passwords[users[0]], nil)
		if err != nil {
			return false, err.Error()
		}
		c.close()
		return ca.ReasonCode == rcSuccess, connackCode(ca)
	})
	t.Logf("mosquitto at %s takes logins %s after its start", b.addr, time.Since(start).Round(time.Millisecond))
	return b
}

// addUser gives user a random password in the password file, as
// docs/architecture.md says: mosquitto_passwd -c -b for the first user
// (create), -b for the others.
func (b *mosquittoBroker) addUser(user string, create bool) {
	t := b.t
	t.Helper()
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	pw := base64.RawURLEncoding.EncodeToString(raw)
	args := []string{"-b", b.passwdFile, user, pw}
	if create {
		args = append([]string{"-c"}, args...)
	}
	if out, err := exec.Command(b.passwdBin, args...).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd %s %s: %v\n%s", strings.Join(args[:len(args)-2], " "), user, err, out)
	}
	b.passwords[user] = pw
}

// mqttMsg is a PUBLISH a test client received.
type mqttMsg struct {
	topic, payload string
}

// mqttClient is a packet-level MQTT 5 client (paho.golang's, as
// broker/embedded's tests use) on its own connection.
type mqttClient struct {
	*paho.Client
	conn net.Conn
	// got receives the client's PUBLISHes in the order they arrive.
	got chan mqttMsg
	// down says how the connection ended from the client's side: the
	// broker's DISCONNECT, or an error.
	down chan string
	once sync.Once
}

// close disconnects cleanly (the Last Will is not sent) and waits for the
// client; it may be called more than once.
func (c *mqttClient) close() {
	c.once.Do(func() {
		_ = c.Disconnect(&paho.Disconnect{ReasonCode: rcSuccess})
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
		}
		c.conn.Close()
	})
}

// drop closes the connection without DISCONNECT, as a crash or a lost link
// does: the broker sends the client's Last Will.
func (c *mqttClient) drop() {
	c.once.Do(func() {
		c.conn.Close()
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
		}
	})
}

// mqttConnect connects to addr as user with client id id and returns the
// broker's CONNACK and Connect's error as they are. It may run outside the
// test's goroutine.
func mqttConnect(t *testing.T, addr, id, user, pass string, will *paho.WillMessage) (*mqttClient, *paho.Connack, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	c := &mqttClient{conn: conn, got: make(chan mqttMsg, 256), down: make(chan string, 4)}
	report := func(s string) {
		select {
		case c.down <- s:
		default:
		}
	}
	c.Client = paho.NewClient(paho.ClientConfig{
		ClientID:           id,
		Conn:               conn,
		OnServerDisconnect: func(d *paho.Disconnect) { report(fmt.Sprintf("DISCONNECT 0x%02x", d.ReasonCode)) },
		OnClientError:      func(err error) { report("error: " + err.Error()) },
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				select {
				case c.got <- mqttMsg{pr.Packet.Topic, string(pr.Packet.Payload)}:
				default:
					report("receive buffer full")
				}
				return true, nil
			},
		},
	})
	cp := &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true, WillMessage: will,
		Username: user, UsernameFlag: user != "", Password: []byte(pass), PasswordFlag: pass != ""}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ca, err := c.Connect(ctx, cp)
	if err != nil {
		conn.Close()
		return c, ca, err
	}
	return c, ca, nil
}

// connackCode shows a CONNACK's reason code, or that there was none.
func connackCode(ca *paho.Connack) string {
	if ca == nil {
		return "no CONNACK"
	}
	return fmt.Sprintf("CONNACK 0x%02x", ca.ReasonCode)
}

// login connects user with its password and fails the test unless
// Mosquitto accepts it; the client is closed when the test ends.
func (b *mosquittoBroker) login(t *testing.T, user, id string, will *paho.WillMessage) *mqttClient {
	t.Helper()
	c, ca, err := mqttConnect(t, b.addr, id, user, b.passwords[user], will)
	if err != nil || ca == nil || ca.ReasonCode != rcSuccess {
		t.Fatalf("login %s (client id %q): %s, %v; want CONNACK 0x%02x", user, id, connackCode(ca), err, rcSuccess)
	}
	t.Cleanup(c.close)
	return c
}

// publish sends a QoS 1 message and returns the reason code of the broker's
// PUBACK (Publish also returns an error for codes from 0x80).
func publish(t *testing.T, c *mqttClient, topic, payload string, retain bool) (byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pr, err := c.Publish(ctx, &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: 1, Retain: retain})
	if pr == nil {
		t.Fatalf("publish %s: no PUBACK: %v", topic, err)
	}
	return pr.ReasonCode, err
}

// mustPublish publishes at QoS 1 and fails the test unless PUBACK is 0.
func mustPublish(t *testing.T, c *mqttClient, topic, payload string, retain bool) {
	t.Helper()
	if rc, err := publish(t, c, topic, payload, retain); err != nil || rc != rcSuccess {
		t.Fatalf("PUBACK for %s (%s): 0x%02x, %v; want 0x%02x", topic, payload, rc, err, rcSuccess)
	}
}

// subscribe sends SUBSCRIBE for one filter at QoS 1 and returns the reason
// code of the broker's SUBACK.
func subscribe(t *testing.T, c *mqttClient, filter string) (byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
	if sa == nil || len(sa.Reasons) != 1 {
		t.Fatalf("subscribe %s: no SUBACK with one reason code: %+v, %v", filter, sa, err)
	}
	return sa.Reasons[0], err
}

// mustSubscribe subscribes at QoS 1 and fails the test unless it is granted.
func mustSubscribe(t *testing.T, c *mqttClient, filter string) {
	t.Helper()
	if rc, err := subscribe(t, c, filter); err != nil || rc != rcGrantedQoS1 {
		t.Fatalf("SUBACK for %s: 0x%02x, %v; want 0x%02x", filter, rc, err, rcGrantedQoS1)
	}
}

// waitMsg reads c's messages until want arrives and fails if anything in
// never arrives first. A broker delivers what it accepts from one client in
// the order it was sent, so a message sent before want and not seen by the
// time want arrives was not delivered.
func waitMsg(t *testing.T, c *mqttClient, want mqttMsg, never map[mqttMsg]bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-c.got:
			if never[m] {
				t.Fatalf("Mosquitto delivered %s %q, which it should have refused, before %s %q", m.topic, m.payload, want.topic, want.payload)
			}
			if m == want {
				return
			}
		case <-timeout:
			t.Fatalf("%s %q was not delivered in 10 s", want.topic, want.payload)
		}
	}
}

// nextOn is the next message c receives on topic.
func nextOn(t *testing.T, c *mqttClient, topic string) mqttMsg {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-c.got:
			if m.topic == topic {
				return m
			}
		case <-timeout:
			t.Fatalf("nothing on %s in 10 s", topic)
		}
	}
}

// mosquittoLogHas waits until Mosquitto's log holds want.
func (b *mosquittoBroker) logHas(t *testing.T, want string) {
	t.Helper()
	eventually(t, 5*time.Second, 50*time.Millisecond, "Mosquitto's log says "+strconv.Quote(want), func() (bool, string) {
		return strings.Contains(b.proc.Output(), want), "not yet"
	})
}

// Topics, as broker/topics.go names them.
func statusTopic(edge string) string   { return "lmx/v1/edges/" + edge + "/status" }
func desiredTopic(edge string) string  { return "lmx/v1/edges/" + edge + "/desired" }
func cmdTopic(edge string) string      { return "lmx/v1/edges/" + edge + "/cmd" }
func cmdReplyTopic(edge string) string { return "lmx/v1/edges/" + edge + "/cmd/reply" }

const eventsTopic = "lmx/v1/events"

// TestMosquittoACL checks, with real MQTT clients, what Mosquitto set up as
// the documentation says lets an edge do, and what it answers when it
// refuses.
func TestMosquittoACL(t *testing.T) {
	b := startMosquitto(t, []string{"controld", "edge-a", "edge-b"})

	// The control node's view: everything under lmx/v1/. With
	// use_username_as_clientid every controld login has client id
	// "controld", so this one client both watches and publishes.
	ctl := b.login(t, "controld", "lmx-controld-test", nil)
	mustSubscribe(t, ctl, "lmx/v1/#")

	t.Run("connect", func(t *testing.T) {
		for _, tc := range []struct{ what, user, pass string }{
			{"edge-b with edge-a's password", "edge-b", b.passwords["edge-a"]},
			{"edge-a with no password", "edge-a", ""},
			{"a user not in the password file", "edge-x", b.passwords["edge-a"]},
			{"no username", "", b.passwords["edge-a"]},
		} {
			c, ca, err := mqttConnect(t, b.addr, "lmx-edge-"+tc.user, tc.user, tc.pass, nil)
			if err == nil {
				c.close()
			}
			t.Logf("%s: %s, %v", tc.what, connackCode(ca), err)
			if err == nil || ca == nil || ca.ReasonCode != rcNotAuthorized {
				t.Errorf("%s: %s, %v; want CONNACK 0x%02x (not authorized)", tc.what, connackCode(ca), err, rcNotAuthorized)
			}
		}
		b.logHas(t, "disconnected, not authorised")
	})

	t.Run("publish", func(t *testing.T) {
		legitA := mqttMsg{desiredTopic("edge-a"), "edge-a's desired state"}
		legitB := mqttMsg{desiredTopic("edge-b"), "edge-b's desired state"}
		mustPublish(t, ctl, legitA.topic, legitA.payload, true)
		mustPublish(t, ctl, legitB.topic, legitB.payload, true)
		eb := b.login(t, "edge-b", "lmx-edge-edge-b", nil)
		mustSubscribe(t, eb, desiredTopic("edge-b"))
		mustSubscribe(t, eb, cmdTopic("edge-b"))
		waitMsg(t, eb, legitB, nil)
		ea := b.login(t, "edge-a", "lmx-edge-edge-a", nil)

		denied := map[mqttMsg]bool{}
		for _, m := range []mqttMsg{
			{statusTopic("edge-b"), "another edge's status"},
			{cmdReplyTopic("edge-b"), "another edge's reply"},
			{desiredTopic("edge-b"), "another edge's desired state"},
			{cmdTopic("edge-b"), "a command to another edge"},
			{desiredTopic("edge-a"), "its own desired state"},
			{cmdTopic("edge-a"), "a command to itself"},
			{statusTopic("edge-a") + "/x", "below its own status"},
			{"lmx/v1/edges/edge-a", "its edge's root"},
			{eventsTopic, "an event"},
		} {
			start := time.Now()
			rc, err := publish(t, ea, m.topic, m.payload, true)
			t.Logf("edge-a publishes to %s (QoS 1, retained): PUBACK 0x%02x in %s (%v)", m.topic, rc, time.Since(start).Round(time.Microsecond), err)
			if err == nil || rc != rcNotAuthorized {
				t.Errorf("PUBACK for %s (%s): 0x%02x, %v; want 0x%02x (not authorized)", m.topic, m.payload, rc, err, rcNotAuthorized)
			}
			denied[m] = true
		}
		// At QoS 0 there is no PUBACK to refuse with: the message is dropped.
		qos0 := mqttMsg{cmdTopic("edge-b"), "a command to another edge at QoS 0"}
		if _, err := ea.Publish(context.Background(), &paho.Publish{Topic: qos0.topic, Payload: []byte(qos0.payload)}); err != nil {
			t.Fatal(err)
		}
		denied[qos0] = true

		// Allowed, after the refused ones: the control node sees these and
		// none of those first.
		reply := mqttMsg{cmdReplyTopic("edge-a"), "its own reply"}
		status := mqttMsg{statusTopic("edge-a"), "its own status"}
		mustPublish(t, ea, reply.topic, reply.payload, false)
		mustPublish(t, ea, status.topic, status.payload, true)
		waitMsg(t, ctl, reply, denied)
		waitMsg(t, ctl, status, denied)
		// What edge-a's refused messages would have sent edge-b is queued
		// before the control node's messages sent after them.
		for _, topic := range []string{desiredTopic("edge-b"), cmdTopic("edge-b")} {
			after := mqttMsg{topic, "from the control node"}
			mustPublish(t, ctl, after.topic, after.payload, false)
			waitMsg(t, eb, after, denied)
		}
		// No refused retained message replaced a retained desired state.
		mustSubscribe(t, ea, desiredTopic("edge-a"))
		if m := nextOn(t, ea, desiredTopic("edge-a")); m != legitA {
			t.Errorf("retained on %s: %q, want %q", m.topic, m.payload, legitA.payload)
		}
		mustSubscribe(t, eb, desiredTopic("edge-b"))
		if m := nextOn(t, eb, desiredTopic("edge-b")); m != legitB {
			t.Errorf("retained on %s: %q, want %q", m.topic, m.payload, legitB.payload)
		}
		b.logHas(t, "Denied PUBLISH from edge-a")
	})

	t.Run("subscribe", func(t *testing.T) {
		other := mqttMsg{desiredTopic("edge-b"), "edge-b's retained desired state"}
		otherStatus := mqttMsg{statusTopic("edge-b"), "edge-b's retained status"}
		own := mqttMsg{desiredTopic("edge-a"), "edge-a's retained desired state"}
		for _, m := range []mqttMsg{other, otherStatus, own} {
			mustPublish(t, ctl, m.topic, m.payload, true)
		}
		ea := b.login(t, "edge-a", "lmx-edge-edge-a", nil)
		// Mosquitto's ACL file governs what is delivered, not what may be
		// subscribed to: every SUBSCRIBE is granted, and read access is
		// checked per message as it is sent.
		for _, filter := range []string{
			desiredTopic("edge-b"),
			cmdTopic("edge-b"),
			statusTopic("edge-b"),
			"lmx/v1/edges/+/desired",
			"lmx/v1/edges/+/status",
			statusTopic("edge-a"),
			cmdReplyTopic("edge-a"),
			eventsTopic,
			"lmx/v1/#",
			"#",
		} {
			rc, err := subscribe(t, ea, filter)
			t.Logf("edge-a subscribes to %s: SUBACK 0x%02x (%v)", filter, rc, err)
			if err != nil || rc != rcGrantedQoS1 {
				t.Errorf("SUBACK for %s: 0x%02x, %v; want 0x%02x (Mosquitto grants, then filters what it sends)", filter, rc, err, rcGrantedQoS1)
			}
		}
		// A granted subscription gets the retained messages it matches at
		// once, in order: edge-b's, asked for first, would arrive before
		// edge-a's own, asked for last.
		never := map[mqttMsg]bool{other: true, otherStatus: true}
		mustSubscribe(t, ea, desiredTopic("edge-a"))
		waitMsg(t, ea, own, never)
		mustSubscribe(t, ea, cmdTopic("edge-a"))
		// Nor does anything the control node sends on those topics reach it.
		for _, m := range []mqttMsg{
			{desiredTopic("edge-b"), "edge-b's new desired state"},
			{cmdTopic("edge-b"), "a command to edge-b"},
			{statusTopic("edge-b"), "edge-b's new status"},
			{eventsTopic, "an event"},
		} {
			mustPublish(t, ctl, m.topic, m.payload, false)
			never[m] = true
		}
		cmd := mqttMsg{cmdTopic("edge-a"), "a command to edge-a"}
		mustPublish(t, ctl, cmd.topic, cmd.payload, false)
		waitMsg(t, ea, cmd, never)
	})

	t.Run("will", func(t *testing.T) {
		retainedB := mqttMsg{statusTopic("edge-b"), "edge-b's retained status, before the forged will"}
		mustPublish(t, ctl, retainedB.topic, retainedB.payload, true)
		waitMsg(t, ctl, retainedB, nil)
		// A Last Will on another edge's status: the CONNECT is taken, the
		// will never published (Mosquitto checks it when it would send it).
		forged := mqttMsg{statusTopic("edge-b"), "a forged will: edge-b offline"}
		c, ca, err := mqttConnect(t, b.addr, "lmx-edge-edge-a", "edge-a", b.passwords["edge-a"],
			&paho.WillMessage{Topic: forged.topic, Payload: []byte(forged.payload), QoS: 1, Retain: true})
		t.Logf("edge-a connects with a will on edge-b's status: %s, %v", connackCode(ca), err)
		if err != nil || ca.ReasonCode != rcSuccess {
			t.Fatalf("CONNECT with a will on another edge's status: %s, %v; want CONNACK 0x%02x", connackCode(ca), err, rcSuccess)
		}
		c.drop()
		// The next login of edge-a (client id edge-a again) is taken only
		// once the dropped connection is gone, its will sent or not.
		ownWill := mqttMsg{statusTopic("edge-a"), "edge-a's will"}
		ea := b.login(t, "edge-a", "lmx-edge-edge-a", &paho.WillMessage{Topic: ownWill.topic, Payload: []byte(ownWill.payload), QoS: 1, Retain: true})
		after := mqttMsg{statusTopic("edge-a"), "edge-a online after the forged will"}
		mustPublish(t, ea, after.topic, after.payload, true)
		waitMsg(t, ctl, after, map[mqttMsg]bool{forged: true})
		mustSubscribe(t, ctl, statusTopic("edge-b"))
		if m := nextOn(t, ctl, statusTopic("edge-b")); m != retainedB {
			t.Errorf("retained on %s: %q, want %q", m.topic, m.payload, retainedB.payload)
		}
		// Its own will is published.
		ea.drop()
		waitMsg(t, ctl, ownWill, map[mqttMsg]bool{forged: true})
	})

	t.Run("client-id", func(t *testing.T) {
		// use_username_as_clientid: edge-b asking for edge-a's client id
		// gets its own, and edge-a stays connected.
		ea := b.login(t, "edge-a", "lmx-edge-edge-a", nil)
		eb := b.login(t, "edge-b", "lmx-edge-edge-a", nil)
		mustPublish(t, eb, statusTopic("edge-b"), "edge-b online", true)
		mustPublish(t, ea, statusTopic("edge-a"), "edge-a still online", true)
		select {
		case how := <-ea.down:
			t.Errorf("edge-a's connection ended when edge-b connected with its client id: %s", how)
		default:
		}

		// Without it, Mosquitto hands edge-a's client id to whoever asks
		// for it and closes edge-a's connection.
		b2 := startMosquitto(t, []string{"controld", "edge-a", "edge-b"}, "use_username_as_clientid")
		ctl2 := b2.login(t, "controld", "lmx-controld-test", nil)
		mustSubscribe(t, ctl2, "lmx/v1/#")
		will := mqttMsg{statusTopic("edge-a"), "edge-a's will: offline"}
		ea2 := b2.login(t, "edge-a", "lmx-edge-edge-a", &paho.WillMessage{Topic: will.topic, Payload: []byte(will.payload), QoS: 1, Retain: true})
		b2.login(t, "edge-b", "lmx-edge-edge-a", nil)
		var hows []string
		select {
		case how := <-ea2.down:
			hows = append(hows, how)
		case <-time.After(5 * time.Second):
			t.Fatal("without use_username_as_clientid, edge-a stayed connected when edge-b took its client id: the documentation's reason for the setting is gone")
		}
		for more := time.After(500 * time.Millisecond); len(hows) < 4; {
			select {
			case how := <-ea2.down:
				hows = append(hows, how)
				continue
			case <-more:
			}
			break
		}
		t.Logf("without use_username_as_clientid, edge-b taking edge-a's client id ends edge-a's connection: %s", strings.Join(hows, ", then "))
		b2.logHas(t, "Client lmx-edge-edge-a already connected, closing old connection.")
		// And edge-a's Last Will says it went offline.
		waitMsg(t, ctl2, will, nil)
	})

	t.Run("reload", func(t *testing.T) {
		// A user added to the password file logs in once Mosquitto is told
		// to reread it (SIGHUP, systemctl reload mosquitto).
		if _, ca, err := mqttConnect(t, b.addr, "edge-c", "edge-c", "not yet", nil); err == nil || ca == nil || ca.ReasonCode != rcNotAuthorized {
			t.Fatalf("edge-c before it is added: %s, %v", connackCode(ca), err)
		}
		b.addUser("edge-c", false)
		start := time.Now()
		if err := b.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, 50*time.Millisecond, "edge-c logs in after SIGHUP", func() (bool, string) {
			c, ca, err := mqttConnect(t, b.addr, "edge-c", "edge-c", b.passwords["edge-c"], nil)
			if err != nil {
				return false, fmt.Sprintf("%s, %v", connackCode(ca), err)
			}
			c.close()
			return true, ""
		})
		t.Logf("edge-c logs in %s after SIGHUP", time.Since(start).Round(time.Millisecond))
	})
}

// TestMosquittoEdge is the whole path through an external broker: a control
// node on Mosquitto with access control on, an edge added with POST
// /v1/edge, started with --join and its Mosquitto password in
// LMX_MQTT_PASSWORD, online and streaming live; another edge started with
// its own join token but edge-a's password is refused by Mosquitto and
// never comes online.
func TestMosquittoEdge(t *testing.T) {
	b := startMosquitto(t, []string{"controld", "edge-a", "edge-b"})
	start := time.Now()
	cn := startControld(t, "--broker", b.url, "--broker-username", "controld", "--broker-password", b.passwords["controld"])
	t.Logf("controld ready in %s", time.Since(start).Round(time.Millisecond))
	b.logHas(t, "u'controld'")
	// The line `lmx edge add` prints says where the edge's password goes.
	if out := mustLMX(t, cn, "edge", "add", "edge-c"); !strings.HasPrefix(out, "LMX_MQTT_PASSWORD=MQTT-PASSWORD lmx edged --join lmxjoin1.") {
		t.Errorf("lmx edge add with an external broker printed %q", out)
	}

	const src = "cam-a"
	start = time.Now()
	edgeA := launchEdge(t, lmxBin, "edge-a", cn, t.TempDir(), []string{"LMX_MQTT_PASSWORD=" + b.passwords["edge-a"]})
	waitEdgeOnline(t, cn, "edge-a", 15*time.Second)
	t.Logf("edge-a online on the control node %s after its start", time.Since(start).Round(time.Millisecond))
	if out := edgeA.proc.Output(); !strings.Contains(out, `MQTT as user "edge-a" with --mqtt-password`) {
		t.Errorf("edge-a's start does not say how it logs in to MQTT:\n%s", out)
	}
	startFFmpeg(t, edgeA, src, edgeA.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	start = time.Now()
	pl := waitLive(t, cn.liveURL(src), 30*time.Second)
	t.Logf("live playlist full %s after stream on: %d segments, media sequence %d", time.Since(start).Round(time.Millisecond), len(pl.Segments), pl.MediaSequence)
	expectH264(t, cn.grantURL(t, "source", src))

	// edge-b joins (HTTP) but logs in to Mosquitto as edge-b with edge-a's
	// password: refused.
	start = time.Now()
	edgeB := launchEdge(t, lmxEdgeBin, "edge-b", cn, t.TempDir(), []string{"LMX_MQTT_PASSWORD=" + b.passwords["edge-a"]})
	eventually(t, 15*time.Second, 100*time.Millisecond, "edge-b logs the MQTT refusal", func() (bool, string) {
		return strings.Contains(edgeB.proc.Output(), "mqtt connect failed"), "not yet"
	})
	t.Logf("edge-b's refusal logged %s after its start", time.Since(start).Round(time.Millisecond))
	var refusal string
	for _, line := range strings.Split(edgeB.proc.Output(), "\n") {
		if strings.Contains(line, "mqtt connect failed") {
			refusal = line
			break
		}
	}
	if !strings.Contains(refusal, "level=WARN") || !strings.Contains(refusal, "(reason: 135)") || !strings.Contains(refusal, `refused="not authorized (CONNACK 0x87)`) {
		t.Errorf("edge-b's log line does not say Mosquitto refused it as not authorized (0x87): %s", refusal)
	}
	// Several heartbeats and reconnection attempts later it is still not
	// online, and edge-a still is.
	polls := 0
	for deadline := time.Now().Add(6 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		online := edgesOnline(t, cn)
		polls++
		switch {
		case online["edge-b"]:
			t.Fatalf("edge-b is online on the control node with edge-a's MQTT password")
		case !online["edge-a"]:
			t.Fatalf("edge-a went offline while edge-b tried to log in")
		}
	}
	t.Logf("GET /v1/edge %d times over 6 s: edge-b offline, edge-a online throughout", polls)
	if edgeB.proc.Exited() {
		t.Errorf("edge-b exited instead of retrying: status %d", edgeB.proc.ExitCode())
	}
	if n := strings.Count(edgeB.proc.Output(), "mqtt connect failed; retrying with backoff"); n != 1 {
		t.Errorf("edge-b warned of the refusal %d times, want once (then debug):\n%s", n, edgeB.proc.Output())
	}
	b.logHas(t, "disconnected, not authorised")

	// Nothing printed or logged a password.
	for name, out := range map[string]string{"controld": cn.proc.Output(), "edge-a": edgeA.proc.Output(), "edge-b": edgeB.proc.Output()} {
		for user, pw := range b.passwords {
			if strings.Contains(out, pw) {
				t.Errorf("%s's output holds %s's MQTT password", name, user)
			}
		}
	}
}

// edgesOnline is what GET /v1/edge says of each edge's presence.
func edgesOnline(t *testing.T, cn *controlNode) map[string]bool {
	t.Helper()
	r := mustDo(t, http.MethodGet, cn.apiURL+"/v1/edge", nil, nil)
	var out struct {
		Edges []edgeJSON `json:"edges"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || r.Status != http.StatusOK {
		t.Fatalf("GET /v1/edge: %v: %s", err, r)
	}
	online := map[string]bool{}
	for _, e := range out.Edges {
		online[e.Name] = e.Online
	}
	return online
}

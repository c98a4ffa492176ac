package netaddr

import "testing"

func TestDial(t *testing.T) {
	for in, want := range map[string]string{
		":8080":          "127.0.0.1:8080",
		"0.0.0.0:1883":   "127.0.0.1:1883",
		"[::]:8081":      "127.0.0.1:8081",
		"10.0.0.5:8081":  "10.0.0.5:8081",
		"[::1]:9080":     "[::1]:9080",
		"camera.lan:443": "camera.lan:443",
		"no-port":        "no-port",
	} {
		if got := Dial(in); got != want {
			t.Errorf("Dial(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestListenAndPort(t *testing.T) {
	if got := Listen(PlaybackPort); got != ":8081" {
		t.Errorf("Listen = %q", got)
	}
	if got := Port("127.0.0.1:1883"); got != MQTTPort {
		t.Errorf("Port = %d", got)
	}
	if got := Port("nonsense"); got != 0 {
		t.Errorf("Port(nonsense) = %d", got)
	}
}

// Package netaddr holds lmx's default ports and turns a listen address into
// one a client can dial, so the daemons, the CLI and the demo agree on both.
package netaddr

import (
	"net"
	"strconv"
)

// Default ports of the control node's and the edge's listeners.
const (
	// APIPort is the management API's default port.
	APIPort = 8080
	// PlaybackPort is the default port of playback and segment uploads.
	PlaybackPort = 8081
	// MQTTPort is the embedded broker's default port.
	MQTTPort = 1883
	// MQTTTLSPort is the embedded broker's default port with TLS.
	MQTTTLSPort = 8883
	// EdgeIngestPort is the default port an edge takes ffmpeg's pushes on.
	EdgeIngestPort = 9080
)

// Listen is ":PORT", the listen address for port on every interface.
func Listen(port int) string { return ":" + strconv.Itoa(port) }

// Dial turns a listen address into one a client on this machine can dial:
// an empty or unspecified host (":8080", "0.0.0.0:8080", "[::]:8080")
// becomes loopback. Anything that is not host:port is returned as it is.
func Dial(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Port is the port of a host:port address, or 0.
func Port(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// IsLoopback reports whether a listen address takes connections from this
// machine only: its host is a loopback address or "localhost". An empty or
// unspecified host listens on every interface.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

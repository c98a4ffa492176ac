package embedded

import (
	"log/slog"
	"net"
	"sync"

	"github.com/mochi-mqtt/server/v2/listeners"
)

// tcpListener serves MQTT on a bound net.Listener. It does what mochi's
// listeners.Net does, without its data race: Net's connection goroutines
// all assign the accept loop's one error variable, which the race detector
// reports as soon as two clients connect at once.
type tcpListener struct {
	id  string
	ln  net.Listener
	log *slog.Logger

	mu     sync.Mutex
	closed bool
}

var _ listeners.Listener = (*tcpListener)(nil)

func newTCPListener(id string, ln net.Listener) *tcpListener {
	return &tcpListener{id: id, ln: ln, log: slog.New(slog.DiscardHandler)}
}

func (l *tcpListener) ID() string       { return l.id }
func (l *tcpListener) Address() string  { return l.ln.Addr().String() }
func (l *tcpListener) Protocol() string { return l.ln.Addr().Network() }

func (l *tcpListener) Init(log *slog.Logger) error {
	l.log = log
	return nil
}

// Serve accepts connections until the listener is closed.
func (l *tcpListener) Serve(establish listeners.EstablishFn) {
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			if err := establish(l.id, conn); err != nil {
				l.log.Warn("mqtt connection ended", "error", err)
			}
		}()
	}
}

// Close stops accepting and closes the clients, once.
func (l *tcpListener) Close(closeClients listeners.CloseFn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	closeClients(l.id)
	_ = l.ln.Close()
}

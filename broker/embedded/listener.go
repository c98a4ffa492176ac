package embedded

import (
	"log/slog"
	"net"
	"sync"

	"github.com/mochi-mqtt/server/v2/listeners"
)

// tcpListener serves MQTT on a bound net.Listener. It does what mochi's
// listeners.Net does, with two differences. Net's connection goroutines all
// assign the accept loop's one error variable, a data race as soon as two
// clients connect at once. And Net can hand the broker a connection
// accepted while it closes (an edge reconnects within milliseconds of
// being disconnected), which then outlives the close and holds the broker's
// shutdown up: here, Close stops accepting first, then closes the clients,
// then every connection still being established.
type tcpListener struct {
	id  string
	ln  net.Listener
	log *slog.Logger

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{} // connections being served
}

var _ listeners.Listener = (*tcpListener)(nil)

func newTCPListener(id string, ln net.Listener) *tcpListener {
	return &tcpListener{id: id, ln: ln, log: slog.New(slog.DiscardHandler), conns: map[net.Conn]struct{}{}}
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
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			conn.Close()
			return
		}
		l.conns[conn] = struct{}{}
		l.mu.Unlock()
		go func() {
			if err := establish(l.id, conn); err != nil {
				l.log.Debug("mqtt connection ended", "error", err)
			}
			l.mu.Lock()
			delete(l.conns, conn)
			l.mu.Unlock()
			conn.Close()
		}()
	}
}

// Close stops accepting, closes the clients, then any connection left, once.
func (l *tcpListener) Close(closeClients listeners.CloseFn) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	_ = l.ln.Close()
	closeClients(l.id)
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.Close()
	}
}

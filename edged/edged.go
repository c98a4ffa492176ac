package edged

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/broker/client"
)

// Edge is the edge agent.
type Edge struct {
	cfg     Config
	logger  *slog.Logger
	version string
	started time.Time
	boot    string

	allowed *allowedDirs
	ring    *ring
	memory  *memoryTuner
	mqtt    *client.Client
	up      *uploader
	ln      net.Listener
	http    *http.Server

	mu      sync.Mutex
	sources map[string]*sourceState
	desired broker.Desired
	changed chan struct{} // nudges the status publisher
	// refusedFormat is, per source, the last reason a push's playlist form
	// was refused (see refuseFormat).
	refusedFormat map[string]string
	runCtx        context.Context
	// stopping is set once Run winds down: from then on nothing new starts.
	stopping bool
	// pulls are the ffmpeg processes the edge runs for pulled cameras.
	pulls pullState
	// tasks are the goroutines the edge starts while it runs (streamers,
	// recorder loops, command replies); Run waits for all of them.
	tasks sync.WaitGroup
}

// sourceState is what the edge knows of one source.
type sourceState struct {
	name     string
	pushMu   sync.Mutex // serialises pushes of one source
	track    tracker
	nextSeq  uint64
	lastAt   time.Time
	dropped  uint64
	uploaded uint64
	stream   *streamer     // non-nil while the source streams to the control node
	recorder *recorderLoop // non-nil once a recording has wanted the source
	// registered is true once the control node accepted the name.
	registered bool
	// rejectedUntil caches a control node's "unknown source" answer briefly.
	rejectedUntil time.Time
	// refusal is what the control node said when it last refused the name,
	// refusedStatus the answer ffmpeg gets meanwhile (404 unknown, 409 fed
	// by other edges).
	refusal       string
	refusedStatus int
	// recheckAt is when a registered name missing from the desired state
	// is asked about again.
	recheckAt time.Time
	// inits are the fMP4 init segments ffmpeg pushed, by name, the newest
	// of each (guarded by pushMu); lastInit is the id of the newest
	// segment's, "" for MPEG-TS (guarded by the Edge's mu).
	inits    map[string]*initSegment
	lastInit string
	// renditions are the named renditions of an adaptive-bitrate source
	// (the map guarded by pushMu, each one's variant by the Edge's mu);
	// variants is what ffmpeg's last multivariant playlist said of them
	// (guarded by both).
	renditions map[string]*renditionState
	variants   map[string]string
}

// New checks cfg, joins the control node if cfg says to (see Config.Join),
// opens the allowed directories and binds the ingest listener, so a bad
// flag, a refused join or a busy port is reported before Run.
func New(cfg Config, logger *slog.Logger, version string) (*Edge, error) {
	return newEdge(context.Background(), cfg, logger, version)
}

// newEdge is New with ctx bounding the join exchange.
func newEdge(ctx context.Context, cfg Config, logger *slog.Logger, version string) (*Edge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.joinIfNeeded(ctx, logger); err != nil {
		return nil, err
	}
	mqttTLS, err := linkTLS(cfg.MQTT, cfg.mqttPin())
	if err != nil {
		return nil, fmt.Errorf("--mqtt: %w", err)
	}
	ingestTLS, err := linkTLS(cfg.Ingest, cfg.CAPin)
	if err != nil {
		return nil, fmt.Errorf("--ingest: %w", err)
	}
	allowed, err := openAllowed(cfg.AllowDirs)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		allowed.Close()
		return nil, fmt.Errorf("ingest listener: %w", err)
	}
	e := &Edge{
		cfg:     cfg,
		logger:  logger,
		version: version,
		started: time.Now(),
		boot:    fmt.Sprintf("%x", time.Now().UnixNano()),
		allowed: allowed,
		ring:    newRing(cfg.Buffer, int64(cfg.BufferBytes)),
		memory:  newMemoryTuner(cfg.OwnProcess),
		ln:      ln,
		sources: map[string]*sourceState{},
		changed: make(chan struct{}, 1),
		pulls:   pullState{runner: execRunner{}, clock: realClock{}},
	}
	e.up = newUploader(cfg.Ingest, cfg.Name, cfg.Credential, e.boot, ingestTLS, logger)
	offline := e.statusPayload(false)
	e.mqtt, err = client.New(client.Config{
		URL:      cfg.MQTT,
		TLS:      mqttTLS,
		ClientID: "lmx-edge-" + cfg.Name,
		Username: cfg.mqttUsername(),
		Password: cfg.mqttPassword(),
		Will:     &client.Message{Topic: broker.EdgeStatusTopic(cfg.Name), Payload: offline, QoS: broker.StatusQoS, Retain: true},
		OnUp:     e.nudge,
	}, logger)
	if err != nil {
		ln.Close()
		allowed.Close()
		return nil, err
	}
	e.mqtt.Subscribe(broker.EdgeDesiredTopic(cfg.Name), broker.DesiredQoS, e.onDesired)
	e.mqtt.Subscribe(broker.EdgeCmdTopic(cfg.Name), broker.CmdQoS, e.onCommand)
	e.http = &http.Server{
		Handler:           e.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	return e, nil
}

// Addr is the address ffmpeg pushes to.
func (e *Edge) Addr() net.Addr { return e.ln.Addr() }

// Name is the edge's name.
func (e *Edge) Name() string { return e.cfg.Name }

// Run serves ffmpeg's pushes and keeps the control link up until ctx ends,
// then stops gracefully: it tells the control node it is going offline.
// When it returns, every goroutine the edge started has returned too.
func (e *Edge) Run(ctx context.Context) error {
	defer e.allowed.Close()
	// The streamers and recorder loops live on runCtx, which ends when Run
	// does, whether ctx ended or the listener failed.
	runCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	e.mu.Lock()
	e.runCtx = runCtx
	e.mu.Unlock()
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error {
		err := e.http.Serve(e.ln)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return e.http.Shutdown(sctx)
	})
	mctx, mcancel := context.WithCancel(context.Background())
	mdone := make(chan error, 1)
	go func() { mdone <- e.mqtt.Run(mctx) }()
	g.Go(func() error { e.publishLoop(gctx); return nil })
	err := g.Wait()

	e.stopWorkers(stopWork)
	// Say goodbye before disconnecting, so the control node shows the edge
	// offline at once instead of waiting for the keep-alive to lapse.
	pctx, pcancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = e.mqtt.Publish(pctx, client.Message{Topic: broker.EdgeStatusTopic(e.cfg.Name), Payload: e.statusPayload(false), QoS: broker.StatusQoS, Retain: true})
	pcancel()
	mcancel()
	<-mdone
	return err
}

// goLocked runs f on a goroutine that Run waits for, unless the edge is not
// running (before Run, or once it winds down). The caller holds e.mu.
func (e *Edge) goLocked(f func()) {
	if e.stopping || e.runCtx == nil {
		return
	}
	e.tasks.Add(1)
	go func() {
		defer e.tasks.Done()
		f()
	}()
}

// stopWorkers stops every streamer and recorder loop, lets nothing new
// start, and waits for every goroutine started through goLocked.
func (e *Edge) stopWorkers(cancel context.CancelFunc) {
	e.mu.Lock()
	e.stopping = true
	for _, p := range e.pulls.running {
		// Each loop stops its ffmpeg and returns once it is gone; tasks.Wait
		// below waits for them.
		p.cancel()
	}
	for _, s := range e.sources {
		e.stopStream(s)
		if rl := s.recorder; rl != nil {
			s.recorder = nil
			rl.cancel()
		}
	}
	e.mu.Unlock()
	cancel()
	e.tasks.Wait()
}

// nudge asks the status publisher to publish now.
func (e *Edge) nudge() {
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

// publishLoop publishes the edge's status on change and as a heartbeat.
func (e *Edge) publishLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.changed:
		}
		if !e.mqtt.Connected() {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := e.mqtt.Publish(pctx, client.Message{Topic: broker.EdgeStatusTopic(e.cfg.Name), Payload: e.statusPayload(true), QoS: broker.StatusQoS, Retain: true})
		cancel()
		if err != nil && ctx.Err() == nil {
			e.logger.Debug("status publish failed", "err", err)
		}
	}
}

// Status is the edge's current status.
func (e *Edge) Status(online bool) broker.EdgeStatus {
	st := broker.EdgeStatus{
		V:              broker.Version,
		Edge:           e.cfg.Name,
		Online:         online,
		Version:        e.version,
		StartedAt:      e.started.UTC(),
		Time:           time.Now().UTC(),
		IngestAddr:     e.ln.Addr().String(),
		HeartbeatEvery: broker.Duration(e.cfg.Heartbeat),
		Sources:        []broker.SourceStatus{},
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.sources {
		n, b, secs, rate := e.ring.stats(s.name)
		st.Sources = append(st.Sources, broker.SourceStatus{
			Name:             s.name,
			Streaming:        s.stream != nil,
			LastSegmentAt:    s.lastAt.UTC(),
			BitrateBPS:       rate,
			BufferedSegments: n,
			BufferedBytes:    b,
			BufferedSeconds:  secs,
			Uploaded:         s.uploaded,
			Dropped:          s.dropped,
			PendingRecord:    e.ring.pendingCount(s.name),
			Pull:             e.pullOfLocked(s.name),
		})
	}
	// A pulled source is shown from the moment the desired state names
	// it, before its ffmpeg pushed anything.
	for _, m := range []map[string]*puller{e.pulls.running, e.pulls.gone} {
		for name, p := range m {
			if _, ok := e.sources[name]; !ok {
				st.Sources = append(st.Sources, broker.SourceStatus{Name: name, Pull: p.status()})
			}
		}
	}
	sort.Slice(st.Sources, func(i, j int) bool { return st.Sources[i].Name < st.Sources[j].Name })
	return st
}

func (e *Edge) statusPayload(online bool) []byte { return broker.Encode(e.Status(online)) }

package controld

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/broker/client"
	"github.com/lmx-video/lmx/broker/embedded"
	"github.com/lmx-video/lmx/objstore"
	"github.com/lmx-video/lmx/sqlstore"
)

// Server is the control node.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	version string

	store   *sqlstore.Store
	broker  bus
	cache   *segmentCache
	live    *liveRegistry
	metrics *metrics
	rec     *recorder
	fetches *fetcher
	hub     *eventHub
	closing chan struct{} // closed when shutdown starts, to end event streams

	apiLn, vodLn net.Listener
	apiSrv       *http.Server
	vodSrv       *vodServer

	mu    sync.Mutex
	edges map[string]*edgeView // latest status per edge, in memory

	ready chan struct{}
}

// New opens the store, binds every listener and prepares the broker, so a
// busy port or an unwritable data dir is reported before Run.
func New(ctx context.Context, cfg Config, logger *slog.Logger, version string) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		logger:  logger,
		version: version,
		cache:   newSegmentCache(int64(cfg.CacheSize)),
		metrics: newMetrics(),
		edges:   map[string]*edgeView{},
		ready:   make(chan struct{}),
		hub:     newEventHub(),
		closing: make(chan struct{}),
	}
	s.live = newLiveRegistry(cfg.LiveSegments)
	var err error
	cleanup := func() {
		for _, ln := range []net.Listener{s.apiLn, s.vodLn} {
			if ln != nil {
				ln.Close()
			}
		}
		if s.broker != nil {
			s.broker.Close()
		}
		if s.store != nil {
			s.store.Close()
		}
	}
	if s.store, err = sqlstore.Open(ctx, filepath.Join(cfg.DataDir, "lmx.db"), logger.With("component", "sqlstore")); err != nil {
		return nil, fmt.Errorf("state store in %s: %w", cfg.DataDir, err)
	}
	objects, err := objstore.Open(ctx, cfg.Recordings, os.Getenv)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("recordings store: %w", err)
	}
	if s.rec, err = newRecorder(objects, filepath.Join(cfg.DataDir, "spool"), logger.With("component", "recorder"), s.metrics); err != nil {
		cleanup()
		return nil, fmt.Errorf("recording spool: %w", err)
	}
	s.fetches = newFetcher()
	if s.apiLn, err = net.Listen("tcp", cfg.APIListen); err != nil {
		cleanup()
		return nil, fmt.Errorf("management API listener: %w", err)
	}
	if s.vodLn, err = net.Listen("tcp", cfg.VODListen); err != nil {
		cleanup()
		return nil, fmt.Errorf("playback listener: %w", err)
	}
	if cfg.Broker != "" {
		// On every (re)connection the retained desired states are written
		// again, as they are at start with the embedded broker.
		onUp := func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.republishDesired(ctx); err != nil {
				s.logger.Warn("could not republish desired states", "err", err)
			}
		}
		c, err := client.New(client.Config{URL: cfg.Broker, ClientID: "lmx-controld-" + uuid.NewString()[:8], Username: "controld", Password: cfg.EdgeToken, OnUp: onUp}, logger.With("component", "mqtt"))
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("--broker: %w", err)
		}
		u, _ := url.Parse(cfg.Broker)
		s.broker = &externalBus{c: c, addr: brokerAddr(u.Host)}
	} else {
		b, err := embedded.New(embedded.Config{Listen: cfg.MQTTListen, Token: cfg.EdgeToken}, logger)
		if err != nil {
			cleanup()
			return nil, err
		}
		s.broker = b
	}
	errLog := slog.NewLogLogger(logger.Handler(), slog.LevelDebug)
	s.apiSrv = &http.Server{Handler: s.apiRoutes(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	s.vodSrv = newVODServer(s, s.vodRoutes(), logger)
	var once sync.Once
	s.apiSrv.RegisterOnShutdown(func() { once.Do(func() { close(s.closing) }) })
	return s, nil
}

// APIAddr is the management API's bound address.
func (s *Server) APIAddr() net.Addr { return s.apiLn.Addr() }

// VODAddr is the playback listener's bound address.
func (s *Server) VODAddr() net.Addr { return s.vodLn.Addr() }

// MQTTAddr is the broker's bound address.
func (s *Server) MQTTAddr() net.Addr { return s.broker.Addr() }

// RecordingsStore describes where recordings go (without credentials).
func (s *Server) RecordingsStore() string { return s.rec.store.String() }

// Config is the validated configuration.
func (s *Server) Config() Config { return s.cfg }

// Ready is closed once the control node serves.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run serves until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	defer s.store.Close()
	if _, err := s.store.MarkAllEdgesOffline(ctx); err != nil {
		return fmt.Errorf("state store: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.broker.Run(gctx) })
	if err := s.broker.Subscribe(broker.EdgeStatusFilter, 1, s.onEdgeStatus); err != nil {
		return fmt.Errorf("mqtt subscribe: %w", err)
	}
	if err := s.broker.Subscribe(broker.EventsTopic, 2, s.onEvent); err != nil {
		return fmt.Errorf("mqtt subscribe: %w", err)
	}
	// Retained desired states did not survive a restart of the broker:
	// publish them again from the store, the source of truth. (An external
	// broker gets them on every connection instead.)
	if s.cfg.Broker == "" {
		if err := s.republishDesired(ctx); err != nil {
			s.logger.Warn("could not republish desired states", "err", err)
		}
	}
	g.Go(func() error {
		if err := s.apiSrv.Serve(s.apiLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error { return s.vodSrv.Serve(s.vodLn) })
	g.Go(func() error { s.watchEdges(gctx); return nil })
	g.Go(func() error { s.rec.run(gctx); return nil })
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return errors.Join(s.apiSrv.Shutdown(sctx), s.vodSrv.Shutdown(sctx))
	})
	close(s.ready)
	return g.Wait()
}

// publish sends a control-plane message, logging (not failing) on error:
// retained state is republished on the next change or restart anyway.
func (s *Server) publish(topic string, payload []byte, retain bool, qos byte) {
	if err := s.broker.Publish(topic, payload, retain, qos); err != nil {
		s.logger.Warn("mqtt publish failed", "topic", topic, "err", err)
	}
}

// event publishes what happened on lmx/v1/events.
func (s *Server) event(kind string, ev broker.Event) {
	ev.V, ev.Kind, ev.Time = broker.Version, kind, time.Now().UTC()
	s.publish(broker.EventsTopic, broker.Encode(ev), false, broker.EventQoS)
}

// EdgeJoinCommand is the `lmx edged` line an edge on another machine needs to
// join this control node; host is how that machine reaches this one.
func EdgeJoinCommand(s *Server, host string) string {
	_, mport, _ := net.SplitHostPort(s.MQTTAddr().String())
	_, vport, _ := net.SplitHostPort(s.VODAddr().String())
	cmd := fmt.Sprintf("lmx edged --name EDGE-NAME --mqtt mqtt://%s --ingest http://%s --allow-dir /path/to/segments",
		net.JoinHostPort(host, mport), net.JoinHostPort(host, vport))
	if mport == "1883" && vport == "8081" {
		cmd = "lmx edged --name EDGE-NAME --controld " + host + " --allow-dir /path/to/segments"
	}
	if s.cfg.EdgeToken != "" {
		cmd += " --token $LMX_EDGE_TOKEN"
	}
	return cmd
}

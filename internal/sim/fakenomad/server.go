package fakenomad

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakehttp"
)

const (
	defaultMaxBlockingWait = 5 * time.Second
	defaultPollInterval    = 20 * time.Millisecond
	defaultDrainDuration   = 2 * time.Second
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Now returns the current time; default time.Now. Drains, request and
	// event timestamps all use it.
	Now func() time.Time
	// MaxBlockingWait bounds how long (real time) a blocking query waits;
	// default 5s. Nomad's own default is 5 minutes.
	MaxBlockingWait time.Duration
	// PollInterval is how often (real time) a waiting blocking query brings
	// time-driven state up to date; default 20ms.
	PollInterval time.Duration
	// DrainDuration is the default time a drain takes; default 2s.
	DrainDuration time.Duration
}

// Request is one HTTP request the server received. It is the shared type
// of the fakes, so requests to fakegce and fakenomad can be merged and
// ordered by Received.
type Request = fakehttp.Request

// Server is the fake Nomad API. Create it with New.
type Server struct {
	opts     Options
	recorder *fakehttp.Recorder // logs requests and injects errors in front of the routes

	mu        sync.Mutex
	index     uint64
	tables    map[string]uint64 // table name -> index of its last change
	changed   chan struct{}     // closed and replaced on every change
	closed    chan struct{}
	closeOnce sync.Once

	nodes  map[string]*node
	allocs map[string]*alloc
	// nodeAllocs indexes allocs by node, so that snapshotting every node
	// is linear in the allocations, not quadratic (a thousand-node cluster).
	nodeAllocs map[string][]*alloc
	vars       map[string]*variable // key: namespace + "\x00" + path
	locks      map[string]*varLock  // Variable locks by the same key (locks.go)
	drainDur   time.Duration
	nodeDrain  map[string]time.Duration // node name -> drain duration
	drainFail  map[string]string        // node name -> failure message
	events     []Event
	onComplete []func(nodeID string)
	completed  []string // drains completed since the last unlock
	seq        uint64
	// tokens maps ACL secret IDs to their permissions ("" is the anonymous
	// token); nil while ACLs are off.
	tokens map[string]*aclSet
}

// New returns an empty fake Nomad cluster.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBlockingWait <= 0 {
		opts.MaxBlockingWait = defaultMaxBlockingWait
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = defaultPollInterval
	}
	if opts.DrainDuration <= 0 {
		opts.DrainDuration = defaultDrainDuration
	}
	s := &Server{
		opts:       opts,
		index:      1,
		tables:     map[string]uint64{tableNodes: 1, tableAllocs: 1, tableVars: 1},
		changed:    make(chan struct{}),
		closed:     make(chan struct{}),
		nodes:      map[string]*node{},
		allocs:     map[string]*alloc{},
		nodeAllocs: map[string][]*alloc{},
		vars:       map[string]*variable{},
		drainDur:   opts.DrainDuration,
		nodeDrain:  map[string]time.Duration{},
		drainFail:  map[string]string{},
	}
	s.recorder = fakehttp.New(s.routes(), fakehttp.Options{
		Now:     opts.Now,
		Advance: s.Advance,
		WriteError: func(w http.ResponseWriter, status int) {
			writeError(w, status, "injected error "+strconv.Itoa(status))
		},
	})
	return s
}

const (
	tableNodes  = "nodes"
	tableAllocs = "allocs"
	tableVars   = "vars"
)

// Close releases every blocked query and makes later ones answer at once.
// Call it before closing the http server that serves s, or that close waits
// for blocked queries to time out.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

// bumpLocked records a change of the given tables and wakes blocked queries.
func (s *Server) bumpLocked(tables ...string) uint64 {
	s.index++
	for _, t := range tables {
		s.tables[t] = s.index
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return s.index
}

// InjectHTTPErrors makes the next n API requests answer with status (for
// example 429, 500 or 503) and a plain-text body, without touching state.
func (s *Server) InjectHTTPErrors(status, n int) { s.recorder.InjectErrors(status, n) }

// Requests returns a copy of the requests answered so far (at least the
// last 100 000), in the order they were answered; Time and Received are
// arrival times.
func (s *Server) Requests() []Request { return s.recorder.Requests() }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.recorder.ServeHTTP(w, r) }

// waitFor blocks a query with ?index=N until table changes past N, the wait
// passes, the client goes away or the server closes. It returns the table's
// index; the caller holds no lock.
func (s *Server) waitFor(r *http.Request, table string) uint64 {
	q := r.URL.Query()
	want, _ := strconv.ParseUint(q.Get("index"), 10, 64)
	wait := s.opts.MaxBlockingWait
	if w := q.Get("wait"); w != "" {
		if d, err := time.ParseDuration(w); err == nil && d > 0 && d < wait {
			wait = d
		}
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	poll := time.NewTicker(s.opts.PollInterval)
	defer poll.Stop()
	for {
		s.mu.Lock()
		s.advanceLocked()
		idx := s.tables[table]
		changed := s.changed
		s.unlock()
		if want == 0 || idx > want {
			return idx
		}
		select {
		case <-changed:
		case <-poll.C:
		case <-deadline.C:
			return idx
		case <-r.Context().Done():
			return idx
		case <-s.closed:
			return idx
		}
	}
}

// writeJSON answers 200 with v and the index headers the client parses.
func writeJSON(w http.ResponseWriter, index uint64, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Nomad-Index", strconv.FormatUint(index, 10))
	h.Set("X-Nomad-KnownLeader", "true")
	h.Set("X-Nomad-LastContact", "0")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers status with a plain-text message, as Nomad does.
func writeError(w http.ResponseWriter, status int, msg string) {
	http.Error(w, msg, status)
}

func (s *Server) nextIDLocked() string {
	s.seq++
	// A UUID-shaped, deterministic ID keeps logs readable and tests stable.
	return uuidFrom(s.seq)
}

func uuidFrom(n uint64) string {
	const hex = "0123456789abcdef"
	// The first group is a hash of n so IDs differ at the start, like real
	// UUIDs do, while the tail keeps the sequence number readable.
	h := uint32(n * 2654435761)
	b := make([]byte, 32)
	for i := 7; i >= 0; i-- {
		b[i] = hex[h&0xf]
		h >>= 4
	}
	for i := len(b) - 1; i >= 8; i-- {
		b[i] = hex[n&0xf]
		n >>= 4
	}
	s := string(b)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

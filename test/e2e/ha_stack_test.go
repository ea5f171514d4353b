package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

// The HA agents' lock: Nomad refuses a TTL or a lock delay under 10 s, so
// these are the fastest failover a real cluster allows.
const (
	haLockTTL   = 10 * time.Second
	haLockDelay = 10 * time.Second
	// haRetry is how often a standby's LockLeaser (nomad/api) tries to
	// acquire: 1.1 × TTL, fixed in the api package.
	haRetry = haLockTTL * 11 / 10
)

var haBlock = fmt.Sprintf(`
high_availability {
  enabled    = true
  lock_path  = "nomad-autoscaler/lock"
  lock_ttl   = %q
  lock_delay = %q
}
`, haLockTTL, haLockDelay)

// haStack is a stack with two agents in HA mode, each reaching the
// simulated cloud through its own front, which names it to the fakes and
// can cut it off from Nomad.
type haStack struct {
	*stack
	overlaps *fakegce.OverlapRecorder
	agents   []*haAgent
}

type haAgent struct {
	name string
	*agenttest.Agent
	front *agentFront
}

func newHAStack(t *testing.T, o stackOptions) *haStack {
	t.Helper()
	_, mgmtURL := testenv.RabbitMQ(t)
	dsn := testenv.FreshDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &stack{t: t, ctx: ctx}
	setupCtx, done := context.WithTimeout(ctx, 30*time.Second)
	defer done()
	must.NoError(t, loadgen.ApplySchema(setupCtx, dsn, filepath.Join(agenttest.RepoRoot(t), "scripts", "schema.sql")))
	s.vhost, s.amqpURL = testenv.FreshVhost(t)
	pub, err := loadgen.NewRabbitSink(s.amqpURL, queues)
	must.NoError(t, err)
	t.Cleanup(func() { pub.Close() })
	s.pub = pub
	s.startCloud(o)
	s.policyDir = t.TempDir()
	s.policy = o.policy
	s.policy.Vhost, s.policy.Project, s.policy.MIGs = s.vhost, "sim-project", migs
	writePolicy(t, s.policyDir, s.policy)

	h := &haStack{stack: s}
	h.overlaps = fakegce.NewOverlapRecorder(s.cloud.Handler(), func(zone, name string) bool {
		return s.cloud.GCE.MIG(zone, name).Stable
	})
	for _, name := range []string{"agent-a", "agent-b"} {
		f := newAgentFront(t, name, h.overlaps)
		a := agenttest.Start(t, agenttest.Config{
			PolicyDir:    s.policyDir,
			NomadAddress: f.URL,
			Blocks:       pluginBlocks(s.amqpURL, mgmtURL, dsn, f.URL) + haBlock,
		})
		h.agents = append(h.agents, &haAgent{name: name, Agent: a, front: f})
	}
	if o.workerCapacity > 0 {
		s.startWorkers(o.workerCapacity, o.workerFleet)
	}
	t.Cleanup(func() {
		for _, ov := range h.overlaps.Overlaps() {
			t.Errorf("%s changed MIG %s (%s) while a change by %s was under way", ov.Caller, ov.MIG, ov.Path, ov.Busy)
		}
	})
	return h
}

// leaderAfter waits until an agent acquires the lock after since, and
// returns it, the other agent and the time of the acquisition.
func (h *haStack) leaderAfter(since time.Time, timeout time.Duration) (leader, standby *haAgent, at time.Time) {
	h.t.Helper()
	h.waitFor("an agent holds the lock", timeout, func() bool {
		for i, a := range h.agents {
			if t := a.front.acquiredAfter(since); !t.IsZero() {
				leader, standby, at = a, h.agents[1-i], t
				return true
			}
		}
		return false
	})
	return leader, standby, at
}

// frontCall is one request an agent (or its plugins) made.
type frontCall struct {
	At     time.Time // when it reached the fakes
	Method string
	Path   string
	LockOp string // lock-acquire, lock-renew, lock-release or ""
	Status int
}

// agentFront serves the simulated cloud to one agent and its plugins. It
// names them to the fake GCE (fakegce.CallerHeader) and logs their calls.
// Split makes it stop answering their Nomad requests, as a network split
// between them and Nomad would: requests wait, unanswered, and reach Nomad
// when the split heals (as TCP delivers them late), unless the client has
// given up. Their GCE requests still pass.
type agentFront struct {
	name string
	next http.Handler
	URL  string

	mu     sync.Mutex
	healed chan struct{} // non-nil while split
	calls  []frontCall
}

func newAgentFront(t *testing.T, name string, next http.Handler) *agentFront {
	f := &agentFront{name: name, next: next}
	srv := httptest.NewServer(f)
	f.URL = srv.URL
	t.Cleanup(srv.Close)
	t.Cleanup(f.Heal) // runs first: Close waits for held requests
	return f
}

func (f *agentFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		f.mu.Lock()
		healed := f.healed
		f.mu.Unlock()
		if healed != nil {
			select {
			case <-healed:
			case <-r.Context().Done():
				return
			}
		}
	}
	call := frontCall{At: time.Now(), Method: r.Method, Path: r.URL.Path, LockOp: lockOp(r)}
	r.Header.Set(fakegce.CallerHeader, f.name)
	sw := &frontStatusWriter{ResponseWriter: w, status: http.StatusOK}
	f.next.ServeHTTP(sw, r)
	call.Status = sw.status
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
}

// Split stops answering Nomad requests until Heal.
func (f *agentFront) Split() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.healed == nil {
		f.healed = make(chan struct{})
	}
}

// Heal lets the held and the new Nomad requests through.
func (f *agentFront) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.healed != nil {
		close(f.healed)
		f.healed = nil
	}
}

func (f *agentFront) Calls() []frontCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]frontCall(nil), f.calls...)
}

// acquiredAfter is when the agent acquired the lock after since (zero if
// it has not).
func (f *agentFront) acquiredAfter(since time.Time) time.Time {
	for _, c := range f.Calls() {
		if c.LockOp == "lock-acquire" && c.Status == http.StatusOK && c.At.After(since) {
			return c.At
		}
	}
	return time.Time{}
}

// activity returns the calls after since that are not about the lock: what
// only an agent that evaluates (its plugins) makes.
func (f *agentFront) activity(since time.Time) []frontCall {
	var out []frontCall
	for _, c := range f.Calls() {
		if c.LockOp == "" && c.At.After(since) {
			out = append(out, c)
		}
	}
	return out
}

// changes returns its successful MIG resizes and deleteInstances after since.
func (f *agentFront) changes(since time.Time) []frontCall {
	var out []frontCall
	for _, c := range f.activity(since) {
		if c.Method == http.MethodPost && c.Status == http.StatusOK &&
			(strings.HasSuffix(c.Path, "/resize") || strings.HasSuffix(c.Path, "/deleteInstances")) {
			out = append(out, c)
		}
	}
	return out
}

// lockOp names an operation on the agents' HA lock. Other variable locks
// (target-gce-gpu's writer locks) are their plugins' activity.
func lockOp(r *http.Request) string {
	if r.URL.Path != "/v1/var/nomad-autoscaler/lock" {
		return ""
	}
	q := r.URL.Query()
	for _, op := range []string{"lock-acquire", "lock-renew", "lock-release"} {
		if q.Has(op) {
			return op
		}
	}
	return ""
}

type frontStatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *frontStatusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush lets the fakes' blocking answers through.
func (w *frontStatusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

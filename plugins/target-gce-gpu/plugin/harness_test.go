package plugin

import (
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

const (
	zoneA = "zone-a"
	zoneB = "zone-b"
	migA  = "gpu-a"
	migB  = "gpu-b"
)

// harness wires a plugin to the simulated cluster (simcloud): in-process
// fakes of GCE and Nomad where every instance that reaches RUNNING
// registers a Nomad node the way the GCE fingerprinter names it, running
// nothing until a test places allocations, and a deleted instance's node
// goes down. Middlewares in front of each fake slow, hold or cut requests.
type harness struct {
	t        testing.TB
	gce      *fakegce.Server
	nomad    *fakenomad.Server
	gceURL   string
	nomadURL string
	p        *Plugin
	policy   map[string]string
	// gceDelay slows every compute request down (nanoseconds).
	gceDelay atomic.Int64
	// deleteGate, when set, holds every deleteInstances request until the
	// channel is closed; deletesHeld counts the requests it has held.
	deleteGate  atomic.Pointer[chan struct{}]
	deletesHeld atomic.Int32
	// nomadInFlight counts the Nomad requests being answered and
	// nomadMaxInFlight the most there were at once.
	nomadInFlight, nomadMaxInFlight atomic.Int32
	// nomadDown makes the Nomad server drop every connection unanswered.
	nomadDown atomic.Bool
	// varStatus, when not 0, answers every Nomad variable request with
	// that HTTP status (403 is a token whose ACL lacks the path).
	varStatus atomic.Int64
	// renewStatus, when not 0, answers every lock renewal with that HTTP
	// status (409 is a lock that another process took over).
	renewStatus atomic.Int64
	// noLocks answers a lock acquisition as a Nomad before 1.7 does: a
	// plain write of the variable, without a lock.
	noLocks atomic.Bool
	// releaseDelay, when not 0, holds every lock release that long
	// before Nomad answers it.
	releaseDelay atomic.Int64
	// logs records what the plugins log at Warn and above.
	logs warnings
	// nomadToken, when set, is the ACL token newPlugin configures.
	nomadToken string
}

// warnings is an hclog sink that keeps the messages and arguments logged
// at Warn and above, so tests can check what an operator would be told.
type warnings struct {
	mu    sync.Mutex
	lines []string
}

// Accept implements hclog.SinkAdapter.
func (w *warnings) Accept(_ string, level hclog.Level, msg string, args ...any) {
	if level < hclog.Warn {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, fmt.Sprintln(append([]any{msg}, args...)...))
}

func (w *warnings) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "")
}

type harnessOptions struct {
	sizeA, sizeB  int
	bootTime      time.Duration
	drainDuration time.Duration
	operationTime time.Duration
	// moreSizes are the sizes of further MIGs, zone-c/gpu-c onwards (the
	// target takes one MIG per zone), for fleet-scale benchmarks.
	moreSizes []int
}

// moreMIG names the i-th MIG after zone-a and zone-b: zone-c/gpu-c, ...
func moreMIG(i int) simcloud.MIGRef {
	c := string(rune('c' + i))
	return simcloud.MIGRef{Zone: "zone-" + c, Name: "gpu-" + c}
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t}
	migs := []simcloud.MIGRef{{Zone: zoneA, Name: migA}, {Zone: zoneB, Name: migB}}
	sizes := map[simcloud.MIGRef]int{migs[0]: o.sizeA, migs[1]: o.sizeB}
	for i, size := range o.moreSizes {
		migs = append(migs, moreMIG(i))
		sizes[moreMIG(i)] = size
	}
	cloud, err := simcloud.New(simcloud.Config{
		Project: "test-project", MIGs: migs, InitialSizes: sizes,
		BootTime: o.bootTime, DeleteTime: 20 * time.Millisecond,
		RetryInterval: 20 * time.Millisecond, OperationTime: o.operationTime,
		// The fake Nomad's own default when a test sets none (simcloud's is 30s).
		DrainDuration:   cmp.Or(o.drainDuration, 2*time.Second),
		MaxBlockingWait: 500 * time.Millisecond, PollInterval: 5 * time.Millisecond,
		NodePool: "gpu",
		// The tests place every allocation themselves (busy).
		EmptyNodes: true,
		// A deleted instance's node stays down for the whole test: nothing
		// ticks the cluster, and the TTL is longer than any test.
		DownNodeTTL: time.Hour,
	})
	must.NoError(t, err)
	h.gce, h.nomad = cloud.GCE, cloud.Nomad
	gsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := time.Duration(h.gceDelay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		if gate := h.deleteGate.Load(); gate != nil && strings.HasSuffix(r.URL.Path, "/deleteInstances") {
			h.deletesHeld.Add(1)
			select {
			case <-*gate:
			case <-r.Context().Done():
				return
			}
		}
		h.gce.ServeHTTP(w, r)
	}))
	nsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.nomadInFlight.Add(1)
		defer h.nomadInFlight.Add(-1)
		for m := h.nomadMaxInFlight.Load(); n > m && !h.nomadMaxInFlight.CompareAndSwap(m, n); m = h.nomadMaxInFlight.Load() {
		}
		if h.nomadDown.Load() {
			// What a crashed Nomad server behind a load balancer gives: the
			// connection closes without an answer.
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		if code := int(h.varStatus.Load()); code != 0 && strings.HasPrefix(r.URL.Path, "/v1/var/") {
			http.Error(w, "Permission denied", code)
			return
		}
		if h.noLocks.Load() && r.URL.Query().Has("lock-acquire") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"Namespace":"default","Path":%q,"Items":{}}`, strings.TrimPrefix(r.URL.Path, "/v1/var/"))
			return
		}
		if d := time.Duration(h.releaseDelay.Load()); d > 0 && r.URL.Query().Has("lock-release") {
			time.Sleep(d)
		}
		if code := int(h.renewStatus.Load()); code != 0 && r.URL.Query().Has("lock-renew") {
			http.Error(w, "lock conflict", code)
			return
		}
		h.nomad.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		cloud.Close()
		gsrv.Close()
		nsrv.Close()
	})
	h.gceURL, h.nomadURL = gsrv.URL, nsrv.URL
	h.policy = map[string]string{
		"project":                        "test-project",
		"migs":                           joinMIGs(migs),
		"node_pool":                      "gpu",
		"node_drain_deadline":            "2s",
		"scale_timeout":                  "10s",
		"poll_interval":                  "10ms",
		"retry_attempts":                 "4",
		"stockout_cooldown":              "1m",
		"_nomad_autoscaler_grpc_timeout": "5s",
	}
	h.p = h.newPlugin()
	return h
}

// newPlugin returns a fresh plugin on the same fakes: what an agent
// restart or an HA failover gives.
func (h *harness) newPlugin() *Plugin {
	h.t.Helper()
	level := hclog.Warn
	if os.Getenv("TEST_LOG") != "" {
		level = hclog.Trace
	}
	logger := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "test", Level: level, Output: os.Stderr})
	logger.RegisterSink(&h.logs)
	p := New(logger)
	p.timing = timing{
		operationPoll: 10 * time.Millisecond, drainGrace: time.Second, blockWait: 200 * time.Millisecond,
		rollback: 5 * time.Second,
		backoff:  backoff{Initial: 5 * time.Millisecond, Max: 40 * time.Millisecond},
	}
	cfg := map[string]string{"compute_endpoint": h.gceURL, "compute_insecure": "true", "nomad_address": h.nomadURL}
	if h.nomadToken != "" {
		cfg["nomad_token"] = h.nomadToken
	}
	must.NoError(h.t, p.SetConfig(cfg))
	return p
}

func (h *harness) scale(count int64) error {
	h.t.Helper()
	return h.p.Scale(sdk.ScalingAction{Count: count, Direction: sdk.ScaleDirectionUp}, h.policy)
}

func (h *harness) status() *sdk.TargetStatus {
	h.t.Helper()
	st, err := h.p.Status(h.policy)
	must.NoError(h.t, err)
	return st
}

func (h *harness) targets() (int, int) {
	return h.gce.MIG(zoneA, migA).TargetSize, h.gce.MIG(zoneB, migB).TargetSize
}

// gceRequests returns the compute requests whose path ends with suffix.
func (h *harness) gceRequests(suffix string) []fakegce.Request {
	var out []fakegce.Request
	for _, r := range h.gce.Requests() {
		if strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// nodeByInstance returns the Nomad node of an instance.
func (h *harness) nodeByInstance(instance string) fakenomad.NodeSnapshot {
	h.t.Helper()
	id, ok := h.nomad.NodeIDByName(instance)
	must.True(h.t, ok, must.Sprintf("no node for instance %s", instance))
	return h.nomad.Node(id)
}

// busy gives the instance's node a running GPU job, so selection avoids it.
func (h *harness) busy(instance string) {
	h.t.Helper()
	must.NotEq(h.t, "", h.nomad.AddAllocation(h.nodeByInstance(instance).ID, fakenomad.AllocSpec{JobID: "ml-worker", GPUs: 1}))
}

// instances lists the names of a MIG's instances.
func (h *harness) instances(zone, name string) []string {
	var out []string
	for _, in := range h.gce.MIG(zone, name).Instances {
		out = append(out, in.Name)
	}
	return out
}

func joinMIGs(migs []simcloud.MIGRef) string {
	names := make([]string, len(migs))
	for i, m := range migs {
		names[i] = m.String()
	}
	return strings.Join(names, ",")
}

func scaleAction(count int64) sdk.ScalingAction {
	return sdk.ScalingAction{Count: count, Direction: sdk.ScaleDirectionDown}
}

func ptr[T any](v T) *T { return &v }

func formatInt(v int64) string { return strconv.FormatInt(v, 10) }

func hclogNull() hclog.Logger { return hclog.NewNullLogger() }

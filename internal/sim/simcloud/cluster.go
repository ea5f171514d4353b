package simcloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

// MIGRef names one zonal MIG.
type MIGRef struct {
	Zone string
	Name string
}

// String returns "zone/name", the form ParseMIGs reads.
func (m MIGRef) String() string { return m.Zone + "/" + m.Name }

// ParseMIGs reads "zone/name,zone/name".
func ParseMIGs(s string) ([]MIGRef, error) {
	var out []MIGRef
	var errs []error
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		zone, name, ok := strings.Cut(part, "/")
		if !ok || zone == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("mig %q: want zone/name", part))
			continue
		}
		out = append(out, MIGRef{Zone: zone, Name: name})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// DefaultWarmBootTime is Config.WarmBootTime's default: a stopped GPU VM
// whose disk already holds the worker image serves in about 90 s.
const DefaultWarmBootTime = 90 * time.Second

// Config describes a simulated cluster. Durations are simulated time, except
// MaxBlockingWait and PollInterval.
type Config struct {
	Project     string   // default "sim-project"
	MIGs        []MIGRef // at least one
	InitialSize int      // instances per MIG at start
	// InitialSizes overrides InitialSize for the MIGs it names, so that
	// the zones can start unequal; nil starts every MIG at InitialSize.
	InitialSizes map[MIGRef]int
	BootTime     time.Duration
	// WarmBootTime is how long a VM started from the standby pool takes to
	// be RUNNING with a ready node (its disk holds the image); default 90s.
	WarmBootTime time.Duration
	// StopTime is how long a VM stays STOPPING before it is stopped.
	StopTime   time.Duration
	DeleteTime time.Duration
	// DrainDuration is how long a node drain takes (its allocations finish).
	DrainDuration time.Duration
	Datacenter    string // default "dc1"
	NodeClass     string // default "gpu"
	NodePool      string // default "default"
	GPUsPerNode   int    // default 1
	// WorkerJobID is the service job placed on every ready eligible node;
	// default "ml-worker". A system job "node-exporter" runs on every node.
	WorkerJobID string
	// EmptyNodes registers nodes that run nothing: neither the worker job
	// nor node-exporter is placed, so a test that places its own
	// allocations sees exactly those.
	EmptyNodes bool
	// StockoutCode is the listErrors code of a stockout; default
	// ZONE_RESOURCE_POOL_EXHAUSTED (or ..._WITH_DETAILS).
	StockoutCode string
	// DownNodeTTL, when positive, keeps the node of a deleted instance as
	// "down" (its allocations lost) for that long before it is deregistered,
	// as Nomad keeps down nodes until they are purged or garbage collected.
	// Zero deregisters it at once.
	DownNodeTTL time.Duration
	// Clock is the simulated clock; default real time.
	Clock *Clock

	// The fakes' own settings, passed through; zero keeps each fake's
	// default, which suits the demo and the end-to-end tests. Fast
	// component tests shorten them.

	// RetryInterval is how often a MIG retries creating instances in a
	// zone in stockout or over quota (fakegce.Options.RetryInterval;
	// default 30s).
	RetryInterval time.Duration
	// OperationTime is how long a GCE operation stays RUNNING
	// (fakegce.Options.OperationTime; default 0, DONE at once).
	OperationTime time.Duration
	// MaxBlockingWait bounds, in real time, how long a Nomad blocking
	// query waits (fakenomad.Options.MaxBlockingWait; default 5s).
	MaxBlockingWait time.Duration
	// PollInterval is how often, in real time, a waiting Nomad blocking
	// query brings time-driven state up to date
	// (fakenomad.Options.PollInterval; default 20ms).
	PollInterval time.Duration
}

// Cluster is a fake GCE project and a fake Nomad cluster kept coherent: a
// RUNNING MIG instance is a ready Nomad node with the GCE attributes, an
// eligible ready node runs one worker allocation, a drained node's
// allocations stop, and a deleted instance's node is deregistered.
type Cluster struct {
	cfg   Config
	clock *Clock
	// GCE and Nomad are the underlying fakes, for injection and assertions.
	GCE   *fakegce.Server
	Nomad *fakenomad.Server

	mu    sync.Mutex
	nodes map[string]string // zone/instance -> Nomad node ID
	// billed integrates RUNNING instances over simulated time, per zone.
	billed   map[string]time.Duration
	running  map[string]int // RUNNING instances per zone at the last tick
	lastBill time.Time
	// downUntil holds nodes of deleted instances kept down until a time.
	downUntil map[string]time.Time
	// badTemplates are instance templates whose workers fail (template.go);
	// nodeTemplate is each node's template.
	badTemplates map[string]bool
	nodeTemplate map[string]string
}

// New builds the cluster and boots the initial instances.
func New(cfg Config) (*Cluster, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, clock: cfg.Clock, nodes: map[string]string{}, billed: map[string]time.Duration{},
		downUntil: map[string]time.Time{}, badTemplates: map[string]bool{}, nodeTemplate: map[string]string{}}
	c.lastBill = c.clock.Now()
	c.GCE = fakegce.New(fakegce.Options{
		Project: cfg.Project, BootTime: cfg.BootTime, DeleteTime: cfg.DeleteTime, Now: c.clock.Now,
		StartTime: cfg.WarmBootTime, StopTime: cfg.StopTime, StockoutCode: cfg.StockoutCode,
		RetryInterval: cfg.RetryInterval, OperationTime: cfg.OperationTime,
	})
	c.Nomad = fakenomad.New(fakenomad.Options{
		Now: c.clock.Now, DrainDuration: cfg.DrainDuration,
		MaxBlockingWait: cfg.MaxBlockingWait, PollInterval: cfg.PollInterval,
	})
	c.GCE.OnInstanceRunning(c.registerNode)
	c.GCE.OnInstanceDeleted(c.deregisterNode)
	// A stopped VM's Nomad client is gone as surely as a deleted one's.
	c.GCE.OnInstanceStopped(c.deregisterNode)
	for _, m := range cfg.MIGs {
		size, ok := cfg.InitialSizes[m]
		if !ok {
			size = cfg.InitialSize
		}
		c.GCE.AddMIG(m.Zone, m.Name, size)
	}
	c.schedule()
	c.countRunning()
	return c, nil
}

func (cfg *Config) defaults() error {
	var errs []error
	if len(cfg.MIGs) == 0 {
		errs = append(errs, errors.New("migs: at least one zone/name is required"))
	}
	if cfg.InitialSize < 0 {
		errs = append(errs, fmt.Errorf("initial-size: %d is negative", cfg.InitialSize))
	}
	for m, n := range cfg.InitialSizes {
		if n < 0 {
			errs = append(errs, fmt.Errorf("initial size of %s: %d is negative", m, n))
		}
	}
	for _, d := range []struct {
		key string
		val time.Duration
	}{{"boot-time", cfg.BootTime}, {"warm-boot-time", cfg.WarmBootTime}, {"stop-time", cfg.StopTime}, {"delete-time", cfg.DeleteTime}, {"drain-duration", cfg.DrainDuration}, {"down-node-ttl", cfg.DownNodeTTL},
		{"retry-interval", cfg.RetryInterval}, {"operation-time", cfg.OperationTime}, {"max-blocking-wait", cfg.MaxBlockingWait}, {"poll-interval", cfg.PollInterval}} {
		if d.val < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is negative", d.key, d.val))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	setDefault(&cfg.Project, "sim-project")
	setDefault(&cfg.Datacenter, "dc1")
	setDefault(&cfg.NodeClass, "gpu")
	setDefault(&cfg.NodePool, "default")
	setDefault(&cfg.WorkerJobID, "ml-worker")
	if cfg.GPUsPerNode <= 0 {
		cfg.GPUsPerNode = 1
	}
	if cfg.WarmBootTime == 0 {
		cfg.WarmBootTime = DefaultWarmBootTime
	}
	if cfg.DrainDuration == 0 {
		cfg.DrainDuration = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = NewClock(time.Now(), 1, nil)
	}
	return nil
}

func setDefault(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// Hostname returns the GCE hostname of an instance, whose first label the
// target maps back to the instance.
func (c *Cluster) Hostname(instance string) string {
	return instance + ".c." + c.cfg.Project + ".internal"
}

func (c *Cluster) registerNode(zone, mig, instance string) {
	tmpl := c.instanceTemplate(zone, mig, instance)
	id := c.Nomad.AddNode(fakenomad.NodeSpec{
		Name: instance, Datacenter: c.cfg.Datacenter, NodeClass: c.cfg.NodeClass, NodePool: c.cfg.NodePool,
		GPUs: c.cfg.GPUsPerNode,
		Attributes: map[string]string{
			"unique.platform.gce.hostname": c.Hostname(instance),
			"unique.hostname":              instance,
			"platform.gce.zone":            zone,
			"platform.gce.machine-type":    "g2-standard-8",
			"unique.platform.gce.id":       instance,
			"os.name":                      "ubuntu",
			"kernel.name":                  "linux",
		},
		Meta: map[string]string{"mig": mig, TemplateMetaKey: tmpl},
	})
	if !c.cfg.EmptyNodes {
		c.Nomad.AddAllocation(id, fakenomad.AllocSpec{JobID: "node-exporter", JobType: api.JobTypeSystem})
	}
	c.mu.Lock()
	c.nodes[zone+"/"+instance] = id
	c.nodeTemplate[id] = tmpl
	c.mu.Unlock()
	c.schedule()
}

func (c *Cluster) deregisterNode(zone, _, instance string) {
	c.mu.Lock()
	id, ok := c.nodes[zone+"/"+instance]
	delete(c.nodes, zone+"/"+instance)
	delete(c.nodeTemplate, id)
	c.mu.Unlock()
	if !ok {
		return
	}
	if c.cfg.DownNodeTTL <= 0 {
		c.Nomad.RemoveNode(id)
		return
	}
	if c.Nomad.SetNodeStatus(id, api.NodeStatusDown) == nil {
		c.mu.Lock()
		c.downUntil[id] = c.clock.Now().Add(c.cfg.DownNodeTTL)
		c.mu.Unlock()
	}
}

// collectDownNodes deregisters down nodes whose time is up, as Nomad's node
// garbage collection does.
func (c *Cluster) collectDownNodes() {
	now := c.clock.Now()
	var due []string
	c.mu.Lock()
	for id, until := range c.downUntil {
		if !now.Before(until) {
			due = append(due, id)
			delete(c.downUntil, id)
		}
	}
	c.mu.Unlock()
	for _, id := range due {
		c.Nomad.RemoveNode(id)
	}
}

// schedule places a worker allocation on every ready, eligible node that
// is not draining and runs none, as Nomad would place the worker job.
func (c *Cluster) schedule() {
	if c.cfg.EmptyNodes {
		return
	}
	for _, n := range c.Nomad.Nodes() {
		if n.Status != api.NodeStatusReady || n.SchedulingEligibility != api.NodeSchedulingEligible || n.Draining {
			continue
		}
		if hasRunningWorker(n, c.cfg.WorkerJobID) {
			continue
		}
		if c.workersFail(n.ID) {
			// A worker of a bad template fails once and is not placed
			// again on that node (template.go).
			if !hasWorker(n, c.cfg.WorkerJobID) {
				c.Nomad.AddAllocation(n.ID, fakenomad.AllocSpec{JobID: c.cfg.WorkerJobID, GPUs: c.cfg.GPUsPerNode,
					ClientStatus: api.AllocClientStatusFailed})
			}
			continue
		}
		c.Nomad.AddAllocation(n.ID, fakenomad.AllocSpec{JobID: c.cfg.WorkerJobID, GPUs: c.cfg.GPUsPerNode})
	}
}

func hasRunningWorker(n fakenomad.NodeSnapshot, job string) bool {
	for _, a := range n.Allocations {
		if a.JobID == job && (a.ClientStatus == api.AllocClientStatusRunning || a.ClientStatus == api.AllocClientStatusPending) {
			return true
		}
	}
	return false
}

// Tick charges the time since the last tick to the instances that were
// RUNNING then, brings both fakes up to the clock and reschedules workers.
func (c *Cluster) Tick() {
	c.bill()
	c.GCE.Advance()
	c.Nomad.Advance()
	c.collectDownNodes()
	c.schedule()
	c.countRunning()
}

// bill charges the interval since the last tick to the instances RUNNING at
// that tick (GCE bills an instance while it runs); ticks must be short
// against boot and delete times for the sum to be fair.
func (c *Cluster) bill() {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	dt := now.Sub(c.lastBill)
	if dt <= 0 {
		return
	}
	c.lastBill = now
	for zone, n := range c.running {
		c.billed[zone] += time.Duration(n) * dt
	}
}

// countRunning records how many instances run per zone, for the next bill.
func (c *Cluster) countRunning() {
	running := map[string]int{}
	for _, m := range c.GCE.MIGs() {
		for _, in := range m.Instances {
			if in.Status == "RUNNING" {
				running[m.Zone]++
			}
		}
	}
	c.mu.Lock()
	c.running = running
	c.mu.Unlock()
}

// InstanceHours returns the RUNNING instance-hours so far, per zone.
func (c *Cluster) InstanceHours() map[string]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]float64{}
	for z, d := range c.billed {
		out[z] = d.Hours()
	}
	return out
}

// Run ticks every interval (real time) until ctx is done.
func (c *Cluster) Run(ctx context.Context, interval time.Duration) {
	every(ctx, interval, c.Tick)
}

// every calls fn each interval (real time) until ctx is done.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// Close releases the fakes' blocked requests.
func (c *Cluster) Close() {
	c.GCE.Close()
	c.Nomad.Close()
}

// Handler serves the compute API under /compute/, the Nomad API under /v1/
// and the admin API under /admin/ on one listener.
func (c *Cluster) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/compute/", c.GCE)
	mux.Handle("/v1/", c.Nomad)
	mux.Handle("/admin/", c.adminHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

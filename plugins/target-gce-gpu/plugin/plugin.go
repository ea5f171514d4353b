// Package plugin implements the target-gce-gpu target plugin: it scales GPU
// workers spread over zonal managed instance groups (one per zone), drains
// Nomad nodes before deleting exactly their instances, moves workers away
// from zones in stockout, and keeps all scale-in state in GCE and Nomad so
// that a restart or failover can finish or undo an interrupted scale-in.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"sync"
	"sync/atomic"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	"github.com/hashicorp/nomad-autoscaler/plugins/target"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/hashicorp/nomad/api"
)

// PluginName is the binary name, the agent driver and PluginInfo().Name.
const PluginName = "target-gce-gpu"

var _ target.Target = (*Plugin)(nil)

// timing groups the waits and pauses, which tests shorten.
type timing struct {
	// operationPoll is the pause between polls of a GCE operation. The
	// waits on MIG state use the policy's poll_interval instead.
	operationPoll time.Duration
	// drainGrace is added to node_drain_deadline before a drain counts as
	// failed: Nomad forces the drain at the deadline, this covers the rest.
	drainGrace time.Duration
	// blockWait bounds one blocking query of the drain monitor.
	blockWait time.Duration
	// rollback bounds undoing a failed drain, which must run even when the
	// drain used up the call's deadline.
	rollback time.Duration
	backoff  backoff
}

var defaultTiming = timing{
	operationPoll: 5 * time.Second,
	drainGrace:    time.Minute,
	blockWait:     30 * time.Second,
	rollback:      time.Minute,
	backoff:       defaultBackoff,
}

// Plugin is the target-gce-gpu target plugin. Status and Scale are safe to
// call concurrently, also for the same policy.
type Plugin struct {
	logger hclog.Logger
	timing timing
	now    func() time.Time

	mu         sync.Mutex
	cfg        *pluginConfig
	migClient  *compute.InstanceGroupManagersClient
	instClient *compute.InstancesClient
	nomad      *api.Client
	nodes      *nodeCache                     // pool nodes read through nomad (nodecache.go)
	targets    *pluginkit.Cache[targetConfig] // parsed target configs by content
	// metrics is served on the agent block\'s metrics_address.
	metrics  *pluginkit.Metrics
	tm       *targetMetrics
	policies map[string]*policyState // by policy key
}

// policyState is the in-memory part of a policy's state. It is only ever a
// cache or a lock: everything that matters lives in GCE and Nomad.
type policyState struct {
	// scaling is held by Scale; Status only reconciles when it is free, so
	// it never races a scale-in between its drain and its delete.
	scaling sync.Mutex
	// scaleRunning tells Status that a Scale of the policy is under way,
	// so the policy is not ready.
	scaleRunning atomic.Bool
	mu           sync.Mutex
	// lastEvent caches the policy's Nomad variable; lastRead is when it
	// was last read, so a failing read is retried now and then rather than
	// on every Status.
	lastEvent time.Time
	lastKnown bool
	lastRead  time.Time
	// stoppedAt caches when the pool's stopped VMs stopped, by zone/name,
	// while they stay stopped (pool.go).
	stoppedAt map[string]time.Time
	// poolShort is when each zone's pool, by zone/mig, was first seen short
	// of its share while standby_refill_delay holds its refill (pool.go).
	// Lost on restart: the delay then starts again, which errs towards
	// fewer cold creations, not fewer workers.
	poolShort map[string]time.Time
	// spot remembers the Spot tier's preemptions (spot.go).
	spot spotMemory
	// writerDenied is when the writer lock was last found unavailable: the
	// token refused its path, or Nomad has no Variable locks (writer.go).
	writerDenied time.Time
	// releasing is closed when the last call's release of the writer lock
	// has ended (nil: none yet): the release runs after the call has
	// answered, and the next acquisition waits for it.
	releasing chan struct{}
}

// New returns an unconfigured plugin.
func New(log hclog.Logger) *Plugin {
	metrics := pluginkit.NewMetrics()
	return &Plugin{
		metrics:  metrics,
		tm:       newTargetMetrics(metrics),
		logger:   log,
		timing:   defaultTiming,
		now:      time.Now,
		targets:  pluginkit.NewCache(targetTable, targetCacheSize, parseTargetConfig),
		policies: map[string]*policyState{},
	}
}

// PluginInfo implements base.Base.
func (p *Plugin) PluginInfo() (*base.PluginInfo, error) {
	return &base.PluginInfo{Name: PluginName, PluginType: sdk.PluginTypeTarget}, nil
}

// SetConfig implements base.Base. It validates and stores the config; the
// clients are built on first use, so the agent starts while GCE or Nomad
// are unreachable. The agent calls it again on SIGHUP: that replaces the
// clients.
func (p *Plugin) SetConfig(raw map[string]string) (err error) {
	defer pluginkit.Recover(p.logger, PluginName, "set_config", &err)
	cfg, err := parsePluginConfig(raw)
	if err != nil {
		return fmt.Errorf("%s config: %w", PluginName, err)
	}
	if err := p.metrics.Serve(cfg.metricsAddress); err != nil {
		return fmt.Errorf("%s config: %w", PluginName, err)
	}
	nomadClient, err := api.NewClient(cfg.nomad)
	if err != nil {
		// The client quotes the address and the TLS file paths it was given.
		msg := redactValues(err.Error(), raw, append([]string{configKeyNomadAddress}, nomadTLSKeys...)...)
		return fmt.Errorf("%s config: nomad client: %s", PluginName, msg)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// The old compute client is dropped, not closed: a Scale that started
	// before the SIGHUP may still be using it (its idle connections close
	// after the transport's idle timeout). The old Nomad client's idle
	// connections are closed now; one in use stays open until its call
	// ends.
	if p.nomad != nil {
		p.nomad.Close()
	}
	// A new Nomad client may point at another cluster: start a new cache.
	p.cfg, p.nomad, p.nodes, p.migClient, p.instClient = &cfg, nomadClient, newNodeCache(), nil, nil
	return nil
}

// clients returns the API adapters for one call, creating the compute
// client on first use.
func (p *Plugin) clients(ctx context.Context, cfg targetConfig) (migAPI, nodeAPI, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg == nil {
		return nil, nil, errors.New("plugin not configured: SetConfig was not called")
	}
	if p.migClient == nil {
		c, ic, err := newMIGClient(ctx, *p.cfg)
		if err != nil {
			return nil, nil, err
		}
		p.migClient, p.instClient = c, ic
	}
	bo := p.backoff(cfg)
	return computeMIGs{client: p.migClient, instances: p.instClient, retry: bo, pollInterval: p.timing.operationPoll},
		nomadNodes{client: p.nomad, retry: bo, blockWait: p.timing.blockWait, cache: p.nodes}, nil
}

// writerLocks returns the adapter for the policies' writer locks
// (writer.go), on the client clients uses.
func (p *Plugin) writerLocks(cfg targetConfig) writerLocks {
	p.mu.Lock()
	defer p.mu.Unlock()
	return nomadWriterLocks{client: p.nomad, retry: p.backoff(cfg)}
}

// backoff is the plugin's retry timing with the policy's retry_attempts.
func (p *Plugin) backoff(cfg targetConfig) backoff {
	bo := p.timing.backoff
	bo.Attempts = cfg.retryAttempts
	return bo
}

// targetCacheSize bounds the parsed target configs kept: one per policy,
// and a few more while policies are edited.
const targetCacheSize = 256

// target parses a policy's target config once per distinct content.
func (p *Plugin) target(raw map[string]string) (targetConfig, *policyState, error) {
	cfg, err := p.targets.Parse(raw)
	if err != nil {
		return cfg, nil, fmt.Errorf("%s target config: %w", PluginName, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.policies[cfg.policyKey]
	if !ok {
		st = &policyState{}
		p.policies[cfg.policyKey] = st
	}
	return cfg, st, nil
}

// MetricNames lists the Prometheus metrics the plugin exports (without the
// runtime collectors), for dashboards and docs to be checked against.
func (p *Plugin) MetricNames() []string { return p.metrics.Names() }

// MetricLabels maps each series the plugin exports to its label names.
func (p *Plugin) MetricLabels() map[string][]string { return p.metrics.Labels() }

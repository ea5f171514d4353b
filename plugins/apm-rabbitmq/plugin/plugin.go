// Package plugin implements the apm-rabbitmq APM plugin: queue backlog from
// RabbitMQ (AMQP and the management API) and per-minute request counts from
// PostgreSQL, for the Nomad Autoscaler agent v0.5.0.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"maps"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/apm"
	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// PluginName is the binary name, the agent driver and PluginInfo().Name.
const PluginName = "apm-rabbitmq"

var _ apm.APM = (*Plugin)(nil)

var errNotConfigured = errors.New("apm-rabbitmq is not configured: the agent has not called SetConfig")

// Plugin is the apm-rabbitmq APM plugin. It is safe for concurrent use: the
// agent queries it from every policy handler at once.
type Plugin struct {
	logger hclog.Logger
	now    func() time.Time // the clock; tests fix it

	setMu   sync.Mutex // serialises SetConfig calls
	mu      sync.RWMutex
	backend *backend
	ownCfg  map[string]string // the operator's keys behind backend
}

// New returns an unconfigured plugin.
func New(log hclog.Logger) *Plugin { return &Plugin{logger: log, now: time.Now} }

// PluginInfo implements base.Base.
func (p *Plugin) PluginInfo() (*base.PluginInfo, error) {
	return &base.PluginInfo{Name: PluginName, PluginType: sdk.PluginTypeAPM}, nil
}

// SetConfig implements base.Base. It validates without contacting any
// server. Called again with the same keys and TLS files (SIGHUP without a
// change) it keeps the connections; with new keys it swaps in new clients
// and returns, and the old ones are closed once the queries running on them
// are done.
func (p *Plugin) SetConfig(m map[string]string) (err error) {
	defer pluginkit.Recover(p.logger, PluginName, "set_config", &err)
	p.setMu.Lock()
	defer p.setMu.Unlock()
	own := withFileDigests(pluginkit.OwnKeys(m))
	p.mu.RLock()
	current := p.backend
	same := current != nil && maps.Equal(own, p.ownCfg)
	p.mu.RUnlock()
	if same {
		warnInlineSQL(p.logger, current.cfg)
		return nil
	}
	cfg, err := parseConfig(m)
	if err != nil {
		return pluginkit.AtBoundary(fmt.Errorf("%s config: %w", PluginName, err))
	}
	next, err := newBackend(cfg, p.logger, p.now)
	if err != nil {
		return pluginkit.AtBoundary(fmt.Errorf("%s config: %w", PluginName, err))
	}
	p.mu.Lock()
	old := p.backend
	p.backend, p.ownCfg = next, own
	p.mu.Unlock()
	warnInlineSQL(p.logger, cfg)
	if old != nil {
		// The agent holds its plugin lock during SetConfig: close aside,
		// once the queries still running on the old clients are done.
		p.logger.Info("configuration changed, closing the previous connections once idle")
		go old.close()
	}
	return nil
}

// warnInlineSQL logs, at every SetConfig that leaves it on, what
// allow_inline_sql allows: the setting hands the database role to every
// policy author, and the operator should read that in the log.
func warnInlineSQL(logger hclog.Logger, c config) {
	if c.access.allowInlineSQL {
		logger.Warn("inline sql allowed: every scaling policy, so anyone who may submit a nomad job, can run its own sql as this plugin's database role",
			"key", configKeyAllowInlineSQL)
	}
}

// Query implements apm.APM. It has its own deadline (query_timeout): the
// agent calls without one.
func (p *Plugin) Query(q string, r sdk.TimeRange) (metrics sdk.TimestampedMetrics, err error) {
	defer pluginkit.Recover(p.logger, PluginName, "query", &err)
	b, release, err := p.acquire()
	if err != nil {
		return nil, pluginkit.AtBoundary(err)
	}
	defer release()
	parsed, err := parseQuery(q)
	if err != nil {
		return nil, pluginkit.AtBoundary(err)
	}
	if parsed, err = b.cfg.access.admit(parsed); err != nil {
		return nil, pluginkit.AtBoundary(fmt.Errorf("query %q: %w", q, err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.queryTimeout)
	defer cancel()
	p.logger.Trace("query", "query", q, "from", r.From, "to", r.To)
	metrics, err = b.query(ctx, parsed, r)
	if err == nil {
		err = checkSeries(metrics)
	}
	if err != nil {
		return nil, pluginkit.AtBoundary(fmt.Errorf("query %q: %w", q, err))
	}
	return metrics, nil
}

// QueryMultiple implements apm.APM. Every query of this plugin yields one
// series, so it wraps Query.
func (p *Plugin) QueryMultiple(q string, r sdk.TimeRange) ([]sdk.TimestampedMetrics, error) {
	m, err := p.Query(q, r)
	if err != nil {
		return nil, err
	}
	return []sdk.TimestampedMetrics{m}, nil
}

// shutdown closes the connections. The agent has no such call (it kills
// the process); tests use it so that they leave no connection behind.
func (p *Plugin) shutdown() {
	p.setMu.Lock()
	defer p.setMu.Unlock()
	p.mu.Lock()
	old := p.backend
	p.backend, p.ownCfg = nil, nil
	p.mu.Unlock()
	if old != nil {
		old.close()
	}
}

// acquire returns the current backend and registers a query on it, so that
// a concurrent SetConfig does not close it under the query.
func (p *Plugin) acquire() (*backend, func(), error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.backend == nil {
		return nil, nil, errNotConfigured
	}
	b := p.backend
	b.inflight.Add(1)
	return b, b.inflight.Done, nil
}

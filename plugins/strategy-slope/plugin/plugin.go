// Package plugin implements the strategy-slope strategy plugin: it sizes a
// GPU worker fleet for the demand the request-rate trend predicts over the
// time new workers need to arrive, reacts to queue backlog, keeps a
// business-hours floor and honours an expiring manual override.
//
// The decision (decide and below) is pure; Run only converts the agent's
// evaluation into an input, reads the optional Nomad Variable override and
// turns the decision into an sdk.ScalingAction.
package plugin

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	nomadhelper "github.com/hashicorp/nomad-autoscaler/sdk/helper/nomad"
	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// PluginName is the binary name, the agent driver and PluginInfo().Name.
const PluginName = "strategy-slope"

var _ strategy.Strategy = (*Plugin)(nil)

// Plugin is the strategy-slope strategy plugin. It is safe for concurrent use.
type Plugin struct {
	logger hclog.Logger

	// configs is set once by New and safe for concurrent use. The agent
	// hands Run a freshly decoded map on every evaluation, and parsing it
	// (time zone, durations, override) was a fifth of Run's time.
	configs *pluginkit.Cache[config]

	mu   sync.Mutex
	now  func() time.Time
	vars *variableCache

	// margins and memory are kept between Runs, per check: rate mode's
	// last calibration (a cache: recomputed after a restart), and the
	// recent increases of the count and backlog readings (checkMemory).
	margins *marginCache
	memory  checkMemory

	// metrics is served on the agent block's metrics_address.
	metrics *pluginkit.Metrics
	sm      *strategyMetrics
}

// New returns an unconfigured plugin that reads the wall clock.
func New(log hclog.Logger) *Plugin {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	metrics := pluginkit.NewMetrics()
	margins := newMarginCache()
	margins.spawn = func(f func()) { go f() }
	return &Plugin{logger: log, now: time.Now, configs: newConfigCache(), margins: margins,
		metrics: metrics, sm: newStrategyMetrics(metrics)}
}

// SetInlineCalibration makes the hourly recalibration run within the
// evaluation that starts it rather than in the background; it is still
// taken at the next evaluation, as in the agent. Replays (cmd/backtest)
// use it so that a run's figures do not depend on goroutine timing.
func (p *Plugin) SetInlineCalibration() {
	p.margins.settle()
	p.margins.spawn = func(f func()) { f() }
}

// SetClock replaces the clock used for the business-hours floor, override
// expiry and the variable cache. Replays (cmd/backtest) and tests use it to
// run the strategy on simulated time.
func (p *Plugin) SetClock(now func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now = now
}

// PluginInfo implements base.Base.
func (p *Plugin) PluginInfo() (*base.PluginInfo, error) {
	return &base.PluginInfo{Name: PluginName, PluginType: sdk.PluginTypeStrategy}, nil
}

// configCacheSize bounds the parsed configs kept. The agent sends the same
// few strategy blocks (one per check) on every evaluation, so a few dozen
// entries hold every check of a large deployment.
const configCacheSize = 64

func newConfigCache() *pluginkit.Cache[config] {
	return pluginkit.NewCache(configTable, configCacheSize, parseConfig)
}

// agentTable is the agent-level strategy block: the metrics address and
// the agent's own keys (its Nomad connection, used to read
// override_variable). Strategy keys belong in each check's strategy block.
var agentTable = &pluginkit.Table{
	AgentKeys:   true,
	Keys:        []pluginkit.Key{pluginkit.MetricsKeyRow},
	UnknownHint: "strategy keys go in the check's strategy block",
}

// SetConfig implements base.Base. The agent passes its Nomad connection
// (nomad_* keys), used only to read the override_variable; any other key is
// an error. Calling it again (SIGHUP) replaces the connection and empties
// the variable cache.
func (p *Plugin) SetConfig(cfg map[string]string) (err error) {
	defer pluginkit.Recover(p.logger, PluginName, "set_config", &err)
	parsed := pluginkit.Parse(agentTable, cfg)
	if err := parsed.Err(); err != nil {
		return fmt.Errorf("%s config: %w", PluginName, err)
	}
	if err := p.metrics.Serve(parsed.Text(pluginkit.MetricsKey)); err != nil {
		return fmt.Errorf("%s config: %w", PluginName, err)
	}
	client, err := api.NewClient(nomadhelper.ConfigFromNamespacedMap(cfg))
	if err != nil {
		return pluginkit.AtBoundary(fmt.Errorf("%s config: nomad client for override_variable: %w", PluginName, err))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.vars = newVariableCache(nomadVariables{client: client})
	return nil
}

// Run implements strategy.Strategy. It always returns an action or an
// error, never panics: a crashed plugin is not relaunched by the agent.
func (p *Plugin) Run(eval *sdk.ScalingCheckEvaluation, count int64) (out *sdk.ScalingCheckEvaluation, err error) {
	start, errKind := time.Now(), ""
	defer func() {
		if err != nil {
			out = nil
		}
		p.sm.timeRun(start, err, errKind)
	}()
	defer pluginkit.Recover(p.logger, PluginName, "run", &err)
	if eval == nil || eval.Check == nil || eval.Check.Strategy == nil {
		errKind = errKindInput
		return nil, errors.New("strategy-slope: evaluation without a check or strategy block")
	}
	cfg, err := p.configs.Parse(eval.Check.Strategy.Config)
	if err != nil {
		errKind = errKindConfig
		return nil, fmt.Errorf("check %q: strategy config: %w", eval.Check.Name, err)
	}
	p.mu.Lock()
	now, vars := p.now(), p.vars
	p.mu.Unlock()

	buf := pointBuffers.Get().(*[]point)
	defer func() {
		if cap(*buf) <= maxPooledPoints {
			pointBuffers.Put(buf)
		}
	}()
	in := input{now: now, count: count, cfg: cfg}
	// The usual rate series goes onto the grid as it is; any other is
	// cleaned first (fillMetrics says when).
	if cfg.mode == modeRate {
		g := grids.Get().(*grid)
		defer grids.Put(g)
		if g.fillMetrics(eval.Metrics) {
			in.grid, in.newest = g, g.newest
		}
	}
	if in.grid == nil {
		*buf, in.quality, in.newest = cleanSeries(eval.Metrics, *buf)
		in.pts = *buf
	}
	key := checkKey(eval.Check)
	in.booting, in.bootKnown = p.memory.observeCount(key, now, count, cfg.lead)
	switch {
	case cfg.mode == modeRate:
		in.margin = func(g *grid, fp forecasterParams, r replayRules) calibration {
			return p.margins.calibratedMargin(key, g, fp, r)
		}
	case len(in.pts) > 0:
		in.backlogGrowth, in.growthKnown = p.memory.observeBacklog(key, now, in.pts[len(in.pts)-1].y)
	}
	in.variable, in.events, in.variableErr = runtimeOverride(vars, cfg.overrideVariable, now)
	log := p.logger.With("check", eval.Check.Name, "mode", cfg.mode)
	if in.variableErr != "" {
		log.Warn("override variable unreadable, deciding normally", "variable", cfg.overrideVariable, "error", in.variableErr)
	}

	d, err := decide(in)
	if err != nil {
		errKind = errKindDecision
		return nil, fmt.Errorf("check %q: %w", eval.Check.Name, err)
	}
	p.sm.observe(eval.Check.Name, count, d)
	log.Trace("calculated scaling strategy results", "current_count", count, "new_count", d.count, "reason", d.reason)
	eval.Action = &sdk.ScalingAction{
		Count:     d.count,
		Direction: d.direction,
		Reason:    d.reason,
		Meta:      jsonSafe(d.meta),
	}
	return eval, nil
}

// checkKey identifies a check across Runs: its name, source, query and
// strategy config. The agent sends no policy ID to strategies, so two
// policies with identical checks share a key; they would also scale on the
// same traffic with the same rules, which is what the key assumes.
func checkKey(c *sdk.ScalingPolicyCheck) string {
	var stack [256]byte
	content, _ := strategyConfigs.ContentKey(stack[:0], c.Strategy.Config)
	return c.Name + "\x00" + c.Source + "\x00" + c.Query + "\x00" + string(content)
}

// strategyConfigs encodes configs for checkKey; it caches nothing.
var strategyConfigs = newConfigCache()

// jsonSafe replaces non-finite floats, which JSON cannot carry, with strings.
func jsonSafe(meta map[string]any) map[string]any {
	for k, v := range meta {
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			meta[k] = fmt.Sprint(f)
		}
	}
	return meta
}

// MetricNames lists the Prometheus metrics the plugin exports (without the
// runtime collectors), for dashboards and docs to be checked against.
func (p *Plugin) MetricNames() []string { return p.metrics.Names() }

// MetricLabels maps each series the plugin exports to its label names.
func (p *Plugin) MetricLabels() map[string][]string { return p.metrics.Labels() }

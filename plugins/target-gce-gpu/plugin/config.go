package plugin

import (
	"errors"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad-autoscaler/plugins/shared"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/hashicorp/nomad-autoscaler/sdk/helper/scaleutils"
)

// Policy target block configuration keys; defaults and bounds are in
// targetTable.
const (
	targetKeyProject      = "project"
	targetKeyMIGs         = "migs"
	targetKeyNodeSelector = "node_selector"
	targetKeyStockoutCool = "stockout_cooldown"
	// targetKeyRestoreCooldown repeats the policy's cooldown for the
	// target, which agent v0.5.0 loses on a restart or HA takeover.
	targetKeyRestoreCooldown = "restore_cooldown"
	targetKeyScaleTimeout    = "scale_timeout"
	targetKeyPollInterval    = "poll_interval"
	targetKeyRetryAttempts   = "retry_attempts"
	targetKeyDryRun          = "dry-run"
	targetKeyStandbySize     = "standby_size"
	targetKeyStandbyMaxAge   = "standby_max_age"
	targetKeyStandbyDelay    = "standby_initial_delay"
	targetKeyStandbyRefill   = "standby_refill_delay"
	targetKeyNodeSelAliasV1  = sdk.TargetConfigNodeSelectorStrategy
	targetKeySpotMIGs        = "spot_migs"
	targetKeySpotShare       = "spot_share"
	targetKeySpotCooldown    = "spot_cooldown"

	// defaultRetryAttempts is also the tries of calls made outside a
	// policy (the backoff's default).
	defaultRetryAttempts = 8
)

// Node selectors understood by node_selector.
const (
	selectorLeastBusy   = "least_busy"
	selectorEmpty       = "empty"
	selectorNewestIndex = "newest_create_index"
	selectorOldestIndex = "oldest_create_index"
)

// targetConfig is the parsed policy target block.
type targetConfig struct {
	project string
	migs    []migRef
	// pool holds node_pool / node_class / datacenter and the scaleutils
	// node_filter_* keys, exactly as the agent gave them, for scaleutils.
	pool                  map[string]string
	drainDeadline         time.Duration
	drainIgnoreSystemJobs bool
	purge                 bool
	selector              string
	stockoutCooldown      time.Duration
	// restoreCooldown: Status is not ready until this long after the last
	// scaling (see cooldown.go).
	restoreCooldown time.Duration
	scaleTimeout    time.Duration
	// pollInterval is the pause between reads of the MIGs while Scale
	// waits for them to be stable or to show a stockout.
	pollInterval   time.Duration
	retryAttempts  int
	statusDeadline time.Duration
	dryRun         bool
	// standby is the warm pool of stopped VMs (standby.go).
	standby standbyConfig
	// spot is the Spot tier (spot.go); without spot_migs it is empty and
	// the policy behaves as before.
	spot spotConfig
	// spend prices the fleet for the spend series (spend.go).
	spend spendConfig
	// policyKey identifies the policy's set of MIGs in node markers, so that
	// two policies never reconcile each other's nodes.
	policyKey string
}

var poolKeys = []string{
	sdk.TargetConfigKeyNodePool, sdk.TargetConfigKeyClass, sdk.TargetConfigKeyDatacenter,
	scaleutils.XNodeFilterOptionIgnoreInit, scaleutils.XNodeFilterOptionIgnoreDrain,
}

// maxDuration bounds every duration key. Scale adds node_drain_deadline
// and scale_timeout into one deadline, which must not overflow into the
// past; no drain or wait of a sane policy comes near 30 days.
const maxDuration = "720h"

// maxStandbyAge bounds standby_max_age: a stopped VM kept for more than a
// quarter has drivers and an image no one would want to serve from.
const maxStandbyAge = "2160h"

// targetTable is the policy target block: our keys, the scaleutils pool
// keys, and what the agent adds (the gRPC timeout, and dry-run, which the
// agent reads but leaves in the map). The README's table is checked
// against it.
var targetTable = &pluginkit.Table{
	Keys: []pluginkit.Key{
		{Name: targetKeyProject, Kind: pluginkit.Text, Required: true, Doc: "GCP project ID of the MIGs"},
		{Name: targetKeyMIGs, Kind: pluginkit.Text, Required: true, Doc: "zone/name,zone/name: one zonal MIG per zone"},
		{Name: sdk.TargetConfigKeyNodePool, Kind: pluginkit.Text, Doc: "Nomad node pool of the MIGs' nodes"},
		{Name: sdk.TargetConfigKeyClass, Kind: pluginkit.Text, Doc: "Nomad node class of the MIGs' nodes"},
		{Name: sdk.TargetConfigKeyDatacenter, Kind: pluginkit.Text, Doc: "Nomad datacenter of the MIGs' nodes"},
		{Name: scaleutils.XNodeFilterOptionIgnoreInit, Kind: pluginkit.Bool, Default: "false", Doc: "do not count initializing pool nodes as problems"},
		{Name: scaleutils.XNodeFilterOptionIgnoreDrain, Kind: pluginkit.Bool, Default: "false", Doc: "do not count draining pool nodes as problems"},
		{Name: sdk.TargetConfigKeyDrainDeadline, Kind: pluginkit.Duration, Default: "5m", Min: "1s", Max: maxDuration, Doc: "Nomad drain deadline per node"},
		{Name: sdk.TargetConfigKeyIgnoreSystemJobs, Kind: pluginkit.Bool, Default: "false", Doc: "leave system jobs running during the drain"},
		{Name: sdk.TargetConfigKeyNodePurge, Kind: pluginkit.Bool, Default: "false", Doc: "purge the Nomad nodes of deleted instances"},
		{Name: targetKeyNodeSelector, Kind: pluginkit.Text, Default: selectorLeastBusy, Doc: "which nodes go on scale-in"},
		{Name: targetKeyNodeSelAliasV1, Kind: pluginkit.Text, Doc: "the SDK's name of node_selector"},
		{Name: targetKeyRestoreCooldown, Kind: pluginkit.Duration, Default: "0s", Min: "0s", Max: maxDuration, Doc: "not ready until this long after the last scaling (the policy's cooldown, restored across restarts)"},
		{Name: targetKeyStockoutCool, Kind: pluginkit.Duration, Default: "30m", Min: "0s", Max: maxDuration, Doc: "how long a zone in stockout is not grown"},
		{Name: targetKeyScaleTimeout, Kind: pluginkit.Duration, Default: "10m", Min: "1s", Max: maxDuration, Doc: "how long one Scale waits for MIGs to become stable"},
		{Name: targetKeyPollInterval, Kind: pluginkit.Duration, Default: "5s", Min: "1ms", Max: maxDuration, Doc: "pause between reads of the MIGs while Scale waits"},
		{Name: targetKeyRetryAttempts, Kind: pluginkit.Int, Default: strconv.Itoa(defaultRetryAttempts), Min: "1", Max: "100", Doc: "tries per GCE or Nomad request"},
		{Name: targetKeyStandbySize, Kind: pluginkit.Int, Default: "0", Min: "0", Max: "1000", Doc: "stopped VMs to keep, split across the MIGs like the workers"},
		{Name: targetKeyStandbyMaxAge, Kind: pluginkit.Duration, Default: "168h", Min: "1m", Max: maxStandbyAge, Doc: "a VM stopped longer than this is recycled"},
		{Name: targetKeyStandbyDelay, Kind: pluginkit.Duration, Default: "5m", Min: "0s", Max: "1h", Doc: "standbyPolicy.initialDelaySec of a VM created to refill the pool"},
		{Name: targetKeyStandbyRefill, Kind: pluginkit.Duration, Default: "0s", Min: "0s", Max: "24h", Doc: "how long a short pool waits for scale-ins to refill it before the MIG creates VMs"},
		{Name: targetKeySpotMIGs, Kind: pluginkit.Text, Doc: "zone/name,zone/name: zonal MIGs of Spot VMs, one per zone; empty for no Spot tier"},
		{Name: targetKeySpotShare, Kind: pluginkit.Float, Default: "0.6", Min: "0", Max: "1", Doc: "the most of the count that may run on Spot"},
		{Name: targetKeySpotCooldown, Kind: pluginkit.Duration, Default: "30m", Min: "0s", Max: "24h", Doc: "how long after a preemption a Spot MIG is not grown"},
		{Name: targetKeyPrice, Kind: pluginkit.Float, Min: "0", Max: maxPrice, Doc: "$ per hour of a running standard VM: turns on the spend estimate"},
		{Name: targetKeySpotPrice, Kind: pluginkit.Float, Min: "0", Max: maxPrice, Doc: "$ per hour of a running Spot VM (required with price_per_hour and spot_migs)"},
		{Name: targetKeyStandbyPrice, Kind: pluginkit.Float, Min: "0", Max: maxPrice, Doc: "$ per hour of a stopped pool VM, its disks (required with price_per_hour and standby_size)"},
		{Name: targetKeyBudget, Kind: pluginkit.Float, Min: "0", Max: "1e9", Doc: "$ per month the fleet should cost: exported for the budget alerts"},
		{Name: targetKeyDryRun, Kind: pluginkit.Bool, Default: "false", Doc: "read by the agent; accepted so it is not unknown"},
		{Name: shared.PluginConfigKeyGRPCTimeout, Kind: pluginkit.Duration, Default: "30s", Min: "1ms", Max: maxDuration, Doc: "set by the agent: bounds Status"},
	},
}

// parseTargetConfig validates a policy target block and reports every
// problem at once.
func parseTargetConfig(raw map[string]string) (targetConfig, error) {
	p := pluginkit.Parse(targetTable, raw)
	cfg := targetConfig{
		project:               raw[targetKeyProject],
		pool:                  map[string]string{},
		drainDeadline:         p.Duration(sdk.TargetConfigKeyDrainDeadline),
		drainIgnoreSystemJobs: p.Bool(sdk.TargetConfigKeyIgnoreSystemJobs),
		purge:                 p.Bool(sdk.TargetConfigKeyNodePurge),
		stockoutCooldown:      p.Duration(targetKeyStockoutCool),
		restoreCooldown:       p.Duration(targetKeyRestoreCooldown),
		scaleTimeout:          p.Duration(targetKeyScaleTimeout),
		retryAttempts:         int(p.Int(targetKeyRetryAttempts)),
		statusDeadline:        p.Duration(shared.PluginConfigKeyGRPCTimeout),
		dryRun:                p.Bool(targetKeyDryRun),
		standby: standbyConfig{
			size:         p.Int(targetKeyStandbySize),
			maxAge:       p.Duration(targetKeyStandbyMaxAge),
			initialDelay: p.Duration(targetKeyStandbyDelay),
			refillDelay:  p.Duration(targetKeyStandbyRefill),
		},
	}
	if cfg.standby.initialDelay%time.Second != 0 {
		p.Fail(targetKeyStandbyDelay, "not whole seconds (GCE's initialDelaySec)")
	}
	if p.Has(targetKeyProject) && !projectID.MatchString(cfg.project) {
		p.Fail(targetKeyProject, "not a GCP project ID (6 to 30 lowercase letters, digits and hyphens, starting with a letter)")
	}
	migs, err := parseMIGs(cfg.project, raw[targetKeyMIGs])
	if p.Has(targetKeyMIGs) {
		p.Add(err)
	}
	cfg.migs = migs
	cfg.spot = parseSpotConfig(p, cfg.project, raw, migs)
	cfg.spend = parseSpendConfig(p, cfg.spot.enabled(), cfg.standby.size)

	hasPool := false
	for _, k := range poolKeys {
		if v, ok := raw[k]; ok {
			cfg.pool[k] = v
			hasPool = hasPool || k == sdk.TargetConfigKeyNodePool || k == sdk.TargetConfigKeyClass || k == sdk.TargetConfigKeyDatacenter
		}
	}
	if !hasPool {
		p.Add(fmt.Errorf("one of %s, %s or %s is required to find the Nomad nodes of the MIGs",
			sdk.TargetConfigKeyNodePool, sdk.TargetConfigKeyClass, sdk.TargetConfigKeyDatacenter))
	}
	p.Bool(scaleutils.XNodeFilterOptionIgnoreInit)
	p.Bool(scaleutils.XNodeFilterOptionIgnoreDrain)
	cfg.selector = parseSelector(p)
	// After scale_timeout, which bounds it.
	cfg.pollInterval = parsePollInterval(p, cfg.scaleTimeout)
	cfg.policyKey = policyKey(cfg.project, cfg.migs)
	return cfg, p.Err()
}

// GCE name formats. A zone is its region plus a letter (us-central1-a);
// a region ends in a digit (us-central1). A MIG name is a GCE resource
// name. A project ID may carry a legacy domain prefix (example.com:proj).
var (
	zoneName   = regexp.MustCompile(`^[a-z](?:[-a-z0-9]*[a-z0-9])?-[a-z]$`)
	regionName = regexp.MustCompile(`^[a-z](?:[-a-z0-9]*)?[0-9]$`)
	migName    = regexp.MustCompile(`^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$`)
	projectID  = regexp.MustCompile(`^(?:[a-z][-a-z0-9.]{0,61}[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$`)
)

// parseMIGs reads "zone/name,zone/name": one zonal MIG per zone. Errors
// point at an entry by its position and quote it.
func parseMIGs(project, v string) ([]migRef, error) {
	if strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("%s: required, as \"zone/name,zone/name\"", targetKeyMIGs)
	}
	return parseMIGList(targetKeyMIGs, project, v)
}

// parseMIGList reads the "zone/name" list of key (migs or spot_migs).
func parseMIGList(key, project, v string) ([]migRef, error) {
	var (
		out  []migRef
		errs []error
	)
	zones := map[string]int{}
	for i, item := range strings.Split(v, ",") {
		entry := i + 1
		item = strings.TrimSpace(item)
		at := fmt.Sprintf("%s entry %d %s", key, entry, pluginkit.Quote(item))
		zone, name, ok := strings.Cut(item, "/")
		switch {
		case !ok || zone == "" || name == "" || strings.Contains(name, "/"):
			errs = append(errs, fmt.Errorf("%s: not \"zone/name\"", at))
			continue
		case regionName.MatchString(zone):
			errs = append(errs, fmt.Errorf("%s: names a region, not a zone: only zonal MIGs are supported, one per zone (a zone is its region plus a letter, like us-central1-a)", at))
			continue
		case !zoneName.MatchString(zone):
			errs = append(errs, fmt.Errorf("%s: the zone is not a GCE zone name (a region plus a letter, like us-central1-a)", at))
			continue
		case !migName.MatchString(name):
			errs = append(errs, fmt.Errorf("%s: the MIG name is not a GCE resource name (up to 63 lowercase letters, digits and hyphens, starting with a letter)", at))
			continue
		}
		if first, dup := zones[zone]; dup {
			errs = append(errs, fmt.Errorf("%s: entries %d and %d are in the same zone %s; use one MIG per zone", key, first, entry, zone))
			continue
		}
		zones[zone] = entry
		out = append(out, migRef{Project: project, Zone: zone, Name: name})
	}
	return out, errors.Join(errs...)
}

// parsePollInterval reads poll_interval, which must leave scale_timeout
// room for at least one poll. A short interval suits time-compressed
// replays (the demo); against real GCE every poll is three read requests per
// MIG, so the default stays at 5s.
func parsePollInterval(p *pluginkit.Parser, scaleTimeout time.Duration) time.Duration {
	d := p.Duration(targetKeyPollInterval)
	if !p.Has(targetKeyPollInterval) {
		// The default fits any scale_timeout: a timeout under 5s polls
		// once, at its end.
		return min(d, scaleTimeout)
	}
	if d > scaleTimeout {
		p.Fail(targetKeyPollInterval, "longer than %s; one poll must fit in the wait", targetKeyScaleTimeout)
		return scaleTimeout
	}
	return d
}

func parseSelector(p *pluginkit.Parser) string {
	v, alias := p.Text(targetKeyNodeSelector), p.Text(targetKeyNodeSelAliasV1)
	switch {
	case p.Has(targetKeyNodeSelAliasV1) && p.Has(targetKeyNodeSelector) && alias != v:
		p.Fail(targetKeyNodeSelAliasV1, "differs from %s; set only one", targetKeyNodeSelector)
		return selectorLeastBusy
	case p.Has(targetKeyNodeSelAliasV1):
		v = alias
	}
	switch v {
	case selectorLeastBusy, selectorEmpty, selectorNewestIndex, selectorOldestIndex:
		return v
	case sdk.TargetNodeSelectorStrategyEmptyIgnoreSystemJobs:
		// The SDK's name for what empty means here: system jobs never make
		// a node busy.
		return selectorEmpty
	}
	p.Fail(targetKeyNodeSelector, "not one of %s, %s, %s, %s",
		selectorLeastBusy, selectorEmpty, selectorNewestIndex, selectorOldestIndex)
	return selectorLeastBusy
}

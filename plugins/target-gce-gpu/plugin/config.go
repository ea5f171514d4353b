package plugin

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad-autoscaler/plugins/shared"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/hashicorp/nomad-autoscaler/sdk/helper/scaleutils"
)

// Policy target block configuration keys, next to their defaults.
const (
	targetKeyProject        = "project"
	targetKeyMIGs           = "migs"
	targetKeyNodeSelector   = "node_selector"
	targetKeyStockoutCool   = "stockout_cooldown"
	targetKeyScaleTimeout   = "scale_timeout"
	targetKeyPollInterval   = "poll_interval"
	targetKeyRetryAttempts  = "retry_attempts"
	targetKeyDryRun         = "dry-run"
	targetKeyNodeSelAliasV1 = sdk.TargetConfigNodeSelectorStrategy

	defaultDrainDeadline  = 5 * time.Minute
	defaultStockoutCool   = 30 * time.Minute
	defaultScaleTimeout   = 10 * time.Minute
	defaultPollInterval   = 5 * time.Second
	defaultRetryAttempts  = 8
	defaultStatusDeadline = 30 * time.Second
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
	scaleTimeout          time.Duration
	// pollInterval is the pause between reads of the MIGs while Scale
	// waits for them to be stable or to show a stockout.
	pollInterval   time.Duration
	retryAttempts  int
	statusDeadline time.Duration
	dryRun         bool
	// policyKey identifies the policy's set of MIGs in node markers, so that
	// two policies never reconcile each other's nodes.
	policyKey string
}

var poolKeys = []string{
	sdk.TargetConfigKeyNodePool, sdk.TargetConfigKeyClass, sdk.TargetConfigKeyDatacenter,
	scaleutils.XNodeFilterOptionIgnoreInit, scaleutils.XNodeFilterOptionIgnoreDrain,
}

// targetKeys are the keys a policy target block may hold: ours, the
// scaleutils pool keys, and what the agent adds (the gRPC timeout, and
// dry-run, which the agent reads but leaves in the map).
var targetKeys = func() map[string]bool {
	known := map[string]bool{
		targetKeyProject: true, targetKeyMIGs: true, targetKeyNodeSelector: true, targetKeyNodeSelAliasV1: true,
		targetKeyStockoutCool: true, targetKeyScaleTimeout: true, targetKeyPollInterval: true,
		targetKeyRetryAttempts: true, targetKeyDryRun: true,
		sdk.TargetConfigKeyDrainDeadline: true, sdk.TargetConfigKeyIgnoreSystemJobs: true,
		sdk.TargetConfigKeyNodePurge: true, shared.PluginConfigKeyGRPCTimeout: true,
	}
	for _, k := range poolKeys {
		known[k] = true
	}
	return known
}()

// parseTargetConfig validates a policy target block and reports every
// problem at once.
func parseTargetConfig(raw map[string]string) (targetConfig, error) {
	cfg := targetConfig{
		drainDeadline:    defaultDrainDeadline,
		stockoutCooldown: defaultStockoutCool,
		scaleTimeout:     defaultScaleTimeout,
		pollInterval:     defaultPollInterval,
		retryAttempts:    defaultRetryAttempts,
		statusDeadline:   defaultStatusDeadline,
		selector:         selectorLeastBusy,
		pool:             map[string]string{},
	}
	errs := unknownKeys(raw, targetKeys)

	cfg.project = raw[targetKeyProject]
	switch {
	case cfg.project == "":
		errs = append(errs, fmt.Errorf("%s: required", targetKeyProject))
	case !projectID.MatchString(cfg.project):
		errs = append(errs, fmt.Errorf("%s: not a GCP project ID (6 to 30 lowercase letters, digits and hyphens, starting with a letter)", targetKeyProject))
	}
	migs, err := parseMIGs(cfg.project, raw[targetKeyMIGs])
	errs = append(errs, err)
	cfg.migs = migs

	hasPool := false
	for _, k := range poolKeys {
		if v, ok := raw[k]; ok {
			cfg.pool[k] = v
			hasPool = hasPool || k == sdk.TargetConfigKeyNodePool || k == sdk.TargetConfigKeyClass || k == sdk.TargetConfigKeyDatacenter
		}
	}
	if !hasPool {
		errs = append(errs, fmt.Errorf("one of %s, %s or %s is required to find the Nomad nodes of the MIGs",
			sdk.TargetConfigKeyNodePool, sdk.TargetConfigKeyClass, sdk.TargetConfigKeyDatacenter))
	}
	for _, k := range []string{scaleutils.XNodeFilterOptionIgnoreInit, scaleutils.XNodeFilterOptionIgnoreDrain} {
		errs = append(errs, parseBool(raw, k, new(bool)))
	}

	errs = append(errs,
		parseDuration(raw, sdk.TargetConfigKeyDrainDeadline, &cfg.drainDeadline, time.Second),
		parseDuration(raw, targetKeyStockoutCool, &cfg.stockoutCooldown, 0),
		parseDuration(raw, targetKeyScaleTimeout, &cfg.scaleTimeout, time.Second),
		parseDuration(raw, shared.PluginConfigKeyGRPCTimeout, &cfg.statusDeadline, time.Millisecond),
		parseBool(raw, sdk.TargetConfigKeyIgnoreSystemJobs, &cfg.drainIgnoreSystemJobs),
		parseBool(raw, sdk.TargetConfigKeyNodePurge, &cfg.purge),
		parseBool(raw, targetKeyDryRun, &cfg.dryRun),
		parseSelector(raw, &cfg.selector),
	)
	// After scale_timeout, which bounds it.
	errs = append(errs, parsePollInterval(raw, &cfg.pollInterval, cfg.scaleTimeout))
	if v, ok := raw[targetKeyRetryAttempts]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			errs = append(errs, fmt.Errorf("%s: not a whole number from 1 to 100", targetKeyRetryAttempts))
		}
		cfg.retryAttempts = n
	}
	cfg.policyKey = policyKey(cfg.project, cfg.migs)
	return cfg, errors.Join(errs...)
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
// point at an entry by its position and never quote it.
func parseMIGs(project, v string) ([]migRef, error) {
	if strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("%s: required, as \"zone/name,zone/name\"", targetKeyMIGs)
	}
	var (
		out  []migRef
		errs []error
	)
	zones := map[string]int{}
	for i, item := range strings.Split(v, ",") {
		entry := i + 1
		zone, name, ok := strings.Cut(strings.TrimSpace(item), "/")
		switch {
		case !ok || zone == "" || name == "" || strings.Contains(name, "/"):
			errs = append(errs, fmt.Errorf("%s: entry %d is not \"zone/name\"", targetKeyMIGs, entry))
			continue
		case regionName.MatchString(zone):
			errs = append(errs, fmt.Errorf("%s: entry %d names a region, not a zone: only zonal MIGs are supported, one per zone (a zone is its region plus a letter, like us-central1-a)", targetKeyMIGs, entry))
			continue
		case !zoneName.MatchString(zone):
			errs = append(errs, fmt.Errorf("%s: entry %d: the zone is not a GCE zone name (a region plus a letter, like us-central1-a)", targetKeyMIGs, entry))
			continue
		case !migName.MatchString(name):
			errs = append(errs, fmt.Errorf("%s: entry %d: the MIG name is not a GCE resource name (up to 63 lowercase letters, digits and hyphens, starting with a letter)", targetKeyMIGs, entry))
			continue
		}
		if first, dup := zones[zone]; dup {
			errs = append(errs, fmt.Errorf("%s: entries %d and %d are in the same zone; use one MIG per zone", targetKeyMIGs, first, entry))
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
func parsePollInterval(raw map[string]string, dst *time.Duration, scaleTimeout time.Duration) error {
	v, ok := raw[targetKeyPollInterval]
	if !ok {
		// The default fits any scale_timeout: a timeout under 5s polls
		// once, at its end.
		*dst = min(*dst, scaleTimeout)
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%s: not a positive duration", targetKeyPollInterval)
	}
	if d > scaleTimeout {
		return fmt.Errorf("%s: longer than %s; one poll must fit in the wait", targetKeyPollInterval, targetKeyScaleTimeout)
	}
	*dst = d
	return nil
}

func parseSelector(raw map[string]string, dst *string) error {
	v, ok := raw[targetKeyNodeSelector]
	alias, aliasOK := raw[targetKeyNodeSelAliasV1]
	if aliasOK && ok && alias != v {
		return fmt.Errorf("%s: differs from %s; set only one", targetKeyNodeSelAliasV1, targetKeyNodeSelector)
	}
	if !ok && aliasOK {
		v, ok = alias, true
	}
	if !ok {
		return nil
	}
	switch v {
	case selectorLeastBusy, selectorEmpty, selectorNewestIndex, selectorOldestIndex:
		*dst = v
		return nil
	case sdk.TargetNodeSelectorStrategyEmptyIgnoreSystemJobs:
		// The SDK's name for what empty means here: system jobs never make
		// a node busy.
		*dst = selectorEmpty
		return nil
	}
	return fmt.Errorf("%s: not one of %s, %s, %s, %s", targetKeyNodeSelector,
		selectorLeastBusy, selectorEmpty, selectorNewestIndex, selectorOldestIndex)
}

// maxDuration bounds every duration key. Scale adds node_drain_deadline
// and scale_timeout into one deadline, which must not overflow into the
// past; no drain or wait of a sane policy comes near 30 days.
const maxDuration = 30 * 24 * time.Hour

func parseDuration(raw map[string]string, key string, dst *time.Duration, min time.Duration) error {
	v, ok := raw[key]
	if !ok {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min || d > maxDuration {
		return fmt.Errorf("%s: not a duration from %s to %s", key, min, maxDuration)
	}
	*dst = d
	return nil
}

func parseBool(raw map[string]string, key string, dst *bool) error {
	v, ok := raw[key]
	if !ok {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%s: not a boolean (true or false)", key)
	}
	*dst = b
	return nil
}

func unknownKeys(raw map[string]string, known map[string]bool) []error {
	var errs []error
	for _, k := range sortedKeys(raw) {
		if !known[k] {
			// The key's name only: its value may be a secret in the wrong key.
			errs = append(errs, fmt.Errorf("unknown key %q", k))
		}
	}
	return errs
}

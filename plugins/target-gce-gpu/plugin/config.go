package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad-autoscaler/plugins"
	"github.com/hashicorp/nomad-autoscaler/plugins/shared"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/hashicorp/nomad-autoscaler/sdk/helper/scaleutils"
	"github.com/hashicorp/nomad/api"

	nomadhelper "github.com/hashicorp/nomad-autoscaler/sdk/helper/nomad"
)

// Plugin (agent target block) configuration keys.
const (
	configKeyCredentials     = "credentials"
	configKeyComputeEndpoint = "compute_endpoint"
	configKeyComputeInsecure = "compute_insecure"
)

// nomadPluginKeys are the agent's Nomad connection keys, merged into every
// plugin's config unless nomad_config_inherit = "false"; see
// sdk/helper/nomad.MergeMapWithAgentConfig.
var nomadPluginKeys = []string{
	"nomad_address", "nomad_region", "nomad_namespace", "nomad_token",
	"nomad_http-auth", "nomad_ca-cert", "nomad_ca-path", "nomad_client-cert",
	"nomad_client-key", "nomad_tls-server-name", "nomad_skip-verify",
	"nomad_block-query-wait-time", plugins.ConfigKeyNomadConfigInherit,
}

// pluginConfig is the parsed agent-level configuration of the plugin.
type pluginConfig struct {
	// credentialsJSON is the service account key (read from a file when
	// `credentials` is a path); empty means Application Default Credentials.
	credentialsJSON []byte
	// computeEndpoint overrides the compute API base URL (tests, simulator,
	// Private Service Connect).
	computeEndpoint string
	// computeInsecure turns authentication off; only with computeEndpoint.
	computeInsecure bool
	// nomad is the Nomad client configuration built from the nomad_* keys.
	nomad *api.Config
}

// parsePluginConfig validates the agent's target block config. It reads a
// credentials file but contacts nothing, so the agent starts even while GCE
// or Nomad are unreachable.
func parsePluginConfig(raw map[string]string) (pluginConfig, error) {
	var (
		cfg  pluginConfig
		errs []error
	)
	known := map[string]bool{configKeyCredentials: true, configKeyComputeEndpoint: true, configKeyComputeInsecure: true}
	for _, k := range nomadPluginKeys {
		known[k] = true
	}
	errs = append(errs, unknownKeys(raw, known)...)

	if v, ok := raw[configKeyComputeInsecure]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a boolean", configKeyComputeInsecure, v))
		}
		cfg.computeInsecure = b
	}
	if v, ok := raw[configKeyComputeEndpoint]; ok {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an http(s) URL", configKeyComputeEndpoint, v))
		}
		cfg.computeEndpoint = strings.TrimRight(v, "/")
	}
	if cfg.computeInsecure && cfg.computeEndpoint == "" {
		errs = append(errs, fmt.Errorf("%s: \"true\" needs %s (authentication is only ever off for a non-Google endpoint)",
			configKeyComputeInsecure, configKeyComputeEndpoint))
	}
	if v, ok := raw[configKeyCredentials]; ok {
		if cfg.computeInsecure {
			errs = append(errs, fmt.Errorf("%s: set together with %s = \"true\"; remove one", configKeyCredentials, configKeyComputeInsecure))
		}
		b, err := readCredentials(v)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.credentialsJSON = b
	}
	cfg.nomad = nomadhelper.ConfigFromNamespacedMap(raw)
	return cfg, errors.Join(errs...)
}

// readCredentials accepts a service account key as inline JSON or as a file
// path. The value itself never appears in errors: it may be a secret.
func readCredentials(v string) ([]byte, error) {
	s := strings.TrimSpace(v)
	var content []byte
	if strings.HasPrefix(s, "{") {
		content = []byte(s)
	} else {
		b, err := os.ReadFile(s)
		if err != nil {
			return nil, fmt.Errorf("%s: read file %q: %w", configKeyCredentials, s, errors.Unwrap(err))
		}
		content = b
	}
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(content, &probe); err != nil || probe.Type == "" {
		return nil, fmt.Errorf("%s: not a Google credentials JSON document (missing \"type\")", configKeyCredentials)
	}
	return content, nil
}

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
	if cfg.project == "" {
		errs = append(errs, fmt.Errorf("%s: required", targetKeyProject))
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
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number from 1 to 100", targetKeyRetryAttempts, v))
		}
		cfg.retryAttempts = n
	}
	cfg.policyKey = policyKey(cfg.project, cfg.migs)
	return cfg, errors.Join(errs...)
}

// parseMIGs reads "zone/name,zone/name": one zonal MIG per zone.
func parseMIGs(project, v string) ([]migRef, error) {
	if strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("%s: required, as \"zone/name,zone/name\"", targetKeyMIGs)
	}
	var (
		out  []migRef
		errs []error
	)
	zones := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		zone, name, ok := strings.Cut(item, "/")
		if !ok || zone == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("%s: %q is not \"zone/name\"", targetKeyMIGs, item))
			continue
		}
		if zones[zone] {
			errs = append(errs, fmt.Errorf("%s: zone %q appears twice; use one MIG per zone", targetKeyMIGs, zone))
			continue
		}
		zones[zone] = true
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
		return fmt.Errorf("%s: %q is not a positive duration", targetKeyPollInterval, v)
	}
	if d > scaleTimeout {
		return fmt.Errorf("%s: %q is longer than %s (%s); one poll must fit in the wait", targetKeyPollInterval, v, targetKeyScaleTimeout, scaleTimeout)
	}
	*dst = d
	return nil
}

func parseSelector(raw map[string]string, dst *string) error {
	v, ok := raw[targetKeyNodeSelector]
	alias, aliasOK := raw[targetKeyNodeSelAliasV1]
	if aliasOK && ok && alias != v {
		return fmt.Errorf("%s: %q conflicts with %s: %q; set only one", targetKeyNodeSelAliasV1, alias, targetKeyNodeSelector, v)
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
	return fmt.Errorf("%s: %q is not one of %s, %s, %s, %s", targetKeyNodeSelector, v,
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
		return fmt.Errorf("%s: %q is not a duration from %s to %s", key, v, min, maxDuration)
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
		return fmt.Errorf("%s: %q is not a boolean", key, v)
	}
	*dst = b
	return nil
}

func unknownKeys(raw map[string]string, known map[string]bool) []error {
	var errs []error
	for _, k := range sortedKeys(raw) {
		if !known[k] {
			errs = append(errs, fmt.Errorf("unknown key %q", k))
		}
	}
	return errs
}

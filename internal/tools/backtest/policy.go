package backtest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsimple"
	"github.com/hashicorp/nomad-autoscaler/sdk"

	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
)

// The agent's defaults for what a file policy leaves out (agent/config and
// policy/source.go of nomad-autoscaler v0.5.0). The backtest applies them so
// that it evaluates a policy exactly as the agent would.
const (
	agentDefaultCooldown           = 5 * time.Minute
	agentDefaultEvaluationInterval = 10 * time.Second
	agentDefaultQueryWindow        = time.Minute
)

// LoadPolicy parses a policy file with the agent's file-policy schema and
// returns the scaling block called name (or the only one when name is empty),
// with the agent's defaults applied.
func LoadPolicy(path, name string) (*sdk.ScalingPolicy, error) {
	var doc sdk.FileDecodeScalingPolicies
	if err := hclsimple.DecodeFile(path, nil, &doc); err != nil {
		return nil, fmt.Errorf("policy %q: %w", path, err)
	}
	fp, err := pickScaling(doc.ScalingPolicies, name)
	if err != nil {
		return nil, fmt.Errorf("policy %q: %w", path, err)
	}
	if err := decodePolicyDurations(fp); err != nil {
		return nil, fmt.Errorf("policy %q: scaling %q: %w", path, fp.Name, err)
	}
	if !fp.Enabled {
		return nil, fmt.Errorf("policy %q: scaling %q has enabled = false (or unset): the agent would not run it", path, fp.Name)
	}
	p := fp.Translate()
	p.ID = fp.Name
	applyAgentDefaults(p)
	if err := validatePolicy(p); err != nil {
		return nil, fmt.Errorf("policy %q: scaling %q: %w", path, fp.Name, err)
	}
	return p, nil
}

func pickScaling(all []*sdk.FileDecodeScalingPolicy, name string) (*sdk.FileDecodeScalingPolicy, error) {
	names := make([]string, 0, len(all))
	for _, p := range all {
		if p.Doc == nil {
			return nil, fmt.Errorf("scaling %q has no policy block", p.Name)
		}
		if p.Name == name || (name == "" && len(all) == 1) {
			return p, nil
		}
		names = append(names, p.Name)
	}
	sort.Strings(names)
	if name == "" {
		return nil, fmt.Errorf("%d scaling blocks (%s): choose one with -scaling", len(all), strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("no scaling block %q (have: %s)", name, strings.Join(names, ", "))
}

// decodePolicyDurations does what the agent's unexported
// policy/file.decodePolicyDoc does: the HCL schema carries durations as
// strings that are parsed after decoding.
func decodePolicyDurations(p *sdk.FileDecodeScalingPolicy) error {
	if p.Type == "" {
		p.Type = sdk.ScalingPolicyTypeCluster
	}
	var errs []error
	parse := func(key, s string, into *time.Duration) {
		if s == "" {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s = %q: %w", key, s, err))
			return
		}
		*into = d
	}
	parse("cooldown", p.Doc.CooldownHCL, &p.Doc.Cooldown)
	parse("cooldown_on_scale_up", p.Doc.CooldownOnScaleUpHCL, &p.Doc.CooldownOnScaleUp)
	parse("evaluation_interval", p.Doc.EvaluationIntervalHCL, &p.Doc.EvaluationInterval)
	for _, c := range p.Doc.Checks {
		if c.QueryWindowHCL != "instant" {
			parse("check "+c.Name+" query_window", c.QueryWindowHCL, &c.QueryWindow)
		}
		parse("check "+c.Name+" query_window_offset", c.QueryWindowOffsetHCL, &c.QueryWindowOffset)
	}
	return errors.Join(errs...)
}

// applyAgentDefaults mirrors policy.Processor.ApplyPolicyDefaults.
func applyAgentDefaults(p *sdk.ScalingPolicy) {
	if p.Cooldown == 0 {
		p.Cooldown = agentDefaultCooldown
	}
	if p.CooldownOnScaleUp == 0 {
		p.CooldownOnScaleUp = p.Cooldown
	}
	if p.EvaluationInterval == 0 {
		p.EvaluationInterval = agentDefaultEvaluationInterval
	}
	for _, c := range p.Checks {
		if c.QueryWindow == 0 {
			c.QueryWindow = agentDefaultQueryWindow
		}
	}
}

func validatePolicy(p *sdk.ScalingPolicy) error {
	var errs []error
	if p.Type != sdk.ScalingPolicyTypeCluster && p.Type != sdk.ScalingPolicyTypeHorizontal {
		errs = append(errs, fmt.Errorf("type %q: only cluster and horizontal policies can be replayed", p.Type))
	}
	if p.Min < 0 || p.Max < 0 || p.Min > p.Max {
		errs = append(errs, fmt.Errorf("min %d, max %d: want 0 <= min <= max", p.Min, p.Max))
	}
	if p.Schedule != nil {
		errs = append(errs, errors.New("schedule blocks are not supported by the backtest"))
	}
	if len(p.Checks) == 0 {
		errs = append(errs, errors.New("no check blocks"))
	}
	if p.EvaluationInterval < time.Second {
		errs = append(errs, fmt.Errorf("evaluation_interval %q: want at least 1s", p.EvaluationInterval))
	}
	if _, err := parsePool(p); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseSpot(p); err != nil {
		errs = append(errs, err)
	}
	if _, err := parsePrices(p); err != nil {
		errs = append(errs, err)
	}
	for _, c := range p.Checks {
		if err := validateCheck(c); err != nil {
			errs = append(errs, fmt.Errorf("check %q: %w", c.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// The agent's own validation, for what the backtest does not check itself.
	return p.Validate()
}

func validateCheck(c *sdk.ScalingPolicyCheck) error {
	var errs []error
	if c.Strategy == nil || c.Strategy.Name == "" {
		errs = append(errs, errors.New("no strategy block"))
	} else if c.Strategy.Name == "slope" || c.Strategy.Name == slope.PluginName {
		// What every evaluation of the replay would fail on.
		if err := slope.CheckConfig(c.Strategy.Config); err != nil {
			errs = append(errs, fmt.Errorf("strategy %q: %w", c.Strategy.Name, err))
		}
	}
	if c.Schedule != nil {
		errs = append(errs, errors.New("schedule blocks are not supported by the backtest"))
	}
	if c.Source == "" {
		errs = append(errs, errors.New("no source: the agent would send the query to its Nomad APM"))
	}
	switch c.OnError {
	case "", sdk.ScalingPolicyOnErrorFail, sdk.ScalingPolicyOnErrorIgnore:
	default:
		errs = append(errs, fmt.Errorf("on_error %q: want fail or ignore", c.OnError))
	}
	if _, err := classifyQuery(c); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

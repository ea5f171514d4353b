package policies_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2/hclsimple"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"

	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
)

func TestPoliciesDecodeAndValidateAsTheAgentDoes(t *testing.T) {
	labels := agenttest.DeclaredDrivers(agenttest.LoadConfig(t, productionAgent))
	for _, f := range hclFiles(t) {
		t.Run(f, func(t *testing.T) {
			for name, p := range decodePolicies(t, f) {
				must.True(t, p.Enabled, must.Sprintf("policy %s is enabled", name))
				must.NoError(t, p.Validate(), must.Sprintf("policy %s", name))
				must.NoError(t, validateLikeTheFileSource(p), must.Sprintf("policy %s", name))
				must.NotNil(t, p.Target, must.Sprintf("policy %s has a target", name))
				must.MapContainsKey(t, labels.Target, p.Target.Name, must.Sprintf("policy %s targets a declared target block", name))
				for _, c := range p.Checks {
					must.MapContainsKey(t, labels.APM, c.Source, must.Sprintf("check %s reads a declared apm block (source is required: the default is the Nomad APM)", c.Name))
					must.MapContainsKey(t, labels.Strategy, c.Strategy.Name, must.Sprintf("check %s uses a declared strategy block", c.Name))
				}
			}
		})
	}
}

// TestStrategyBlocksAreAcceptedByTheSlopePlugin runs each check's strategy
// config through the real plugin: a typo or a value out of range fails here
// and not on the first evaluation in production.
func TestStrategyBlocksAreAcceptedByTheSlopePlugin(t *testing.T) {
	for _, f := range hclFiles(t) {
		for name, p := range decodePolicies(t, f) {
			for _, c := range p.Checks {
				t.Run(fmt.Sprintf("%s/%s/%s", f, name, c.Name), func(t *testing.T) {
					eval := &sdk.ScalingCheckEvaluation{Check: c, Metrics: flatSeries(c.QueryWindow, 120)}
					out, err := slope.New(hclog.NewNullLogger()).Run(eval, 4)
					must.NoError(t, err)
					must.NotNil(t, out.Action)
					must.NonNegative(t, out.Action.Count)
				})
			}
		}
	}
}

// flatSeries returns n evenly spaced points over window ending now.
func flatSeries(window time.Duration, n int) sdk.TimestampedMetrics {
	if window <= 0 {
		window = time.Minute
	}
	now := time.Now().Truncate(time.Second)
	out := make(sdk.TimestampedMetrics, n)
	for i := range out {
		out[i] = sdk.TimestampedMetric{Timestamp: now.Add(-window + time.Duration(i+1)*window/time.Duration(n)), Value: 300}
	}
	return out
}

// decodePolicies decodes a policy file with the agent's schema and the
// duration parsing of policy/file (decodeFile and decodePolicyDoc, which
// are not exported).
func decodePolicies(t *testing.T, path string) map[string]*sdk.ScalingPolicy {
	t.Helper()
	var doc sdk.FileDecodeScalingPolicies
	must.NoError(t, hclsimple.DecodeFile(path, nil, &doc))
	must.SliceNotEmpty(t, doc.ScalingPolicies)
	out := map[string]*sdk.ScalingPolicy{}
	for _, fp := range doc.ScalingPolicies {
		must.NotNil(t, fp.Doc, must.Sprintf("policy %s has a policy block", fp.Name))
		if fp.Type == "" {
			fp.Type = sdk.ScalingPolicyTypeCluster
		}
		d := fp.Doc
		d.Cooldown = parseDuration(t, "cooldown", d.CooldownHCL)
		d.CooldownOnScaleUp = parseDuration(t, "cooldown_on_scale_up", d.CooldownOnScaleUpHCL)
		d.EvaluationInterval = parseDuration(t, "evaluation_interval", d.EvaluationIntervalHCL)
		for _, c := range d.Checks {
			if c.QueryWindowHCL != "instant" {
				c.QueryWindow = parseDuration(t, "query_window", c.QueryWindowHCL)
			}
			c.QueryWindowOffset = parseDuration(t, "query_window_offset", c.QueryWindowOffsetHCL)
		}
		p := fp.Translate()
		p.ID = path + "/" + fp.Name
		out[fp.Name] = p
	}
	return out
}

func parseDuration(t *testing.T, key, s string) time.Duration {
	t.Helper()
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	must.NoError(t, err, must.Sprintf("%s = %q", key, s))
	return d
}

// validateLikeTheFileSource repeats policy.Processor.ValidatePolicy, which
// the file source applies before the manager's Validate (the policy package
// cannot be imported here without dependencies this module does not pin).
func validateLikeTheFileSource(p *sdk.ScalingPolicy) error {
	switch {
	case p.Min < 0:
		return fmt.Errorf("min %d is negative", p.Min)
	case p.Max < 0:
		return fmt.Errorf("max %d is negative", p.Max)
	case p.Min > p.Max:
		return fmt.Errorf("min %d is greater than max %d", p.Min, p.Max)
	}
	return nil
}

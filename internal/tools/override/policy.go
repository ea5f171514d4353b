package override

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsimple"
	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// The strategy-slope keys an override is made of, and their defaults
// (plugins/strategy-slope/README.md, Configuration).
const (
	keyCount       = "override_count"
	keyUntil       = "override_until"
	keyReason      = "override_reason"
	keyFrom        = "override_from"
	keyMode        = "override_mode"
	keyMaxDuration = "override_max_duration"
	keyVariable    = "override_variable"
	// defaultMaxDuration is strategy-slope's override_max_duration default;
	// policy_test.go checks it against the plugin.
	defaultMaxDuration = 7 * 24 * time.Hour

	// The items of an override Variable, as strategy-slope reads them.
	itemCount  = "count"
	itemUntil  = "until"
	itemReason = "reason"
	itemFrom   = "from"
	itemMode   = "mode"

	// The override modes (override_mode, item mode).
	modeExact   = "exact"
	modeMinimum = "minimum"
)

// fileKeys are the keys of an override in a policy file, in the order they
// are written; override_from and override_mode only when the override has
// them (otherwise an old one is commented out).
var fileKeys = []string{keyCount, keyUntil, keyReason, keyFrom, keyMode}

// policy is one scaling policy of a file, as the agent decodes it.
type policy struct {
	name     string
	file     string
	min, max int64
	checks   []check
}

// check is one check of a policy. slope is true when its strategy block has
// the label the strategy-slope plugin is declared under in the agent.
type check struct {
	name     string
	source   string
	query    string
	strategy string
	config   map[string]string
	slope    bool
}

// slopeChecks returns the checks an override can pin.
func (p policy) slopeChecks() []check {
	var out []check
	for _, c := range p.checks {
		if c.slope {
			out = append(out, c)
		}
	}
	return out
}

// maxDuration is the shortest override_max_duration of the slope checks:
// an override must be accepted by every check it pins.
func (p policy) maxDuration() (time.Duration, string, error) {
	best, from := time.Duration(0), ""
	for _, c := range p.slopeChecks() {
		d := defaultMaxDuration
		if s, ok := c.config[keyMaxDuration]; ok {
			v, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil {
				return 0, "", fmt.Errorf("check %q: %s %q: not a duration", c.name, keyMaxDuration, s)
			}
			d = v
		}
		if from == "" || d < best {
			best, from = d, c.name
		}
	}
	return best, from, nil
}

// variablePath is the override_variable the slope checks share. It fails
// when no check sets one, when they differ, or when some checks have none:
// one Variable must pin every check for the override to pin the policy.
func (p policy) variablePath() (string, error) {
	checksOf := map[string][]string{}
	var paths, without []string
	for _, c := range p.slopeChecks() {
		v := strings.TrimSpace(c.config[keyVariable])
		if v == "" {
			without = append(without, fmt.Sprintf("%q", c.name))
			continue
		}
		if _, seen := checksOf[v]; !seen {
			paths = append(paths, v)
		}
		checksOf[v] = append(checksOf[v], fmt.Sprintf("%q", c.name))
	}
	switch {
	case len(paths) == 0:
		return "", fmt.Errorf("policy %q in %s: no check sets %s", p.name, p.file, keyVariable)
	case len(paths) > 1:
		var parts []string
		for _, path := range paths {
			parts = append(parts, fmt.Sprintf("%s in %s", path, strings.Join(checksOf[path], ", ")))
		}
		return "", fmt.Errorf("policy %q in %s: the checks name different %s (%s): one Variable must pin them all",
			p.name, p.file, keyVariable, strings.Join(parts, "; "))
	case len(without) > 0:
		return "", fmt.Errorf("policy %q in %s: check %s has no %s = %q, so the Variable would pin only some checks and the others could still add workers",
			p.name, p.file, strings.Join(without, ", "), keyVariable, paths[0])
	}
	return paths[0], nil
}

// readPolicies decodes the scaling policies of an HCL file with the agent's
// own schema. label is the strategy block label of strategy-slope.
func readPolicies(path, label string) ([]policy, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodePolicies(path, src, label)
}

func decodePolicies(path string, src []byte, label string) ([]policy, error) {
	if filepath.Ext(path) != ".hcl" {
		return nil, fmt.Errorf("%s: only HCL policy files (.hcl) are supported", path)
	}
	var doc sdk.FileDecodeScalingPolicies
	if err := hclsimple.Decode(path, src, nil, &doc); err != nil {
		return nil, fmt.Errorf("decode %s as the agent does: %w", path, err)
	}
	if len(doc.ScalingPolicies) == 0 {
		return nil, fmt.Errorf("%s: no scaling block", path)
	}
	var out []policy
	for _, fp := range doc.ScalingPolicies {
		p := policy{name: fp.Name, file: path, min: fp.Min, max: fp.Max}
		if fp.Doc == nil {
			return nil, fmt.Errorf("%s: policy %q has no policy block", path, fp.Name)
		}
		for _, c := range fp.Doc.Checks {
			ch := check{name: c.Name, source: c.Source, query: c.Query}
			if c.Strategy != nil {
				ch.strategy, ch.config = c.Strategy.Name, c.Strategy.Config
				ch.slope = c.Strategy.Name == label
			}
			p.checks = append(p.checks, ch)
		}
		out = append(out, p)
	}
	return out, nil
}

// selectPolicy picks the policy named name, or the only one when name is "".
func selectPolicy(ps []policy, name, file string) (policy, error) {
	var names []string
	for _, p := range ps {
		if p.name == name || (name == "" && len(ps) == 1) {
			return p, nil
		}
		names = append(names, fmt.Sprintf("%q", p.name))
	}
	if name == "" {
		return policy{}, fmt.Errorf("-name: %s holds policies %s: say which", file, strings.Join(names, ", "))
	}
	return policy{}, fmt.Errorf("-name %q: %s holds only %s", name, file, strings.Join(names, ", "))
}

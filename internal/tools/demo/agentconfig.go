package demo

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/hashicorp/nomad-autoscaler/agent/config"
	"github.com/zclconf/go-cty/cty"
)

// AgentOverrides are the settings of deploy/agent-local.hcl that the demo
// replaces with the addresses of the processes it started. Plugin config
// maps are merged key by key into the file's maps.
type AgentOverrides struct {
	PluginDir    string
	HTTPHost     string
	HTTPPort     int
	NomadAddress string
	PolicyDir    string
	// Plugins maps a plugin block ("apm", "target", "strategy") and its
	// label to config keys to set.
	Plugins map[[2]string]map[string]string
}

// RenderAgentConfig rewrites the agent configuration at path with o and
// returns the new file. Comments and every other setting are kept.
func RenderAgentConfig(path string, o AgentOverrides) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	loaded, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	f, diags := hclwrite.ParseConfig(src, filepath.Base(path), hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse %s: %s", path, diags.Error())
	}
	body := f.Body()
	body.SetAttributeValue("plugin_dir", cty.StringVal(o.PluginDir))
	http := ensureBlock(body, "http")
	http.SetAttributeValue("bind_address", cty.StringVal(o.HTTPHost))
	http.SetAttributeValue("bind_port", cty.NumberIntVal(int64(o.HTTPPort)))
	ensureBlock(body, "nomad").SetAttributeValue("address", cty.StringVal(o.NomadAddress))
	ensureBlock(body, "policy").SetAttributeValue("dir", cty.StringVal(o.PolicyDir))
	for key, set := range o.Plugins {
		kind, label := key[0], key[1]
		b := body.FirstMatchingBlock(kind, []string{label})
		if b == nil {
			return nil, fmt.Errorf("%s: no %s %q block to configure", path, kind, label)
		}
		merged := maps.Clone(existingConfig(loaded, kind, label))
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, set)
		b.Body().SetAttributeValue("config", stringMap(merged))
	}
	return f.Bytes(), nil
}

func ensureBlock(body *hclwrite.Body, name string) *hclwrite.Body {
	if b := body.FirstMatchingBlock(name, nil); b != nil {
		return b.Body()
	}
	return body.AppendNewBlock(name, nil).Body()
}

func existingConfig(cfg *config.Agent, kind, label string) map[string]string {
	var list []*config.Plugin
	switch kind {
	case "apm":
		list = cfg.APMs
	case "strategy":
		list = cfg.Strategies
	case "target":
		list = cfg.Targets
	}
	for _, p := range list {
		if p.Name == label {
			return p.Config
		}
	}
	return nil
}

// stringMap renders a map with sorted keys, so the file is stable.
func stringMap(m map[string]string) cty.Value {
	vals := make(map[string]cty.Value, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		vals[k] = cty.StringVal(m[k])
	}
	return cty.ObjectVal(vals)
}

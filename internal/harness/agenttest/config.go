package agenttest

import (
	"testing"

	"github.com/hashicorp/nomad-autoscaler/agent/config"
)

// LoadConfig loads path exactly as `nomad-autoscaler agent -config path`
// does, and validates it.
func LoadConfig(t testing.TB, path string) *config.Agent {
	t.Helper()
	cfg, err := config.LoadPaths([]string{path})
	if err != nil {
		t.Fatalf("load agent config %s: %v", path, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate agent config %s: %v", path, err)
	}
	return cfg
}

// Drivers maps each plugin block label of an agent configuration to its
// driver, per plugin kind.
type Drivers struct{ APM, Strategy, Target map[string]string }

// DeclaredDrivers lists the plugin blocks of cfg.
func DeclaredDrivers(cfg *config.Agent) Drivers {
	d := Drivers{APM: map[string]string{}, Strategy: map[string]string{}, Target: map[string]string{}}
	for _, p := range cfg.APMs {
		d.APM[p.Name] = p.Driver
	}
	for _, p := range cfg.Strategies {
		d.Strategy[p.Name] = p.Driver
	}
	for _, p := range cfg.Targets {
		d.Target[p.Name] = p.Driver
	}
	return d
}

package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"text/template"
	"time"
)

// policyParams fill testdata/policy.hcl.tmpl.
type policyParams struct {
	Min, Max      int
	Interval      time.Duration
	Cooldown      time.Duration
	Vhost         string
	Project       string
	MIGs          string
	DrainDeadline time.Duration
	ScaleTimeout  time.Duration
	Override      *override
	// StandbySize > 0 gives the target a warm pool (standby_size) whose
	// refills stop StandbyDelay after their creation.
	StandbySize  int
	StandbyDelay time.Duration
	// RestoreCooldown sets the target's restore_cooldown (0: unset).
	RestoreCooldown time.Duration
	// SpotMIGs, when set, gives the target a Spot tier (spot_migs) with
	// SpotShare and SpotCooldown (newStack sets it with stackOptions.spot).
	SpotMIGs     string
	SpotShare    string
	SpotCooldown time.Duration
	// DryRun sets the target's dry-run: the agent decides and logs, and
	// calls Scale with no count.
	DryRun bool
}

type override struct {
	Count int
	Until string // RFC 3339
}

var policyTemplate = template.Must(template.ParseFiles("testdata/policy.hcl.tmpl"))

// writePolicy renders the policy into dir/gpu-workers.hcl, replacing the
// file atomically so the agent never reads half of it.
func writePolicy(t *testing.T, dir string, p policyParams) {
	t.Helper()
	writePolicyAs(t, dir, "gpu-workers.hcl", p)
}

// writePolicyAs renders the policy into dir/name atomically.
func writePolicyAs(t *testing.T, dir, name string, p policyParams) {
	t.Helper()
	var b bytes.Buffer
	if err := policyTemplate.Execute(&b, p); err != nil {
		t.Fatalf("render policy: %v", err)
	}
	tmp := filepath.Join(dir, ".gpu-workers.hcl.tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		t.Fatalf("write policy: %v", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatalf("write policy: %v", err)
	}
}

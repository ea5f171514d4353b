package backtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

func TestLoadPolicyParsesTheAgentsFileSchema(t *testing.T) {
	t.Parallel()
	p, err := LoadPolicy("testdata/grouped.hcl", "")
	must.NoError(t, err)
	must.Eq(t, "workers", p.ID)
	must.Eq(t, "cluster", p.Type)
	must.Eq(t, int64(2), p.Min)
	must.Eq(t, int64(50), p.Max)
	must.Eq(t, 2*time.Minute, p.EvaluationInterval)
	must.Eq(t, 4*time.Minute, p.Cooldown)
	must.Eq(t, 30*time.Second, p.CooldownOnScaleUp)
	must.Len(t, 2, p.Checks)
	must.Eq(t, 90*time.Minute, p.Checks[0].QueryWindow)
	must.Eq(t, "demand", p.Checks[0].Group)
	must.Eq(t, "80", p.Checks[0].Strategy.Config["target"])
	must.True(t, p.Checks[1].QueryInstant)
	must.Eq(t, "ignore", p.Checks[1].OnError)
	must.Eq(t, "slope", p.Checks[1].Strategy.Name)
	must.Eq(t, 90, warmupMinutes(p), must.Sprint("the longest query window is longer than an hour"))
}

func TestLoadPolicyAppliesTheAgentsDefaults(t *testing.T) {
	t.Parallel()
	path := writePolicy(t, `scaling "w" {
  enabled = true
  max     = 3
  policy {
    check "rate" {
      source = "ekyc"
      query  = "postgres:requests_per_minute"
      strategy "target-value" { target = "1" }
    }
  }
}`)
	p, err := LoadPolicy(path, "")
	must.NoError(t, err)
	must.Eq(t, 10*time.Second, p.EvaluationInterval)
	must.Eq(t, 5*time.Minute, p.Cooldown)
	must.Eq(t, 5*time.Minute, p.CooldownOnScaleUp)
	must.Eq(t, time.Minute, p.Checks[0].QueryWindow)
	must.Eq(t, 60, warmupMinutes(p))
}

func TestLoadPolicyRejectsWhatTheAgentOrTheModelCannotRun(t *testing.T) {
	t.Parallel()
	check := func(query, extra string) string {
		return `check "c" {
      source = "ekyc"
      query  = "` + query + `"
      ` + extra + `
      strategy "slope" { capacity_per_worker = "10" }
    }`
	}
	scaling := func(name, head, policy string) string {
		return `scaling "` + name + `" {
  enabled = true
  max     = 5
  ` + head + `
  policy {
    ` + policy + `
  }
}
`
	}
	cases := []struct {
		name, hcl, pick, want string
	}{
		{"a bad duration", scaling("w", "", `cooldown = "5 minutes"`+"\n"+check("postgres:requests_per_minute", "")), "", `cooldown = "5 minutes"`},
		{"an invalid on_check_error", scaling("w", "", `on_check_error = "error"`+"\n"+check("postgres:requests_per_minute", "")), "", "on_check_error"},
		{"a disabled policy", `scaling "w" {
  max = 5
  policy {
    ` + check("postgres:requests_per_minute", "") + `
  }
}`, "", "enabled = false"},
		{"min above max", scaling("w", "min = 9", check("postgres:requests_per_minute", "")), "", "min 9, max 5"},
		{"two scaling blocks without a choice", scaling("a", "", check("postgres:x", "")) + scaling("b", "", check("postgres:x", "")), "", "2 scaling blocks (a, b): choose one with -scaling"},
		{"a scaling block that is not there", scaling("a", "", check("postgres:x", "")), "zzz", `no scaling block "zzz" (have: a)`},
		{"a query the model cannot answer", scaling("w", "", check("prometheus:up", "")), "", `query "prometheus:up"`},
		{"an unsimulated rabbitmq metric", scaling("w", "", check("rabbitmq:consumers:q", "")), "", "only rabbitmq:ready and rabbitmq:depth"},
		{"an instant rate query", scaling("w", "", check("postgres:requests_per_minute", `query_window = "instant"`)), "", "needs a query_window"},
		{"a schedule", scaling("w", "", `schedule {
      start = "0 8 * * *"
      end   = "0 20 * * *"
    }`+"\n"+check("postgres:x", "")), "", "schedule blocks are not supported"},
		{"no checks", scaling("w", "", ""), "", "no check blocks"},
		{"a slope config every evaluation would refuse", scaling("w", "", `check "c" {
      source = "ekyc"
      query  = "postgres:requests_per_minute"
      strategy "slope" {
        capacity_per_worker = "10"
        lead                = "5m"
        horizon             = "4m"
      }
    }`), "", `check "c": strategy "slope": horizon "4m": must be at least lead (5m0s)`},
		{"a check without a source", scaling("w", "", `check "c" {
      query = "postgres:x"
      strategy "slope" { capacity_per_worker = "10" }
    }`), "", "no source"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPolicy(writePolicy(t, tc.hcl), tc.pick)
			must.ErrorContains(t, err, tc.want)
		})
	}
}

func TestLoadPolicyPicksTheNamedScalingBlock(t *testing.T) {
	t.Parallel()
	two := `scaling "a" {
  enabled = true
  max = 1
  policy {
    check "c" {
      source = "s"
      query = "postgres:x"
      strategy "target-value" { target = "1" }
    }
  }
}
scaling "b" {
  enabled = true
  max = 7
  policy {
    check "c" {
      source = "s"
      query = "postgres:x"
      strategy "target-value" { target = "1" }
    }
  }
}`
	p, err := LoadPolicy(writePolicy(t, two), "b")
	must.NoError(t, err)
	must.Eq(t, int64(7), p.Max)
}

func writePolicy(t *testing.T, hcl string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.hcl")
	must.NoError(t, os.WriteFile(path, []byte(hcl), 0o644))
	return path
}

func TestWarmUpStopsAtThreeHoursWhateverTheQueryWindow(t *testing.T) {
	t.Parallel()
	p := &sdk.ScalingPolicy{Checks: []*sdk.ScalingPolicyCheck{{QueryWindow: 192 * time.Hour}}}
	must.Eq(t, 180, warmupMinutes(p), must.Sprint("a week-long window reads what the trace holds so far"))
}

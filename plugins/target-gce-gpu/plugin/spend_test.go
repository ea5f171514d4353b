package plugin

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/promtest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

func TestSpendConfigNeedsEveryPriceTheFleetUses(t *testing.T) {
	t.Parallel()
	checkConfigErrors(t, []configErrorCase{
		{"a budget without a price", func(m map[string]string) { m["monthly_budget"] = "10000" },
			[]string{`monthly_budget "10000": needs price_per_hour`}},
		{"a Spot price without a price", func(m map[string]string) { m["spot_price_per_hour"] = "0.38" },
			[]string{`spot_price_per_hour "0.38": needs price_per_hour`}},
		{"Spot MIGs without their price", func(m map[string]string) {
			m["price_per_hour"] = "0.95"
			m["spot_migs"] = "europe-west4-a/spot-a"
		}, []string{"spot_price_per_hour: required with price_per_hour when spot_migs is set"}},
		{"a pool without its price", func(m map[string]string) {
			m["price_per_hour"] = "0.95"
			m["standby_size"] = "4"
		}, []string{"standby_price_per_hour: required with price_per_hour when standby_size is above 0"}},
		{"a price of zero", func(m map[string]string) { m["price_per_hour"] = "0" }, []string{`price_per_hour "0": must be above 0`}},
		{"a negative price", func(m map[string]string) { m["price_per_hour"] = "-1" }, []string{`price_per_hour "-1": must be between 0 and 1000`}},
		{"a price in cents", func(m map[string]string) { m["price_per_hour"] = "95000" }, []string{`price_per_hour "95000": must be between 0 and 1000`}},
		{"a price that is no number", func(m map[string]string) { m["price_per_hour"] = "$0.95" }, []string{`price_per_hour "$0.95": not a number`}},
		{"a negative budget", func(m map[string]string) {
			m["price_per_hour"] = "0.95"
			m["monthly_budget"] = "-5"
		}, []string{`monthly_budget "-5": must be between 0 and 1e9`}},
	})

	raw := validTarget()
	raw["price_per_hour"] = "0.95"
	raw["spot_price_per_hour"] = "0.38"
	raw["spot_migs"] = "europe-west4-a/spot-a"
	raw["standby_size"] = "4"
	raw["standby_price_per_hour"] = "0.03"
	raw["monthly_budget"] = "10000"
	cfg, err := parseTargetConfig(raw)
	must.NoError(t, err)
	must.Eq(t, spendConfig{price: 0.95, spotPrice: 0.38, standbyPrice: 0.03, budget: 10000}, cfg.spend)

	cfg, err = parseTargetConfig(validTarget())
	must.NoError(t, err)
	must.False(t, cfg.spend.enabled())
}

func TestSpendPerHourBillsRunningVMsAtTheirTierAndThePoolAtItsDisks(t *testing.T) {
	t.Parallel()
	vm := func(status, action string) managedInstance {
		return managedInstance{Name: status + "-" + action, Status: status, CurrentAction: action}
	}
	std := []zoneView{
		{Instances: []managedInstance{
			vm("RUNNING", "NONE"),                         // serving
			vm("RUNNING", "VERIFYING"),                    // booting after its start
			vm("RUNNING", "STOPPING"),                     // on its way into the pool: still running
			vm("PROVISIONING", "CREATING"),                // not billed yet
			{Name: "retrying", CurrentAction: "CREATING"}, // no VM behind it
		}},
		{Instances: []managedInstance{
			vm("RUNNING", "NONE"),
			vm("TERMINATED", "NONE"),     // in the pool
			vm("STOPPING", "NONE"),       // the MIG stops a refill
			vm("TERMINATED", "STARTING"), // leaving the pool: its disks still
		}},
	}
	spot := []zoneView{{Instances: []managedInstance{vm("RUNNING", "NONE"), vm("RUNNING", "NONE")}}}
	c := spendConfig{price: 1, spotPrice: 0.5, standbyPrice: 0.01}
	// 4 running standard VMs, 2 running Spot VMs, 2 pool members (the
	// starting one is no longer in the pool, and not yet running).
	must.Eq(t, 4*1+2*0.5+2*0.01, spendPerHour(c, std, spot))
	must.Eq(t, 4.0, spendPerHour(spendConfig{price: 1}, std, nil))
}

func TestTheSpendCounterAddsEachIntervalAtTheRateSeenAtItsStart(t *testing.T) {
	t.Parallel()
	m := newTargetMetrics(pluginkit.NewMetrics())
	c := spendConfig{price: 1, budget: 500}
	t0 := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	spent := func() float64 { return testutil.ToFloat64(m.spent.WithLabelValues("p")) }

	m.observeSpend("p", c, 60, t0)
	must.Eq(t, 0.0, spent()) // nothing known before the first Status
	m.observeSpend("p", c, 120, t0.Add(time.Minute))
	must.Eq(t, 1.0, spent()) // a minute at $60 an hour
	m.observeSpend("p", c, 120, t0.Add(2*time.Minute))
	must.Eq(t, 3.0, spent())
	// An hour without Status (another agent held the policy): at most
	// spendGapMax of it is counted at the last rate.
	m.observeSpend("p", c, 30, t0.Add(62*time.Minute))
	must.Eq(t, 3.0+120*spendGapMax.Hours(), spent())
	// A clock that steps back adds nothing and does not subtract.
	m.observeSpend("p", c, 30, t0.Add(61*time.Minute))
	must.Eq(t, 3.0+120*spendGapMax.Hours(), spent())

	must.Eq(t, 30.0, testutil.ToFloat64(m.spendRate.WithLabelValues("p")))
	must.Eq(t, 500.0, testutil.ToFloat64(m.budget.WithLabelValues("p")))

	// A policy without prices has no spend series.
	m.observeSpend("q", spendConfig{}, 99, t0)
	must.Eq(t, 1, testutil.CollectAndCount(m.spendRate))
}

func TestStatusReportsTheSpendOfTheFleetItSees(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 10 * time.Millisecond})
	withSpot(t, h, 0, "0.5")
	withPool(h, 2, "0s")
	h.policy["price_per_hour"] = "0.95"
	h.policy["spot_price_per_hour"] = "0.38"
	h.policy["standby_price_per_hour"] = "0.03"
	h.policy["monthly_budget"] = "10000"
	must.NoError(t, h.p.SetConfig(map[string]string{"compute_endpoint": h.gceURL, "compute_insecure": "true",
		"nomad_address": h.nomadURL, "metrics_address": "127.0.0.1:0"}))
	t.Cleanup(h.p.metrics.Close)
	fillPool(t, h, 1, 1)

	// 8 workers: 4 standard (two of them started from the pool), 4 Spot;
	// then the pool refills and its two stopped VMs add their disks. How
	// soon the refill lands after the surge depends on the machine, so
	// only the settled fleet is asserted.
	must.NoError(t, h.scale(8))
	want := 4*0.95 + 4*0.38 + 2*0.03
	var st map[string]string
	poll.Until(t, 10*time.Second, func() bool {
		st = h.status().Meta
		return st[metaKeySpend] == strconv.FormatFloat(want, 'f', 2, 64)
	}, func() string { return fmt.Sprintf("spend %q, want %.2f: %+v", st[metaKeySpend], want, h.gce.MIGs()) })

	body := promtest.Scrape(t, h.p.metrics.Addr())
	must.StrContains(t, body, "fleetslope_target_spend_dollars_per_hour{policy=")
	must.StrContains(t, body, fmt.Sprintf("} %g\n", want))
	must.StrContains(t, body, "fleetslope_target_spend_dollars_total{policy=")
	must.StrContains(t, body, "fleetslope_target_monthly_budget_dollars{policy=")
	must.StrContains(t, body, "} 10000\n")
}

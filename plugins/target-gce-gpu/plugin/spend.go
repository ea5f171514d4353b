package plugin

import (
	"fmt"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// Policy target block keys of the spend estimate: what the policy's VMs
// cost by the hour, and the budget it is held to.
const (
	targetKeyPrice        = "price_per_hour"
	targetKeySpotPrice    = "spot_price_per_hour"
	targetKeyStandbyPrice = "standby_price_per_hour"
	targetKeyBudget       = "monthly_budget"
)

// maxPrice bounds the price keys, in dollars per VM-hour: the largest GPU
// shapes list at under $100 an hour, so more is a typo (cents per hour).
const maxPrice = "1000"

// spendConfig prices the policy's fleet. Without price_per_hour the
// policy has no spend series.
type spendConfig struct {
	price        float64 // a running VM of the standard MIGs, $ per hour
	spotPrice    float64 // a running Spot VM
	standbyPrice float64 // a stopped VM of the warm pool (its disks)
	budget       float64 // $ per month; 0 when not set
}

func (s spendConfig) enabled() bool { return s.price > 0 }

// parseSpendConfig reads the price keys and monthly_budget. Every price the
// policy's MIGs need must be given, so that the estimate is never silently
// low: spot_price_per_hour with spot_migs, standby_price_per_hour with a
// warm pool. The budget and the other prices mean nothing without
// price_per_hour.
func parseSpendConfig(p *pluginkit.Parser, spot bool, standby int64) spendConfig {
	s := spendConfig{
		price:        p.Float(targetKeyPrice),
		spotPrice:    p.Float(targetKeySpotPrice),
		standbyPrice: p.Float(targetKeyStandbyPrice),
		budget:       p.Float(targetKeyBudget),
	}
	if !p.Has(targetKeyPrice) {
		for _, k := range []string{targetKeySpotPrice, targetKeyStandbyPrice, targetKeyBudget} {
			if p.Has(k) {
				p.Fail(k, "needs %s, the price of a running standard VM", targetKeyPrice)
			}
		}
		return spendConfig{}
	}
	if s.price == 0 {
		p.Fail(targetKeyPrice, "must be above 0 (leave it out for no spend estimate)")
	}
	if spot && !p.Has(targetKeySpotPrice) {
		p.Add(fmt.Errorf("%s: required with %s when %s is set: the price of a running Spot VM", targetKeySpotPrice, targetKeyPrice, targetKeySpotMIGs))
	}
	if standby > 0 && !p.Has(targetKeyStandbyPrice) {
		p.Add(fmt.Errorf("%s: required with %s when %s is above 0: the price of a stopped VM of the pool (its disks)", targetKeyStandbyPrice, targetKeyPrice, targetKeyStandbySize))
	}
	return s
}

// spendPerHour is what the policy's VMs cost per hour as the MIGs were
// observed: every RUNNING VM (serving, booting after its start, draining)
// at its tier's price, every stopped or stopping VM of the warm pool at
// the pool's. VMs still being created or started are not billed yet; the
// list prices know no discount.
func spendPerHour(c spendConfig, std, spot []zoneView) float64 {
	running := func(zones []zoneView) (n int64) {
		for _, z := range zones {
			for _, in := range z.Instances {
				if in.Status == instanceRunning {
					n++
				}
			}
		}
		return n
	}
	var pool int64
	for _, z := range std {
		for _, in := range z.Instances {
			// A VM on its way into the pool is billed as running until it
			// has stopped.
			if in.inPool() && in.Status != instanceRunning {
				pool++
			}
		}
	}
	return c.price*float64(running(std)) + c.spotPrice*float64(running(spot)) + c.standbyPrice*float64(pool)
}

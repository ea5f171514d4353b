package backtest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// The target block's prices (target-gce-gpu's spend estimate). A policy
// that sets them is priced with them, so that the backtest's cost and the
// plugin's spend series agree; the -price, -spot-price and -standby-price
// flags win when given.
var priceKeys = []struct{ key, flag string }{
	{"price_per_hour", "price"},
	{"spot_price_per_hour", "spot-price"},
	{"standby_price_per_hour", "standby-price"},
}

// maxPolicyPrice is target-gce-gpu's bound on the price keys.
const maxPolicyPrice = 1000

// parsePrices reads the price keys the policy's target block sets, by flag
// name. Errors name the key and the value, all together.
func parsePrices(p *sdk.ScalingPolicy) (map[string]float64, error) {
	out := map[string]float64{}
	if p.Target == nil {
		return out, nil
	}
	var errs []error
	for _, k := range priceKeys {
		v, ok := p.Target.Config[k.key]
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > maxPolicyPrice {
			errs = append(errs, fmt.Errorf("target %s %q: want dollars per VM-hour from 0 to %d (target-gce-gpu's bounds), such as 0.95", k.key, v, maxPolicyPrice))
			continue
		}
		out[k.flag] = f
	}
	return out, errors.Join(errs...)
}

// applyPolicyPrices prices the run with the policy's price keys, except
// where a flag in given (by name) set the price. A policy that cannot be
// read, bad prices included, is left to the preflight, which reports it.
func applyPolicyPrices(c *Config, given map[string]bool) {
	p, err := LoadPolicy(c.PolicyPath, c.ScalingName)
	if err != nil {
		return
	}
	prices, _ := parsePrices(p) // LoadPolicy has checked them
	for flag, v := range prices {
		if given[flag] {
			continue
		}
		switch flag {
		case "price":
			c.Price = v
		case "spot-price":
			c.SpotPrice = v
		case "standby-price":
			c.StandbyPrice = v
		}
	}
}

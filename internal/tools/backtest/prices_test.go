package backtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoenig/test/must"
)

func TestParsePricesReadsTheTargetKeysAndNamesEveryBadValue(t *testing.T) {
	t.Parallel()
	prices, err := parsePrices(testPolicy(""))
	must.NoError(t, err)
	must.MapEmpty(t, prices)

	prices, err = parsePrices(spotPolicy("price_per_hour", "1.2", "spot_price_per_hour", "0.5", "standby_price_per_hour", "0.04"))
	must.NoError(t, err)
	must.Eq(t, map[string]float64{"price": 1.2, "spot-price": 0.5, "standby-price": 0.04}, prices)

	_, err = parsePrices(spotPolicy("price_per_hour", "$1", "spot_price_per_hour", "-0.5", "standby_price_per_hour", "5000"))
	must.ErrorContains(t, err, `target price_per_hour "$1": want dollars per VM-hour from 0 to 1000`)
	must.ErrorContains(t, err, `target spot_price_per_hour "-0.5"`)
	must.ErrorContains(t, err, `target standby_price_per_hour "5000"`)
	// The policy loader refuses them too.
	must.ErrorContains(t, validatePolicy(spotPolicy("price_per_hour", "cheap")), `price_per_hour "cheap"`)
}

// The shipped policy with its prices changed: the run is priced with them
// unless a flag sets a price, and -shapes keeps each shape's own.
func TestThePolicysPricesPriceTheRunUnlessAFlagSetsThem(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "policies", "gpu-workers.hcl"))
	must.NoError(t, err)
	policy := string(raw)
	for _, kv := range [][2]string{
		{`price_per_hour         = "0.95"`, `price_per_hour         = "1.25"`},
		{`spot_price_per_hour    = "0.38"`, `spot_price_per_hour    = "0.5"`},
		{`standby_price_per_hour = "0.03"`, `standby_price_per_hour = "0.05"`},
	} {
		must.StrContains(t, policy, kv[0])
		policy = strings.Replace(policy, kv[0], kv[1], 1)
	}
	path := filepath.Join(t.TempDir(), "policy.hcl")
	must.NoError(t, os.WriteFile(path, []byte(policy), 0o600))

	o, err := parseFlags([]string{"-trace", "t.csv", "-policy", path}, nil)
	must.NoError(t, err)
	must.Eq(t, 1.25, o.cfg.Price)
	must.Eq(t, 0.5, o.cfg.SpotPrice)
	must.Eq(t, 0.05, o.cfg.StandbyPrice)

	o, err = parseFlags([]string{"-trace", "t.csv", "-policy", path, "-price", "2", "-standby-price", "0"}, nil)
	must.NoError(t, err)
	must.Eq(t, 2.0, o.cfg.Price)
	must.Eq(t, 0.5, o.cfg.SpotPrice)
	must.Eq(t, 0.0, o.cfg.StandbyPrice)

	o, err = parseFlags([]string{"-trace", "t.csv", "-policy", path, "-shapes", "s.csv"}, nil)
	must.NoError(t, err)
	must.Eq(t, DefaultPrice, o.cfg.Price)

	bad := filepath.Join(t.TempDir(), "bad.hcl")
	must.NoError(t, os.WriteFile(bad, []byte(strings.Replace(policy, `"1.25"`, `"1,25"`, 1)), 0o600))
	o, err = parseFlags([]string{"-trace", "t.csv", "-policy", bad}, nil)
	must.NoError(t, err) // left to the preflight, which reads the whole policy
	must.ErrorContains(t, Preflight(o.cfg), `target price_per_hour "1,25"`)
}

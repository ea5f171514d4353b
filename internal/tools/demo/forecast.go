package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2/hclsimple"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/jackc/pgx/v5/pgxpool"

	slope "github.com/fleetslope/nomad-gpu-autoscaler/plugins/strategy-slope/plugin"
)

// forecaster recomputes the strategy's forecast for the live line: the
// agent logs only the winning check's Meta, and while the backlog checks
// win the rate forecast is not in the log. It runs the policy's rate check
// exactly as the agent does (same SQL, same strategy code and config) on
// the demo's database.
type forecaster struct {
	pool     *pgxpool.Pool
	sql      string
	window   time.Duration
	check    *sdk.ScalingPolicyCheck
	strategy *slope.Plugin
}

const sqlPrefix = "postgres:sql:"

// newForecaster reads the rate check (mode rate, a postgres:sql: query)
// from the policy file.
func newForecaster(ctx context.Context, policyPath, dsn string) (*forecaster, error) {
	var doc sdk.FileDecodeScalingPolicies
	if err := hclsimple.DecodeFile(policyPath, nil, &doc); err != nil {
		return nil, err
	}
	for _, p := range doc.ScalingPolicies {
		if p.Doc == nil {
			continue
		}
		for _, c := range p.Doc.Checks {
			if c.Strategy == nil || c.Strategy.Config["mode"] == "backlog" || !strings.HasPrefix(c.Query, sqlPrefix) {
				continue
			}
			w, err := time.ParseDuration(c.QueryWindowHCL)
			if err != nil {
				return nil, fmt.Errorf("check %q query_window %q: %w", c.Name, c.QueryWindowHCL, err)
			}
			pool, err := pgxpool.New(ctx, dsn)
			if err != nil {
				return nil, err
			}
			check := &sdk.ScalingPolicyCheck{Name: c.Name, Source: c.Source, Query: c.Query, QueryWindow: w, Strategy: c.Strategy}
			return &forecaster{pool: pool, sql: strings.TrimPrefix(c.Query, sqlPrefix), window: w, check: check,
				strategy: slope.New(hclog.NewNullLogger())}, nil
		}
	}
	return nil, errors.New("the policy has no rate check with a postgres:sql: query")
}

// demand returns the forecast demand (requests per minute) for a fleet of
// count workers now, or NaN when the strategy cannot tell yet.
func (f *forecaster) demand(ctx context.Context, count int) float64 {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	now := time.Now()
	rows, err := f.pool.Query(ctx, f.sql, now.Add(-f.window), now)
	if err != nil {
		return math.NaN()
	}
	var metrics sdk.TimestampedMetrics
	for rows.Next() {
		var t time.Time
		var v float64
		if rows.Scan(&t, &v) == nil {
			metrics = append(metrics, sdk.TimestampedMetric{Timestamp: t, Value: v})
		}
	}
	rows.Close()
	if rows.Err() != nil {
		return math.NaN()
	}
	return f.forecast(metrics, count)
}

// demandKey is the strategy's Meta key for the demand, in requests per
// minute, that it sizes the fleet for on the way up: the forecast plus
// its margin.
const demandKey = "demand_up"

// forecast runs the strategy on the rate check's metrics and returns its
// demand, or NaN when it cannot tell.
func (f *forecaster) forecast(metrics sdk.TimestampedMetrics, count int) float64 {
	out, err := f.strategy.Run(&sdk.ScalingCheckEvaluation{Check: f.check, Metrics: metrics}, int64(count))
	if err != nil || out == nil || out.Action == nil {
		return math.NaN()
	}
	if d, ok := out.Action.Meta[demandKey].(float64); ok {
		return d
	}
	return math.NaN()
}

func (f *forecaster) close() { f.pool.Close() }

package backtest

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Defaults of the command's flags, beside the fields they fill.
const (
	DefaultPolicy = "policies/gpu-workers.hcl"
	DefaultLead   = 5 * time.Minute
	// DefaultScaleUpWait: target-gce-gpu's Scale returns when the MIGs are
	// stable, about 90 s after a resize on GCE (the VMs are RUNNING; they
	// serve only after the rest of the lead). Status is not ready meanwhile.
	DefaultScaleUpWait = 90 * time.Second
	// DefaultSettleDelay is apm-rabbitmq's settle_delay: a minute of the
	// requests table is answered only this long after it ends.
	DefaultSettleDelay = 30 * time.Second
	// DefaultScaleDownWait: a scale-in drains the chosen nodes (requests
	// take about a second) and deletes their VMs before Scale returns.
	DefaultScaleDownWait  = time.Minute
	DefaultServiceTime    = time.Second
	DefaultRequestTimeout = 30 * time.Second
	DefaultSLAP95         = 3 * time.Second
	DefaultBusinessHours  = "08:00-22:00"
	DefaultTimeZone       = "UTC"
	DefaultPrice          = 0.95

	// oracleBlock is how long the oracle keeps a size: it knows the future
	// but, like a real fleet, does not resize every minute.
	oracleBlock = 20 * time.Minute
	// minWarmup is the shortest warm-up: the first hour is never scored.
	minWarmup = time.Hour
	// maxWarmup is the longest warm-up, whatever the query windows.
	maxWarmup = 3 * time.Hour
)

// Config is everything a run needs besides the trace.
type Config struct {
	PolicyPath  string
	ScalingName string        // the policy's scaling block; empty when the file has one
	Daily       float64       // scale the trace to this mean per day; 0 keeps it
	Capacity    float64       // requests per minute a worker truly serves; 0: the policy's capacity_per_worker
	Lead        time.Duration // from a scale-up decision to serving
	// WarmLead is Lead for a worker started from the standby pool that the
	// policy's target keeps (standby_size); StandbyPrice is a stopped
	// VM's price per hour (its disks).
	WarmLead     time.Duration
	StandbyPrice float64
	// SpotPrice is a Spot worker's price per hour, PreemptionRate the
	// preemptions per Spot VM-hour, SpotOutage how long Spot capacity is
	// gone after the daily mass preemption at the busiest business hour
	// (0: none), Seed the seed of the preemption draws. They matter only
	// for a policy whose target has spot_migs.
	SpotPrice      float64
	PreemptionRate float64
	SpotOutage     time.Duration
	Seed           int64
	// ScaleUpWait and ScaleDownWait are how long the target's Scale takes
	// to return (MIG stable; drain and delete). The agent takes no other
	// action meanwhile and starts the cooldown when Scale returns.
	ScaleUpWait   time.Duration
	ScaleDownWait time.Duration
	// SettleDelay is how long after its end a minute of request counts is
	// complete (apm-rabbitmq's settle_delay).
	SettleDelay    time.Duration
	ServiceTime    time.Duration
	RequestTimeout time.Duration
	SLAP95         time.Duration
	BusinessHours  string // HH:MM-HH:MM, local time
	TimeZone       string // IANA name for business hours and SLA days
	Price          float64
	// RaiseMax lifts the policy's max to twice the static peak when it is
	// lower, so that a replay at another volume measures the strategy, not
	// a cap sized for today's traffic (the summary's max says which).
	RaiseMax bool
	// PeerAvailability, when above 0, also reports target-value held to
	// this availability (a percentage, such as 99.9): of the grid's
	// configurations at least this available, the one with the most SLA
	// days met, then the fewest billed worker-hours, as the strategy
	// NameTargetValueSLO. The selection (most days, then cost)
	// may pick a configuration that buys its cost with availability the
	// goals require; this one may not.
	PeerAvailability float64
	// CommitDiscount is the discount of a committed use contract on the
	// standard tier's baseline (commitment.go); 0 plans none.
	CommitDiscount float64
	Logger         hclog.Logger // for the strategies; nil discards
}

// DefaultConfig returns the command's defaults.
func DefaultConfig() Config {
	return Config{
		PolicyPath:     DefaultPolicy,
		Lead:           DefaultLead,
		WarmLead:       DefaultWarmLead,
		StandbyPrice:   DefaultPoolPrice,
		SpotPrice:      DefaultSpotPrice,
		PreemptionRate: DefaultPreemptionRate,
		Seed:           DefaultSeed,
		ScaleUpWait:    DefaultScaleUpWait,
		ScaleDownWait:  DefaultScaleDownWait,
		SettleDelay:    DefaultSettleDelay,
		ServiceTime:    DefaultServiceTime,
		RequestTimeout: DefaultRequestTimeout,
		SLAP95:         DefaultSLAP95,
		BusinessHours:  DefaultBusinessHours,
		TimeZone:       DefaultTimeZone,
		Price:          DefaultPrice,
	}
}

// parsedConfig holds what validation derives from Config.
type parsedConfig struct {
	loc *time.Location
	bh  businessHours
}

// Validate checks every field and reports all problems at once, naming the
// flag and the value. Run validates too; callers check first to fail before
// reading a long trace.
func (c Config) Validate() error {
	_, err := c.parse()
	return err
}

func (c Config) parse() (parsedConfig, error) {
	var pc parsedConfig
	var errs []error
	bad := func(flag string, v any, why string) {
		errs = append(errs, fmt.Errorf("-%s %q: %s", flag, fmt.Sprint(v), why))
	}
	if c.PolicyPath == "" {
		bad("policy", c.PolicyPath, "a policy file is required")
	}
	if c.Daily < 0 {
		bad("daily", c.Daily, "must be >= 0")
	}
	if c.Capacity < 0 {
		bad("capacity", c.Capacity, "must be > 0 (or 0 for the policy's capacity_per_worker)")
	}
	if c.Lead < 0 {
		bad("lead", c.Lead, "must be >= 0")
	}
	if c.WarmLead < 0 {
		bad("warm-lead", c.WarmLead, "must be >= 0")
	}
	if c.StandbyPrice < 0 {
		bad("standby-price", c.StandbyPrice, "must be >= 0")
	}
	if c.SpotPrice < 0 || math.IsNaN(c.SpotPrice) {
		bad("spot-price", c.SpotPrice, "must be >= 0")
	}
	if !(c.PreemptionRate >= 0 && c.PreemptionRate <= 60) {
		bad("preemption-rate", c.PreemptionRate, "want preemptions per Spot VM-hour from 0 to 60")
	}
	if c.SpotOutage < 0 || c.SpotOutage > maxSpotOutage {
		bad("spot-outage", c.SpotOutage, "want a duration from 0 to 24h")
	}
	if !(c.CommitDiscount >= 0 && c.CommitDiscount < 1) {
		bad("commit-discount", c.CommitDiscount, "want the commitment's discount as a fraction from 0 to below 1, such as 0.37")
	}
	if c.Seed < 0 {
		bad("seed", c.Seed, "must be >= 0")
	}
	if c.ScaleUpWait < 0 {
		bad("scale-up-wait", c.ScaleUpWait, "must be >= 0")
	}
	if c.SettleDelay < 0 {
		bad("settle-delay", c.SettleDelay, "must be >= 0")
	}
	if c.ScaleDownWait < 0 {
		bad("scale-down-wait", c.ScaleDownWait, "must be >= 0")
	}
	if c.ServiceTime < 0 {
		bad("service-time", c.ServiceTime, "must be >= 0")
	}
	if c.RequestTimeout <= 0 {
		bad("request-timeout", c.RequestTimeout, "must be > 0")
	}
	if c.SLAP95 <= 0 {
		bad("sla-p95", c.SLAP95, "must be > 0")
	}
	if c.Price < 0 {
		bad("price", c.Price, "must be >= 0")
	}
	if !(c.PeerAvailability >= 0 && c.PeerAvailability <= 100) {
		bad("peer-availability", c.PeerAvailability, "want a percentage from 0 (off) to 100, such as 99.9")
	}
	var err error
	if pc.bh, err = parseBusinessHours(c.BusinessHours); err != nil {
		bad("business-hours", c.BusinessHours, "want HH:MM-HH:MM, e.g. 08:00-22:00")
	}
	if pc.loc, err = time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		bad("tz", c.TimeZone, "want an IANA time zone such as Asia/Kolkata")
	}
	return pc, errors.Join(errs...)
}

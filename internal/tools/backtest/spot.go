package backtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
)

// The target block's keys of target-gce-gpu's Spot tier (issue 18) that the
// backtest reads, with the plugin's defaults. The model needs only whether
// Spot is on (spot_migs is not empty), the share and the cooldown; which
// MIGs and zones is the target's business.
const (
	spotKeyMIGs     = "spot_migs"
	spotKeyShare    = "spot_share"
	spotKeyCooldown = "spot_cooldown"
	// maxSpotCooldown is target-gce-gpu's bound on spot_cooldown.
	maxSpotCooldown = 24 * time.Hour
	// defaultSpotShare is the most of the count that may run on Spot.
	defaultSpotShare = 0.6
	// defaultSpotCooldown is how long after a preemption (or a failed
	// Spot create) scale-outs leave the Spot MIGs alone.
	defaultSpotCooldown = 30 * time.Minute
)

// spotConfig is the Spot tier a policy's target keeps.
type spotConfig struct {
	on       bool
	share    float64
	cooldown time.Duration
}

// parseSpot reads spot_migs, spot_share and spot_cooldown from the policy's
// target block; a policy without spot_migs, or without a target, has no
// Spot tier and replays exactly as before. Errors name the key and the
// value, all together.
func parseSpot(p *sdk.ScalingPolicy) (spotConfig, error) {
	sc := spotConfig{share: defaultSpotShare, cooldown: defaultSpotCooldown}
	if p.Target == nil {
		return sc, nil
	}
	var errs []error
	if v, ok := p.Target.Config[spotKeyMIGs]; ok {
		if err := checkMIGList(v); err != nil {
			errs = append(errs, fmt.Errorf("target %s %q: %w", spotKeyMIGs, v, err))
		}
		sc.on = strings.TrimSpace(v) != ""
	}
	if v, ok := p.Target.Config[spotKeyShare]; ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
			errs = append(errs, fmt.Errorf("target %s %q: want a fraction from 0 to 1, such as 0.6", spotKeyShare, v))
		}
		sc.share = f
	}
	if v, ok := p.Target.Config[spotKeyCooldown]; ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 || d > maxSpotCooldown {
			errs = append(errs, fmt.Errorf("target %s %q: want a duration from 0s to 24h (target-gce-gpu's bounds), such as 30m", spotKeyCooldown, v))
		}
		sc.cooldown = d
	}
	return sc, errors.Join(errs...)
}

// checkMIGList checks the zone/name list syntax of migs and spot_migs.
func checkMIGList(v string) error {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	for _, item := range strings.Split(v, ",") {
		zone, name, ok := strings.Cut(strings.TrimSpace(item), "/")
		if !ok || zone == "" || name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("item %q: want zone/name, such as us-central1-a/ekyc-gpu-spot-a", strings.TrimSpace(item))
		}
	}
	return nil
}

// spotModel is what the replay needs to know about Spot capacity besides
// the policy: how often it is taken away and when it is gone.
type spotModel struct {
	// perMinute is the chance that one serving Spot worker is preempted in
	// a given minute (-preemption-rate / 60).
	perMinute float64
	seed      uint64
	// outageStarts are the minutes (of the whole trace) at which every
	// Spot VM is preempted and Spot capacity is gone for outage minutes.
	outageStarts []int
	outage       int
	// inflight is the work a preempted serving worker held, returned to
	// the queue: capacity x service time.
	inflight float64
}

// spotTier is the Spot half of the fleet behind the policy under test, in
// whole minutes. The standard half is the replay's own fleet.
type spotTier struct {
	cfg      spotConfig
	m        *spotModel
	f        *fleet
	rng      *rand.Rand
	cooldown int // minutes
	// blockedUntil is the first minute at which scale-outs may create Spot
	// VMs again: after the last preemption's cooldown and the outage.
	blockedUntil int
	nextOutage   int // index into m.outageStarts
	fig          spotFigures
}

// spotFigures are what the Spot tier did over the scored minutes.
type spotFigures struct {
	serving  []int64   // Spot workers serving, per scored minute
	billed   []int64   // Spot VMs billed (serving, booting, draining), per scored minute
	requeued []float64 // requests returned to the queue by preemptions, per scored minute
	// preempted counts Spot workers preempted (serving or booting);
	// byOutage those of them taken by the daily outage.
	preempted, byOutage int64
	// unavailableMinutes counts scored minutes in which scale-outs could
	// not use Spot.
	unavailableMinutes int
}

// newSpotTier splits the initial fleet as a scale-out from nothing would:
// the Spot share on Spot, the rest standard.
func newSpotTier(cfg spotConfig, m *spotModel, std *fleet, scored int) *spotTier {
	n := std.target
	spot := spotMax(n, cfg.share)
	std.target, std.serving = n-spot, n-spot
	return &spotTier{cfg: cfg, m: m, f: newFleet(spot), rng: rand.New(rand.NewPCG(m.seed, 0x5eed)),
		cooldown: ceilMinutes(cfg.cooldown),
		fig: spotFigures{serving: make([]int64, scored), billed: make([]int64, scored),
			requeued: make([]float64, scored)}}
}

// surgeShare and isSurge are target-gce-gpu's (plugins/target-gce-gpu/
// plugin/spot_split.go): a scale-out of more than a quarter of the fleet
// takes the standard MIGs' stopped VMs before creating Spot ones.
const surgeShare = 0.25

func isSurge(want, total int64) bool {
	return want > total && float64(want-total) > surgeShare*float64(total)
}

// spotMax is the most of a count of n that may run on Spot.
func spotMax(n int64, share float64) int64 {
	return int64(math.Floor(float64(n)*share + 1e-9))
}

// available says whether scale-outs decided at minute mi may create Spot VMs.
func (s *spotTier) available(mi int) bool { return mi >= s.blockedUntil }

// scale asks the two tiers together for n workers at minute mi, as
// target-gce-gpu splits a count: standard MIGs always hold at least
// n - spotMax(n); a scale-out fills that first and puts the rest on Spot,
// or on standard while Spot is unavailable, and a surge puts as many of
// the rest on standard as its pool holds stopped; a scale-in removes standard
// workers above that floor first, then Spot ones. Both drain only serving
// workers. It returns the new total target.
func (s *spotTier) scale(std *fleet, n int64, mi int, scaleStd func(int64) int64, readyAt, deleteAt int) int64 {
	total := std.target + s.f.target
	stdMin := n - spotMax(n, s.cfg.share)
	switch {
	case n > total:
		k := n - total
		toStd := min(k, max(0, stdMin-std.target))
		if !s.available(mi) {
			toStd = k
		} else if std.pool != nil && isSurge(n, total) {
			// A surge starts the standard pool's stopped VMs before it
			// creates Spot ones (what the floor did not take).
			if w := count(std.pool.ready) - toStd; w > 0 {
				toStd += min(w, k-toStd)
			}
		}
		if toStd > 0 {
			scaleStd(std.target + toStd)
		}
		if k > toStd {
			s.f.scaleTo(s.f.target+k-toStd, readyAt, deleteAt)
		}
	case n < total:
		r := total - n
		fromStd := min(r, std.serving, max(0, std.target-stdMin))
		if fromStd > 0 {
			scaleStd(std.target - fromStd)
		}
		if rest := min(r-fromStd, s.f.serving); rest > 0 {
			s.f.scaleTo(s.f.target-rest, readyAt, deleteAt)
		}
	}
	return std.target + s.f.target
}

// step applies minute mi's preemptions, after both fleets advanced to it:
// the daily outage takes every Spot VM, otherwise each serving Spot worker
// is preempted with the model's chance. A preempted worker stops serving
// at once, the work it held returns to the queue, and the target's count
// is kept by a replacement from the standard MIGs that serves after the
// lead (the Spot MIG is in its cooldown). s is the scored minute (< 0
// during warm-up, when nothing is preempted).
func (s *spotTier) step(std *fleet, mi, sm int, lead int) {
	if sm < 0 {
		return
	}
	if s.nextOutage < len(s.m.outageStarts) && s.m.outageStarts[s.nextOutage] <= mi {
		start := s.m.outageStarts[s.nextOutage]
		s.nextOutage++
		served, all := s.f.serving, s.f.target
		s.f.booting, s.f.draining = s.f.booting[:0], s.f.draining[:0]
		s.f.serving, s.f.target = 0, 0
		s.preempted(std, sm, mi, lead, served, all)
		s.fig.byOutage += all
		s.blockedUntil = max(s.blockedUntil, start+s.m.outage)
	} else if k := s.draw(s.f.serving); k > 0 {
		s.f.serving -= k
		s.f.target -= k
		s.preempted(std, sm, mi, lead, k, k)
	}
	if !s.available(mi) {
		s.fig.unavailableMinutes++
	}
}

// preempted books n lost Spot workers (served of them serving) and orders
// their replacements from the standard MIGs.
func (s *spotTier) preempted(std *fleet, sm, mi, lead int, served, n int64) {
	if n == 0 {
		return
	}
	s.fig.preempted += n
	s.fig.requeued[sm] += float64(served) * s.m.inflight
	std.booting = insertCohort(std.booting, mi+lead, n)
	std.target += n
	s.blockedUntil = max(s.blockedUntil, mi+s.cooldown)
}

// draw is how many of n serving Spot workers are preempted this minute: a
// binomial draw, done by skipping geometric gaps between preemptions so
// that it costs one random number per preemption rather than per worker.
func (s *spotTier) draw(n int64) int64 {
	p := s.m.perMinute
	if n == 0 || p <= 0 {
		return 0
	}
	if p >= 1 {
		return n
	}
	var k int64
	logq := math.Log1p(-p)
	for i := int64(-1); ; k++ {
		gap := math.Floor(math.Log(1-s.rng.Float64()) / logq)
		if gap >= float64(n-1-i) {
			return k
		}
		i += int64(gap) + 1
	}
}

// record stores minute sm's Spot figures.
func (s *spotTier) record(sm int) {
	s.fig.serving[sm] = s.f.serving
	s.fig.billed[sm] = s.f.billed()
}

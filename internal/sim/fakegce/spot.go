package fakegce

import (
	"fmt"
	"sort"
	"time"
)

// Provisioning models of an instance template
// (scheduling.provisioningModel).
const (
	ProvisioningStandard = "STANDARD"
	ProvisioningSpot     = "SPOT"
)

// PreemptionNotice is how long a preempted Spot VM stays STOPPING before it
// is TERMINATED: GCE's 30 seconds between ACPI G2 Soft Off and G3
// Mechanical Off.
const PreemptionNotice = 30 * time.Second

// phasePreempted is a Spot VM that GCE preempted: STOPPING for
// PreemptionNotice, then TERMINATED while its MIG tries to recreate it
// (currentAction RECREATING), which it does once the zone has Spot
// capacity again.
const phasePreempted phase = 100

// spotState is the Spot model of the server: which templates are Spot,
// which zones have no Spot capacity, and the preemptions.
type spotState struct {
	templates map[string]bool
	stockout  map[string]bool
	preempted map[*instance]*preemption
	log       []Preemption
}

type preemption struct {
	at      time.Time
	stopped bool // the VM is gone (OnInstanceStopped fired)
}

// Preemption is one preempted Spot VM, as Preemptions lists them.
type Preemption struct {
	Zone     string    `json:"zone"`
	MIG      string    `json:"mig"`
	Instance string    `json:"instance"`
	At       time.Time `json:"at"`
	// Recreated is when the MIG recreated it (zero while it has not, or
	// when it was deleted first).
	Recreated time.Time `json:"recreated"`
}

func (st *spotState) init() {
	if st.templates == nil {
		st.templates = map[string]bool{}
		st.stockout = map[string]bool{}
		st.preempted = map[*instance]*preemption{}
	}
}

// SetProvisioningModel sets an instance template's provisioning model
// (ProvisioningSpot or ProvisioningStandard); the template is created when
// it does not exist. Instances follow their own template.
func (s *Server) SetProvisioningModel(template, model string) error {
	if model != ProvisioningSpot && model != ProvisioningStandard {
		return fmt.Errorf("provisioning model: not %s or %s", ProvisioningSpot, ProvisioningStandard)
	}
	s.mu.Lock()
	defer s.unlock()
	s.spot.init()
	s.addTemplateLocked(template, "g2-standard-8", "")
	s.spot.templates[template] = model == ProvisioningSpot
	return nil
}

// SetMIGProvisioningModel sets the provisioning model of every template of
// the MIG's versions: a MIG of Spot VMs.
func (s *Server) SetMIGProvisioningModel(zone, name, model string) error {
	s.mu.Lock()
	m, ok := s.migs[migKey(zone, name)]
	var templates []string
	if ok {
		for _, v := range m.versions {
			templates = append(templates, v.template)
		}
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("provisioning model: no MIG %s", migKey(zone, name))
	}
	for _, t := range templates {
		if err := s.SetProvisioningModel(t, model); err != nil {
			return err
		}
	}
	return nil
}

// ProvisioningModel returns a template's provisioning model.
func (s *Server) ProvisioningModel(template string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spot.templates[template] {
		return ProvisioningSpot
	}
	return ProvisioningStandard
}

// SetSpotStockout takes the zone's Spot capacity away (on) or gives it
// back: Spot VMs can then not be created or recreated there, with the
// zone's stockout code, while standard VMs still can.
func (s *Server) SetSpotStockout(zone string, on bool) {
	s.mu.Lock()
	defer s.unlock()
	s.spot.init()
	s.zoneLocked(zone)
	s.spot.stockout[zone] = on
	s.notifyLocked()
}

// SpotStockout reports whether the zone has no Spot capacity.
func (s *Server) SpotStockout(zone string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spot.stockout[zone]
}

func (s *Server) isSpotLocked(in *instance) bool { return s.spot.templates[in.template] }

// spotBlockedLocked reports a Spot VM that cannot be created or recreated
// now for lack of Spot capacity.
func (s *Server) spotBlockedLocked(m *mig, in *instance) bool {
	return s.isSpotLocked(in) && s.spot.stockout[m.zone]
}

// spotErrorLocked is capacityErrorLocked for a Spot VM in a zone without
// Spot capacity.
func (s *Server) spotErrorLocked(m *mig, in *instance) (code, msg string) {
	if !s.spotBlockedLocked(m, in) {
		return "", ""
	}
	return s.opts.StockoutCode, "The zone 'projects/" + s.opts.Project + "/zones/" + m.zone +
		"' does not have enough resources available to fulfill the request. Try a different zone, or try again later."
}

// Preempt preempts Spot VMs of a MIG that are RUNNING: the named ones, or
// else the first n (all of them when n < 0). It returns the names
// preempted. Only Spot VMs are preempted: naming a standard one is an
// error.
func (s *Server) Preempt(zone, name string, instances []string, n int) ([]string, error) {
	s.mu.Lock()
	defer s.unlock()
	s.advanceLocked()
	m, ok := s.migs[migKey(zone, name)]
	if !ok {
		return nil, fmt.Errorf("preempt: no MIG %s", migKey(zone, name))
	}
	var pick []*instance
	if len(instances) > 0 {
		for _, nm := range instances {
			in := m.find(nm)
			switch {
			case in == nil:
				return nil, fmt.Errorf("preempt: no instance %s in MIG %s", nm, migKey(zone, name))
			case !s.isSpotLocked(in):
				return nil, fmt.Errorf("preempt: instance %s is not a Spot VM", nm)
			case in.phase != phaseRunning || in.standby:
				return nil, fmt.Errorf("preempt: instance %s is not running", nm)
			}
			pick = append(pick, in)
		}
	} else {
		for _, in := range m.instances {
			if (n < 0 || len(pick) < n) && in.phase == phaseRunning && !in.standby && s.isSpotLocked(in) {
				pick = append(pick, in)
			}
		}
	}
	return s.preemptLocked(m, pick), nil
}

// PreemptWave preempts every RUNNING Spot VM of the zone (every zone when
// zone is empty), as a Spot capacity reclaim does, and returns how many.
func (s *Server) PreemptWave(zone string) int {
	s.mu.Lock()
	defer s.unlock()
	s.advanceLocked()
	total := 0
	for _, key := range sortedMIGKeys(s.migs) {
		m := s.migs[key]
		if zone != "" && m.zone != zone {
			continue
		}
		var pick []*instance
		for _, in := range m.instances {
			if in.phase == phaseRunning && !in.standby && s.isSpotLocked(in) {
				pick = append(pick, in)
			}
		}
		total += len(s.preemptLocked(m, pick))
	}
	return total
}

func sortedMIGKeys(migs map[string]*mig) []string {
	keys := make([]string, 0, len(migs))
	for k := range migs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *Server) preemptLocked(m *mig, pick []*instance) []string {
	s.spot.init()
	now := s.opts.Now()
	var names []string
	for _, in := range pick {
		in.phase = phasePreempted
		s.spot.preempted[in] = &preemption{at: now}
		s.spot.log = append(s.spot.log, Preemption{Zone: m.zone, MIG: m.name, Instance: in.name, At: now})
		names = append(names, in.name)
	}
	if len(names) > 0 {
		s.notifyLocked()
	}
	return names
}

// Preemptions lists every preemption so far, oldest first.
func (s *Server) Preemptions() []Preemption {
	s.mu.Lock()
	defer s.unlock()
	s.advanceLocked()
	return append([]Preemption(nil), s.spot.log...)
}

// preemptedStatusLocked is what listManagedInstances shows of a preempted
// VM: STOPPING during the notice, then TERMINATED, the MIG RECREATING it.
func (s *Server) preemptedStatusLocked(in *instance) (string, string) {
	if p := s.spot.preempted[in]; p != nil && !p.stopped {
		return "STOPPING", "RECREATING"
	}
	return "TERMINATED", "RECREATING"
}

// advancePreemptedLocked moves a preempted VM on: at the end of its notice
// the VM is gone (OnInstanceStopped: its Nomad node goes down), then the
// MIG retries recreating it every RetryInterval, each failure logged as a
// creation error, until the zone has capacity: it then boots like a new VM
// under the same name. It reports a visible change.
func (s *Server) advancePreemptedLocked(m *mig, in *instance, now time.Time) bool {
	if in.phase != phasePreempted {
		return false
	}
	p := s.spot.preempted[in]
	if p == nil {
		p = &preemption{at: now}
		s.spot.preempted[in] = p
	}
	changed := false
	if !p.stopped {
		if now.Before(p.at.Add(PreemptionNotice)) {
			return false
		}
		p.stopped = true
		changed = true
		s.firedStoppedLocked(m, in)
	}
	if in.lastErr != nil && now.Before(in.lastAttempt.Add(s.opts.RetryInterval)) {
		return changed
	}
	code, msg := s.capacityErrorLocked(m.zone)
	if code == "" {
		code, msg = s.spotErrorLocked(m, in)
	}
	if code != "" {
		s.recordErrorLocked(m, in, now, code, msg, "RECREATING")
		return changed
	}
	in.phase, in.bootAt, in.lastErr, in.warm = phaseBooting, now, nil, false
	delete(s.spot.preempted, in)
	for i := len(s.spot.log) - 1; i >= 0; i-- {
		if e := &s.spot.log[i]; e.Zone == m.zone && e.MIG == m.name && e.Instance == in.name && e.Recreated.IsZero() {
			e.Recreated = now
			break
		}
	}
	return true
}

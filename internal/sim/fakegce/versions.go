package fakegce

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Instance templates, MIG versions and the update policy, as the compute
// API reference describes them:
//
//   - versions[] each name an instanceTemplate and an optional targetSize:
//     fixed (at most the MIG's targetSize) or percent (of targetSize,
//     rounded). The one version without a targetSize takes every other
//     instance. A PATCH of versions replaces the list; a PATCH of the
//     top-level instanceTemplate alone is one version of that template.
//   - New instances (resize, refills, replacements) are created from the
//     version that is furthest below its target size.
//   - updatePolicy.type PROACTIVE makes the MIG replace instances whose
//     template is not their target version's; OPPORTUNISTIC leaves them
//     until other actions replace them. With replacementMethod SUBSTITUTE
//     (the default) the MIG creates up to maxSurge instances above
//     targetSize, and deletes an outdated instance only while at least
//     targetSize - maxUnavailable instances stay RUNNING: with maxSurge 1
//     and maxUnavailable 0 it creates one new VM, waits until it runs,
//     deletes one old VM, and so on, one at a time. RECREATE keeps the
//     instance's name: the VM is deleted then created again from the new
//     template, and needs maxSurge 0.
//   - status.versionTarget.isReached is true when every instance of the
//     running target is on its target version; isStable also needs it.
const (
	updateProactive     = "PROACTIVE"
	updateOpportunistic = "OPPORTUNISTIC"
	replaceSubstitute   = "SUBSTITUTE"
	replaceRecreate     = "RECREATE"
)

// version is one entry of a MIG's versions.
type version struct {
	name     string
	template string // template name (last segment of its URL)
	// fixed and percent are the targetSize; both nil: the rest.
	fixed   *int
	percent *int
}

// updatePolicy is the MIG's updatePolicy. maxSurge and maxUnavailable
// are kept as given (fixed or percent) and resolved against targetSize.
type updatePolicy struct {
	typ               string
	minimalAction     string
	replacementMethod string
	surgeFixed        *int
	surgePercent      *int
	unavailFixed      *int
	unavailPercent    *int
}

// defaultUpdatePolicy is what a zonal MIG has unless told otherwise.
func defaultUpdatePolicy() updatePolicy {
	one := 1
	return updatePolicy{typ: updateProactive, minimalAction: "REPLACE", replacementMethod: replaceSubstitute,
		surgeFixed: &one, unavailFixed: &one}
}

func resolve(fixed, percent *int, target int) int {
	switch {
	case fixed != nil:
		return *fixed
	case percent != nil:
		return int(math.Round(float64(*percent) * float64(target) / 100))
	}
	return 0
}

func (p updatePolicy) maxSurge(target int) int {
	return resolve(p.surgeFixed, p.surgePercent, target)
}

func (p updatePolicy) maxUnavailable(target int) int {
	return resolve(p.unavailFixed, p.unavailPercent, target)
}

// template is an instance template the fake knows.
type template struct {
	name    string
	id      uint64
	created time.Time
	// machineType and description are echoed back by instanceTemplates.get.
	machineType string
	description string
}

// templateName reduces a template reference (full URL, "projects/p/global/
// instanceTemplates/n", "global/instanceTemplates/n" or a bare name) to
// its name.
func templateName(ref string) string {
	ref = strings.TrimRight(ref, "/")
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// TemplateURL returns the full URL GCE uses for an instance template.
func TemplateURL(project, name string) string {
	return fmt.Sprintf("%sprojects/%s/global/instanceTemplates/%s", computePrefix, project, name)
}

func (s *Server) templateURLOf(name string) string { return TemplateURL(s.opts.Project, name) }

// addTemplateLocked registers a template unless it exists.
func (s *Server) addTemplateLocked(name, machineType, description string) *template {
	if t, ok := s.templates[name]; ok {
		return t
	}
	s.seq++
	t := &template{name: name, id: 6000000000000000000 + s.seq, created: s.opts.Now(), machineType: machineType, description: description}
	s.templates[name] = t
	return t
}

// AddTemplate registers an instance template, as instanceTemplates.insert
// does; an existing one is kept.
func (s *Server) AddTemplate(name string) {
	s.mu.Lock()
	defer s.unlock()
	s.addTemplateLocked(name, "g2-standard-8", "")
}

// defaultTemplate is the template of the version without a targetSize
// (the first version when all have one): what the top-level
// instanceTemplate shows.
func (m *mig) defaultTemplate() string {
	for _, v := range m.versions {
		if v.fixed == nil && v.percent == nil {
			return v.template
		}
	}
	if len(m.versions) > 0 {
		return m.versions[0].template
	}
	return ""
}

// desired returns how many instances of the running target each version
// should have: sized versions first (fixed capped at targetSize, percent
// rounded), the unsized version the rest.
func (m *mig) desired() []int {
	out := make([]int, len(m.versions))
	left := m.target
	rest := -1
	for i, v := range m.versions {
		if v.fixed == nil && v.percent == nil {
			rest = i
			continue
		}
		n := min(resolve(v.fixed, v.percent, m.target), left)
		out[i], left = n, left-n
	}
	if rest >= 0 {
		out[rest] = left
	}
	return out
}

// assign sorts the running target's live instances into up to date
// (on a version's template, within its target size) and outdated, and
// returns each version's deficit. The oldest instances of a template keep
// it; instances being created count as up to date.
func (m *mig) assign() (outdated []*instance, deficit []int) {
	want := m.desired()
	have := make([]int, len(m.versions))
	for _, in := range m.live() {
		idx := -1
		for i, v := range m.versions {
			if v.template == in.template && have[i] < want[i] {
				idx = i
				break
			}
		}
		if idx < 0 {
			outdated = append(outdated, in)
			continue
		}
		have[idx]++
	}
	deficit = make([]int, len(m.versions))
	for i := range want {
		deficit[i] = want[i] - have[i]
	}
	return outdated, deficit
}

// reached is status.versionTarget.isReached: no instance of the running
// target is outdated.
// An outdated VM the update is still deleting counts as not there yet.
func (m *mig) reached() bool {
	outdated, _ := m.assign()
	if len(outdated) > 0 {
		return false
	}
	for _, in := range m.instances {
		if in.replaced && in.phase == phaseDeleting {
			return false
		}
	}
	return true
}

// nextTemplate is the template a new instance gets: the version furthest
// below its target size, the default version when none is.
func (m *mig) nextTemplate() string {
	_, deficit := m.assign()
	best, bestDeficit := m.defaultTemplate(), 0
	for i, d := range deficit {
		if d > bestDeficit {
			best, bestDeficit = m.versions[i].template, d
		}
	}
	return best
}

// rollLocked takes one pass of a proactive update: deletes outdated
// instances while enough others run (maxUnavailable), creates
// replacements up to maxSurge above targetSize, and fills the target. It
// reports a change.
func (s *Server) rollLocked(m *mig, now time.Time) bool {
	if len(m.versions) == 0 {
		return false
	}
	outdated, _ := m.assign()
	if len(outdated) == 0 {
		return false
	}
	if m.policy.typ != updateProactive {
		return s.finishSurgeLocked(m, outdated, now)
	}
	changed := false
	live := m.live()
	available := 0
	for _, in := range live {
		if in.phase == phaseRunning {
			available++
		}
	}
	// Outdated instances that are not running cost no availability: they
	// go first, then the oldest.
	sort.SliceStable(outdated, func(i, j int) bool {
		ri, rj := outdated[i].phase == phaseRunning, outdated[j].phase == phaseRunning
		if ri != rj {
			return !ri
		}
		return outdated[i].createdAt.Before(outdated[j].createdAt)
	})
	floor := m.target - m.policy.maxUnavailable(m.target)
	recreate := m.policy.replacementMethod == replaceRecreate
	for _, in := range outdated {
		running := in.phase == phaseRunning
		if in.phase == phaseDeleting {
			continue // a RECREATE already under way
		}
		if running && available-1 < floor {
			break
		}
		if running {
			available--
		}
		s.startDeleteLocked(in, now)
		in.recreate, in.replaced = recreate, true
		changed = true
	}
	if recreate {
		return changed
	}
	// Surge: new instances above targetSize for the outdated ones left.
	outdated, _ = m.assign()
	live = m.live()
	surge := m.policy.maxSurge(m.target)
	pendingNew := 0
	for _, in := range live {
		if in.phase != phaseRunning && !isOutdated(in, outdated) {
			pendingNew++
		}
	}
	for len(live) < m.target+surge && len(outdated) > pendingNew {
		in := s.newInstanceLocked(m, now)
		s.tryCreateLocked(m, in, now)
		live = append(live, in)
		pendingNew++
		changed = true
	}
	// Outdated instances deleted under maxUnavailable are replaced now.
	for i := len(m.live()); i < m.target; i++ {
		s.tryCreateLocked(m, s.newInstanceLocked(m, now), now)
		changed = true
	}
	return changed
}

// finishSurgeLocked is what an update switched to OPPORTUNISTIC
// mid-way still does: a surge VM already created is kept and, once it
// runs, an outdated VM makes room for it, so the MIG returns to its
// targetSize; no new replacement starts.
func (s *Server) finishSurgeLocked(m *mig, outdated []*instance, now time.Time) bool {
	live := m.live()
	available := 0
	for _, in := range live {
		if in.phase == phaseRunning {
			available++
		}
	}
	changed := false
	for _, in := range outdated {
		if len(live) <= m.target || available <= m.target || in.phase == phaseDeleting {
			break
		}
		s.startDeleteLocked(in, now)
		in.replaced = true
		live, available, changed = live[:len(live)-1], available-1, true
	}
	return changed
}

func isOutdated(in *instance, outdated []*instance) bool {
	for _, o := range outdated {
		if o == in {
			return true
		}
	}
	return false
}

// recreateLocked brings back an instance deleted by a RECREATE update:
// same name, a new VM from its target version.
func (s *Server) recreateLocked(m *mig, in *instance, now time.Time) {
	s.seq++
	in.id, in.recreate, in.replaced, in.createdAt = 7000000000000000000+s.seq, false, false, now
	in.phase, in.template = phaseCreating, ""
	in.template = m.nextTemplate()
	s.tryCreateLocked(m, in, now)
}

// validateUpdatePolicy returns GCE-like messages for a policy the API
// refuses.
func validateUpdatePolicy(p updatePolicy, target int) string {
	switch p.typ {
	case updateProactive, updateOpportunistic:
	default:
		return fmt.Sprintf("Invalid value for field 'resource.updatePolicy.type': '%s'. Must be PROACTIVE or OPPORTUNISTIC", p.typ)
	}
	switch p.minimalAction {
	case "NONE", "REFRESH", "RESTART", "REPLACE":
	default:
		return fmt.Sprintf("Invalid value for field 'resource.updatePolicy.minimalAction': '%s'", p.minimalAction)
	}
	switch p.replacementMethod {
	case replaceSubstitute, replaceRecreate:
	default:
		return fmt.Sprintf("Invalid value for field 'resource.updatePolicy.replacementMethod': '%s'. Must be SUBSTITUTE or RECREATE", p.replacementMethod)
	}
	surge, unavail := p.maxSurge(target), p.maxUnavailable(target)
	switch {
	case surge < 0 || unavail < 0:
		return "Invalid value for field 'resource.updatePolicy': maxSurge and maxUnavailable must not be negative"
	case surge == 0 && unavail == 0:
		return "Invalid value for field 'resource.updatePolicy': at least one of maxSurge or maxUnavailable must be greater than 0"
	case p.replacementMethod == replaceRecreate && surge > 0:
		return "Invalid value for field 'resource.updatePolicy.maxSurge': must be 0 when replacementMethod is RECREATE"
	}
	return ""
}

// validateVersionsLocked checks a versions list against the templates the fake
// knows and the API's rules.
func (s *Server) validateVersionsLocked(vs []version) string {
	if len(vs) == 0 {
		return "Invalid value for field 'resource.versions': at least one version is required"
	}
	names, templates := map[string]bool{}, map[string]bool{}
	unsized := 0
	for _, v := range vs {
		if _, ok := s.templates[v.template]; !ok {
			return fmt.Sprintf("The resource '%s' was not found", "projects/"+s.opts.Project+"/global/instanceTemplates/"+v.template)
		}
		if names[v.name] && v.name != "" {
			return fmt.Sprintf("Invalid value for field 'resource.versions': version name '%s' is used more than once", v.name)
		}
		if templates[v.template] {
			return fmt.Sprintf("Invalid value for field 'resource.versions': instance template '%s' is used more than once", v.template)
		}
		names[v.name], templates[v.template] = true, true
		switch {
		case v.fixed == nil && v.percent == nil:
			unsized++
		case v.fixed != nil && *v.fixed < 0, v.percent != nil && (*v.percent < 0 || *v.percent > 100):
			return fmt.Sprintf("Invalid value for field 'resource.versions.targetSize' of version '%s'", v.name)
		}
	}
	if unsized > 1 {
		return "Invalid value for field 'resource.versions': at most one version may leave targetSize unset"
	}
	if unsized == 0 && len(vs) > 1 {
		return "Invalid value for field 'resource.versions': one version must leave targetSize unset"
	}
	return ""
}

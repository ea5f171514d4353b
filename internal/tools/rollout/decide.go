package rollout

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// migRef names one zonal MIG.
type migRef struct {
	Zone string
	Name string
}

func (r migRef) String() string { return r.Zone + "/" + r.Name }

// version is one of a MIG's versions; Fixed is its fixed targetSize, -1
// when it has none (the version that takes the rest of the group).
type version struct {
	Name     string
	Template string // template name, the last segment of its URL
	URL      string // as GCE returned it, or as given on the command line
	Fixed    int
}

// instanceView is one managed instance.
type instanceView struct {
	Name        string
	Status      string // RUNNING, STAGING, ... ("" while not created)
	Action      string // NONE, CREATING, DELETING, ...
	Template    string // template name
	TemplateURL string
}

// migView is what the rollout reads of a MIG at each poll.
type migView struct {
	Ref        migRef
	TargetSize int
	Stable     bool
	// Reached is status.versionTarget.isReached.
	Reached    bool
	UpdateType string // PROACTIVE or OPPORTUNISTIC
	Versions   []version
	Instances  []instanceView
}

// templateName reduces a template URL or path to its name.
func templateName(ref string) string {
	ref = strings.TrimRight(ref, "/")
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// onlyVersion reports whether the MIG's only version is template.
func (v migView) onlyVersion(template string) bool {
	return len(v.Versions) == 1 && v.Versions[0].Template == template
}

// hasVersion reports whether one of the MIG's versions is template.
func (v migView) hasVersion(template string) bool {
	return slices.ContainsFunc(v.Versions, func(x version) bool { return x.Template == template })
}

// live are the instances not being deleted.
func (v migView) live() []instanceView {
	var out []instanceView
	for _, in := range v.Instances {
		if in.Action != "DELETING" && in.Action != "ABANDONING" {
			out = append(out, in)
		}
	}
	return out
}

// onTemplate counts the live instances of template.
func (v migView) onTemplate(template string) int {
	n := 0
	for _, in := range v.live() {
		if in.Template == template {
			n++
		}
	}
	return n
}

// settled reports whether no instance has a pending action.
func (v migView) settled() bool {
	for _, in := range v.Instances {
		if in.Action != "NONE" {
			return false
		}
	}
	return true
}

// done reports whether every instance of the MIG runs template and the
// MIG is stable on that one version.
func (v migView) done(template string) bool {
	return v.onlyVersion(template) && v.Reached && v.Stable && v.onTemplate(template) == len(v.Instances)
}

// serving returns the RUNNING instances of template with no pending
// action: the VMs whose node the rollout checks.
func (v migView) serving(template string) []instanceView {
	var out []instanceView
	for _, in := range v.Instances {
		if in.Template == template && in.Status == "RUNNING" && in.Action == "NONE" {
			out = append(out, in)
		}
	}
	return out
}

// previousTemplate is the template the MIG ran before template: another
// version's, else that of an instance not on template; Template is ""
// when every trace of it is gone.
func (v migView) previousTemplate(template string) version {
	for _, x := range v.Versions {
		if x.Template != template {
			return version{Template: x.Template, URL: x.URL, Fixed: -1}
		}
	}
	for _, in := range v.Instances {
		if in.Template != "" && in.Template != template {
			return version{Template: in.Template, URL: in.TemplateURL, Fixed: -1}
		}
	}
	return version{Fixed: -1}
}

// actionKind is what the rollout does next.
type actionKind int

const (
	actionStartCanary actionKind = iota // patch the first MIG: the new template as a version of size 1
	actionWatchCanary                   // wait for the canary's VM to serve
	actionStartUpdate                   // patch a MIG: the new template as its only version, PROACTIVE
	actionWatchUpdate                   // wait for the MIG's replacements to serve
	actionDone                          // every MIG runs the new template
)

func (k actionKind) String() string {
	return [...]string{"start canary", "watch canary", "start update", "watch update", "done"}[k]
}

// action is the next step and the MIG it concerns (index into the views).
type action struct {
	Kind actionKind
	MIG  int
}

// nextAction decides the next step from what the MIGs look like now, so
// that a run interrupted at any point resumes where it stopped: the canary
// goes first unless some MIG already moved past it (canaryPassed, or any
// MIG patched to the new template alone); then the MIGs in order, each
// patched unless it already updates proactively to the new template, and
// watched until done.
func nextAction(views []migView, template string, canaryPassed bool) action {
	if len(views) == 0 {
		return action{Kind: actionDone}
	}
	past := canaryPassed
	for _, v := range views {
		past = past || v.onlyVersion(template)
	}
	if !past {
		if views[0].hasVersion(template) && views[0].UpdateType == updateProactive {
			return action{Kind: actionWatchCanary}
		}
		return action{Kind: actionStartCanary}
	}
	for i, v := range views {
		if v.done(template) {
			continue
		}
		if v.onlyVersion(template) && v.UpdateType == updateProactive {
			return action{Kind: actionWatchUpdate, MIG: i}
		}
		return action{Kind: actionStartUpdate, MIG: i}
	}
	return action{Kind: actionDone}
}

// health is a node's verdict.
type health int

const (
	healthPending health = iota
	healthy
	healthFailed
)

// nodeObs is what the rollout reads of the Nomad node behind a VM.
type nodeObs struct {
	Found       bool
	Name        string
	Status      string
	Eligibility string
	Draining    bool
	Template    string // from the node's template meta key
	Allocs      []allocObs
}

// allocObs is one allocation of the worker job on the node.
type allocObs struct {
	ID           string
	ClientStatus string
	// Healthy is the deployment health Nomad reports (nil when the job has
	// no update block or the health is not known yet).
	Healthy *bool
}

// judgeNode decides whether the node of a new VM serves: registered,
// ready, eligible, not draining, its meta naming the template, and at
// least one worker allocation running and not unhealthy. A failed or
// unhealthy worker allocation fails it at once: a crashing golden image
// should roll back now, not at the timeout.
func judgeNode(n nodeObs, template string) (health, string) {
	switch {
	case !n.Found:
		return healthPending, "no Nomad node yet"
	case n.Template != "" && n.Template != template:
		return healthFailed, fmt.Sprintf("node %s says it runs template %q, not %q", n.Name, n.Template, template)
	}
	running := 0
	for _, a := range n.Allocs {
		switch {
		case a.ClientStatus == api.AllocClientStatusFailed || a.ClientStatus == api.AllocClientStatusLost:
			return healthFailed, fmt.Sprintf("worker allocation %s on node %s is %s", shortID(a.ID), n.Name, a.ClientStatus)
		case a.Healthy != nil && !*a.Healthy:
			return healthFailed, fmt.Sprintf("worker allocation %s on node %s is unhealthy", shortID(a.ID), n.Name)
		case a.ClientStatus == api.AllocClientStatusRunning && (a.Healthy == nil || *a.Healthy):
			running++
		}
	}
	switch {
	case n.Status != api.NodeStatusReady:
		return healthPending, fmt.Sprintf("node %s is %s", n.Name, n.Status)
	case n.Eligibility != api.NodeSchedulingEligible || n.Draining:
		return healthPending, fmt.Sprintf("node %s is not eligible (draining %v)", n.Name, n.Draining)
	case running == 0:
		return healthPending, fmt.Sprintf("node %s runs no healthy worker allocation yet", n.Name)
	}
	return healthy, ""
}

// judgeConsumers checks that every queue has at least as many consumers
// as before the rollout (and at least one): a new VM whose workers serve
// brings its consumers, an old VM that went away took its own.
func judgeConsumers(now, baseline map[string]int) (bool, string) {
	var short []string
	for _, q := range sortedKeys(baseline) {
		if want := max(baseline[q], 1); now[q] < want {
			short = append(short, fmt.Sprintf("%s has %d consumers, want at least %d", q, now[q], want))
		}
	}
	if len(short) > 0 {
		return false, strings.Join(short, "; ")
	}
	return true, ""
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

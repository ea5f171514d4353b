package rollout

import (
	"testing"

	"github.com/shoenig/test/must"
)

func mig(zone string, target int, typ string, versions []version, instances ...instanceView) migView {
	reached, stable := true, true
	for _, in := range instances {
		stable = stable && in.Action == "NONE"
	}
	return migView{Ref: migRef{Zone: zone, Name: "gpu-" + zone}, TargetSize: target, Stable: stable, Reached: reached,
		UpdateType: typ, Versions: versions, Instances: instances}
}

func vm(name, template string) instanceView {
	return instanceView{Name: name, Status: "RUNNING", Action: "NONE", Template: template}
}

var (
	onlyOld   = []version{{Template: "old", Fixed: -1}}
	onlyNew   = []version{{Template: "new", Fixed: -1}}
	withCanar = []version{{Template: "old", Fixed: -1}, {Template: "new", Fixed: 1}}
)

func TestNextAction(t *testing.T) {
	t.Parallel()
	notReached := func(v migView) migView { v.Reached, v.Stable = false, false; return v }
	for name, tc := range map[string]struct {
		views        []migView
		canaryPassed bool
		want         action
	}{
		"a fleet on the old template starts with the canary on the first MIG": {
			views: []migView{mig("a", 2, "PROACTIVE", onlyOld, vm("a1", "old"), vm("a2", "old")), mig("b", 1, "PROACTIVE", onlyOld, vm("b1", "old"))},
			want:  action{Kind: actionStartCanary},
		},
		"a canary version updating proactively is watched": {
			views: []migView{mig("a", 2, "PROACTIVE", withCanar, vm("a1", "old"), vm("a3", "new")), mig("b", 1, "PROACTIVE", onlyOld, vm("b1", "old"))},
			want:  action{Kind: actionWatchCanary},
		},
		"a canary paused by an interruption is patched again": {
			views: []migView{mig("a", 2, "OPPORTUNISTIC", withCanar, vm("a1", "old"), vm("a2", "old")), mig("b", 1, "PROACTIVE", onlyOld, vm("b1", "old"))},
			want:  action{Kind: actionStartCanary},
		},
		"a passed canary moves the first MIG to the new template alone": {
			views:        []migView{mig("a", 2, "PROACTIVE", withCanar, vm("a1", "old"), vm("a3", "new")), mig("b", 1, "PROACTIVE", onlyOld, vm("b1", "old"))},
			canaryPassed: true,
			want:         action{Kind: actionStartUpdate, MIG: 0},
		},
		"a MIG updating proactively to the new template is watched": {
			views: []migView{notReached(mig("a", 2, "PROACTIVE", onlyNew, vm("a1", "old"), vm("a3", "new"))), mig("b", 1, "PROACTIVE", onlyOld, vm("b1", "old"))},
			want:  action{Kind: actionWatchUpdate, MIG: 0},
		},
		"a resumed run skips the canary once a MIG has moved on, and resumes a paused MIG": {
			views: []migView{mig("a", 2, "PROACTIVE", onlyNew, vm("a3", "new"), vm("a4", "new")), notReached(mig("b", 2, "OPPORTUNISTIC", onlyNew, vm("b1", "old"), vm("b3", "new")))},
			want:  action{Kind: actionStartUpdate, MIG: 1},
		},
		"a done MIG is skipped and the next one starts": {
			views: []migView{mig("a", 2, "PROACTIVE", onlyNew, vm("a3", "new"), vm("a4", "new")), mig("b", 1, "PROACTIVE", onlyOld, vm("b1", "old"))},
			want:  action{Kind: actionStartUpdate, MIG: 1},
		},
		"a MIG whose versions say new but still holds an old VM is not done": {
			views: []migView{notReached(mig("a", 1, "PROACTIVE", onlyNew, vm("a1", "old")))},
			want:  action{Kind: actionWatchUpdate, MIG: 0},
		},
		"a rollback to the old template needs no canary: the untouched MIG already runs it": {
			views: []migView{notReached(mig("a", 2, "OPPORTUNISTIC", onlyNew, vm("a1", "old"), vm("a3", "new"))), mig("b", 1, "PROACTIVE", onlyOld, vm("b1", "old"))},
			want:  action{Kind: actionStartUpdate, MIG: 0},
		},
		"every MIG on the new template is done": {
			views: []migView{mig("a", 1, "PROACTIVE", onlyNew, vm("a3", "new")), mig("b", 0, "PROACTIVE", onlyNew)},
			want:  action{Kind: actionDone},
		},
	} {
		t.Run(name, func(t *testing.T) {
			target := "new"
			if name == "a rollback to the old template needs no canary: the untouched MIG already runs it" {
				target = "old"
			}
			must.Eq(t, tc.want, nextAction(tc.views, target, tc.canaryPassed))
		})
	}
}

func TestJudgeNode(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	ready := func(allocs ...allocObs) nodeObs {
		return nodeObs{Found: true, Name: "a3", Status: "ready", Eligibility: "eligible", Template: "new", Allocs: allocs}
	}
	for name, tc := range map[string]struct {
		node nodeObs
		want health
	}{
		"a VM without a node yet is pending":                    {nodeObs{}, healthPending},
		"a ready node running its worker serves":                {ready(allocObs{ID: "1", ClientStatus: "running"}), healthy},
		"a worker whose deployment health is true serves":       {ready(allocObs{ID: "1", ClientStatus: "running", Healthy: &yes}), healthy},
		"a ready node without a worker yet is pending":          {ready(), healthPending},
		"a pending worker is pending":                           {ready(allocObs{ID: "1", ClientStatus: "pending"}), healthPending},
		"a failed worker fails at once":                         {ready(allocObs{ID: "1", ClientStatus: "failed"}), healthFailed},
		"a worker marked unhealthy fails at once":               {ready(allocObs{ID: "1", ClientStatus: "running", Healthy: &no}), healthFailed},
		"a lost worker fails":                                   {ready(allocObs{ID: "1", ClientStatus: "lost"}), healthFailed},
		"an initializing node is pending":                       {nodeObs{Found: true, Name: "a3", Status: "initializing", Eligibility: "eligible"}, healthPending},
		"an ineligible node is pending":                         {nodeObs{Found: true, Name: "a3", Status: "ready", Eligibility: "ineligible", Allocs: []allocObs{{ClientStatus: "running"}}}, healthPending},
		"a node naming another template is not the new image":   {nodeObs{Found: true, Name: "a3", Status: "ready", Eligibility: "eligible", Template: "old"}, healthFailed},
		"a node without template meta is judged by its workers": {nodeObs{Found: true, Name: "a3", Status: "ready", Eligibility: "eligible", Allocs: []allocObs{{ClientStatus: "running"}}}, healthy},
	} {
		t.Run(name, func(t *testing.T) {
			got, why := judgeNode(tc.node, "new")
			must.Eq(t, tc.want, got, must.Sprint(why))
			if got != healthy {
				must.NotEq(t, "", why)
			}
		})
	}
}

func TestJudgeConsumers(t *testing.T) {
	t.Parallel()
	base := map[string]int{"ocr": 4, "face": 0}
	ok, _ := judgeConsumers(map[string]int{"ocr": 4, "face": 1}, base)
	must.True(t, ok)
	ok, why := judgeConsumers(map[string]int{"ocr": 3, "face": 1}, base)
	must.False(t, ok)
	must.StrContains(t, why, "ocr has 3 consumers, want at least 4")
	ok, why = judgeConsumers(map[string]int{"ocr": 5}, base)
	must.False(t, ok, must.Sprint("a queue with no consumer at all is not served, whatever its baseline"))
	must.StrContains(t, why, "face has 0 consumers, want at least 1")
}

func TestPreviousTemplateComesFromTheOtherVersionElseFromAnOldVM(t *testing.T) {
	t.Parallel()
	must.Eq(t, "old", mig("a", 2, "PROACTIVE", withCanar).previousTemplate("new").Template)
	must.Eq(t, "old", mig("a", 2, "PROACTIVE", onlyNew, vm("a1", "old"), vm("a3", "new")).previousTemplate("new").Template)
	must.Eq(t, "", mig("a", 1, "PROACTIVE", onlyNew, vm("a3", "new")).previousTemplate("new").Template)
}

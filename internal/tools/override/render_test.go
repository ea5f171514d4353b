package override

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestDurationsAreShownAsAPersonReadsThem(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1400 * time.Millisecond: "1s", 59 * time.Second: "59s", 90 * time.Second: "2m",
		59*time.Minute + 20*time.Second: "59m", time.Hour: "1h00m", 3*time.Hour + 5*time.Minute: "3h05m", 169 * time.Hour: "169h00m",
	} {
		must.Eq(t, want, roughly(d), must.Sprint(d))
	}
}

func TestThePolicyLineFollowsHowTheAgentPicksAmongChecks(t *testing.T) {
	u1, u2 := now.Add(time.Hour), now.Add(2*time.Hour)
	p := policy{name: "p", min: 2, max: 50, checks: []check{{name: "a", slope: true}, {name: "b", slope: true}}}
	pin := func(name string, n int64, until time.Time) checkView {
		return checkView{check: name, state: statePinned, count: n, until: until, source: "policy"}
	}
	cases := []struct {
		name   string
		p      policy
		checks []checkView
		want   string
	}{
		{"every check pinned alike", p, []checkView{pin("a", 10, u1), pin("b", 10, u2)},
			"pinned at 10 until 2026-12-01T13:00:00Z (Tue 13:00 UTC, in 1h00m)"},
		{"pinned at different counts: the largest wins", p, []checkView{pin("a", 10, u2), pin("b", 12, u1)},
			"pinned at 12, the largest of its checks' overrides, until 2026-12-01T13:00:00Z (Tue 13:00 UTC, in 1h00m)"},
		{"one check free", p, []checkView{pin("a", 10, u1), {check: "b", state: stateNone}},
			`at least 10 until 2026-12-01T13:00:00Z (Tue 13:00 UTC, in 1h00m): check "b" not pinned, may add workers on top (pin every check to pin the policy)`},
		{"under min", p, []checkView{pin("a", 1, u1), pin("b", 1, u1)},
			"pinned at 1 until 2026-12-01T13:00:00Z (Tue 13:00 UTC, in 1h00m); the agent raises it to min 2"},
		{"nothing pinned", p, []checkView{{check: "a", state: stateExpired}, {check: "b", state: stateNone}},
			"no active override: the checks decide from their metrics"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, policyView{policy: tc.p, checks: tc.checks}.next(now, time.UTC))
		})
	}
}

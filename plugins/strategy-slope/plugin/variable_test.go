package plugin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// startNomad serves the in-repo fake Nomad API and returns a plugin
// configured with the agent's nomad_* keys pointing at it.
func startNomad(t *testing.T, now *time.Time) (*fakenomad.Server, *Plugin) {
	t.Helper()
	fake := fakenomad.New(fakenomad.Options{Now: func() time.Time { return *now }})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	p := New(hclog.NewNullLogger())
	must.NoError(t, p.SetConfig(map[string]string{"nomad_address": srv.URL, "nomad_namespace": "ops", "nomad_token": "t0ken"}))
	p.SetClock(func() time.Time { return *now })
	return fake, p
}

// steadyRun runs p on a steady 1000/min at *now with cfg, at count.
func steadyRun(t *testing.T, p *Plugin, cfg map[string]string, now *time.Time) func(count int64) *sdk.ScalingAction {
	return func(count int64) *sdk.ScalingAction {
		t.Helper()
		out, err := p.Run(evalOf(cfg, *now, repeat(60, 1000)...), count)
		must.NoError(t, err)
		return out.Action
	}
}

func TestRunReadsTheOverrideFromANomadVariable(t *testing.T) {
	now := friday
	fake, p := startNomad(t, &now)
	cfg := map[string]string{"capacity_per_worker": "100", "override_variable": "autoscaler/gpu-workers"}
	run := steadyRun(t, p, cfg, &now)

	// No variable yet: normal decision, no error in Meta.
	a := run(5)
	must.Eq(t, int64(13), a.Count)
	must.MapNotContainsKey(t, a.Meta, "override_variable_error")

	fake.SetVariable("ops", "autoscaler/gpu-workers", map[string]string{
		"count": "25", "until": now.Add(2 * time.Hour).Format(time.RFC3339), "reason": "marketing push",
	})
	// The missing variable is cached for up to 30 s.
	must.Eq(t, int64(13), run(5).Count)

	now = now.Add(31 * time.Second)
	a = run(5)
	must.Eq(t, int64(25), a.Count)
	must.Eq[any](t, "variable autoscaler/gpu-workers", a.Meta["override_source"])
	must.StrContains(t, a.Reason, "marketing push")

	// Deleting the variable ends the override once the cache expires.
	fake.DeleteVariable("ops", "autoscaler/gpu-workers")
	now = now.Add(31 * time.Second)
	must.Eq(t, int64(13), run(5).Count) // the override is gone: normal sizing

	// The request went to the agent's namespace.
	var sawNamespace bool
	for _, r := range fake.Requests() {
		if r.Method == "GET" && r.Path == "/v1/var/autoscaler/gpu-workers" && r.Query.Get("namespace") == "ops" {
			sawNamespace = true
		}
	}
	must.True(t, sawNamespace)
}

func TestRunIgnoresAMalformedVariable(t *testing.T) {
	now := friday
	fake, p := startNomad(t, &now)
	fake.SetVariable("ops", "pin", map[string]string{"count": "many", "until": now.Add(time.Hour).Format(time.RFC3339)})
	out, err := p.Run(evalOf(map[string]string{"capacity_per_worker": "100", "override_variable": "pin"}, now, repeat(60, 1000)...), 5)
	must.NoError(t, err)
	must.Eq(t, int64(13), out.Action.Count)
	must.Eq[any](t, `variable pin item count "many": must be a whole number from 0 to 1000000000`, out.Action.Meta["override_variable_error"])
}

func TestRunDecidesNormallyWhenNomadIsUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must.NoError(t, err)
	addr := "http://" + l.Addr().String()
	must.NoError(t, l.Close()) // nothing listens there any more

	p := New(hclog.NewNullLogger())
	must.NoError(t, p.SetConfig(map[string]string{"nomad_address": addr, "nomad_token": "t0ken"}))
	p.SetClock(func() time.Time { return friday })
	out, err := p.Run(evalOf(map[string]string{"capacity_per_worker": "100", "override_variable": "pin"}, friday, repeat(60, 1000)...), 5)
	must.NoError(t, err)
	must.Eq(t, int64(13), out.Action.Count)
	msg, _ := out.Action.Meta["override_variable_error"].(string)
	must.StrContains(t, msg, "read nomad variable pin")
	must.StrNotContains(t, msg, "t0ken")
	must.StrContains(t, out.Action.Reason, "override variable unreadable, ignored")
}

func TestVariableCacheKeepsErrorsForTheTTL(t *testing.T) {
	r := &countingReader{}
	c := newVariableCache(r)
	_, _ = c.get("p", friday)
	_, _ = c.get("p", friday.Add(29*time.Second))
	must.Eq(t, 1, r.calls)
	_, _ = c.get("p", friday.Add(30*time.Second))
	must.Eq(t, 2, r.calls)
	// A clock that went backwards does not pin a stale entry forever.
	_, _ = c.get("p", friday)
	must.Eq(t, 3, r.calls)
}

type countingReader struct{ calls int }

func (c *countingReader) ReadItems(ctx context.Context, _ string) (map[string]string, uint64, error) {
	c.calls++
	if _, ok := ctx.Deadline(); !ok {
		return nil, 0, errors.New("no deadline")
	}
	return nil, 0, errors.New("unreachable")
}

func (c *countingReader) List(ctx context.Context, _ string) ([]pluginkit.VariableVersion, error) {
	c.calls++
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("no deadline")
	}
	return nil, errors.New("unreachable")
}

// A token without read access to the variable must not look like "no
// override": the operator set one and expects it to hold.
func TestRunReportsAVariableTheTokenMayNotRead(t *testing.T) {
	now := friday
	fake, p := startNomad(t, &now)
	fake.SetVariable("ops", "autoscaler/gpu-workers", map[string]string{
		"count": "25", "until": now.Add(2 * time.Hour).Format(time.RFC3339), "reason": "marketing push",
	})
	fake.InjectHTTPErrors(403, 1)
	cfg := map[string]string{"capacity_per_worker": "100", "override_variable": "autoscaler/gpu-workers"}

	out, err := p.Run(evalOf(cfg, now, repeat(60, 1000)...), 5)
	must.NoError(t, err)
	must.Eq(t, int64(13), out.Action.Count)
	must.StrContains(t, out.Action.Meta["override_variable_error"].(string), "403")
}

func TestOverrideItemsReadFromAndMode(t *testing.T) {
	t.Parallel()
	until := "2026-12-14T12:00:00Z"
	o, err := overrideFromItems("ops/pin", map[string]string{"count": "300", "until": until, "from": " 2026-12-14T08:45:00Z ", "mode": "minimum", "reason": "launch"})
	must.NoError(t, err)
	must.Eq(t, time.Date(2026, 12, 14, 8, 45, 0, 0, time.UTC), o.from)
	must.True(t, o.minimum)
	o, err = overrideFromItems("ops/pin", map[string]string{"count": "300", "until": until, "from": ""})
	must.NoError(t, err)
	must.True(t, o.from.IsZero())
	must.False(t, o.minimum)

	for items, want := range map[[2]string]string{
		{"tomorrow", ""}:             `variable ops/pin item from "tomorrow": not an RFC 3339 time`,
		{"2026-12-14T12:00:00Z", ""}: `variable ops/pin item from "2026-12-14T12:00:00Z": must be before until "2026-12-14T12:00:00Z"`,
		{"", "floor"}:                `variable ops/pin item mode "floor": must be "exact" or "minimum"`,
	} {
		_, err := overrideFromItems("ops/pin", map[string]string{"count": "3", "until": until, "from": items[0], "mode": items[1]})
		must.EqError(t, err, want)
	}
}

// A scheduled minimum set days ahead through the variable: decided as usual
// until its start, at least its count from then (more when the forecast
// asks for more), normal again after its end.
func TestRunAppliesAScheduledMinimumFromTheVariable(t *testing.T) {
	now := friday
	fake, p := startNomad(t, &now)
	cfg := map[string]string{"capacity_per_worker": "100", "override_variable": "launch"}
	run := func(count int64, rate float64) *sdk.ScalingAction {
		t.Helper()
		out, err := p.Run(evalOf(cfg, now, repeat(60, rate)...), count)
		must.NoError(t, err)
		return out.Action
	}
	start := friday.Add(72 * time.Hour)
	fake.SetVariable("ops", "launch", map[string]string{
		"count": "30", "mode": "minimum", "reason": "campaign, CHG-311",
		"from": start.Format(time.RFC3339), "until": start.Add(3 * time.Hour).Format(time.RFC3339),
	})

	a := run(5, 1000)
	must.Eq(t, int64(13), a.Count)
	must.Eq[any](t, "scheduled", a.Meta["override"])
	must.StrContains(t, a.Reason, "at least 30 workers")

	now = start
	a = run(13, 1000)
	must.Eq(t, int64(30), a.Count)
	must.Eq[any](t, "active", a.Meta["override"])
	must.Eq[any](t, true, a.Meta["override_applied"])
	must.StrContains(t, a.Reason, "campaign, CHG-311")

	// A crowd beyond the guess still gets its workers.
	a = run(30, 5000)
	must.Greater(t, int64(30), a.Count)
	must.Eq[any](t, false, a.Meta["override_applied"])

	// After its end: normal scaling, which scales in as the hold window
	// and the workers still booting allow (a fresh check holds).
	now = start.Add(3 * time.Hour)
	a = run(13, 1000)
	must.Eq(t, int64(13), a.Count)
	must.Eq[any](t, "expired", a.Meta["override"])
	must.MapNotContainsKey(t, a.Meta, "override_applied")
}

// Two events booked ahead under the override variable, a week apart: each
// applies in its own hours only. The calendar costs one listing per 30 s:
// an event is read again only when it changed.
func TestRunReadsTheEventsBookedUnderTheOverrideVariable(t *testing.T) {
	now := friday
	fake, p := startNomad(t, &now)
	cfg := map[string]string{"capacity_per_worker": "100", "override_variable": "autoscaler/gpu-workers"}
	run := steadyRun(t, p, cfg, &now)
	book := func(name string, count int, from time.Time, hours int) {
		fake.SetVariable("ops", "autoscaler/gpu-workers/"+name, map[string]string{
			"count": strconv.Itoa(count), "mode": "minimum", "reason": name,
			"from": from.Format(time.RFC3339), "until": from.Add(time.Duration(hours) * time.Hour).Format(time.RFC3339),
		})
	}
	bank, telco := friday.Add(72*time.Hour), friday.Add(7*24*time.Hour)
	book("bank-campaign", 30, bank, 3)
	book("telco-deadline", 60, telco, 10)
	// Not an event of this policy: a sibling path with the same beginning.
	fake.SetVariable("ops", "autoscaler/gpu-workers-canary", map[string]string{"count": "99", "until": friday.Add(time.Hour).Format(time.RFC3339)})

	a := run(13)
	must.Eq(t, int64(13), a.Count)
	must.Eq[any](t, "scheduled", a.Meta["override"])
	must.Eq[any](t, "variable autoscaler/gpu-workers/bank-campaign", a.Meta["override_source"])
	must.Eq[any](t, 2.0, a.Meta["override_events"])
	must.MapNotContainsKey(t, a.Meta, "override_variable_error")

	reads := func() (list, eventReads int) {
		for _, r := range fake.Requests() {
			switch {
			case r.Method == "GET" && r.Path == "/v1/vars" && r.Query.Get("prefix") == "autoscaler/gpu-workers/" && r.Query.Get("namespace") == "ops":
				list++
			case r.Method == "GET" && strings.HasPrefix(r.Path, "/v1/var/autoscaler/gpu-workers/"):
				eventReads++
			}
		}
		return list, eventReads
	}
	list, eventReads := reads()
	must.Eq(t, 1, list)
	must.Eq(t, 2, eventReads)

	now = bank.Add(time.Minute)
	a = run(13)
	must.Eq(t, int64(30), a.Count)
	must.StrContains(t, a.Reason, "bank-campaign")
	must.StrContains(t, a.Reason, "next override from variable autoscaler/gpu-workers/telco-deadline")
	list, eventReads = reads()
	must.Eq(t, 2, list)
	must.Eq(t, 2, eventReads, must.Sprint("unchanged events are not read again"))

	// Moved by an operator: read again at the next listing.
	book("telco-deadline", 80, telco, 10)
	now = telco.Add(time.Hour)
	a = run(30)
	must.Eq(t, int64(80), a.Count)
	_, eventReads = reads()
	must.Eq(t, 3, eventReads)

	// Deleted: gone at the next listing.
	fake.DeleteVariable("ops", "autoscaler/gpu-workers/telco-deadline")
	now = now.Add(31 * time.Second)
	a = run(80)
	must.Eq[any](t, 1.0, a.Meta["override_events"])
	must.MapNotContainsKey(t, a.Meta, "override")
}

func TestRunReportsABadEventAndAppliesTheOthers(t *testing.T) {
	now := friday
	fake, p := startNomad(t, &now)
	cfg := map[string]string{"capacity_per_worker": "100", "override_variable": "pin"}
	fake.SetVariable("ops", "pin/a-typo", map[string]string{"count": "lots", "until": now.Add(time.Hour).Format(time.RFC3339)})
	fake.SetVariable("ops", "pin/launch", map[string]string{"count": "25", "mode": "minimum", "until": now.Add(time.Hour).Format(time.RFC3339)})
	out, err := p.Run(evalOf(cfg, now, repeat(60, 1000)...), 5)
	must.NoError(t, err)
	must.Eq(t, int64(25), out.Action.Count)
	must.Eq[any](t, `variable pin/a-typo item count "lots": must be a whole number from 0 to 1000000000`, out.Action.Meta["override_variable_error"])
}

func TestACalendarOfMoreThanItsBoundIsReportedAndReadInPart(t *testing.T) {
	now := friday
	fake, p := startNomad(t, &now)
	cfg := map[string]string{"capacity_per_worker": "100", "override_variable": "pin"}
	for i := range MaxOverrideEvents + 3 {
		fake.SetVariable("ops", fmt.Sprintf("pin/e%03d", i), map[string]string{
			"count": "25", "from": now.Add(time.Duration(i+1) * time.Hour).Format(time.RFC3339), "until": now.Add(time.Duration(i+2) * time.Hour).Format(time.RFC3339),
		})
	}
	out, err := p.Run(evalOf(cfg, now, repeat(60, 1000)...), 13)
	must.NoError(t, err)
	must.Eq[any](t, float64(MaxOverrideEvents), out.Action.Meta["override_events"])
	must.StrContains(t, out.Action.Meta["override_variable_error"].(string), "35 override events under pin/, more than 32")
}

func TestAnEventTheTokenMayNotReadIsReported(t *testing.T) {
	now := friday
	fake, p := startNomad(t, &now)
	cfg := map[string]string{"capacity_per_worker": "100", "override_variable": "pin"}
	fake.SetVariable("ops", "pin/launch", map[string]string{"count": "25", "until": now.Add(time.Hour).Format(time.RFC3339)})
	_, err := p.Run(evalOf(cfg, now, repeat(60, 1000)...), 5) // reads pin, lists pin/, reads pin/launch
	must.NoError(t, err)
	now = now.Add(31 * time.Second)
	fake.SetVariable("ops", "pin/launch", map[string]string{"count": "26", "until": now.Add(time.Hour).Format(time.RFC3339)})
	fake.InjectHTTPErrors(403, 3) // the read of pin, the listing, the read of the changed event
	out, err := p.Run(evalOf(cfg, now, repeat(60, 1000)...), 5)
	must.NoError(t, err)
	msg := out.Action.Meta["override_variable_error"].(string)
	must.StrContains(t, msg, "403")
	must.Eq(t, int64(13), out.Action.Count)
}

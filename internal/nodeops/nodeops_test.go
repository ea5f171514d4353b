package nodeops

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestLeavingReadsTheNoticeBack(t *testing.T) {
	seen := time.Date(2026, 11, 3, 14, 7, 9, 600_000_000, time.FixedZone("EST", -5*3600))
	n := NewNotice(KindMaintenance, seen, time.Hour)
	must.Eq(t, time.Date(2026, 11, 3, 19, 7, 9, 0, time.UTC), n.NoticedAt, must.Sprint("kept to the second, in UTC"))

	meta := map[string]string{"unique.platform.gce.zone": "us-central1-a"}
	for k, v := range n.Meta() {
		meta[k] = *v
	}
	must.Eq(t, "2026-11-03T20:07:09Z", meta[KeyLeavingAt])

	got, ok, err := Leaving(meta)
	must.NoError(t, err)
	must.True(t, ok)
	must.Eq(t, n, got)
}

func TestLeaving(t *testing.T) {
	const at, seen = "2026-11-03T20:07:09Z", "2026-11-03T19:07:09Z"
	cases := []struct {
		name string
		meta map[string]string
		ok   bool
		want Notice
		errs []string
	}{
		{name: "a node without the keys is not leaving", meta: map[string]string{"class": "gpu-l4"}},
		{name: "a nil map is not leaving"},
		{name: "an empty kind is not leaving (a cleared key)", meta: map[string]string{KeyLeaving: "", KeyLeavingAt: at}},
		{
			name: "a preemption notice is read",
			meta: map[string]string{KeyLeaving: "preemption", KeyLeavingAt: at, KeyNoticedAt: seen},
			ok:   true,
			want: Notice{Kind: KindPreemption, LeavingAt: time.Date(2026, 11, 3, 20, 7, 9, 0, time.UTC), NoticedAt: time.Date(2026, 11, 3, 19, 7, 9, 0, time.UTC)},
		},
		{
			name: "an offset time is read in UTC",
			meta: map[string]string{KeyLeaving: "maintenance", KeyLeavingAt: "2026-11-03T15:07:09-05:00", KeyNoticedAt: seen},
			ok:   true,
			want: Notice{Kind: KindMaintenance, LeavingAt: time.Date(2026, 11, 3, 20, 7, 9, 0, time.UTC), NoticedAt: time.Date(2026, 11, 3, 19, 7, 9, 0, time.UTC)},
		},
		{
			name: "an unknown kind still marks the node as leaving and is reported",
			meta: map[string]string{KeyLeaving: "reboot", KeyLeavingAt: at, KeyNoticedAt: seen},
			ok:   true,
			want: Notice{LeavingAt: time.Date(2026, 11, 3, 20, 7, 9, 0, time.UTC), NoticedAt: time.Date(2026, 11, 3, 19, 7, 9, 0, time.UTC)},
			errs: []string{`nomad_autoscaler.leaving="reboot"`},
		},
		{
			name: "a malformed time is reported with its key and value",
			meta: map[string]string{KeyLeaving: "maintenance", KeyLeavingAt: "1762200429", KeyNoticedAt: seen},
			ok:   true,
			want: Notice{Kind: KindMaintenance, NoticedAt: time.Date(2026, 11, 3, 19, 7, 9, 0, time.UTC)},
			errs: []string{`nomad_autoscaler.leaving_at="1762200429": not an RFC 3339 time`},
		},
		{
			name: "missing times are all reported",
			meta: map[string]string{KeyLeaving: "maintenance"},
			ok:   true,
			want: Notice{Kind: KindMaintenance},
			errs: []string{"nomad_autoscaler.leaving_at: missing", "nomad_autoscaler.leaving_noticed_at: missing"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := Leaving(c.meta)
			must.Eq(t, c.ok, ok)
			must.Eq(t, c.want, got)
			if len(c.errs) == 0 {
				must.NoError(t, err)
				return
			}
			must.Error(t, err)
			for _, e := range c.errs {
				must.StrContains(t, err.Error(), e)
			}
		})
	}
}

func TestClearDeletesEveryKeyTheNoticeWrites(t *testing.T) {
	cleared := Clear()
	for k := range NewNotice(KindPreemption, time.Now(), 30*time.Second).Meta() {
		v, ok := cleared[k]
		must.True(t, ok, must.Sprintf("Clear names %s", k))
		must.Nil(t, v, must.Sprint("a null value deletes a dynamic key"))
	}
	must.MapLen(t, 3, cleared)
}

// Leaving reads what the target finds on any node: it must never panic,
// and a node it calls leaving has a non-empty kind key.
func FuzzLeaving(f *testing.F) {
	f.Add("maintenance", "2026-11-03T20:07:09Z", "2026-11-03T19:07:09Z")
	f.Add("", "", "")
	f.Add("preemption", "not a time", "\x00")
	f.Fuzz(func(t *testing.T, kind, at, seen string) {
		meta := map[string]string{KeyLeaving: kind, KeyLeavingAt: at, KeyNoticedAt: seen}
		n, ok, err := Leaving(meta)
		if ok != (kind != "") {
			t.Fatalf("ok %v for kind %q", ok, kind)
		}
		if !ok && (err != nil || n != Notice{}) {
			t.Fatalf("not leaving yet %v, %v", n, err)
		}
	})
}

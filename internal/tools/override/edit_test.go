package override

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/shoenig/test/must"
)

const shippedPolicy = "../../../policies/gpu-workers.hcl"

var launchDay = request{count: 40, until: time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC), reason: "launch day, INC-1234"}

func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	must.NoError(t, err)
	return src
}

// configs decodes src as the agent does: "policy/check" -> strategy config.
func configs(t *testing.T, file string, src []byte) map[string]map[string]string {
	t.Helper()
	ps, err := decodePolicies(file, src, "slope")
	must.NoError(t, err, must.Sprint(string(src)))
	out := map[string]map[string]string{}
	for _, p := range ps {
		for _, c := range p.checks {
			out[p.name+"/"+c.name] = c.config
		}
	}
	return out
}

func overrideOf(cfg map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range fileKeys {
		if v, ok := cfg[k]; ok {
			out[k] = v
		}
	}
	return out
}

var launchDayKeys = map[string]string{keyCount: "40", keyUntil: "2026-12-01T18:00:00Z", keyReason: "launch day, INC-1234"}

// changedLines lists the lines of b that differ from a, for files of equal length.
func changedLines(t *testing.T, a, b []byte) []string {
	t.Helper()
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	must.Eq(t, len(la), len(lb), must.Sprint("same number of lines"))
	var out []string
	for i := range la {
		if la[i] != lb[i] {
			out = append(out, strings.TrimSpace(lb[i]))
		}
	}
	return out
}

func TestSetUncommentsTheShippedOverrideInPlaceInEveryCheck(t *testing.T) {
	src := readFixture(t, shippedPolicy)
	out, checks, err := setInSource(src, "gpu-workers.hcl", "gpu-workers", "slope", launchDay)
	must.NoError(t, err)
	must.Eq(t, []string{"request-rate", "backlog"}, checks)
	got := configs(t, "gpu-workers.hcl", out)
	for _, c := range []string{"gpu-workers/request-rate", "gpu-workers/backlog"} {
		must.Eq(t, launchDayKeys, overrideOf(got[c]), must.Sprint(c))
		must.MapNotContainsKey(t, got[c], keyVariable, must.Sprint("the commented override_variable stays commented"))
	}
	// Exactly the six template lines changed, where they were.
	must.Eq(t, []string{
		`override_count  = "40"`, `override_until  = "2026-12-01T18:00:00Z"`, `override_reason = "launch day, INC-1234"`,
		`override_count  = "40"`, `override_until  = "2026-12-01T18:00:00Z"`, `override_reason = "launch day, INC-1234"`,
	}, changedLines(t, src, out))
}

func TestSetAddsMissingKeysAndReplacesExistingOnes(t *testing.T) {
	src := readFixture(t, "testdata/plain.hcl")
	once, checks, err := setInSource(src, "plain.hcl", "gpu-workers", "slope", launchDay)
	must.NoError(t, err)
	must.Eq(t, []string{"request-rate", "backlog"}, checks)
	got := configs(t, "plain.hcl", once)
	must.Eq(t, launchDayKeys, overrideOf(got["gpu-workers/request-rate"]))
	must.Eq(t, launchDayKeys, overrideOf(got["gpu-workers/backlog"]))
	must.StrContains(t, string(once), "        min_points          = \"5\"\n        override_count      = \"40\"\n",
		must.Sprint("added at the end of the block, aligned"))
	must.Eq(t, string(hclwrite.Format(once)), string(once), must.Sprint("a formatted file stays formatted"))

	later := request{count: 12, until: launchDay.until.Add(time.Hour), reason: "rollback"}
	twice, _, err := setInSource(once, "plain.hcl", "gpu-workers", "slope", later)
	must.NoError(t, err)
	got = configs(t, "plain.hcl", twice) // a key written twice would not decode
	must.Eq(t, map[string]string{keyCount: "12", keyUntil: "2026-12-01T19:00:00Z", keyReason: "rollback"}, overrideOf(got["gpu-workers/backlog"]))
	must.Eq(t, bytes.Count(once, []byte("\n")), bytes.Count(twice, []byte("\n")), must.Sprint("replaced, not added"))
}

func TestOnlyTheSlopeBlocksOfTheNamedPolicyAreEdited(t *testing.T) {
	src := readFixture(t, "testdata/plain.hcl")
	out, _, err := setInSource(src, "plain.hcl", "gpu-workers", "slope", launchDay)
	must.NoError(t, err)
	before, after := configs(t, "plain.hcl", src), configs(t, "plain.hcl", out)
	must.Eq(t, before["cpu-workers/rate"], after["cpu-workers/rate"], must.Sprint("another policy's slope check"))
	must.Eq(t, before["cpu-workers/cpu"], after["cpu-workers/cpu"], must.Sprint("another strategy's check"))

	none, checks, err := setInSource(src, "plain.hcl", "gpu-workers", "fast-slope", launchDay)
	must.NoError(t, err)
	must.SliceEmpty(t, checks, must.Sprint("no block with that label"))
	must.Eq(t, string(src), string(none))
}

func TestSetOpensOneLineBlocksAndKeepsAHandLayout(t *testing.T) {
	src := readFixture(t, "testdata/one-line.hcl")
	out, checks, err := setInSource(src, "one-line.hcl", "gpu-workers", "slope", launchDay)
	must.NoError(t, err)
	must.Eq(t, []string{"backlog", "rate"}, checks)
	got := configs(t, "one-line.hcl", out)
	must.Eq(t, launchDayKeys, overrideOf(got["gpu-workers/backlog"]))
	must.Eq(t, "100", got["gpu-workers/backlog"]["capacity_per_worker"])
	must.Eq(t, launchDayKeys, overrideOf(got["gpu-workers/rate"]))
	must.StrContains(t, string(out), "  min = 1\n  max = 100\n", must.Sprint("a file nomad fmt never touched is not reformatted"))
}

func TestClearCommentsTheKeysOutSoTheNextSetUncommentsThem(t *testing.T) {
	src := readFixture(t, shippedPolicy)
	set, _, err := setInSource(src, "gpu-workers.hcl", "gpu-workers", "slope", launchDay)
	must.NoError(t, err)
	cleared, checks, err := clearInSource(set, "gpu-workers.hcl", "gpu-workers", "slope")
	must.NoError(t, err)
	must.Eq(t, []string{"request-rate", "backlog"}, checks)
	for c, cfg := range configs(t, "gpu-workers.hcl", cleared) {
		must.MapEmpty(t, overrideOf(cfg), must.Sprint(c))
	}
	must.Eq(t, len(strings.Split(string(src), "\n")), len(strings.Split(string(cleared), "\n")))
	must.StrContains(t, string(cleared), `# override_count  = "40"`, must.Sprint("the last override stays as a template"))

	again, _, err := setInSource(cleared, "gpu-workers.hcl", "gpu-workers", "slope", launchDay)
	must.NoError(t, err)
	must.Eq(t, string(set), string(again), must.Sprint("set, clear, set: the same file"))

	nothing, checks, err := clearInSource(src, "gpu-workers.hcl", "gpu-workers", "slope")
	must.NoError(t, err)
	must.SliceEmpty(t, checks)
	must.Eq(t, string(src), string(nothing))
}

func TestAnyReasonReadsBackAsTyped(t *testing.T) {
	src := readFixture(t, "testdata/plain.hcl")
	for _, reason := range []string{
		`launch "day"`, `C:\path\to`, "${var.x} and %{ if true }x%{ endif }", "$${literal}",
		"two\nlines", "tab\there", "Ünïcødé ✓ 発表", "# not a comment", `\n`,
	} {
		t.Run(reason, func(t *testing.T) {
			r := launchDay
			r.reason = reason
			out, _, err := setInSource(src, "plain.hcl", "gpu-workers", "slope", r)
			must.NoError(t, err)
			must.Eq(t, reason, configs(t, "plain.hcl", out)["gpu-workers/backlog"][keyReason])
		})
	}
}

func FuzzReasonReadsBackAsTyped(f *testing.F) {
	src, err := os.ReadFile("testdata/plain.hcl")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"launch day", `"}`, "${x}", "%{", "\x00", "\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reason string) {
		if !utf8.ValidString(reason) {
			t.Skip("HCL files are UTF-8")
		}
		r := launchDay
		r.reason = reason
		out, _, err := setInSource(src, "plain.hcl", "gpu-workers", "slope", r)
		if err != nil {
			t.Fatal(err)
		}
		got := configs(t, "plain.hcl", out)["gpu-workers/request-rate"][keyReason]
		if got != reason {
			t.Fatalf("reason %q reads back as %q", reason, got)
		}
	})
}

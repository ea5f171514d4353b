package validate

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/tracegen"
	"github.com/shoenig/test/must"
)

// entry is what the README says about a scenario.
type entry struct {
	name      string
	volume    float64
	tz        string
	split     bool
	synthetic bool
	goals     string
}

func entries(m []Scenario) []entry {
	out := make([]entry, len(m))
	for i, s := range m {
		out[i] = entry{s.Name, s.Volume, s.TimeZone, s.Split, s.Synthetic(), s.Goals.Name}
	}
	return out
}

func TestTheMatrixIsTheDocumentedOne(t *testing.T) {
	t.Parallel()
	const ny, bh, fc = "America/New_York", "business-hours", "flash-crowd"
	// Every synthetic trace at the four volumes, in the matrix's order.
	synthetic := func(name, tz, goals string) []entry {
		var out []entry
		for _, v := range []float64{500_000, 2_000_000, 10_000_000, 60_000_000} {
			out = append(out, entry{name, v, tz, false, true, goals})
		}
		return out
	}
	want := []entry{
		{"nasa", 500_000, ny, true, false, bh},
		{"nasa", 2_000_000, ny, true, false, bh},
		{"nasa", 10_000_000, ny, true, false, bh},
		{"nasa", 60_000_000, ny, true, false, bh},
		{"nasa~poisson", 2_000_000, ny, false, false, bh},
		{"nasa~poisson", 60_000_000, ny, false, false, bh},
	}
	want = append(want, synthetic("business-a", ny, bh)...)
	want = append(want, synthetic("business-b", "Asia/Kolkata", bh)...)
	want = append(want, synthetic("flashcrowd-a", "Europe/Paris", fc)...)
	want = append(want, synthetic("business-c", ny, bh)...)
	want = append(want, synthetic("business-d", ny, bh)...)
	want = append(want, synthetic("flashcrowd-b", "Europe/Paris", fc)...)
	must.Eq(t, want, entries(Matrix(false)))
	for _, s := range Matrix(false) {
		// Only the real trace is scaled by the backtest; the others are
		// made at their volume.
		c := backtestConfig(DefaultOptions(), s)
		if s.Kind == KindNASA {
			must.Eq(t, s.Volume, c.Daily)
		} else {
			must.Eq(t, 0.0, c.Daily, must.Sprint(s.Name))
		}
		must.Eq(t, 100.0, c.Capacity)
		must.Eq(t, "08:00-22:00", c.BusinessHours)
		must.Eq(t, s.TimeZone, c.TimeZone)
		if s.Synthetic() {
			must.Eq(t, s.Volume, s.Profile.Daily, must.Sprint(s.Name))
			must.Eq(t, s.TimeZone, s.Profile.TimeZone)
		}
		heldOut := s.Name == "business-c" || s.Name == "business-d" || s.Name == "flashcrowd-b"
		must.Eq(t, heldOut, s.HeldOut, must.Sprint(s.Name))
		if heldOut {
			must.StrContains(t, label(s, part{name: PartAll}), "(synthetic, held out)")
		}
	}
}

func TestTheQuickMatrixIsTheRealTraceAt2MAnd60M(t *testing.T) {
	t.Parallel()
	const ny, bh = "America/New_York", "business-hours"
	must.Eq(t, []entry{{"nasa", 2_000_000, ny, true, false, bh}, {"nasa", 60_000_000, ny, true, false, bh}}, entries(Matrix(true)))
}

// TestTheSyntheticTracesAreTheStandardSetOfTheTracegenReadme reads the
// commands of "The standard validation set" in cmd/tracegen/README.md and
// checks that the matrix generates the same traces (at its own volumes).
func TestTheSyntheticTracesAreTheStandardSetOfTheTracegenReadme(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../../cmd/tracegen/README.md")
	must.NoError(t, err)
	defer f.Close()
	documented := map[string]tracegen.Profile{}
	inSet := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			inSet = line == "## The standard validation set"
		}
		if !inSet || !strings.HasPrefix(line, "go run ./cmd/tracegen ") {
			continue
		}
		settings := map[string]string{}
		fields := strings.Fields(strings.TrimPrefix(line, "go run ./cmd/tracegen "))
		var name string
		for i := 0; i+1 < len(fields); i += 2 {
			k := strings.TrimPrefix(fields[i], "-")
			if k == "out" {
				name = strings.TrimSuffix(filepath.Base(fields[i+1]), ".csv.gz")
				continue
			}
			settings[k] = fields[i+1]
		}
		p, err := tracegen.ParseProfile(settings)
		must.NoError(t, err, must.Sprint(line))
		documented[name] = p
	}
	must.NoError(t, sc.Err())
	must.MapLen(t, 6, documented)

	seen := map[string]int{}
	for _, s := range Matrix(false) {
		if !s.Synthetic() {
			continue
		}
		want, ok := documented[s.Name]
		must.True(t, ok, must.Sprintf("%s is not in the standard set", s.Name))
		want.Daily = s.Volume
		must.Eq(t, want, *s.Profile)
		seen[s.Name]++
	}
	must.Eq(t, map[string]int{"business-a": 4, "business-b": 4, "flashcrowd-a": 4, "business-c": 4, "business-d": 4, "flashcrowd-b": 4}, seen)
}

package tracegen

import (
	"bytes"
	"context"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/shoenig/test/must"
)

func TestRunWritesTheTraceAndSummarizesIt(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "business.csv.gz")
	var stdout, stderr bytes.Buffer
	err := Main(context.Background(), cli.Env{Args: []string{"-profile", "business", "-days", "2", "-daily", "500000", "-start", "2026-03-02T05:00:00Z",
		"-tz", "America/New_York", "-seed", "9", "-out", out}, Stdout: &stdout, Stderr: &stderr})
	must.NoError(t, err)
	must.StrContains(t, stdout.String(), out+": 2880 minutes, mean ")
	tr, err := backtest.ReadTraceFile(out)
	must.NoError(t, err)
	must.Eq(t, 2880, tr.Len())
	must.Eq(t, time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC), tr.Start)
}

func TestParseFlagsPassesOnlyTheFlagsGiven(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	o, err := parseFlags([]string{"-profile", "flashcrowd", "-out", "f.csv"}, &stderr)
	must.NoError(t, err)
	must.Eq(t, "f.csv", o.out)
	must.Eq(t, Defaults(Flashcrowd), o.profile)
}

func TestParseFlagsNamesEveryBadFlagAndItsValue(t *testing.T) {
	t.Parallel()
	out := []string{"-out", "t.csv"}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no output file", []string{}, []string{"-out: required"}},
		{"an unknown profile", append([]string{"-profile", "retail"}, out...), []string{`-profile "retail"`}},
		{"days that are not a number", append([]string{"-days", "4w"}, out...), []string{`-days "4w"`}},
		{"a flashcrowd of a week", append([]string{"-profile", "flashcrowd", "-days", "7"}, out...), []string{`-days "7"`}},
		{"a negative volume", append([]string{"-daily", "-3"}, out...), []string{`-daily "-3"`}},
		{"a start that is not RFC 3339", append([]string{"-start", "2026-03-02 00:00"}, out...), []string{`-start "2026-03-02 00:00"`}},
		{"an unknown zone", append([]string{"-tz", "Europe/Atlantis"}, out...), []string{`-tz "Europe/Atlantis"`}},
		{"a seed that is not a number", append([]string{"-seed", "lucky"}, out...), []string{`-seed "lucky"`}},
		{"growth for a business trace", append([]string{"-growth", "10"}, out...), []string{`-growth "10": applies only to -profile flashcrowd`}},
		{"a growth below 1", append([]string{"-profile", "flashcrowd", "-growth", "0"}, out...), []string{`-growth "0"`}},
		{"a stray argument", append(out, "extra"), []string{`unexpected arguments ["extra"]`}},
		{
			"every bad flag at once",
			[]string{"-profile", "flashcrowd", "-days", "x", "-daily", "0", "-start", "now", "-tz", "", "-seed", "-1", "-growth", "NaN", "stray"},
			[]string{`-days "x"`, `-daily "0"`, `-start "now"`, `-tz ""`, `-seed "-1"`, `-growth "NaN"`, "-out: required", "unexpected arguments"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			_, err := parseFlags(tc.args, &stderr)
			must.Error(t, err)
			for _, want := range tc.want {
				must.StrContains(t, err.Error(), want)
			}
		})
	}
}

func TestRunReportsAFlagTheFlagPackageRejects(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := Main(context.Background(), cli.Env{Args: []string{"-dialy", "5"}, Stdout: &stdout, Stderr: &stderr})
	must.ErrorContains(t, err, "flag provided but not defined: -dialy")
}

func TestRunReportsAnUnwritableOutput(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "missing", "t.csv")
	err := Main(context.Background(), cli.Env{Args: []string{"-days", "1", "-out", out}, Stdout: &stdout, Stderr: &stderr})
	must.ErrorContains(t, err, `write trace "`+out+`"`)
}

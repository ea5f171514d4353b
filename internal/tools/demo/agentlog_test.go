package demo

import (
	"bytes"
	"math"
	"testing"

	"github.com/shoenig/test/must"
)

const decisionLine = `{"@level":"info","@message":"calculating scaling target","@module":"policy_manager.policy_handler","@timestamp":"2026-11-27T16:40:00.123456Z","from":3,"meta":{"demand_up":812.5,"mode":"rate","forecast_workers":9},"policy_id":"abc","reason":"rate 700/min ...","to":9}`

func TestParseDecisionReadsTheForecastFromMeta(t *testing.T) {
	d, ok := ParseDecision([]byte(decisionLine))
	must.True(t, ok)
	must.Eq(t, int64(3), d.From)
	must.Eq(t, int64(9), d.To)
	must.Eq(t, 812.5, d.Demand)
	must.Eq(t, 2026, d.At.Year())
}

func TestParseDecisionIgnoresOtherLines(t *testing.T) {
	for _, line := range []string{
		`{"@level":"info","@message":"skipping scaling, no action needed"}`,
		`not json but calculating scaling target`,
		``,
	} {
		_, ok := ParseDecision([]byte(line))
		must.False(t, ok, must.Sprintf("line %q", line))
	}
}

func TestLogTapKeepsTheLastForecastAcrossBacklogDecisions(t *testing.T) {
	var out bytes.Buffer
	tap := newLogTap(&out)
	backlog := `{"@level":"info","@message":"calculating scaling target","from":9,"to":12,"meta":{"backlog":40,"mode":"backlog"}}`
	errLine := `{"@level":"error","@message":"encountered an error monitoring policy IDs"}`
	// Lines arrive split across writes, as from a pipe.
	all := decisionLine + "\n" + backlog + "\n" + errLine + "\n"
	for i := 0; i < len(all); i += 7 {
		_, err := tap.Write([]byte(all[i:min(i+7, len(all))]))
		must.NoError(t, err)
	}
	last, demand, seen, failures := tap.Latest()
	must.Eq(t, int64(12), last.To)
	must.True(t, math.IsNaN(last.Demand))
	must.Eq(t, 812.5, demand)
	must.Eq(t, 2, seen)
	must.Eq(t, 1, failures)
	must.Eq(t, all, out.String())
}

package pluginkit

import (
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// exampleTable is a fourth plugin's config: the whole of what it writes to
// get parsing, unknown keys, bounds and README checks.
var exampleTable = &Table{
	Keys: []Key{
		{Name: "capacity", Kind: Float, Required: true, Min: "0.000001", Max: "1e12", Doc: "requests a worker serves"},
		{Name: "lead", Kind: Duration, Default: "5m", Min: "0s", Max: "24h", Doc: "boot time"},
		{Name: "attempts", Kind: Int, Default: "8", Min: "1", Max: "100", Doc: "tries per request"},
		{Name: "seasonal", Kind: Bool, Default: "true", Doc: "use yesterday"},
		{Name: "timeout", Kind: Duration, Default: "30s", Min: "1ms", Doc: "deadline"},
		{Name: "url", Kind: Text, Doc: "where"},
		{Name: "password", Kind: Text, Secret: true, Doc: "a secret"},
	},
	Prefixes:    []string{"sql."},
	UnknownHint: "check the spelling",
}

type exampleConfig struct {
	capacity float64
	lead     time.Duration
	attempts int64
	seasonal bool
	timeout  time.Duration
	url      string
}

func parseExample(m map[string]string) (exampleConfig, error) {
	p := Parse(exampleTable, m)
	c := exampleConfig{
		capacity: p.Float("capacity"), lead: p.Duration("lead"), attempts: p.Int("attempts"),
		seasonal: p.Bool("seasonal"), timeout: p.Duration("timeout"), url: p.Text("url"),
	}
	return c, p.Err()
}

func TestTheTableGivesDefaultsAndParsedValues(t *testing.T) {
	c, err := parseExample(map[string]string{"capacity": "100"})
	must.NoError(t, err)
	must.Eq(t, exampleConfig{capacity: 100, lead: 5 * time.Minute, attempts: 8, seasonal: true, timeout: 30 * time.Second}, c)

	c, err = parseExample(map[string]string{"capacity": " 2.5 ", "lead": "90s", "attempts": "3", "seasonal": "false", "url": "x", "sql.q": "SELECT 1"})
	must.NoError(t, err)
	must.Eq(t, exampleConfig{capacity: 2.5, lead: 90 * time.Second, attempts: 3, timeout: 30 * time.Second, url: "x"}, c)
}

func TestErrorsNameTheKeyAndTheValueButNeverASecretAndComeAllAtOnce(t *testing.T) {
	const secret = "hunter2-secret"
	p := Parse(exampleTable, map[string]string{
		"lead": "25h", "attempts": "many", "seasonal": "yes please", "timeout": "-1s",
		"pasword": secret, "password": secret, "sql.q": strings.Repeat("SELECT 1 ", 20),
	})
	_, _, _, _ = p.Duration("lead"), p.Int("attempts"), p.Bool("seasonal"), p.Duration("timeout")
	p.Fail("password", "rejected by the server")
	p.Fail("sql.q", "not a query")
	err := p.Err()
	for _, want := range []string{
		`unknown key "pasword" (check the spelling)`,
		"capacity: required",
		`lead "25h": must be between 0s and 24h`,
		`attempts "many": not a whole number`,
		`seasonal "yes please": not true or false`,
		`timeout "-1s": must be at least 1ms`,
		"password: rejected by the server",
		`sql.q "SELECT 1 SELECT 1`,
		`...": not a query`,
	} {
		must.ErrorContains(t, err, want)
	}
	must.StrNotContains(t, err.Error(), secret, must.Sprint("neither a Secret key's value nor an unknown key's"))
	must.StrNotContains(t, err.Error(), strings.Repeat("SELECT 1 ", 20), must.Sprint("a long value is cut"))
}

func TestNumbersMustBeFinite(t *testing.T) {
	for _, v := range []string{"NaN", "Inf", "-Inf", "1e400"} {
		_, err := parseExample(map[string]string{"capacity": v})
		must.ErrorContains(t, err, "capacity \""+v+"\": not a number", must.Sprint(v))
	}
}

func TestReadingAKeyAsTheWrongKindIsReportedNotPanicked(t *testing.T) {
	p := Parse(exampleTable, map[string]string{"capacity": "1"})
	_ = p.Duration("capacity")
	_ = p.Bool("nope")
	must.ErrorContains(t, p.Err(), "capacity: not a duration key")
	must.ErrorContains(t, p.Err(), "nope: not a boolean key")
}

func TestCheckFindsBrokenTables(t *testing.T) {
	must.NoError(t, exampleTable.Check())
	bad := &Table{Keys: []Key{
		{Name: "a", Kind: Duration, Default: "5", Doc: "x"},
		{Name: "b", Kind: Int, Default: "200", Max: "100", Doc: "x"},
		{Name: "a", Kind: Bool, Doc: "x"},
		{Name: "c", Kind: Float, Min: "low"},
	}}
	err := bad.Check()
	for _, want := range []string{
		`the table's default "5" of a: not a duration`,
		`the table's default "200" of b: must be at most 100`,
		"a: listed twice",
		"c: no doc line",
		`the table's min "low" of c: not a number`,
	} {
		must.ErrorContains(t, err, want)
	}
}

func TestAgentKeysAreAcceptedOnlyWhereTheAgentSendsThem(t *testing.T) {
	m := map[string]string{"capacity": "1", "nomad_address": "http://x", "_nomad_autoscaler_grpc_timeout": "5s"}
	_, err := parseExample(m)
	must.ErrorContains(t, err, `unknown key "nomad_address"`)
	agentLevel := &Table{Keys: exampleTable.Keys, AgentKeys: true}
	must.NoError(t, Parse(agentLevel, m).Err())
	must.Eq(t, map[string]string{"capacity": "1"}, OwnKeys(m))
}

func FuzzParseNeverPanicsAndNeverEchoesAValue(f *testing.F) {
	f.Add("lead", "5m")
	f.Add("capacity", "1e309")
	f.Add("attempts", "-0")
	f.Fuzz(func(t *testing.T, key, value string) {
		if len(value) < 6 {
			return // short values occur in the messages by chance
		}
		_, err := parseExample(map[string]string{key: value, "capacity": value})
		if err != nil && strings.Contains(err.Error(), value) {
			t.Fatalf("the error repeats the value %q: %v", value, err)
		}
	})
}

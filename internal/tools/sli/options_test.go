package sli

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"
)

// testNow is "now" for the flag tests: 2026-12-01 03:00 in Kolkata, still
// 2026-11-30 in UTC.
var testNow = time.Date(2026, 11, 30, 21, 30, 0, 0, time.UTC)

const testDSN = "postgres://reader:s3cret@db.example:5433/api?sslmode=disable"

// noEnv is an empty environment; withDSN one that sets $DATABASE_URL.
func noEnv(string) string { return "" }

func withDSN(name string) string {
	if name == envDSN {
		return testDSN
	}
	return ""
}

func TestFlagsParseIntoATypedConfigWithDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{"-postgres", testDSN, "-from", "2026-11-01", "-to", "2026-11-28"}, noEnv, io.Discard, testNow)
	must.NoError(t, err)
	must.Eq(t, "db.example", cfg.Postgres.Host)
	must.Eq(t, date(2026, 11, 1), cfg.From)
	must.Eq(t, date(2026, 11, 28), cfg.To)
	must.Eq(t, "UTC", cfg.Location.String())
	must.Eq(t, BusinessHours{8 * 60, 22 * 60}, cfg.Hours)
	must.Eq(t, SLO{AvailabilityPct: 99, Latency: 3 * time.Second}, cfg.SLO)
	must.Eq(t, pgx.Identifier{"api_requests"}, cfg.Table)
	must.Eq(t, "", cfg.Out)
	must.Eq(t, DefaultTimeout, cfg.Timeout)
	must.Eq(t, DefaultConnectTimeout, cfg.ConnectTimeout)

	cfg, err = parseFlags([]string{"-postgres", testDSN, "-from", "2026-11-01", "-to", "2026-12-01", "-tz", "Asia/Kolkata",
		"-business-hours", "22:00-06:00", "-latency-slo", "2500ms", "-availability-slo", "99.9",
		"-requests-table", "ekyc.requests", "-out", "/tmp/x", "-timeout", "1h", "-connect-timeout", "3s"}, noEnv, io.Discard, testNow)
	must.NoError(t, err)
	must.Eq(t, "Asia/Kolkata", cfg.Location.String())
	must.True(t, cfg.Hours.Wraps())
	must.Eq(t, SLO{AvailabilityPct: 99.9, Latency: 2500 * time.Millisecond}, cfg.SLO)
	must.Eq(t, pgx.Identifier{"ekyc", "requests"}, cfg.Table)
	must.Eq(t, "/tmp/x", cfg.Out)
	must.Eq(t, time.Hour, cfg.Timeout)
	must.Eq(t, 3*time.Second, cfg.ConnectTimeout)
}

func TestTheDSNCanComeFromTheEnvironmentSoThatNoPasswordIsOnTheCommandLine(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{"-from", "2026-11-01", "-to", "2026-11-02"}, withDSN, io.Discard, testNow)
	must.NoError(t, err)
	must.Eq(t, "s3cret", cfg.Postgres.Password)
}

func TestEveryBadFlagIsReportedTogetherNamingTheFlagAndValue(t *testing.T) {
	t.Parallel()
	_, err := parseFlags([]string{"-from", "2026-11-31", "-to", "yesterday", "-tz", "Asia/Bangalore",
		"-business-hours", "8-22", "-latency-slo", "0s", "-availability-slo", "100",
		"-requests-table", "a.b.c", "-timeout", "-1s", "-connect-timeout", "0s", "extra"}, noEnv, io.Discard, testNow)
	for _, want := range []string{
		`unexpected arguments ["extra"]`,
		"-postgres: required (or set DATABASE_URL)",
		`-from "2026-11-31": want a date YYYY-MM-DD`,
		`-to "yesterday": want a date YYYY-MM-DD`,
		`-tz "Asia/Bangalore": unknown time zone`,
		`-business-hours "8-22": want HH:MM-HH:MM`,
		`-latency-slo "0s": must be positive`,
		`-availability-slo "100": want a percentage above 0 and below 100`,
		`-requests-table "a.b.c": want table or schema.table`,
		`-timeout "-1s": must be positive`,
		`-connect-timeout "0s": must be positive`,
	} {
		must.ErrorContains(t, err, want)
	}
}

func TestThePeriodMustBeInOrderNotTooLongAndNotInTheFuture(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-from", "2026-11-10", "-to", "2026-11-09"}, `-to "2026-11-09": before -from "2026-11-10"`},
		{[]string{"-from", "2024-01-01", "-to", "2026-11-09"}, `-to "2026-11-09": the period from -from "2024-01-01" is 1044 days; at most 366`},
		// It is already 1 December in Kolkata, not yet in UTC.
		{[]string{"-from", "2026-11-01", "-to", "2026-12-01"}, `-to "2026-12-01": after today (2026-11-30 in UTC)`},
		{[]string{"-from", "2026-11-01", "-to", "2026-12-02", "-tz", "Asia/Kolkata"}, `-to "2026-12-02": after today (2026-12-01 in Asia/Kolkata)`},
		{[]string{"-to", "2026-11-02"}, `-from "": required`},
		{[]string{"-from", "2026-11-01", "-latency-slo", "1500us", "-to", "2026-11-02"}, `-latency-slo "1.5ms": want whole milliseconds`},
		{[]string{"-from", "2026-11-01", "-to", "2026-11-02", "-availability-slo", "-5"}, `-availability-slo "-5"`},
		{[]string{"-from", "2026-11-01", "-to", "2026-11-02", "-availability-slo", "NaN"}, `-availability-slo "NaN"`},
		{[]string{"-from", "2026-11-01", "-to", "2026-11-02", "-business-hours", "08:00-08:00"}, `-business-hours "08:00-08:00": start and end are equal`},
		{[]string{"-from", "2026-11-01", "-to", "2026-11-02", "-tz", "Local"}, `-tz "Local": want an IANA time zone`},
		{[]string{"-from", "2026-11-01", "-to", "2026-11-02", "-requests-table", "public."}, `-requests-table "public.": want table or schema.table`},
	}
	for _, tc := range cases {
		_, err := parseFlags(tc.args, withDSN, io.Discard, testNow)
		must.ErrorContains(t, err, tc.want, must.Sprintf("args %q", tc.args))
	}
}

func TestAnUnparsableDSNIsReportedWithoutShowingIt(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://reader:s3cret@db.example:notaport/api",
		"postgres://reader:s3cret@[db.example/api",
		"host=db.example password=s3cret port=x",
		"host=db.example password='s3cret",
	} {
		_, err := parseFlags([]string{"-postgres", dsn, "-from", "2026-11-01", "-to", "2026-11-02"}, noEnv, io.Discard, testNow)
		must.ErrorContains(t, err, "-postgres: the DSN (not shown) does not parse")
		must.StrNotContains(t, err.Error(), "s3cret")
		must.StrNotContains(t, err.Error(), "reader")
	}
}

func TestAnUnknownFlagIsAnError(t *testing.T) {
	t.Parallel()
	var stderr strings.Builder
	_, err := parseFlags([]string{"-form", "2026-11-01"}, noEnv, &stderr, testNow)
	must.ErrorContains(t, err, "flag provided but not defined: -form")
	must.StrContains(t, stderr.String(), "-availability-slo")
}

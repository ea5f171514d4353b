package sli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Flag names and their defaults.
const (
	flagPostgres        = "postgres"
	flagFrom            = "from"
	flagTo              = "to"
	flagTimeZone        = "tz"
	flagBusinessHours   = "business-hours"
	flagLatencySLO      = "latency-slo"
	flagAvailabilitySLO = "availability-slo"
	flagRequestsTable   = "requests-table"
	flagOut             = "out"
	flagTimeout         = "timeout"
	flagConnectTimeout  = "connect-timeout"
	flagListen          = "listen"
	flagInterval        = "interval"
	flagSettle          = "settle"
	flagPrometheus      = "prometheus"
	flagSpendQuery      = "spend-query"
	flagPromTimeout     = "prometheus-timeout"

	DefaultTimeZone        = "UTC"
	DefaultBusinessHours   = "08:00-22:00"
	DefaultLatencySLO      = 3 * time.Second
	DefaultAvailabilitySLO = 99.0
	DefaultRequestsTable   = "api_requests"
	// DefaultTimeout covers a month at 60M requests a day read through
	// the plain btree of scripts/schema.sql on the benchmark machine (27
	// to 75 minutes, extrapolated in the README) with room to spare: it
	// stops a runaway read, not a slow one.
	DefaultTimeout        = 2 * time.Hour
	DefaultConnectTimeout = 10 * time.Second
	// DefaultInterval is how often watch mode reads: as often as
	// Prometheus usually scrapes an exporter's slow figures.
	DefaultInterval = time.Minute
	// DefaultSettle is how many minutes watch mode reads again, for rows
	// written after the minute they belong to: a request is recorded when
	// it is answered, at most the API's timeout (30 s) after it arrived.
	DefaultSettle = 5 * time.Minute
	// DefaultWatchTimeout is watch mode's statement timeout: its first read
	// takes at most a day of rows (seconds at 60M requests a day), each
	// later one a few minutes'; a read stuck longer must not hold the
	// figures back for the report's two hours.
	DefaultWatchTimeout = 5 * time.Minute
	// minInterval bounds how hard watch mode may poll PostgreSQL.
	minInterval = 10 * time.Second
	// maxSettle bounds the re-read: an hour of rows at every read.
	maxSettle = time.Hour

	// maxDays bounds the period: a year and a day of daily rows.
	maxDays = 366
	// envDSN is read when -postgres is not given, so that a password need
	// not appear on a command line.
	envDSN = "DATABASE_URL"
)

// The requests table's columns, as in scripts/schema.sql.
const (
	columnTime    = "created_at"
	columnStatus  = "status"
	columnLatency = "latency_ms"
)

// Config is a validated command line.
type Config struct {
	Postgres       *pgx.ConnConfig // never printed: it holds the password
	From, To       time.Time       // local dates, at UTC midnight
	Location       *time.Location
	Hours          BusinessHours
	SLO            SLO
	Table          pgx.Identifier // table or schema.table
	Out            string         // "" writes no files
	Timeout        time.Duration  // statement_timeout of the read
	ConnectTimeout time.Duration
	// Watch mode: Listen is the address /metrics is served on ("" for a
	// report), Interval how often it reads, Settle how far back each read
	// starts again.
	Listen           string
	Interval, Settle time.Duration
	// Prometheus is the base URL of the Prometheus that scrapes
	// target-gce-gpu (nil: no spend columns); SpendQuery has $window.
	Prometheus        *url.URL
	SpendQuery        string
	PrometheusTimeout time.Duration
}

// flagValues are the command line as typed.
type flagValues struct {
	dsn, from, to, tz, hours, table, out, listen string
	prometheus, spendQuery                       string
	latency, timeout, connectTimeout             time.Duration
	interval, settle, promTimeout                time.Duration
	availability                                 float64
	extra                                        []string
}

// parseFlags reads and validates the command line; every problem is
// reported, each naming its flag and value (never the DSN's). getenv is
// the process environment, for $DATABASE_URL; now decides which day is
// today in -tz.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer, now time.Time) (Config, error) {
	var v flagValues
	fs := flag.NewFlagSet("sli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&v.dsn, flagPostgres, "", "PostgreSQL `DSN` of the requests table (default: $"+envDSN+")")
	fs.StringVar(&v.from, flagFrom, "", "first local `date` of the report, YYYY-MM-DD (required)")
	fs.StringVar(&v.to, flagTo, "", "last local `date` of the report, inclusive, YYYY-MM-DD (required; not after today)")
	fs.StringVar(&v.tz, flagTimeZone, DefaultTimeZone, "IANA time `zone` of the days and business hours")
	fs.StringVar(&v.hours, flagBusinessHours, DefaultBusinessHours, "daily window `HH:MM-HH:MM` of local time in which the SLO applies; 22:00-06:00 wraps past midnight")
	fs.DurationVar(&v.latency, flagLatencySLO, DefaultLatencySLO, "p95 latency a day must not exceed (whole milliseconds)")
	fs.Float64Var(&v.availability, flagAvailabilitySLO, DefaultAvailabilitySLO, "availability in `percent` a day must reach, above 0 and below 100")
	fs.StringVar(&v.table, flagRequestsTable, DefaultRequestsTable, "requests `table` or schema.table, with created_at, status and latency_ms")
	fs.StringVar(&v.out, flagOut, "", "write sli.json, sli.csv and sli.png to this `dir`")
	fs.DurationVar(&v.timeout, flagTimeout, DefaultTimeout, "statement timeout of the read (watch mode: of each read, default 5m)")
	fs.DurationVar(&v.connectTimeout, flagConnectTimeout, DefaultConnectTimeout, "deadline for connecting to PostgreSQL")
	fs.StringVar(&v.listen, flagListen, "", "watch mode: serve the live SLIs as Prometheus metrics on `host:port`/metrics instead of a report (no -from, -to, -out)")
	fs.DurationVar(&v.interval, flagInterval, DefaultInterval, "watch mode: how often to read the new minutes")
	fs.DurationVar(&v.settle, flagSettle, DefaultSettle, "watch mode: how many minutes each read takes again, for rows written late")
	fs.StringVar(&v.prometheus, flagPrometheus, "", "base `URL` of the Prometheus that scrapes target-gce-gpu: adds each day's GPU spend and its cost per 1,000 requests")
	fs.StringVar(&v.spendQuery, flagSpendQuery, DefaultSpendQuery, "with -prometheus: PromQL `query` of one day's spend, "+windowVar+" standing for the day's length")
	fs.DurationVar(&v.promTimeout, flagPromTimeout, DefaultPrometheusLimit, "with -prometheus: deadline of each query")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	v.extra = fs.Args()
	if v.dsn == "" {
		v.dsn = getenv(envDSN)
	}
	timeoutSet := false
	fs.Visit(func(f *flag.Flag) { timeoutSet = timeoutSet || f.Name == flagTimeout })
	if v.listen != "" && !timeoutSet {
		v.timeout = DefaultWatchTimeout
	}
	return v.config(now)
}

// config validates the values into a Config, all problems together.
func (v flagValues) config(now time.Time) (Config, error) {
	cfg := Config{
		SLO:            SLO{AvailabilityPct: v.availability, Latency: v.latency},
		Out:            v.out,
		Timeout:        v.timeout,
		ConnectTimeout: v.connectTimeout,
	}
	var errs []error
	add := func(flagName, value, format string, a ...any) {
		errs = append(errs, fmt.Errorf("-%s %q: %s", flagName, value, fmt.Sprintf(format, a...)))
	}
	if len(v.extra) > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", v.extra))
	}
	switch pc, err := pgx.ParseConfig(v.dsn); {
	case v.dsn == "":
		errs = append(errs, fmt.Errorf("-%s: required (or set %s)", flagPostgres, envDSN))
	case err != nil:
		errs = append(errs, fmt.Errorf("-%s: the DSN (not shown) does not parse: %s", flagPostgres, dsnParseCause(err, v.dsn)))
	default:
		cfg.Postgres = pc
	}
	var err error
	if cfg.Location, err = loadZone(v.tz); err != nil {
		add(flagTimeZone, v.tz, "%v", err)
	}
	if v.listen != "" {
		cfg.Listen, cfg.Interval, cfg.Settle = v.listen, v.interval, v.settle
		errs = append(errs, v.watchErrors()...)
	} else {
		cfg.From = parseDate(v.from, flagFrom, add)
		cfg.To = parseDate(v.to, flagTo, add)
	}
	if !cfg.From.IsZero() && !cfg.To.IsZero() {
		switch days := int(cfg.To.Sub(cfg.From).Hours()/24) + 1; {
		case cfg.To.Before(cfg.From):
			add(flagTo, v.to, "before -%s %q", flagFrom, v.from)
		case days > maxDays:
			add(flagTo, v.to, "the period from -%s %q is %d days; at most %d", flagFrom, v.from, days, maxDays)
		}
	}
	if cfg.Location != nil && !cfg.To.IsZero() {
		y, m, d := now.In(cfg.Location).Date()
		if today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); cfg.To.After(today) {
			add(flagTo, v.to, "after today (%s in %s): the report is of what was delivered", today.Format(time.DateOnly), v.tz)
		}
	}
	if cfg.Hours, err = ParseBusinessHours(v.hours); err != nil {
		add(flagBusinessHours, v.hours, "%v", err)
	}
	switch l := v.latency; {
	case l <= 0:
		add(flagLatencySLO, l.String(), "must be positive")
	case l%time.Millisecond != 0:
		add(flagLatencySLO, l.String(), "want whole milliseconds, as latency_ms is")
	}
	if a := v.availability; math.IsNaN(a) || a <= 0 || a >= 100 {
		add(flagAvailabilitySLO, fmt.Sprint(a), "want a percentage above 0 and below 100 (at 100 there is no error budget)")
	}
	if cfg.Table, err = parseTable(v.table); err != nil {
		add(flagRequestsTable, v.table, "%v", err)
	}
	if v.timeout <= 0 {
		add(flagTimeout, v.timeout.String(), "must be positive")
	}
	if v.connectTimeout <= 0 {
		add(flagConnectTimeout, v.connectTimeout.String(), "must be positive")
	}
	errs = append(errs, v.spendConfig(&cfg)...)
	return cfg, errors.Join(errs...)
}

// spendConfig checks -prometheus, -spend-query and -prometheus-timeout
// into cfg. The URL's user information is never shown.
func (v flagValues) spendConfig(cfg *Config) []error {
	var errs []error
	if v.prometheus == "" {
		return nil
	}
	if v.listen != "" {
		return []error{fmt.Errorf("-%s: not with -%s: watch mode serves the SLIs; Prometheus has the spend already", flagPrometheus, flagListen)}
	}
	u, err := url.Parse(v.prometheus)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		shown := "(not shown)"
		if err == nil && u.User == nil {
			shown = strconv.Quote(v.prometheus)
		}
		errs = append(errs, fmt.Errorf("-%s %s: want a base URL such as http://prometheus.internal:9090", flagPrometheus, shown))
	case u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, fmt.Errorf("-%s %s: want a base URL without a query or fragment", flagPrometheus, u.Redacted()))
	default:
		cfg.Prometheus = u
	}
	if !strings.Contains(v.spendQuery, windowVar) {
		errs = append(errs, fmt.Errorf("-%s %q: must contain %s, the day's length, as in %s", flagSpendQuery, v.spendQuery, windowVar, DefaultSpendQuery))
	}
	if v.promTimeout <= 0 {
		errs = append(errs, fmt.Errorf("-%s %q: must be positive", flagPromTimeout, v.promTimeout))
	}
	cfg.SpendQuery, cfg.PrometheusTimeout = v.spendQuery, v.promTimeout
	return errs
}

// watchErrors are the problems of watch mode's flags.
func (v flagValues) watchErrors() []error {
	var errs []error
	for name, value := range map[string]string{flagFrom: v.from, flagTo: v.to, flagOut: v.out} {
		if value != "" {
			errs = append(errs, fmt.Errorf("-%s %q: not with -%s: watch mode serves today's SLIs, a report covers dates", name, value, flagListen))
		}
	}
	if _, port, err := net.SplitHostPort(v.listen); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("-%s %q: want host:port, such as 127.0.0.1:9464 or :9464", flagListen, v.listen))
	}
	if v.interval < minInterval {
		errs = append(errs, fmt.Errorf("-%s %q: at least %s (each read is a query on the requests table)", flagInterval, v.interval, minInterval))
	}
	if v.settle < 0 || v.settle > maxSettle {
		errs = append(errs, fmt.Errorf("-%s %q: from 0 to %s", flagSettle, v.settle, maxSettle))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}

// loadZone is time.LoadLocation without its two names that do not say
// where the days are: "" and "Local" (UTC and the machine's zone).
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, errors.New("want an IANA time zone such as Asia/Kolkata or UTC")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errors.New("unknown time zone: want an IANA name such as Asia/Kolkata or UTC")
	}
	return loc, nil
}

// parseDate reads a YYYY-MM-DD flag into a date at UTC midnight, zero on
// error.
func parseDate(value, flagName string, add func(flagName, value, format string, a ...any)) time.Time {
	if value == "" {
		add(flagName, value, "required: a date YYYY-MM-DD")
		return time.Time{}
	}
	d, err := time.Parse(time.DateOnly, value)
	if err != nil {
		add(flagName, value, "want a date YYYY-MM-DD")
		return time.Time{}
	}
	return d
}

// parseTable reads table or schema.table. Any name is allowed, as it is
// quoted: what matters is that it exists, which the read checks first.
func parseTable(s string) (pgx.Identifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 2 {
		return nil, errors.New("want table or schema.table")
	}
	for _, p := range parts {
		if p == "" || strings.ContainsRune(p, 0) {
			return nil, errors.New("want table or schema.table")
		}
	}
	return pgx.Identifier(parts), nil
}

// dsnParseCause is why a DSN does not parse, without the DSN: pgconn
// redacts passwords from malformed strings only on a best-effort basis,
// and the URL parser's error quotes the whole string.
func dsnParseCause(err error, dsn string) string {
	msg := err.Error()
	if u := errors.Unwrap(err); u != nil {
		msg = u.Error()
	}
	msg = strings.ReplaceAll(msg, dsn, "(DSN)")
	if strings.Contains(msg, "@") || strings.Contains(strings.ToLower(msg), "password") {
		return "check its syntax: postgres://user@host:port/database or host=... dbname=... key=value pairs"
	}
	return msg
}

// CheckArgs reports the problems Main would find in a command line before
// connecting, with dsn as $DATABASE_URL: for deployment files to be tested
// against the flags they pass (deploy/sli_exporter_test.go).
func CheckArgs(args []string, dsn string) error {
	getenv := func(name string) string {
		if name == envDSN {
			return dsn
		}
		return ""
	}
	_, err := parseFlags(args, getenv, io.Discard, time.Now())
	return err
}

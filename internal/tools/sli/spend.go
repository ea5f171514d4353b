package sli

// The GPU fleet's spend beside the SLIs (-prometheus): what each reported
// day cost, read from Prometheus, where target-gce-gpu's spend counter is
// scraped (price_per_hour; plugins/target-gce-gpu/README.md, "Spend
// estimate"). Stakeholders get the SLA and its price in one report.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultSpendQuery sums the spend counters of every policy and both HA
// agents over a window; windowVar is replaced by the day's length.
const (
	windowVar              = "$window"
	DefaultSpendQuery      = "sum(increase(fleetslope_target_spend_dollars_total[" + windowVar + "]))"
	DefaultPrometheusLimit = 30 * time.Second
	// maxPrometheusBody bounds what one answer may be: a scalar or a
	// vector of one sample is a few hundred bytes.
	maxPrometheusBody = 1 << 20
)

// spendSource answers what the fleet cost in the window that ends at end.
// ok is false when Prometheus has no data for it (no target scraped yet).
type spendSource interface {
	spend(ctx context.Context, end time.Time, window time.Duration) (dollars float64, ok bool, err error)
}

// promSpend runs the spend query against Prometheus's HTTP API
// (/api/v1/query), one instant query per day, each under its own deadline.
type promSpend struct {
	base    *url.URL // the API's base URL, user information removed
	user    *url.Userinfo
	query   string // with windowVar
	timeout time.Duration
	client  *http.Client
}

func newPromSpend(base *url.URL, query string, timeout time.Duration) *promSpend {
	b := *base
	p := &promSpend{base: &b, user: b.User, query: query, timeout: timeout, client: &http.Client{}}
	p.base.User = nil
	return p
}

// promAnswer is the part of an instant query's answer that is read.
type promAnswer struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

type promData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

func (p *promSpend) spend(ctx context.Context, end time.Time, window time.Duration) (float64, bool, error) {
	q := strings.ReplaceAll(p.query, windowVar, strconv.FormatInt(int64(window.Round(time.Second).Seconds()), 10)+"s")
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	u := p.base.JoinPath("api", "v1", "query")
	u.RawQuery = url.Values{"query": {q}, "time": {strconv.FormatInt(end.Unix(), 10)}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, false, fmt.Errorf("-%s query %q: %w", flagPrometheus, q, err)
	}
	if p.user != nil {
		pw, _ := p.user.Password()
		req.SetBasicAuth(p.user.Username(), pw)
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("-%s %s query %q at %s: %s", flagPrometheus, p.base.Redacted(), q, end.UTC().Format(time.RFC3339), fmt.Sprintf(format, a...))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, false, fail("no answer within %s", p.timeout)
		}
		return 0, false, fail("%v", redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPrometheusBody))
	if err != nil {
		return 0, false, fail("reading the answer: %v", redactURLError(err))
	}
	var ans promAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return 0, false, fail("HTTP %d, not a Prometheus API answer", resp.StatusCode)
	}
	if ans.Status != "success" {
		return 0, false, fail("HTTP %d, %s: %s", resp.StatusCode, ans.ErrorType, ans.Error)
	}
	return parseSpendData(ans.Data, fail)
}

// parseSpendData reads a scalar, or a vector of at most one sample: the
// query must add up to one number (sum(...) does).
func parseSpendData(raw json.RawMessage, fail func(string, ...any) error) (float64, bool, error) {
	var d promData
	if err := json.Unmarshal(raw, &d); err != nil {
		return 0, false, fail("an answer without data")
	}
	var sample []any
	switch d.ResultType {
	case "scalar":
		if err := json.Unmarshal(d.Result, &sample); err != nil {
			return 0, false, fail("a scalar that does not parse")
		}
	case "vector":
		var v []struct {
			Value []any `json:"value"`
		}
		if err := json.Unmarshal(d.Result, &v); err != nil {
			return 0, false, fail("a vector that does not parse")
		}
		switch len(v) {
		case 0:
			return 0, false, nil
		case 1:
			sample = v[0].Value
		default:
			return 0, false, fail("%d series; the query must add up to one number (wrap it in sum(...))", len(v))
		}
	default:
		return 0, false, fail("a %s; want a scalar or a vector of one sample", d.ResultType)
	}
	if len(sample) != 2 {
		return 0, false, fail("a sample that is not [time, value]")
	}
	s, _ := sample[1].(string)
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil:
		return 0, false, fail("a value %q that is not a number", s)
	case math.IsNaN(f) || math.IsInf(f, 0) || f < 0:
		return 0, false, fail("a value %s that is no amount of money", s)
	}
	return f, true, nil
}

// redactURLError removes the URL (and any user information in it) from an
// error of the HTTP client: the error says what failed, the caller says
// where.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// addSpend reads each day's spend: the window from the day's local
// midnight to the next, or to now for today, ending at that instant. A
// day Prometheus has no data for keeps no figure.
func addSpend(ctx context.Context, r *Report, src spendSource, loc *time.Location, now time.Time) error {
	var total float64
	seen := false
	for k := range r.Days {
		d, err := time.Parse(time.DateOnly, r.Days[k].Date)
		if err != nil {
			return fmt.Errorf("day %q: %w", r.Days[k].Date, err)
		}
		start, end := LocalMidnight(d, loc), LocalMidnight(d.AddDate(0, 0, 1), loc)
		if end.After(now) {
			end = now
		}
		if !end.After(start) {
			continue
		}
		dollars, ok, err := src.spend(ctx, end, end.Sub(start))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		r.Days[k].SpendUSD = &dollars
		if n := r.Days[k].Requests; n > 0 {
			per := dollars / float64(n) * 1000
			r.Days[k].SpendPer1k = &per
		}
		total += dollars
		seen = true
	}
	r.SpendRead = true
	if seen {
		r.SpendUSD = &total
	}
	return nil
}

package sli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// fakePrometheus answers /api/v1/query with answer(query, time) and
// records what it was asked.
type fakePrometheus struct {
	mu     sync.Mutex
	asked  []url.Values
	auth   []string
	answer func(q url.Values) (int, string)
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/prom/api/v1/query" {
		http.Error(w, "not found: "+r.URL.Path, http.StatusNotFound)
		return
	}
	f.mu.Lock()
	f.asked = append(f.asked, r.URL.Query())
	user, pw, _ := r.BasicAuth()
	f.auth = append(f.auth, user+":"+pw)
	f.mu.Unlock()
	code, body := f.answer(r.URL.Query())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}

func vector(v string) string {
	return `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"` + v + `"]}]}}`
}

func newFakePrometheus(t *testing.T, answer func(q url.Values) (int, string)) (*fakePrometheus, *url.URL) {
	t.Helper()
	f := &fakePrometheus{answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/prom")
	must.NoError(t, err)
	return f, u
}

func TestEachDayIsPricedOverItsOwnLocalHoursUpToNow(t *testing.T) {
	t.Parallel()
	f, base := newFakePrometheus(t, func(q url.Values) (int, string) {
		// $412.50 a whole day, less for today so far.
		if q.Get("query") == "sum(increase(fleetslope_target_spend_dollars_total[86400s]))" {
			return 200, vector("412.5")
		}
		return 200, vector("100")
	})
	base.User = url.UserPassword("reader", "s3cret")
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	must.NoError(t, err)
	rep := handMadeReport() // 2026-11-02 to 2026-11-05, the last one partial
	now := time.Date(2026, 11, 5, 12, 0, 0, 0, kolkata)
	src := newPromSpend(base, DefaultSpendQuery, 5*time.Second)
	must.NoError(t, addSpend(context.Background(), rep, src, kolkata, now))

	must.Len(t, 4, f.asked)
	for k, q := range f.asked[:3] {
		end := time.Date(2026, 11, 3+k, 0, 0, 0, 0, kolkata)
		must.Eq(t, fmt.Sprint(end.Unix()), q.Get("time"), must.Sprintf("day %d ends at local midnight", k))
	}
	must.Eq(t, fmt.Sprint(now.Unix()), f.asked[3].Get("time"))
	must.Eq(t, "sum(increase(fleetslope_target_spend_dollars_total[43200s]))", f.asked[3].Get("query"), must.Sprint("today: since midnight"))
	must.Eq(t, "reader:s3cret", f.auth[0], must.Sprint("the URL's user information is sent as basic auth"))

	must.Eq(t, 412.5, *rep.Days[0].SpendUSD)
	must.InDelta(t, 412.5/1206*1000, *rep.Days[0].SpendPer1k, 1e-9)
	must.Eq(t, 100.0, *rep.Days[3].SpendUSD)
	must.Eq(t, 3*412.5+100, *rep.SpendUSD)

	var table bytes.Buffer
	must.NoError(t, rep.WriteTable(&table))
	must.StrContains(t, table.String(), "GPU spend")
	must.StrContains(t, table.String(), "$412.50")
	must.StrContains(t, table.String(), "$342.0398") // per 1,000 of 1,206 requests
	must.StrContains(t, table.String(), "GPU spend over the period: $1337.50")
	var csv bytes.Buffer
	must.NoError(t, rep.WriteCSV(&csv))
	must.StrContains(t, csv.String(), ",false,412.5,342.0398009950249\n")
}

func TestADayWithoutDataHasNoSpendAndTheRestAddUp(t *testing.T) {
	t.Parallel()
	calls := 0
	_, base := newFakePrometheus(t, func(url.Values) (int, string) {
		calls++
		if calls == 1 {
			return 200, `{"status":"success","data":{"resultType":"vector","result":[]}}`
		}
		return 200, `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"10"]}}`
	})
	rep := handMadeReport()
	now := time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC)
	must.NoError(t, addSpend(context.Background(), rep, newPromSpend(base, DefaultSpendQuery, 5*time.Second), time.UTC, now))
	must.Nil(t, rep.Days[0].SpendUSD)
	must.Eq(t, 30.0, *rep.SpendUSD)
	var table bytes.Buffer
	must.NoError(t, rep.WriteTable(&table))
	must.StrContains(t, table.String(), "2026-11-02")
}

func TestPrometheusProblemsNameTheQueryAndNeverThePassword(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		code       int
		body, want string
	}{
		{"an API error", 400, `{"status":"error","errorType":"bad_data","error":"parse error at char 5"}`, "HTTP 400, bad_data: parse error at char 5"},
		{"not the API", 502, `<html>bad gateway</html>`, "HTTP 502, not a Prometheus API answer"},
		{"several series", 200, `{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"2"]}]}}`, "2 series; the query must add up to one number"},
		{"a matrix", 200, `{"status":"success","data":{"resultType":"matrix","result":[]}}`, "a matrix; want a scalar or a vector"},
		{"not a number", 200, vector("NaN"), `a value NaN that is no amount of money`},
		{"a negative amount", 200, vector("-3"), `a value -3 that is no amount of money`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, base := newFakePrometheus(t, func(url.Values) (int, string) { return tc.code, tc.body })
			base.User = url.UserPassword("reader", "s3cret")
			_, _, err := newPromSpend(base, DefaultSpendQuery, 5*time.Second).spend(context.Background(), time.Unix(1700000000, 0), 24*time.Hour)
			must.ErrorContains(t, err, tc.want)
			must.ErrorContains(t, err, `query "sum(increase(fleetslope_target_spend_dollars_total[86400s]))"`)
			must.StrNotContains(t, err.Error(), "s3cret")
		})
	}

	// No answer within the deadline.
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(block); srv.Close() })
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("reader", "s3cret")
	_, _, err := newPromSpend(u, DefaultSpendQuery, 50*time.Millisecond).spend(context.Background(), time.Unix(1700000000, 0), time.Hour)
	must.ErrorContains(t, err, "no answer within 50ms")
	must.StrNotContains(t, err.Error(), "s3cret")

	// Nobody listening.
	srv2 := httptest.NewServer(http.NotFoundHandler())
	u2, _ := url.Parse(srv2.URL)
	srv2.Close()
	u2.User = url.UserPassword("reader", "s3cret")
	_, _, err = newPromSpend(u2, DefaultSpendQuery, time.Second).spend(context.Background(), time.Unix(1700000000, 0), time.Hour)
	must.Error(t, err)
	must.StrNotContains(t, err.Error(), "s3cret")
	must.True(t, strings.HasPrefix(err.Error(), "-prometheus http://127.0.0.1:"), must.Sprint(err.Error()))
}

func TestSpendFlagsAreCheckedWithTheRest(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	args := func(extra ...string) []string {
		return append([]string{"-postgres", "postgres://u@h/db", "-from", "2026-12-01", "-to", "2026-12-07"}, extra...)
	}
	cfg, err := parseFlags(args("-prometheus", "http://prom.internal:9090"), nil, nil, now)
	must.NoError(t, err)
	must.Eq(t, "http://prom.internal:9090", cfg.Prometheus.String())
	must.Eq(t, DefaultSpendQuery, cfg.SpendQuery)
	must.Eq(t, DefaultPrometheusLimit, cfg.PrometheusTimeout)

	cfg, err = parseFlags(args(), nil, nil, now)
	must.NoError(t, err)
	must.Nil(t, cfg.Prometheus)

	_, err = parseFlags(args("-prometheus", "prom.internal:9090", "-spend-query", "sum(x)", "-prometheus-timeout", "0s"), nil, nil, now)
	must.ErrorContains(t, err, `-prometheus "prom.internal:9090": want a base URL such as http://prometheus.internal:9090`)
	must.ErrorContains(t, err, `-spend-query "sum(x)": must contain $window`)
	must.ErrorContains(t, err, `-prometheus-timeout "0s": must be positive`)

	_, err = parseFlags(args("-prometheus", "ftp://admin:hunter2@prom"), nil, nil, now)
	must.ErrorContains(t, err, "-prometheus (not shown): want a base URL")
	must.StrNotContains(t, err.Error(), "hunter2")

	_, err = parseFlags([]string{"-postgres", "postgres://u@h/db", "-listen", ":9466", "-prometheus", "http://prom:9090"}, nil, nil, now)
	must.ErrorContains(t, err, "-prometheus: not with -listen")
}

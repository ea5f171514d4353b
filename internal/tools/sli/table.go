package sli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/textfmt"
)

// WriteTable prints the report for a terminal: one line per day, then the
// period's totals, error budget and burn rates.
func (r *Report) WriteTable(w io.Writer) error {
	latency := time.Duration(r.LatencySLOS * float64(time.Second))
	fmt.Fprintf(w, "SLA delivered %s to %s (%s), business hours %s; SLO: availability >= %g%%, p95 <= %s\n",
		r.From, r.To, r.TimeZone, r.BusinessHours, r.AvailabilitySLOPct, latency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	spendHead := ""
	if r.SpendRead {
		spendHead = "GPU spend\tper 1k req\t"
	}
	fmt.Fprintf(tw, "date\trequests\tbusiness\tfailed\tavailability\twithin %s\tp95\tbudget left\t%s  met\n", latency, spendHead)
	for _, d := range r.Days {
		spend := ""
		if r.SpendRead {
			spend = dollars(d.SpendUSD, 2) + "\t" + dollars(d.SpendPer1k, 4) + "\t"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s  %s\n", d.Date, textfmt.Int(d.Requests), textfmt.Int(d.BusinessRequests),
			textfmt.Int(d.Failed), pct(d.AvailabilityPct, 3), pct(d.LatencyPct, 3), seconds(d.P95S), pct(d.BudgetRemainingPct, 1), spend, verdict(d))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "days met: %d of %d scored (%d in the period)\n", r.DaysMet, r.DaysScored, len(r.Days))
	if r.SpendRead {
		fmt.Fprintf(w, "GPU spend over the period: %s (the days Prometheus has data for; list prices, target-gce-gpu's estimate)\n", dollars(r.SpendUSD, 2))
	}
	if r.ErrorBudgetRemainingPct == nil {
		fmt.Fprintln(w, "error budget: none (no business requests)")
	} else {
		allowed := allowedFailures(SLO{AvailabilityPct: r.AvailabilitySLOPct}, r.BusinessRequests)
		fmt.Fprintf(w, "error budget remaining: %s (%s failed business requests of %s allowed)\n",
			pct(r.ErrorBudgetRemainingPct, 2), textfmt.Int(r.Failed), tenths(allowed))
	}
	fmt.Fprintf(w, "burn rate, windows ending %s: last 1h %s; last 6h %s\n", r.ReadUntil, rate(r.BurnRate1h), rate(r.BurnRate6h))
	if r.Unrecorded > 0 {
		fmt.Fprintf(w, "note: %s business requests have no status: no answer was recorded, so they count as failed\n", textfmt.Int(r.Unrecorded))
	}
	_, err := fmt.Fprintf(w, "read %s rows in %s (%s rows/s)\n", textfmt.Int(r.RowsRead), r.Elapsed.Round(time.Millisecond),
		textfmt.Int(int64(float64(r.RowsRead)/max(r.Elapsed.Seconds(), 1e-9))))
	return err
}

// verdict is the met column: yes, MISSED and why, or why the day is not
// scored.
func verdict(d Day) string {
	var s string
	switch {
	case d.Met == nil:
		s = "not scored: no business requests"
	case *d.Met:
		s = "yes"
	default:
		s = "MISSED: " + strings.Join(d.missed, ", ")
	}
	if d.Partial {
		s += " (partial day)"
	}
	return s
}

func pct(v *float64, decimals int) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', decimals, 64) + "%"
}

func dollars(v *float64, decimals int) string {
	if v == nil {
		return "-"
	}
	return "$" + strconv.FormatFloat(*v, 'f', decimals, 64)
}

func seconds(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 3, 64) + "s"
}

func rate(v *float64) string {
	if v == nil {
		return "n/a (no business requests)"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64) + "x"
}

// tenths writes v >= 0 to one decimal with comma separators: 8,166.7.
func tenths(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return s
	}
	return textfmt.Int(n) + "." + frac
}

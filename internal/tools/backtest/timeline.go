package backtest

import (
	"bufio"
	"io"
	"strconv"
	"time"
)

// TimelineHeader is the header of timeline.csv.
const TimelineHeader = "timestamp,requests,slope,target-value,predictive,static-peak,oracle"

// WriteTimeline writes timeline.csv: every scored minute with the scaled
// arrivals and the workers serving under each strategy.
func (r *Result) WriteTimeline(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64*1024)
	standby := r.Strategy(NameSlope).StandbyVMs
	header := TimelineHeader
	if standby != nil {
		// The policy's standby pool, only when it keeps one.
		header += ",slope-standby"
	}
	var spot []int64
	if s := r.Strategy(NameSlope).Spot; s != nil {
		// The policy's Spot workers serving, only with a Spot tier.
		spot = s.Workers
		header += ",slope-spot"
	}
	bw.WriteString(header + "\n")
	cols := make([][]int64, len(StrategyNames))
	for i, name := range StrategyNames {
		cols[i] = r.Strategy(name).Workers
	}
	var buf []byte
	for i, a := range r.Arrivals {
		buf = buf[:0]
		buf = r.ScoredStart.Add(time.Duration(i)*time.Minute).UTC().AppendFormat(buf, time.RFC3339)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, round(a, 2), 'f', -1, 64)
		for _, col := range cols {
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, col[i], 10)
		}
		if standby != nil {
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, standby[i], 10)
		}
		if spot != nil {
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, spot[i], 10)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

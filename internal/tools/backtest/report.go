package backtest

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Report layout: one panel per week (longer traces get longer panels, at
// most maxPanels) so that a 4-week trace stays readable, under a header with
// the headline numbers.
const (
	reportWidth   = 16 * vg.Inch
	reportPanelH  = 2.4 * vg.Inch
	reportHeaderH = 1.8 * vg.Inch
	maxPanels     = 8
	pointsPerLine = 1000
)

var (
	demandColor = color.Gray{Y: 0x90}
	demandFill  = color.Gray{Y: 0xdd}
	// businessFill marks business hours, where the SLA is scored.
	businessFill = color.RGBA{R: 0xff, G: 0xf6, B: 0xdc, A: 0xff}
	// missedFill marks the business hours of a day the policy missed.
	missedFill = color.RGBA{R: 0xfd, G: 0xd8, B: 0xd8, A: 0xff}
)

var strategyColors = map[string]color.Color{
	NameSlope:          color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	NameTargetValue:    color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	NamePredictive:     color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	NameStaticPeak:     color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	NameOracle:         color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	NameTargetValueSLO: color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}

// WriteReport draws report.png: the demand against each strategy's serving
// capacity (workers x capacity) over time, and the headline numbers.
func (r *Result) WriteReport(w io.Writer) error {
	days := float64(len(r.Arrivals)) / 1440
	panelDays := 7.0
	if days > panelDays*maxPanels {
		panelDays = math.Ceil(days / maxPanels)
	}
	panelMinutes := int(panelDays * 1440)
	panels := (len(r.Arrivals) + panelMinutes - 1) / panelMinutes
	bin := max(1, panelMinutes/pointsPerLine)

	height := r.headerHeight() + vg.Length(panels)*reportPanelH
	return writePNG(w, reportWidth, height, func(dc draw.Canvas) error {
		return r.drawReport(dc, height, panels, panelMinutes, bin)
	})
}

// drawReport draws the header and the panels of report.png.
func (r *Result) drawReport(dc draw.Canvas, height vg.Length, panels, panelMinutes, bin int) error {
	r.drawHeader(draw.Crop(dc, 0, 0, height-r.headerHeight(), 0), bin)

	body := draw.Crop(dc, 0, 0, 0, -r.headerHeight())
	// One Y scale for every panel, so that weeks compare at a glance.
	// It spans the largest line drawn: a reactive strategy that overshoots
	// the static peak on a spike must not be cut off.
	peak := float64(r.StaticPeakWorkers)
	for _, s := range r.Strategies {
		for _, xy := range r.binned(0, len(r.Arrivals), bin, func(i int) float64 { return float64(s.Workers[i]) }) {
			peak = max(peak, xy.Y)
		}
	}
	yMax := 1.05 * max(peak*r.Capacity, 1)
	rows := make([][]*plot.Plot, panels)
	for i := range panels {
		from := i * panelMinutes
		to := min(from+panelMinutes, len(r.Arrivals))
		p, err := r.panel(from, to, bin, yMax)
		if err != nil {
			return err
		}
		// Every panel spans the same time, the last one too.
		p.X.Max = float64(from + panelMinutes)
		rows[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: panels, Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(8), PadRight: vg.Points(12), PadY: vg.Points(6)}
	canvases := plot.Align(rows, tiles, body)
	for i := range rows {
		rows[i][0].Draw(canvases[i][0])
	}
	return nil
}

// writePNG draws a white width x height image at 96 dpi with paint and
// encodes it as PNG: the one encoder of every chart the backtest writes.
func writePNG(w io.Writer, width, height vg.Length, paint func(draw.Canvas) error) error {
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	if err := paint(dc); err != nil {
		return err
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// panel plots scored minutes [from, to) in bins of bin minutes (means):
// the demand as a grey area, each strategy's serving capacity as a line.
func (r *Result) panel(from, to, bin int, yMax float64) (*plot.Plot, error) {
	p := plot.New()
	p.Y.Label.Text = "requests / min"
	p.X.Tick.Marker = dayTicks{start: r.ScoredStart, loc: r.location()}
	p.Y.Min, p.Y.Max = 0, yMax
	if err := r.shadeBusinessHours(p, from, to, yMax); err != nil {
		return nil, err
	}
	p.Add(plotter.NewGrid())
	demand, err := plotter.NewLine(r.binned(from, to, bin, func(i int) float64 { return r.Arrivals[i] }))
	if err != nil {
		return nil, err
	}
	demand.Color = demandColor
	demand.FillColor = demandFill
	demand.Width = vg.Points(0.5)
	p.Add(demand)
	// The policy's own line goes on top.
	for k := len(r.Strategies) - 1; k >= 0; k-- {
		s := &r.Strategies[k]
		name := s.Name
		l, err := plotter.NewLine(r.binned(from, to, bin, func(i int) float64 { return float64(s.Workers[i]) * r.Capacity }))
		if err != nil {
			return nil, err
		}
		l.Color = strategyColors[name]
		l.Width = vg.Points(1.1)
		if name == NameStaticPeak {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l)
	}
	if err := r.addPoolLine(p, from, to, bin); err != nil {
		return nil, err
	}
	if err := r.addSpotLine(p, from, to, bin); err != nil {
		return nil, err
	}
	p.X.Min = float64(from)
	return p, nil
}

// shadeBusinessHours marks the scored SLA window of every day, in red
// where the policy (slope) missed the SLA that day.
func (r *Result) shadeBusinessHours(p *plot.Plot, from, to int, yMax float64) error {
	missed := map[string]bool{}
	for _, d := range r.Strategy(NameSlope).PerDay {
		missed[d.Date] = !d.Met
	}
	for i := from; i < to; {
		if !r.cal.business[i] {
			i++
			continue
		}
		j := i
		for j < to && r.cal.business[j] {
			j++
		}
		x0, x1 := float64(i), float64(j)
		poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: 0}, {X: x1, Y: 0}, {X: x1, Y: yMax}, {X: x0, Y: yMax}})
		if err != nil {
			return err
		}
		poly.Color = businessFill
		if missed[r.cal.days[r.cal.day[i]]] {
			poly.Color = missedFill
		}
		poly.LineStyle.Width = 0
		p.Add(poly)
		i = j
	}
	return nil
}

// binned averages f over bins of scored minutes; X is the minute index.
func (r *Result) binned(from, to, bin int, f func(int) float64) plotter.XYs {
	xy := make(plotter.XYs, 0, (to-from)/bin+1)
	for b := from; b < to; b += bin {
		end := min(b+bin, to)
		var s float64
		for i := b; i < end; i++ {
			s += f(i)
		}
		xy = append(xy, plotter.XY{X: float64(b), Y: s / float64(end-b)})
	}
	return xy
}

func (r *Result) location() *time.Location {
	loc, err := time.LoadLocation(r.Config.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// dayTicks labels the X axis (scored minute index) with local dates under
// noon, with unlabelled ticks at midnight, 06:00 and 18:00.
type dayTicks struct {
	start time.Time
	loc   *time.Location
}

// Ticks implements plot.Ticker.
func (d dayTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	t := d.start.Add(time.Duration(min) * time.Minute).In(d.loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, d.loc)
	for ; day.Sub(d.start).Minutes() <= max; day = day.AddDate(0, 0, 1) {
		for h := 0; h < 24; h += 6 {
			x := day.Add(time.Duration(h) * time.Hour).Sub(d.start).Minutes()
			if x < min || x > max {
				continue
			}
			tick := plot.Tick{Value: x}
			if h == 12 {
				tick.Label = day.Format("Mon 01-02")
			}
			ticks = append(ticks, tick)
		}
	}
	return ticks
}

// drawHeader writes the title and one line of headline numbers per
// strategy, each after a sample of its line: the header is the legend.
func (r *Result) drawHeader(c draw.Canvas, bin int) {
	title := draw.TextStyle{Color: color.Black, Font: font.From(font.Font{Typeface: "Liberation", Variant: "Sans", Weight: 700}, 15), Handler: plot.DefaultTextHandler}
	mono := draw.TextStyle{Color: color.Black, Font: font.From(font.Font{Typeface: "Liberation", Variant: "Mono"}, 11), Handler: plot.DefaultTextHandler, YAlign: draw.YCenter}
	x := c.Min.X + vg.Points(14)
	y := c.Max.Y - vg.Points(22)
	c.FillText(title, vg.Point{X: x, Y: y}, fmt.Sprintf("Backtest of policy %q on %s: %.0f requests/day, capacity %g/min per worker, lead %s, SLA p95 %s in %s %s",
		r.Policy.ID, filepath.Base(r.Source), sum(r.Arrivals)/float64(len(r.Arrivals))*1440, r.Capacity, r.Config.Lead,
		r.Config.SLAP95, r.Config.BusinessHours, r.Config.TimeZone))
	y -= vg.Points(14)
	sample := func(y vg.Length, col color.Color, dashed bool, width vg.Length) {
		ls := draw.LineStyle{Color: col, Width: width}
		if dashed {
			ls.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		c.StrokeLine2(ls, x, y, x+vg.Points(26), y)
	}
	text := x + vg.Points(34)
	// The names column is as wide as the longest label, so the numbers align.
	width := len("physical limit")
	for _, s := range r.Strategies {
		width = max(width, len(s.Label()))
	}
	for _, s := range r.Strategies {
		mono.Color = strategyColors[s.Name]
		sample(y, mono.Color, s.Name == NameStaticPeak, vg.Points(2))
		c.FillText(mono, vg.Point{X: text, Y: y}, fmt.Sprintf("%-*s %6.0f worker-h  %5.3fx oracle  SLA %3d/%-3d days  availability %7.3f%%  worst-day p95 %7s  ups/downs %d/%d",
			width, s.Label(), s.WorkerHours, r.RatioToOracle(s.Name), s.DaysMet, s.Days, s.AvailabilityPct, s.WorstDayP95, s.ScaleUps, s.ScaleDowns))
		y -= vg.Points(15)
	}
	if s := r.Strategy(NameSlope); s.StandbyVMs != nil {
		sample(y, poolColor, true, vg.Points(1.5))
		mono.Color = poolColor
		c.FillText(mono, vg.Point{X: text, Y: y}, fmt.Sprintf("%-*s %6.0f VM-h stopped, %.0f at %g/h (in cost)  starts warm/cold %d/%d (warm serve in %s)  dashed: stopped VMs x capacity",
			width, "slope's pool", s.StandbyVMHours, s.StandbyCost, r.Config.StandbyPrice, s.WarmStarts, s.ColdStarts, r.Config.WarmLead))
		y -= vg.Points(15)
	}
	if s := r.Strategy(NameSlope); s.Spot != nil {
		sample(y, spotColor, true, vg.Points(1.5))
		mono.Color = spotColor
		c.FillText(mono, vg.Point{X: text, Y: y}, fmt.Sprintf("%-*s %6.0f worker-h on Spot  cost standard %.0f + spot %.0f  %d preempted (%d by outage)  dotted: Spot workers x capacity",
			width, "slope's Spot", s.Spot.WorkerHours, s.Spot.StandardCost, s.Spot.SpotCost, s.Spot.Preemptions, s.Spot.OutagePreemptions))
		y -= vg.Points(15)
	}
	mono.Color = color.Gray{Y: 0x50}
	sample(y, demandFill, false, vg.Points(8))
	c.FillText(mono, vg.Point{X: text, Y: y}, fmt.Sprintf("%-*s %6.0f worker-h  every minute sized exactly (demand grey; business hours shaded, red where slope missed; %d-min means)",
		width, "physical limit", r.PhysicalLimitWorkerHours, bin))
}

// poolColor draws the policy's standby pool.
var poolColor = color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}

// headerHeight is the header's height: one more line each for a standby
// pool and a Spot tier.
func (r *Result) headerHeight() vg.Length {
	h := reportHeaderH
	// One line per strategy beyond the usual five (target-value-slo).
	h += vg.Points(15) * vg.Length(max(0, len(r.Strategies)-len(StrategyNames)))
	if s := r.Strategy(NameSlope); s != nil && s.StandbyVMs != nil {
		h += vg.Points(15)
	}
	if s := r.Strategy(NameSlope); s != nil && s.Spot != nil {
		h += vg.Points(15)
	}
	return h
}

// addPoolLine draws the policy's stopped VMs (times the capacity, on the
// panel's scale) as a dashed line, when its target keeps a pool.
func (r *Result) addPoolLine(p *plot.Plot, from, to, bin int) error {
	s := r.Strategy(NameSlope)
	if s == nil || s.StandbyVMs == nil {
		return nil
	}
	l, err := plotter.NewLine(r.binned(from, to, bin, func(i int) float64 { return float64(s.StandbyVMs[i]) * r.Capacity }))
	if err != nil {
		return err
	}
	l.Color = poolColor
	l.Width = vg.Points(1.1)
	l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(l)
	return nil
}

package sli

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Chart layout: three panels over the same days, under a title.
const (
	chartWidth   = 12 * vg.Inch
	chartPanelH  = 2.6 * vg.Inch
	chartHeaderH = 0.6 * vg.Inch
)

var (
	lineColor   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	missedColor = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	sloColor    = color.Gray{Y: 0x50}
)

// WriteChart draws sli.png: per day, availability and p95 latency against
// their SLOs (in red where a day missed that one), and the error budget
// left after each day (in red once overspent).
func (r *Report) WriteChart(w io.Writer) error {
	panels := []func() (*plot.Plot, error){r.availabilityPanel, r.latencyPanel, r.budgetPanel}
	height := chartHeaderH + vg.Length(len(panels))*chartPanelH
	img := vgimg.NewWith(vgimg.UseWH(chartWidth, height), vgimg.UseDPI(96))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	title := draw.TextStyle{Color: color.Black, Font: font.From(font.Font{Typeface: "Liberation", Variant: "Sans", Weight: 700}, 14), Handler: plot.DefaultTextHandler}
	dc.FillText(title, vg.Point{X: dc.Min.X + vg.Points(14), Y: dc.Max.Y - vg.Points(24)},
		fmt.Sprintf("SLA delivered %s to %s (%s, business hours %s): %d of %d scored days met",
			r.From, r.To, r.TimeZone, r.BusinessHours, r.DaysMet, r.DaysScored))

	rows := make([][]*plot.Plot, len(panels))
	for i, panel := range panels {
		p, err := panel()
		if err != nil {
			return err
		}
		p.X.Min, p.X.Max = -0.5, float64(len(r.Days))-0.5
		p.X.Tick.Marker = dateTicks(r.Days)
		p.Add(plotter.NewGrid())
		rows[i] = []*plot.Plot{p}
	}
	body := draw.Crop(dc, 0, 0, 0, -chartHeaderH)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(8), PadRight: vg.Points(16), PadY: vg.Points(8)}
	canvases := plot.Align(rows, tiles, body)
	for i := range rows {
		rows[i][0].Draw(canvases[i][0])
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

func (r *Report) availabilityPanel() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("availability of business requests (SLO %g%%)", r.AvailabilitySLOPct)
	p.Y.Label.Text = "%"
	xy, missed := r.series(func(d Day) *float64 { return d.AvailabilityPct }, func(v float64) bool { return v < r.AvailabilitySLOPct })
	lo := r.AvailabilitySLOPct
	for _, v := range xy {
		lo = min(lo, v.Y)
	}
	// A little room below the lowest point or the SLO, whichever is lower.
	p.Y.Min, p.Y.Max = max(0, lo-(100-lo)*0.25-0.01), 100
	return p, addSeries(p, xy, missed, r.AvailabilitySLOPct, len(r.Days))
}

func (r *Report) latencyPanel() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("p95 latency of successful business requests (SLO %gs)", r.LatencySLOS)
	p.Y.Label.Text = "seconds"
	xy, missed := r.series(func(d Day) *float64 { return d.P95S }, func(v float64) bool { return v > r.LatencySLOS })
	hi := r.LatencySLOS
	for _, v := range xy {
		hi = max(hi, v.Y)
	}
	p.Y.Min, p.Y.Max = 0, hi*1.1
	return p, addSeries(p, xy, missed, r.LatencySLOS, len(r.Days))
}

func (r *Report) budgetPanel() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "error budget of the period left after each day"
	p.Y.Label.Text = "%"
	xy, missed := r.series(func(d Day) *float64 { return d.BudgetRemainingPct }, func(v float64) bool { return v < 0 })
	lo := 0.0
	for _, v := range xy {
		lo = min(lo, v.Y)
	}
	p.Y.Min, p.Y.Max = lo-5, 105
	return p, addSeries(p, xy, missed, 0, len(r.Days))
}

// series is the days' values of f where it has one, and those that are
// bad: each panel marks the days that missed its own target.
func (r *Report) series(f func(Day) *float64, bad func(float64) bool) (all, missed plotter.XYs) {
	for i, d := range r.Days {
		v := f(d)
		if v == nil || math.IsNaN(*v) {
			continue
		}
		all = append(all, plotter.XY{X: float64(i), Y: *v})
		if bad(*v) {
			missed = append(missed, plotter.XY{X: float64(i), Y: *v})
		}
	}
	return all, missed
}

// addSeries draws the target as a dashed line, the values as a line with
// points, and the missed ones as larger red points.
func addSeries(p *plot.Plot, xy, missed plotter.XYs, target float64, days int) error {
	slo, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: target}, {X: float64(days) - 0.5, Y: target}})
	if err != nil {
		return err
	}
	slo.Color = sloColor
	slo.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	p.Add(slo)
	if len(xy) == 0 {
		return nil
	}
	line, points, err := plotter.NewLinePoints(xy)
	if err != nil {
		return err
	}
	line.Color, points.Color = lineColor, lineColor
	points.Shape = draw.CircleGlyph{}
	p.Add(line, points)
	if len(missed) > 0 {
		m, err := plotter.NewScatter(missed)
		if err != nil {
			return err
		}
		m.Color = missedColor
		m.Shape = draw.CircleGlyph{}
		m.Radius = vg.Points(4)
		p.Add(m)
	}
	return nil
}

// dateTicks labels the day indexes with their dates: every day for up to
// two weeks, then every few days.
func dateTicks(days []Day) plot.TickerFunc {
	return func(lo, hi float64) []plot.Tick {
		step := max(1, (len(days)+13)/14)
		var ticks []plot.Tick
		for i, d := range days {
			t := plot.Tick{Value: float64(i)}
			if i%step == 0 {
				t.Label = d.Date[5:]
			}
			ticks = append(ticks, t)
		}
		return ticks
	}
}

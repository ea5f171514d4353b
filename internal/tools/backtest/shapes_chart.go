package backtest

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Chart layout of shapes.png: two bars per shape (the policy, the oracle).
const (
	chartWidth    = 14 * vg.Inch
	chartHeight   = 6 * vg.Inch
	chartBarWidth = 30 // points
)

var (
	metColor    = strategyColors[NameSlope]
	missedColor = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	oracleColor = color.RGBA{R: 0xa8, G: 0xd8, B: 0xa8, A: 0xff}
)

// WriteChart draws shapes.png: the policy's cost per million requests on
// each shape, in the table's order, blue where it met the SLA on every
// day and red, with the days met, where it did not; beside it the
// shape's oracle for reference.
func (r *ShapesResult) WriteChart(w io.Writer) error {
	return writePNG(w, chartWidth, chartHeight, r.drawChart)
}

func (r *ShapesResult) drawChart(dc draw.Canvas) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Cost per million requests by VM shape: policy %q on %s, %.0f requests/day, SLA p95 %s in %s %s",
		r.Policy.ID, filepath.Base(r.Source), r.ScoredRequests/r.scoredDays(), r.Config.SLAP95,
		r.Config.BusinessHours, r.Config.TimeZone)
	p.Title.Padding = vg.Points(8)
	p.Y.Label.Text = "$ per million requests"
	p.Add(plotter.NewGrid())
	width := vg.Points(chartBarWidth)
	names := make([]string, len(r.Shapes))
	var top float64
	var met, missed, orc *plotter.BarChart
	labels := plotter.XYLabels{}
	for i, s := range r.Shapes {
		names[i] = s.Shape.Name
		top = max(top, s.CostPerMillion, s.OracleCostPerMillion)
		bar, err := r.bar(float64(i), s.CostPerMillion, width, -width/2, metColor)
		if err != nil {
			return err
		}
		text := fmt.Sprintf("$%.2f", s.CostPerMillion)
		if s.MeetsSLA() {
			met = bar
		} else {
			bar.Color = missedColor
			missed = bar
			text += fmt.Sprintf("\n%d/%d days", s.Policy.DaysMet, s.Policy.Days)
		}
		if orc, err = r.bar(float64(i), s.OracleCostPerMillion, width, width/2, oracleColor); err != nil {
			return err
		}
		p.Add(bar, orc)
		labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: s.CostPerMillion})
		labels.Labels = append(labels.Labels, text)
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign = draw.XCenter
	}
	l.Offset = vg.Point{X: -width / 2, Y: vg.Points(4)}
	p.Add(l)
	p.NominalX(names...)
	p.Y.Min, p.Y.Max = 0, 1.2*max(top, 1e-9)
	p.X.Min, p.X.Max = -0.6, float64(len(r.Shapes))-0.4
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(12), -vg.Points(6)
	if met != nil {
		p.Legend.Add("policy: met the SLA on every day", met)
	}
	if missed != nil {
		p.Legend.Add("policy: missed the SLA on some days (days met shown)", missed)
	}
	if orc != nil {
		p.Legend.Add("oracle (perfect foresight, 20-minute blocks)", orc)
	}
	p.Draw(draw.Crop(dc, vg.Points(6), -vg.Points(12), vg.Points(6), -vg.Points(6)))
	return nil
}

// bar is one bar at nominal position x, shifted by offset.
func (r *ShapesResult) bar(x, v float64, width, offset vg.Length, c color.Color) (*plotter.BarChart, error) {
	b, err := plotter.NewBarChart(plotter.Values{v}, width)
	if err != nil {
		return nil, err
	}
	b.XMin = x
	b.Offset = offset
	b.Color = c
	b.LineStyle.Width = 0
	return b, nil
}

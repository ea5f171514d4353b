package demo

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestWritePlotDrawsAPNG(t *testing.T) {
	t0 := time.Date(1995, 7, 13, 4, 0, 0, 0, time.UTC)
	var samples []Sample
	for i := range 100 {
		rpm := 500 + 400*math.Sin(float64(i)/15)
		samples = append(samples, Sample{Sim: t0.Add(time.Duration(i) * 15 * time.Minute), RPM: rpm, Demand: rpm * 1.1,
			Ready: map[string]int{"us-central1-a": i / 20, "us-central1-b": i / 25}, Instances: i/20 + i/25 + 1,
			Generated: int64(i * 100), Served: int64(i*100 - i%7)})
	}
	samples[0].Demand = math.NaN()
	path := filepath.Join(t.TempDir(), "demo.png")
	must.NoError(t, writePlot(path, samples, 100, "test run", time.UTC))
	f, err := os.Open(path)
	must.NoError(t, err)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	must.NoError(t, err)
	must.Greater(t, 800, cfg.Width)
	must.Greater(t, 800, cfg.Height)
}

func TestWritePlotNeedsSamples(t *testing.T) {
	must.ErrorContains(t, writePlot(filepath.Join(t.TempDir(), "x.png"), nil, 100, "", time.UTC), "need at least 2")
}

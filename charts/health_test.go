package charts_test

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/charts"
	"github.com/flowbot/flowbot/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata")

// sample is two months of a purchase flow whose finance step holds most
// of the waiting.
func sample() charts.Health {
	start := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	h := charts.Health{Title: "purchase · 2026-11", Bottleneck: "finance"}
	for i := range 9 {
		h.Weeks = append(h.Weeks, charts.Week{Start: start.AddDate(0, 0, 7*i), Filed: 20 + 3*i%7, Median: 1.5 + float64(i%3)*0.4})
	}
	h.Steps = []charts.Step{{ID: "manager", Share: 0.18, Median: 0.4}, {ID: "finance", Share: 0.62, Median: 2.4}, {ID: "purchasing_director_review", Share: 0.2, Median: 0.6}}
	return h
}

func TestHealthPNG(t *testing.T) {
	t.Parallel()
	r, err := charts.NewRenderer()
	require.NoError(t, err)
	tests := []struct {
		name string
		h    charts.Health
	}{
		{"bottleneck", sample()},
		{"empty", charts.Health{Title: "leave · 2026-11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.HealthPNG(tt.h)
			require.NoError(t, err)
			img, err := png.Decode(bytes.NewReader(got))
			require.NoError(t, err, "the chart must be a readable PNG")
			require.Equal(t, charts.Width, img.Bounds().Dx())
			require.Equal(t, charts.Height, img.Bounds().Dy())
			again, err := r.HealthPNG(tt.h)
			require.NoError(t, err)
			require.True(t, bytes.Equal(got, again), "the same figures must give the same bytes")
			path := filepath.Join("testdata", tt.name+".png")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./charts -update to write the golden file")
			require.True(t, bytes.Equal(want, got), "chart differs from %s (look at it, then rerun with -update)", path)
		})
	}
}

// TestHealthBottleneckRed checks the bottleneck's bar is red and the
// other steps' are not: what a reader looks for first.
func TestHealthBottleneckRed(t *testing.T) {
	t.Parallel()
	r, err := charts.NewRenderer()
	require.NoError(t, err)
	img, err := r.HealthImage(sample())
	require.NoError(t, err)
	red := 0
	for y := 362; y < charts.Height; y++ {
		for x := 0; x < charts.Width; x++ {
			c := img.RGBAAt(x, y)
			if c.R == 0xb3 && c.G == 0 && c.B == 0 {
				red++
			}
		}
	}
	require.Greater(t, red, 2000, "the bottleneck's bar must be drawn in red")
	h := sample()
	h.Bottleneck = ""
	img, err = r.HealthImage(h)
	require.NoError(t, err)
	for y := 362; y < charts.Height; y++ {
		for x := 0; x < charts.Width; x++ {
			c := img.RGBAAt(x, y)
			require.False(t, c.R == 0xb3 && c.G == 0 && c.B == 0, "no red without a bottleneck, at %d,%d", x, y)
		}
	}
}

func BenchmarkHealthPNG(b *testing.B) {
	r, err := charts.NewRenderer()
	require.NoError(b, err)
	h := sample()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.HealthPNG(h); err != nil {
			b.Fatal(err)
		}
	}
}

func TestChineseLabels(t *testing.T) {
	t.Parallel()
	r, err := charts.NewRenderer()
	require.NoError(t, err)
	if !r.CanDrawChinese() {
		testkit.Unavailable(t, "no CJK font at %v: install fonts-wqy-microhei", charts.CJKFontPaths())
	}
	en := sample()
	zh := sample()
	zh.Lang = "zh"
	enPNG, err := r.HealthPNG(en)
	require.NoError(t, err)
	zhPNG, err := r.HealthPNG(zh)
	require.NoError(t, err)
	require.False(t, bytes.Equal(enPNG, zhPNG), "a Chinese chart must not carry the English labels")
	again, err := r.HealthPNG(zh)
	require.NoError(t, err)
	require.True(t, bytes.Equal(zhPNG, again), "the same figures must give the same bytes")
	require.NoError(t, os.MkdirAll(filepath.Join("..", "testout", "screenshots"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join("..", "testout", "screenshots", "chart-zh.png"), zhPNG, 0o644))
}

func TestChineseFallsBackToEnglish(t *testing.T) {
	t.Parallel()
	notAFont := filepath.Join("testdata", "bottleneck.png")
	tests := []struct {
		name  string
		paths []string
	}{
		{"no font configured", nil},
		{"missing file", []string{filepath.Join(t.TempDir(), "none.ttc")}},
		{"not a font", []string{notAFont}},
		{"not a collection", []string{notAFont + ".ttc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := charts.NewRenderer()
			require.NoError(t, err)
			r.WithCJKFonts(tt.paths...)
			require.False(t, r.CanDrawChinese())
			zh := sample()
			zh.Lang = "zh"
			got, err := r.HealthPNG(zh)
			require.NoError(t, err)
			want, err := os.ReadFile(filepath.Join("testdata", "bottleneck.png"))
			require.NoError(t, err)
			require.True(t, bytes.Equal(want, got), "without a CJK font a Chinese chart is the English one, not boxes")
		})
	}
}

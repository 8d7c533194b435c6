package adaptertest

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/charts"
)

// ChartURL is the signed link of ReportCard's chart.
const ChartURL = "https://flowbot.example.com/ui/dashboard/report/chart.png?t=eyJmIjoicHVyY2hhc2UifQ.c2lnbmF0dXJl"

// ReportURL is the signed link of ReportCard's report page.
const ReportURL = "https://flowbot.example.com/ui/dashboard/report?t=eyJmIjoicHVyY2hhc2UifQ.c2lnbmF0dXJl"

// ChartKey is the blob key of ReportCard's chart.
const ChartKey = "0123456789abcdef0123456789abcdef"

// ReportImage is the picture of a monthly report card: a real chart PNG
// drawn by package charts, and how often it was read.
type ReportImage struct {
	PNG   []byte
	Reads atomic.Int32
}

// ReportCard returns an owner's monthly report card with its chart (a
// real PNG), as the bot renders it, and the picture to check uploads
// against.
func ReportCard(t testing.TB) (bots.Card, *ReportImage) {
	t.Helper()
	r, err := charts.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	h := charts.Health{Title: "purchase · 2026-11", Bottleneck: "finance"}
	start := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	for i := range 9 {
		h.Weeks = append(h.Weeks, charts.Week{Start: start.AddDate(0, 0, 7*i), Filed: 20 + 3*i%7, Median: 1.5 + float64(i%3)*0.4})
	}
	h.Steps = []charts.Step{{ID: "mgr", Share: 0.2, Median: 0.4}, {ID: "finance", Share: 0.62, Median: 2.4}, {ID: "ceo", Share: 0.18, Median: 0.5}}
	png, err := r.HealthPNG(h)
	if err != nil {
		t.Fatal(err)
	}
	ri := &ReportImage{PNG: png}
	c := bots.Card{
		Title:    "流程健康月报 · 2026-11",
		Color:    bots.ColorBlue,
		Markdown: "**采购申请**\n- 申请量：120（较上月 +12%）\n- 瓶颈：62% 的等待时间在「财务审批」\n- 完整报告：[打开](" + ReportURL + ")",
		Image: &bots.Image{
			URL: ChartURL, Key: ChartKey, Alt: "采购申请 2026-11 每周申请量与审批用时图",
			Open: func(context.Context) (io.ReadCloser, error) {
				ri.Reads.Add(1)
				return io.NopCloser(bytes.NewReader(png)), nil
			},
		},
	}
	return c, ri
}

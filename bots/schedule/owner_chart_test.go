package schedule_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/bots/schedule"
	"github.com/flowbot/flowbot/dashboard"
	"github.com/flowbot/flowbot/flows"
)

// reportCharts keeps charts in a real blob folder and signs report links
// with the dashboard's signer, as cmd/flowbot wires them.
type reportCharts struct {
	store  *blobs.Local
	signer *dashboard.ReportSigner
	fail   bool
}

func (c *reportCharts) KeepChart(ctx context.Context, b []byte) (string, error) {
	if c.fail {
		return "", io.ErrShortWrite
	}
	key := blobs.NewKey()
	return key, c.store.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
}

func (c *reportCharts) ReportLinks(flowID string, month time.Time, viewer, chart string) (string, string) {
	tok := c.signer.Token(flowID, month, viewer, chart)
	base := "https://flowbot.example.com/ui/dashboard/"
	return base + dashboard.ReportURL(tok), base + dashboard.ChartURL(tok)
}

// TestOwnerReportCarriesItsChart: with charts wired, the owner's report
// names a chart kept in the blob store (a real PNG of the flow's month)
// and signed links to the report page and the chart, bound to the owner,
// the flow and the month; the PNG itself stays out of the outbox row.
func TestOwnerReportCarriesItsChart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dec1 := time.Date(2026, 12, 1, 9, 0, 0, 0, shanghai)
	b.clock.Set(dec1)
	store, err := blobs.NewLocal(t.TempDir())
	require.NoError(t, err)
	signer, err := dashboard.NewReportSigner([]byte("0123456789abcdef0123456789abcdef"), 30*24*time.Hour, b.clock.Now)
	require.NoError(t, err)
	rc := &reportCharts{store: store, signer: signer}
	s := b.scheduler(schedule.Config{Stats: plantedMonths(), Flows: ownedFlows(t), OwnerCharts: rc, DashboardURL: "http://127.0.0.1:8080/ui/dashboard/"})
	require.NoError(t, s.RunDue(b.ctx, dec1))

	ms := ownerMessages(t, b)
	require.Less(t, len(ms[0].Data), 4096, "the chart is not in the outbox row")
	var d struct {
		Text  map[string]string `json:"text"`
		Image struct {
			Key string            `json:"key"`
			URL string            `json:"url"`
			Alt map[string]string `json:"alt"`
		} `json:"image"`
	}
	require.NoError(t, json.Unmarshal(ms[0].Data, &d))
	require.Contains(t, d.Image.Alt["en"], "Leave 2026-11")
	require.Contains(t, d.Image.Alt["zh"], "2026-11")

	// The kept chart is a real PNG.
	f, err := store.Open(b.ctx, d.Image.Key)
	require.NoError(t, err)
	img, err := png.Decode(f)
	_ = f.Close()
	require.NoError(t, err)
	require.Equal(t, 720, img.Bounds().Dx())

	// The chart's link grants the owner that flow and month, with the
	// kept chart; the text links the printable report page instead of
	// the dashboard.
	u, err := url.Parse(d.Image.URL)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(u.Path, "/ui/dashboard/report/chart.png"))
	g, err := signer.Verify(u.Query().Get("t"))
	require.NoError(t, err)
	require.Equal(t, dashboard.ReportGrant{Flow: "leave", Month: "2026-11", Viewer: "hr1", Chart: d.Image.Key, Expires: g.Expires}, g)
	require.Contains(t, d.Text["en"], "- Details: https://flowbot.example.com/ui/dashboard/report?t=")
	require.NotContains(t, d.Text["en"], "weeks=5")
}

// TestOwnerReportWithoutAChart: when the chart cannot be kept the report
// still goes, with its links and no image.
func TestOwnerReportWithoutAChart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dec1 := time.Date(2026, 12, 1, 9, 0, 0, 0, shanghai)
	b.clock.Set(dec1)
	store, err := blobs.NewLocal(t.TempDir())
	require.NoError(t, err)
	signer, err := dashboard.NewReportSigner([]byte("0123456789abcdef0123456789abcdef"), time.Hour, b.clock.Now)
	require.NoError(t, err)
	s := b.scheduler(schedule.Config{Stats: plantedMonths(), Flows: ownedFlows(t), OwnerCharts: &reportCharts{store: store, signer: signer, fail: true}})
	require.NoError(t, s.RunDue(b.ctx, dec1))
	ms := ownerMessages(t, b)
	require.NotContains(t, string(ms[0].Data), `"image"`)
	require.Contains(t, string(ms[0].Data), "/ui/dashboard/report?t=")
}

// ownerMessages are the outbox messages to hr1, the leave flow's owner
// (the admins' report goes to ceo beside).
func ownerMessages(t *testing.T, b *bundle) []*flows.OutboxMessage {
	t.Helper()
	all, err := b.db.Outbox(b.ctx, "", 10)
	require.NoError(t, err)
	var ms []*flows.OutboxMessage
	for _, m := range all {
		if m.Recipient == "hr1" {
			ms = append(ms, m)
		}
	}
	require.Len(t, ms, 1)
	return ms
}

package dingtalk_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/bots"
)

func TestReportCardCarriesItsChart(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	card, _ := adaptertest.ReportCard(t)
	_, err := b.adapter.Send(ctx, bots.Recipient{UserID: "sunli"}, bots.Message{Card: &card}, "owner-report-1")
	require.NoError(t, err)
	cards := b.fake.Cards()
	require.Len(t, cards, 1)
	files := cards[0].Params["files"]
	// The picture in the card's markdown (DingTalk fetches it), and its
	// link for clients that show none.
	require.Contains(t, files, "![采购申请 2026-11 每周申请量与审批用时图]("+adaptertest.ChartURL+")")
	require.Contains(t, files, "📊 [采购申请 2026-11 每周申请量与审批用时图]("+adaptertest.ChartURL+")")
	require.Contains(t, cards[0].Params["markdown"], adaptertest.ReportURL)

	// A plain http picture is only linked; a relative one left out.
	card.Image.URL = "http://flowbot.local/ui/dashboard/report/chart.png?t=x"
	_, err = b.adapter.Send(ctx, bots.Recipient{UserID: "sunli"}, bots.Message{Card: &card}, "owner-report-2")
	require.NoError(t, err)
	card.Image.URL = "chart.png"
	_, err = b.adapter.Send(ctx, bots.Recipient{UserID: "sunli"}, bots.Message{Card: &card}, "owner-report-3")
	require.NoError(t, err)
	cards = b.fake.Cards()
	require.Len(t, cards, 3)
	byParams := map[string]string{}
	for _, c := range cards {
		byParams[c.OutTrackID] = c.Params["files"]
	}
	var seenHTTP, seenNone bool
	for _, f := range byParams {
		switch {
		case f == "":
			seenNone = true
		case f == "📊 [采购申请 2026-11 每周申请量与审批用时图](http://flowbot.local/ui/dashboard/report/chart.png?t=x)  \n":
			seenHTTP = true
		}
	}
	require.True(t, seenHTTP, "http picture linked: %v", byParams)
	require.True(t, seenNone, "relative picture left out: %v", byParams)
}

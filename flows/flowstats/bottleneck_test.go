package flowstats_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowstats"
)

func TestBottleneckInPlainWords(t *testing.T) {
	t.Parallel()
	a, _, tr := built(t, planted)
	b := a.Bottleneck(flowstats.Filter{}, "purchase")
	require.NotNil(t, b)
	var fin, all time.Duration
	for step, ws := range tr.waits {
		for _, w := range ws {
			all += w
			if step == "finance" {
				fin += w
			}
		}
	}
	require.Equal(t, "finance", b.StepID)
	require.Equal(t, "fay", b.Approver)
	require.InDelta(t, float64(fin)/float64(all), b.Share, 1e-9)
	require.InDelta(t, 1.0, b.ApproverShare, 1e-9)
	require.Equal(t, 16*time.Hour+30*time.Minute, b.Median)
	require.InDelta(t, float64(tr.fridayPM["finance"])/float64(len(tr.waits["finance"])), b.FridayPM, 1e-9)
	require.Equal(t, "sales", b.Dept)

	names := flowstats.Names{Flows: map[string]string{"purchase": "Purchase"}, Steps: map[string]string{"purchase/finance": "finance review"},
		Users: map[string]string{"fay": "Fay"}, Depts: map[string]string{"sales": "Sales"}}
	share := fmt.Sprintf("%.0f%%", 100*float64(fin)/float64(all))
	en := b.Text("en", names)
	require.Contains(t, en, "Purchase: "+share+" of waiting time is in finance review (100% of it with Fay); median 1.8 working days.")
	require.Contains(t, en, "Requests from Sales wait longest")
	require.Contains(t, en, "add a second approver")
	zh := b.Text("zh-CN", names)
	require.Contains(t, zh, "Purchase："+share+" 的等待时间在「finance review」（其中 100% 在 Fay 处）；中位数 1.8 个工作日。")
	require.Contains(t, zh, "增加一位审批人")

	require.Nil(t, a.Bottleneck(flowstats.Filter{}, "no-such-flow"))
}

func TestBottleneckSuggestions(t *testing.T) {
	t.Parallel()
	day := 9 * time.Hour
	cases := []struct {
		name string
		b    flowstats.Bottleneck
		en   string
		zh   string
	}{
		{"friday afternoons", flowstats.Bottleneck{StepID: "s", Approver: "x", FridayPM: 0.4, WorkDay: day}, "before Friday noon", "周五中午前"},
		{"one approver", flowstats.Bottleneck{StepID: "s", Approver: "x", ApproverShare: 0.9, Median: 2 * day, WorkDay: day}, "second approver", "增加一位审批人"},
		{"overdue", flowstats.Bottleneck{StepID: "s", Approver: "x", ApproverShare: 0.5, OverdueRate: 0.5, WorkDay: day}, "earlier reminder", "更早的提醒"},
		{"nothing special", flowstats.Bottleneck{StepID: "s", WorkDay: day}, "look first at why", "为何需要这么久"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, tc.b.Text("en", flowstats.Names{}), tc.en)
			require.Contains(t, tc.b.Text("zh", flowstats.Names{}), tc.zh)
		})
	}
}

package schedule_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/schedule"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// TestDigestNamesTheOneThing: each manager's digest leads with one thing
// to look at today, picked from the seeded history: cto's own overdue
// request before cto's older but not overdue one; ceo (no tasks of its
// own) the team's overdue request and who holds it.
func TestDigestNamesTheOneThing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedHistory(t)
	s := b.scheduler(schedule.Config{})
	require.NoError(t, s.RunDue(b.ctx, now))
	texts := b.texts(t)
	tests := []struct {
		who, en, zh string
	}{
		{"cto", "**The one thing to look at today:** REQ-C is overdue: it has waited for you at \"leave / mgr\" for 17h. Decide it first.\n",
			"**今天先看这一件：** REQ-C 已超期，在「leave / mgr」等你审批 17 小时，请先处理它。\n"},
		{"ceo", "**The one thing to look at today:** REQ-C is overdue: it has waited for 李雷 at \"leave / mgr\" for 17h. Follow it up.\n",
			"**今天先看这一件：** REQ-C 已超期，在「leave / mgr」等 李雷 审批 17 小时，请跟进。\n"},
	}
	for _, tc := range tests {
		require.Len(t, texts[tc.who], 1, tc.who)
		require.Contains(t, texts[tc.who][0].EN, tc.en, tc.who)
		require.Contains(t, texts[tc.who][0].ZH, tc.zh, tc.who)
	}
}

func TestFocusText(t *testing.T) {
	t.Parallel()
	step := flowdef.Text{ZH: "财务审批", EN: "Finance approval"}
	tests := []struct {
		f      schedule.Focus
		en, zh string
	}{
		{schedule.Focus{Kind: schedule.FocusOwnOldest, Number: "EXP-1", Step: step, Wait: 50 * time.Hour},
			`EXP-1 has waited for you at "Finance approval" for 2d 2h.`, "EXP-1 已在「财务审批」等你审批 2 天 2 小时。"},
		{schedule.Focus{Kind: schedule.FocusBottleneck, Step: step, Wait: 20 * time.Hour},
			`Nothing is overdue. The slowest step is "Finance approval" (median wait 20h): see whether it can go faster.`,
			"没有超期的申请。等待最久的环节是「财务审批」（等待中位数 20 小时），看看能否加快。"},
		{schedule.Focus{}, "", ""},
	}
	for _, tc := range tests {
		got := tc.f.Text()
		require.Equal(t, tc.en, got.EN)
		require.Equal(t, tc.zh, got.ZH)
		txt := schedule.DigestText(schedule.DigestFacts{Date: now, Submitted: 1, Focus: tc.f, HasFocus: tc.f.Kind != ""})
		if tc.en != "" {
			require.Contains(t, txt.EN, "**The one thing to look at today:** "+tc.en)
		} else {
			require.NotContains(t, txt.EN, "one thing")
		}
	}
}

// A digest whose only news would be the focus says nothing: Empty stays
// about counts.
func TestFocusAloneIsNotNews(t *testing.T) {
	t.Parallel()
	f := schedule.DigestFacts{Date: now, HasFocus: true, Focus: schedule.Focus{Kind: schedule.FocusBottleneck}}
	require.True(t, f.Empty())
}

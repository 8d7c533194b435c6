package bots_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

func TestStatsTimesAndBottleneck(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Two requests decided after 2 h and 4 h, one still waiting.
	first, second := b.submit(t, "dev1", 2), b.submit(t, "dev2", 2)
	b.submit(t, "dev1", 2)
	b.clock.Add(2 * time.Hour)
	_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, first, "cto").ID, Approve: true})
	require.NoError(t, err)
	b.clock.Add(2 * time.Hour)
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, second, "cto").ID, Comment: "no"})
	require.NoError(t, err)

	tests := []struct {
		user string
		want []string
	}{
		{"cto", []string{"范围: 研发部", "申请总数: 3", "审批中: 1", "已通过: 1", "已驳回: 1",
			"决定用时中位数: 3 小时", "决定用时 P90: 4 小时", "驳回率: 50%", "瓶颈步骤: 请假 · 上级审批（中位 3 小时）", "• 请假: 3（中位 3 小时）"}},
		{"ceo", []string{"全公司", "申请总数: 3"}},
		{"hr1", []string{"范围: 人事部", "申请总数: 0", "决定用时中位数: 暂无"}},
		{"dev2", []string{"Only managers and admins can see statistics."}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			got := text(b.say(t, tt.user, "/stats"))
			for _, w := range tt.want {
				require.Contains(t, got, w)
			}
		})
	}
}

package bots_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
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

// /stats gives the return, send-back and withdrawal rates of the requests
// that ended, per flow, and the steps that returned or sent back requests.
func TestStatsReturnSendBackWithdrawalRates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hrDecides := func(out *flows.Outcome, approve bool, outcome flowdef.RejectAction, to string) *flows.Outcome {
		t.Helper()
		v, err := b.engine.View(b.ctx, out.Instance.ID)
		require.NoError(t, err)
		out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "hr1", TaskID: pendingTask(t, &flows.Outcome{Tasks: v.Tasks}, "hr1").ID,
			Approve: approve, Outcome: outcome, ToStep: to, Comment: "x"})
		require.NoError(t, err)
		return out
	}
	// 1: HR returns it to the applicant, who withdraws it.
	one := atHR(t, b, "dev1")
	hrDecides(one, false, flowdef.RejectReturn, "")
	_, err := b.engine.Withdraw(b.ctx, "dev1", one.Instance.ID, "")
	require.NoError(t, err)
	// 2: HR sends it back to the manager, who approves again; HR approves.
	two := atHR(t, b, "dev1")
	two = hrDecides(two, false, flowdef.RejectSendBack, "manager")
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, two, "cto").ID, Approve: true})
	require.NoError(t, err)
	hrDecides(two, true, "", "")
	// 3: approved; 4: rejected for good.
	hrDecides(atHR(t, b, "dev1"), true, "", "")
	hrDecides(atHR(t, b, "dev1"), false, flowdef.RejectEnd, "")

	tests := []struct {
		user string
		want []string
	}{
		{"ceo", []string{"退回申请人率: 25%", "退回前面环节率: 25%", "撤回率: 25%",
			"• 报账: 4（中位", "，退回 25%，退回前面环节 25%，撤回 25%",
			"**按环节：退回与退回前面环节**", "• 报账 · 人事审批：5 次决定，退回 20%，退回前面环节 20%"}},
		{"hr1", []string{"范围: 人事部", "申请总数: 0"}}, // dev1's requests are not HR's department
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

package bots_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// setupExamples is setup with the shipped example company and flows.
func setupExamples(t *testing.T) *bundle {
	t.Helper()
	b := setup(t)
	testkit.LoadExampleOrg(t, b.ctx, b.db)
	testkit.PublishExampleFlows(t, b.ctx, b.engine)
	// A fresh bot: the one of setup cached the test directory's names.
	b.bot = bots.New(bots.Config{Engine: b.engine, State: b.state, AdminContact: admin})
	return b
}

func TestExampleFlowsStartAConversation(t *testing.T) {
	t.Parallel()
	b := setupExamples(t)
	defs, err := b.engine.Flows(b.ctx)
	require.NoError(t, err)
	listed := text(b.say(t, "wangzong", "/flows"))
	for _, d := range defs {
		if !b.engine.CanStart(b.ctx, mustUser(t, b, "wangzong"), d) {
			continue
		}
		require.Contains(t, listed, "/"+d.ID)
		got := text(b.say(t, "wangzong", "/"+d.ID))
		require.Contains(t, got, d.Name.ZH+" · 第 1/", d.ID)
		require.Contains(t, got, d.Fields[0].Label.ZH, d.ID)
	}
}

func TestExampleLeaveEndToEnd(t *testing.T) {
	t.Parallel()
	b := setupExamples(t)
	b.say(t, "hanmeimei", "请假")
	b.say(t, "hanmeimei", "3")
	b.say(t, "hanmeimei", "2026-12-01~2026-12-02")
	card := lastCard(t, b.say(t, "hanmeimei", "家里有事"))
	require.Contains(t, cardText(card), "事假")
	rep := b.click(t, "hanmeimei", button(t, card, "submit"), nil)
	require.True(t, strings.HasPrefix(rep.Toast, "已提交，申请编号 LEAVE-"), rep.Toast)
	require.Contains(t, cardText(rep.Card), "→ 直属上级审批 — 李雷")

	task := lastCard(t, b.say(t, "lilei", "/todo"))
	require.Contains(t, cardText(task), "部门: 研发部")
	rep = b.click(t, "lilei", button(t, task, "approve"), nil)
	require.Equal(t, "已同意", rep.Toast)
	require.Equal(t, bots.ColorGreen, rep.Card.Color)
	require.Contains(t, text(b.say(t, "hanmeimei", "/mine")), "已通过")
}

func mustUser(t *testing.T, b *bundle, id string) *flows.User {
	t.Helper()
	u, err := b.db.User(b.ctx, id)
	require.NoError(t, err)
	return u
}

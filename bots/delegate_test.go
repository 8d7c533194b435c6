package bots_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDelegateCommandRoutesAndAudits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rep := b.say(t, "cto", "/delegate @王总 2026-12-01 2026-12-10")
	require.Contains(t, text(rep), "2026-12-01 至 2026-12-10")
	require.Contains(t, text(rep), "王总")

	b.clock.Set(time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC))
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "ceo")
	require.Equal(t, "cto", task.OnBehalfOf)
	v0, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	users0, _ := testOrg()
	require.Contains(t, cardText(b.bot.TaskCard(v0, task, users0[0])), "你在代 李雷 审批", "the delegate's card says for whom")
	b.click(t, "ceo", taskButton("approve", task), map[string]string{"comment": "ok"})

	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	users, _ := testOrg()
	card := cardText(b.bot.RequestCard(v, users[2]))
	require.Contains(t, card, "王总 代 李雷 同意", "the audit trail names both")
	en := cardText(b.bot.RequestCard(v, users[3]))
	require.Contains(t, en, "王总 for 李雷 approved")
}

func TestDelegateCardAndOff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	form := lastCard(t, b.say(t, "cto", "/delegate"))
	require.Contains(t, cardText(form), "没有委托")
	rep := b.click(t, "cto", button(t, form, "delegate_set"), map[string]string{"to": ""})
	require.Equal(t, "请填写要转交或加签的人", rep.Toast, "no delegate: a warning, nothing stored")
	rep = b.click(t, "cto", button(t, form, "delegate_set"), map[string]string{"to": "王总", "start": "2026-12-05", "end": "2026-12-01"})
	require.Contains(t, rep.Toast, "早于")
	rep = b.click(t, "cto", button(t, form, "delegate_set"), map[string]string{"to": "王总", "start": "2026-11-26", "end": "2026-12-10"})
	require.Contains(t, rep.Toast, "2026-11-26 至 2026-12-10")
	rep = b.say(t, "cto", "委托")
	c := lastCard(t, rep)
	require.Contains(t, cardText(c), "王总")
	require.Contains(t, cardText(c), "2026-11-26 – 2026-12-10")
	rep = b.click(t, "cto", button(t, c, "delegate_off"), nil)
	require.Equal(t, "委托已结束，新的审批将直接交给你。", rep.Toast)
	// A second click changes nothing and says so.
	rep = b.click(t, "cto", button(t, c, "delegate_off"), nil)
	require.Equal(t, "你当前没有委托。", rep.Toast)
	require.Contains(t, text(b.say(t, "cto", "代理 off")), "没有委托")
	out := b.submit(t, "dev1", 1)
	require.NotNil(t, pendingTask(t, out, "cto"))
}

func TestDelegatePendingFromChat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 1)
	rep := b.say(t, "cto", "/delegate 王总 2026-11-26 2026-12-01 --pending")
	require.Contains(t, text(rep), "已移交 1 条待办")
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	var got []string
	for _, x := range v.Tasks {
		got = append(got, x.Assignee+":"+string(x.Status))
	}
	require.Equal(t, []string{"cto:transferred", "ceo:pending"}, got)
}

func TestDelegateCommandBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"UnknownUser", "/delegate @nobody 2026-12-01 2026-12-02", "nobody"},
		{"Self", "/delegate @李雷 2026-12-01 2026-12-02", "不能委托给自己"},
		{"BadDate", "/delegate @王总 12/01 2026-12-02", "看不懂"},
		{"Reversed", "/delegate @王总 2026-12-05 2026-12-02", "早于"},
		{"Past", "/delegate @王总 2026-11-01 2026-11-02", "已经结束"},
		{"NoDates", "/delegate @王总", "用法"},
		{"TooMany", "/delegate @王总 2026-12-01 2026-12-02 2026-12-03", "用法"},
		{"OffWithout", "/delegate off", "没有委托"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			require.Contains(t, text(b.say(t, "cto", tc.text)), tc.want)
			ds, err := b.engine.Delegations(b.ctx, "cto")
			require.NoError(t, err)
			require.Empty(t, ds, "nothing stored")
			out := b.submit(t, "dev1", 1)
			require.NotNil(t, pendingTask(t, out, "cto"))
		})
	}
}

func TestWhoamiShowsLinkedAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		user, text string
		want       []string
	}{
		{"dev1", "/whoami", []string{"韩梅梅 的账号", "dev1@example.com", "feishu:cli_a: ou_dev1"}},
		{"dev2", "我是谁", []string{"Accounts of Tom", "tom@example.com", "no platform account"}},
	}
	for _, tc := range tests {
		c := lastCard(t, b.say(t, tc.user, tc.text))
		for _, w := range tc.want {
			require.Contains(t, cardText(c), w)
		}
	}
}

package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// Defect 13: a user field accepts a name, an id or an @mention; when a
// name matches several people the bot offers them numbered, a number
// picks one, and the card shows the name.
func TestUserFieldOffersChoices(t *testing.T) {
	t.Parallel()
	b := setup(t)
	users, depts := testOrg()
	users = append(users,
		&flows.User{ID: "zw1", Name: "张伟", Dept: "eng", Manager: "cto"},
		&flows.User{ID: "zw2", Name: "张伟", Dept: "fin", Manager: "ceo"})
	require.NoError(t, b.db.ReplaceDirectory(b.ctx, users, depts))
	_, _, err := b.engine.PublishFlow(b.ctx, "rules.yaml", []byte(rulesYAML))
	require.NoError(t, err)
	rep := b.say(t, "dev1", "/rules amount=12 qty=2 period=2026-12-01~2026-12-02 code=AB-123 day=2026-12-01")
	require.Contains(t, text(rep), "上级")
	out := text(b.say(t, "dev1", "张伟"))
	require.Contains(t, out, "请回复序号选择")
	require.Contains(t, out, "1. 张伟（研发部 · zw1）")
	require.Contains(t, out, "2. 张伟（财务部 · zw2）")
	require.Empty(t, cards(b.say(t, "dev1", "3")), "3 is no choice: asked again")
	out = text(b.say(t, "dev1", "张伟"))
	require.Contains(t, out, "2. 张伟")
	c := lastCard(t, b.say(t, "dev1", "2"))
	require.Contains(t, cardText(c), "上级: 张伟")
	require.NotContains(t, cardText(c), "zw2", "the card shows the name")
	rep = b.click(t, "dev1", button(t, c, "submit"), nil)
	require.Contains(t, rep.Toast, "已提交")
	ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
	require.NoError(t, err)
	v, err := b.engine.View(b.ctx, ins[0].ID)
	require.NoError(t, err)
	require.Equal(t, "zw2", v.Form["manager"], "the second 张伟 was picked")
}

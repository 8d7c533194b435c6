package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const payYAML = `
id: pay
name: {zh: 付款, en: Payment}
fields:
  - id: total
    type: money
    label: {zh: 总金额, en: Total amount}
    required: true
  - id: note
    type: text
    label: {zh: 付款说明, en: Payment note}
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
`

// Defect 11: hints name the flow's real keys, and a label in either
// language (spaces and all) is a key.
func TestLabelsAreKeysAndHintsNameThem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, user, start, edit, want string
	}{
		{"en label with a space", "dev2", "/pay Total amount=3600", "payment NOTE=\"for the team\"", "for the team"},
		{"zh label", "dev1", "/pay 总金额=3600", "付款说明=团建", "团建"},
		{"id", "dev1", "/pay total=3600", "note=团建", "团建"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, _, err := b.engine.PublishFlow(b.ctx, "pay.yaml", []byte(payYAML))
			require.NoError(t, err)
			c := lastCard(t, b.say(t, tc.user, tc.start))
			require.Contains(t, cardText(c), "3,600.00")
			// The hint names this flow's keys, not another flow's.
			require.Contains(t, c.Markdown, "total")
			require.Contains(t, c.Markdown, "note")
			require.NotContains(t, c.Markdown, "reason=")
			c = lastCard(t, b.say(t, tc.user, tc.edit))
			require.Contains(t, cardText(c), tc.want)
		})
	}
}

// A word that is no key gets a hint with the real keys.
func TestBareWordHintNamesTheKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, err := b.engine.PublishFlow(b.ctx, "pay.yaml", []byte(payYAML))
	require.NoError(t, err)
	out := text(b.say(t, "dev2", "/pay lots"))
	require.Contains(t, out, "total (Total amount)")
	require.Contains(t, out, "note=")
	require.NotContains(t, out, "reason=")
}

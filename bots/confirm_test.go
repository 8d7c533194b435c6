package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// Defect 2: a confirmation card files exactly what it shows, or is
// refused; the newest card is the live one.
func TestConfirmCardFilesWhatItShows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		older bool // click the older card first
	}{
		{"older card first", true},
		{"newest card only", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			a := lastCard(t, b.say(t, "dev1", "/leave type=annual from=2026-12-01 to=2026-12-02 reason=家事"))
			// Change a value: a new card B shows it.
			bcard := lastCard(t, b.say(t, "dev1", "reason=看病"))
			require.Contains(t, cardText(bcard), "看病")
			require.NotContains(t, cardText(a), "看病")
			if tc.older {
				rep := b.click(t, "dev1", button(t, a, "submit"), nil)
				require.Contains(t, rep.Toast, "过期", "got %q: the older card shows 家事, the conversation holds 看病", rep.Toast)
				ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
				require.NoError(t, err)
				require.Empty(t, ins, "the older card files nothing")
				require.NotNil(t, rep.Card, "the older card is replaced")
				require.Empty(t, rep.Card.Buttons, "the older card loses its buttons")
			}
			rep := b.click(t, "dev1", button(t, bcard, "submit"), nil)
			require.Contains(t, rep.Toast, "已提交", "got %q: the newest card is the live one", rep.Toast)
			ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
			require.NoError(t, err)
			require.Len(t, ins, 1)
			v, err := b.engine.View(b.ctx, ins[0].ID)
			require.NoError(t, err)
			require.Equal(t, "看病", v.Form["reason"], "filed what card B shows")
		})
	}
}

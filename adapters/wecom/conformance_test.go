package wecom_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/wecom"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/bots"
)

type harness struct{}

func (harness) NewTarget(t *testing.T, rec *adaptertest.Recorder) adaptertest.Target {
	return &target{b: setup(t, setupOpts{handler: rec})}
}

// RenderCard returns the message/send body of the card with the longest
// task_id and a long user id.
func (harness) RenderCard(c bots.Card) ([]byte, error) {
	return wecom.RenderSend(1000002, "zhangsan.with.a.long.userid@example", bots.Message{Card: &c}, "fb-0123456789abcdef0123456789abcdef")
}

func (harness) MaxCardBytes() int { return wecom.MaxCardBytes }

type target struct{ b *testBundle }

// Click sends a card with the button (and the click's inputs, which WeCom
// asks in the chat) through the adapter, clicks it as WeCom delivers it,
// altered by attack, and answers the follow-up questions.
func (tg *target) Click(t *testing.T, c adaptertest.ClickSpec, attack adaptertest.Attack) bool {
	b := tg.b
	var names []string
	for k := range c.Inputs {
		names = append(names, k)
	}
	slices.Sort(names)
	card := bots.Card{Title: "t", Buttons: []bots.Button{{Label: "go", Action: c.Action, Value: c.Value}}}
	for _, n := range names {
		card.Inputs = append(card.Inputs, bots.Input{Name: n, Label: n, Required: true})
	}
	_, m := b.sendCard(t, c.UserID, card, "")
	key := keyOf(t, m.Card, "go")
	rc, ok := b.fake.IssueCode(b.app.CorpID, b.app.AgentID, m.TaskID, c.UserID)
	require.True(t, ok)
	at := time.Now()
	if attack == adaptertest.Replayed {
		at = at.Add(-10 * time.Minute)
	}
	plain := wecomtest.ClickXML(b.app, c.UserID, m.TaskID, key, rc, at)
	s := b.seal(t, plain, at)
	switch attack {
	case adaptertest.ForgedSignature:
		forged := b.app
		forged.Token = "guessed"
		s = wecomtest.SealCiphertext(forged, s.Encrypt, at)
	case adaptertest.Tampered:
		changed := bytes.Replace(plain, []byte(c.Action), []byte("reject"), 1)
		other := b.seal(t, changed, at)
		s.Body = bytes.Replace(s.Body, []byte(s.Encrypt), []byte(other.Encrypt), 1)
	}
	r := b.post(t, s)
	if r.Status != http.StatusOK {
		return false
	}
	for _, n := range names {
		r, err := b.fake.SendText(b.ctx, b.app.CorpID, b.app.AgentID, c.UserID, c.Inputs[n])
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
	}
	return true
}

func (tg *target) Message(t *testing.T, userID, text string) bool {
	r, err := tg.b.fake.SendText(tg.b.ctx, tg.b.app.CorpID, tg.b.app.AgentID, userID, text)
	require.NoError(t, err)
	return r.Status == http.StatusOK && r.Body == ""
}

func (tg *target) Messenger() bots.Messenger { return tg.b.adapter }

func (tg *target) ReplyTo(userID string) bots.Recipient {
	return bots.Recipient{Platform: wecom.Platform, App: tg.b.name, UserID: userID, ChatID: userID}
}

func (tg *target) Shown(t *testing.T, to bots.Recipient) int {
	return len(tg.b.fake.MessagesTo(to.UserID))
}

var _ adaptertest.Delivery = (*target)(nil)

func TestConformance(t *testing.T) {
	t.Parallel()
	adaptertest.Run(t, harness{})
}

// Restart builds the next process's adapter on the same fake.
func (tg *target) Restart(t *testing.T) bots.Messenger {
	a, err := tg.b.renew()
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

package teams_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/teams"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/bots"
)

type harness struct{}

func (harness) NewTarget(t *testing.T, rec *adaptertest.Recorder) adaptertest.Target {
	return &target{b: setup(t, setupOpts{handler: rec})}
}

// RenderCard returns the activity that sends the card: Teams' size limit
// applies to it.
func (harness) RenderCard(c bots.Card) ([]byte, error) {
	card, err := teams.RenderCard(c)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"type": "message", "attachments": []any{map[string]any{
		"contentType": "application/vnd.microsoft.card.adaptive", "content": json.RawMessage(card)}}})
}

func (harness) MaxCardBytes() int { return teams.MaxCardBytes + 1024 }

type target struct{ b *testBundle }

// Click sends the Action.Execute invoke of a rendered button. Forged: a
// token signed by a key the JWKS does not hold under the endorsed kid;
// replayed: a token expired beyond the leeway; tampered: the activity's
// serviceUrl changed after the token was minted.
func (tg *target) Click(t *testing.T, c adaptertest.ClickSpec, attack adaptertest.Attack) bool {
	f := tg.b.fake
	card, err := teams.RenderCard(bots.Card{Title: "t", Buttons: []bots.Button{{Label: "go", Action: c.Action, Value: c.Value}}})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(card, &m))
	btns := teamstest.Buttons(m)
	require.Len(t, btns, 1)
	data := map[string]any{}
	for k, v := range btns[0].Data {
		data[k] = v
	}
	for k, v := range c.Inputs {
		data[k] = v
	}
	act := f.Invoke(tg.b.appID, teamsID(c.UserID), c.UserID, btns[0].Verb, data, "")
	tok := tg.b.token()
	switch attack {
	case adaptertest.ForgedSignature:
		tok = f.Token(tg.b.appID, teamstest.Claims{Forge: true})
	case adaptertest.Replayed:
		tok = f.Token(tg.b.appID, teamstest.Claims{NotBefore: time.Now().Add(-2 * time.Hour), Expires: time.Now().Add(-10 * time.Minute)})
	case adaptertest.Tampered:
		act["serviceUrl"] = "https://attacker.example/"
	}
	r := teamstest.Post(tg.b.adapter, act, tok)
	if attack != adaptertest.Genuine {
		require.Zero(t, f.Calls(), "a refused click must make no Connector call")
	}
	return r.Status == http.StatusOK && r.Invoke.StatusCode == http.StatusOK
}

func (tg *target) Message(t *testing.T, userID, text string) bool {
	r := teamstest.Post(tg.b.adapter, tg.b.fake.Message(tg.b.appID, teamsID(userID), userID, text), tg.b.token())
	return r.Status == http.StatusOK
}

func (tg *target) Messenger() bots.Messenger { return tg.b.adapter }

func (tg *target) ReplyTo(userID string) bots.Recipient {
	return bots.Recipient{Platform: teams.Platform, UserID: teamsID(userID), ChatID: tg.b.fake.PersonalConversation(teamsID(userID))}
}

func (tg *target) Shown(t *testing.T, to bots.Recipient) int {
	return len(tg.b.fake.ActivitiesIn(to.ChatID))
}

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

// NoSendKey: the Bot Connector's send activity has no idempotency field;
// a card sent by a process killed before the notifier recorded it is
// sent again by the next one.
func (tg *target) NoSendKey() string {
	return "the Bot Connector's send activity has no idempotency field"
}

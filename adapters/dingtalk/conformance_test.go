package dingtalk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/bots"
)

type harness struct{}

// NewTarget wires an HTTP-mode app: its callbacks carry DingTalk's
// timestamp + sign, which the attacks alter (Stream frames carry no
// signature; the adapter's signed button tokens guard their content).
func (harness) NewTarget(t *testing.T, rec *adaptertest.Recorder) adaptertest.Target {
	return &target{b: setup(t, setupOpts{mode: dingtalk.ModeHTTP, handler: rec})}
}

// RenderCard returns the createAndDeliver body of the card.
func (harness) RenderCard(c bots.Card) ([]byte, error) {
	data, err := dingtalk.RenderCard(c, "secret-0123456789abcdef")
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"cardTemplateId": "tpl-flowbot.schema", "outTrackId": "fb-0123456789abcdef01234567", "callbackType": "STREAM",
		"cardData": json.RawMessage(data), "openSpaceId": "dtv1.card//IM_ROBOT.manager0001",
		"imRobotOpenSpaceModel":   map[string]any{"supportForward": true},
		"imRobotOpenDeliverModel": map[string]any{"spaceType": "IM_ROBOT", "robotCode": "dingabcdefabcdef"},
		"userIdType":              1,
	})
}

func (harness) MaxCardBytes() int { return dingtalk.MaxCardBytes }

type target struct{ b *testBundle }

func (tg *target) Click(t *testing.T, c adaptertest.ClickSpec, attack adaptertest.Attack) bool {
	card := bots.Card{Title: "t", Buttons: []bots.Button{{Label: "go", Action: c.Action, Value: c.Value}}}
	names := make([]string, 0, len(c.Inputs))
	for k := range c.Inputs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		card.Inputs = append(card.Inputs, bots.Input{Name: n, Label: n})
	}
	track := tg.b.sendCard(t, c.UserID, card)
	body, err := tg.b.fake.ClickData(dingtalktest.Click{OutTrackID: track, UserID: c.UserID, Inputs: c.Inputs})
	require.NoError(t, err)
	at, secret := time.Now(), ""
	switch attack {
	case adaptertest.ForgedSignature:
		secret = "guessed-secret"
	case adaptertest.Replayed:
		at = at.Add(-2 * time.Hour)
	case adaptertest.Tampered:
		body = bytes.Replace(body, []byte(c.Action), []byte("reject"), 1)
	}
	r, err := tg.b.fake.PostCallback(tg.b.app.Key, body, at, secret)
	require.NoError(t, err)
	if r.Status != http.StatusOK {
		return false
	}
	_, err = tg.b.fake.DecodeClickAnswer(track, r.Body)
	return err == nil
}

func (tg *target) Message(t *testing.T, userID, text string) bool {
	data := tg.b.fake.MessageData(tg.b.app.Key, dingtalktest.Message{StaffID: userID, Text: text})
	r, err := tg.b.fake.PostCallback(tg.b.app.Key, data, time.Now(), "")
	require.NoError(t, err)
	return r.Status == http.StatusOK
}

func (tg *target) Messenger() bots.Messenger { return tg.b.adapter }

func (tg *target) ReplyTo(userID string) bots.Recipient {
	return bots.Recipient{Platform: dingtalk.Platform, App: tg.b.app.Key, UserID: userID}
}

func (tg *target) Shown(t *testing.T, to bots.Recipient) int {
	n := 0
	for _, s := range tg.b.fake.Sent() {
		if s.UserID == to.UserID && s.ChatID == to.ChatID {
			n++
		}
	}
	return n
}

func TestConformance(t *testing.T) {
	t.Parallel()
	adaptertest.Run(t, harness{})
}

var _ = context.Background

// Restart builds the next process's adapter on the same fake.
func (tg *target) Restart(t *testing.T) bots.Messenger {
	a, err := tg.b.renew()
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

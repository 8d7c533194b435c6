package teams_test

import (
	"net/http"
	"testing"

	"github.com/flowbot/flowbot/adapters/teams"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
)

func FuzzDecodeActivity(f *testing.F) {
	f.Add([]byte(`{"type":"message","id":"1","serviceUrl":"https://x/","channelId":"msteams","from":{"id":"29:a","aadObjectId":"g"},"conversation":{"id":"a:1;messageid=2"},"text":"<at>bot</at> hi"}`))
	f.Add([]byte(`{"type":"invoke","name":"adaptiveCard/action","value":{"action":{"type":"Action.Execute","verb":"approve","data":{"flowbot_a":"approve"}}}}`))
	f.Add([]byte(`{"type":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		act, err := teams.DecodeActivity(body)
		if err == nil && (act.ServiceURL == "" || act.Conversation == nil || act.From == nil) {
			t.Fatalf("decoded an activity without its required fields: %+v", act)
		}
	})
}

func FuzzDecodeAction(f *testing.F) {
	f.Add([]byte(`{"flowbot_a":"approve","flowbot_v":{"task":"1"},"reason":"x","d__from":"2026-12-01","d__to":"2026-12-02","n":3,"b":true}`))
	f.Add([]byte(`{"flowbot_a":"","flowbot_v":[]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := teams.DecodeAction(data)
		if err == nil && a == nil {
			t.Fatal("nil action without error")
		}
	})
}

// FuzzInbound: any body with a genuine token is answered without panic,
// and nothing is sent back.
func FuzzInbound(f *testing.F) {
	b := setup(f, setupOpts{})
	tok := b.token()
	f.Add([]byte(`{"type":"message","serviceUrl":"` + b.fake.ServiceURL() + `","channelId":"msteams","from":{"id":"29:a"},"conversation":{"id":"c"},"text":"hi"}`))
	f.Add([]byte(`{"type":"invoke","name":"adaptiveCard/action","serviceUrl":"` + b.fake.ServiceURL() + `","channelId":"msteams","from":{"id":"29:a"},"conversation":{"id":"c"},"value":{"action":{"type":"Action.Execute","data":{"flowbot_a":"x","flowbot_v":{"a":1}}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := teamstest.Post(b.adapter, body, tok)
		if r.Status >= 500 && r.Status != http.StatusInternalServerError {
			t.Fatalf("status %d", r.Status)
		}
	})
}

package teams_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/teams"
)

func TestManifest(t *testing.T) {
	t.Parallel()
	b, err := teams.Manifest(teams.ManifestParams{AppID: "11111111-2222-3333-4444-555555555555", Domain: "flowbot.example.com", Name: `Flow "bot"`})
	require.NoError(t, err)
	var m struct {
		ID   string `json:"id"`
		Name struct {
			Short string `json:"short"`
		} `json:"name"`
		Bots []struct {
			BotID        string   `json:"botId"`
			Scopes       []string `json:"scopes"`
			CommandLists []struct {
				Commands []struct {
					Title string `json:"title"`
				} `json:"commands"`
			} `json:"commandLists"`
		} `json:"bots"`
		ValidDomains []string `json:"validDomains"`
	}
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, "11111111-2222-3333-4444-555555555555", m.ID)
	require.Equal(t, `Flow "bot"`, m.Name.Short)
	require.Equal(t, m.ID, m.Bots[0].BotID)
	require.Contains(t, m.Bots[0].Scopes, "personal")
	require.NotEmpty(t, m.Bots[0].CommandLists[0].Commands)
	require.Equal(t, []string{"flowbot.example.com"}, m.ValidDomains)

	for _, p := range []teams.ManifestParams{{Domain: "x.example.com"}, {AppID: "a"}, {AppID: "a", Domain: "https://x.example.com/"}} {
		_, err := teams.Manifest(p)
		require.Error(t, err)
	}
}

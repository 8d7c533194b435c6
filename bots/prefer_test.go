package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

func TestPrefer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, user, text string
		want             string // in the reply
		stored           string // the preference afterwards
	}{
		{"Set", "dev1", "/prefer feishu", "now go to feishu first", "feishu"},
		{"ChineseAlias", "dev1", "首选平台 FEISHU", "以后的消息会优先发到 feishu", "feishu"},
		{"NotLinked", "dev1", "/prefer dingtalk", "no linked account on dingtalk", ""},
		{"Unknown", "dev1", "/prefer myspace", "no linked account on myspace", ""},
		{"NoArgument", "dev1", "/prefer", "Usage: /prefer PLATFORM, one of: feishu", ""},
		{"TwoArguments", "dev1", "/prefer feishu web", "Usage", ""},
		{"Off", "dev1", "/prefer off", "Back to the default", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Prefs: b.db, AdminContact: admin})
			if tt.name == "Off" {
				require.NoError(t, b.db.SetPreference(b.ctx, "dev1", "feishu"))
			}
			en := map[string]bool{"Set": true, "NotLinked": true, "Unknown": true, "NoArgument": true, "TwoArguments": true, "Off": true}
			if en[tt.name] {
				u, err := b.db.User(b.ctx, tt.user)
				require.NoError(t, err)
				u.Locale = "en"
				us, _ := b.db.Users(b.ctx)
				ds, _ := b.db.Departments(b.ctx)
				for i := range us {
					if us[i].ID == u.ID {
						us[i] = u
					}
				}
				require.NoError(t, b.db.ReplaceDirectory(b.ctx, us, ds))
			}
			rep := b.say(t, tt.user, tt.text)
			require.Contains(t, text(rep), tt.want)
			p, err := b.db.Preference(b.ctx, tt.user)
			require.NoError(t, err)
			require.Equal(t, tt.stored, p)
		})
	}
}

func TestPreferUnavailableWithoutStore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Contains(t, text(b.say(t, "dev1", "/prefer feishu")), "不支持设置首选平台")
}

func TestWhoamiShowsPreference(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Prefs: b.db, AdminContact: admin})
	require.NotContains(t, cardText(lastCard(t, b.say(t, "dev1", "/whoami"))), "首选")
	b.say(t, "dev1", "/prefer feishu")
	c := cardText(lastCard(t, b.say(t, "dev1", "/whoami")))
	require.Contains(t, c, "feishu:cli_a: ou_dev1")
	require.Contains(t, c, "消息首选发到：feishu")
}

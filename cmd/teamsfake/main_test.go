package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/teams"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/bots"
)

func TestRunPrintsConfigAndStops(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, strings.NewReader("help\n"), &out, &errOut)
	require.NoError(t, err)
	for _, want := range []string{"teams:", "app_id:", "openid_metadata_url:", "service_url:", "msg <user>"} {
		require.Contains(t, out.String(), want)
	}
	require.ErrorIs(t, run(context.Background(), []string{"-h"}, strings.NewReader(""), &out, &errOut), flag.ErrHelp)
	err = run(context.Background(), []string{"-addr", "not an address"}, strings.NewReader(""), &out, &errOut)
	require.Error(t, err)
	require.False(t, errors.Is(err, flag.ErrHelp))
}

// TestCommandsDriveTheAdapter: msg and click go to a real adapter, signed
// as the Bot Framework signs them; the bot's card comes back through the
// Connector and is listed by cards.
func TestCommandsDriveTheAdapter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var seen []string
	fake := teamstest.NewServerOn(ln, func(a teamstest.Activity) {
		mu.Lock()
		seen = append(seen, describe(a))
		mu.Unlock()
	})
	defer fake.Close()
	var ad *teams.Adapter
	rec := &adaptertest.Recorder{ReplyFunc: func(ev bots.Event) (bots.Reply, error) {
		if ev.Action != nil {
			return bots.Reply{Card: &bots.Card{Title: "Approved"}}, nil
		}
		// Stand in for the notifier: send a card into the chat.
		_, err := ad.Send(context.Background(), bots.Recipient{ChatID: ev.ChatID}, bots.Message{Card: &bots.Card{Title: "Task 1",
			Buttons: []bots.Button{{Label: "OK", Action: "approve", Value: map[string]string{"task": "1"}}}}}, "k-"+ev.ID)
		return bots.Reply{}, err
	}}
	ad, err = teams.New(teams.Config{AppID: appID, AppPassword: password, TenantID: tenantID,
		OpenIDMetadataURL: fake.MetadataURL(), LoginBaseURL: fake.URL, ServiceURL: fake.ServiceURL()}, rec)
	require.NoError(t, err)
	defer ad.Close()
	bot := httptest.NewServer(ad)
	defer bot.Close()
	ctx := context.Background()

	require.Equal(t, "answer: http 200", command(ctx, fake, bot.URL, "msg 29:1amy hello there"))
	require.Equal(t, "hello there", rec.Events()[0].Text)
	list := command(ctx, fake, bot.URL, "cards 29:1amy")
	require.Contains(t, list, "Task 1 [approve]")
	id := strings.Fields(list)[1]
	require.Contains(t, command(ctx, fake, bot.URL, "click 29:1amy "+id+" approve comment=fine"), "invoke 200 application/vnd.microsoft.card.adaptive")
	require.Equal(t, "fine", rec.Events()[1].Action.Inputs["comment"])
	require.Contains(t, command(ctx, fake, bot.URL, "click 29:1amy "+id+" reject"), "no reject button")
	require.Contains(t, command(ctx, fake, bot.URL, "nonsense"), "commands:")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 1)
	require.Contains(t, seen[0], "sent ")
}

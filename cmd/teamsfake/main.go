// Command teamsfake runs the in-process Microsoft Teams fake (teamstest)
// on a fixed address, to try flowbot's Teams adapter by hand, with no
// Microsoft tenant: the Bot Framework's OpenID metadata and signing keys,
// the tenant token endpoint and the Bot Connector.
//
// Usage:
//
//	teamsfake [-addr 127.0.0.1:9998] [-bot http://127.0.0.1:8080/api/messages]
//
// It prints the teams: block to put in the config of `flowbot serve
// --config`, then reads commands from stdin, one a line:
//
//	msg <user> <text...>                           send a signed 1:1 message from user (a 29:... id)
//	click <user> <activity_id> <verb> [key=value...]  Action.Execute the button with that verb on a card the bot sent, with the card's inputs
//	cards <user>                                   list the cards in user's 1:1 chat: activity id, title, verbs
//	help                                           show the commands
//
// Activities the bot sends or updates are printed as they arrive. Users
// are known to the bot by their Teams id (platforms: {teams: "29:..."} in
// the org file). Stop it with Ctrl-D or Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"

	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/internal/fakecli"
)

// The fake's bot.
const (
	appID    = "00000000-0000-0000-0000-00000000b07f"
	password = "fake-app-password"
	tenantID = "00000000-0000-0000-0000-0000000te4a7"
)

const commands = `commands:
  msg <user> <text...>
  click <user> <activity_id> <verb> [key=value...]
  cards <user>
  help`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "teamsfake:", err)
		os.Exit(2)
	}
}

// run parses args, starts the fake and serves commands from in until it
// ends or ctx is done.
func run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("teamsfake", flag.ContinueOnError)
	fs.SetOutput(errOut)
	addr := fs.String("addr", "127.0.0.1:9998", "address the fake listens on")
	bot := fs.String("bot", "http://127.0.0.1:8080/api/messages", "flowbot's Teams messaging endpoint, where activities are posted")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "Usage: teamsfake [-addr host:port] [-bot url]")
		fmt.Fprintln(errOut, "Runs a fake Microsoft Teams (Bot Framework + Bot Connector) for `flowbot serve` and reads commands from stdin.")
		fs.PrintDefaults()
		fmt.Fprintln(errOut, commands)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	w := fakecli.NewWriter(out)
	fake := teamstest.NewServerOn(ln, func(a teamstest.Activity) {
		w.Printf("%s\n", describe(a))
	})
	defer fake.Close()
	w.Printf("teams fake on %s; put this in flowbot's config:\n\nteams:\n  app_id: %q\n  app_password: %q\n  tenant_id: %q\n  openid_metadata_url: %q\n  login_base_url: %q\n  service_url: %q\n\n%s\n",
		fake.URL, appID, password, tenantID, fake.MetadataURL(), fake.URL, fake.ServiceURL(), commands)
	return fakecli.Serve(ctx, in, func(line string) {
		w.Printf("%s\n", command(ctx, fake, *bot, line))
	})
}

// command runs one command line and returns what to print.
func command(ctx context.Context, fake *teamstest.Server, bot, line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return ""
	}
	post := func(act map[string]any) string {
		r, err := teamstest.PostURL(ctx, bot, act, fake.Token(appID, teamstest.Claims{}))
		if err != nil {
			return "error: " + err.Error()
		}
		if r.Invoke.Type != "" {
			return fmt.Sprintf("answer: http %d, invoke %d %s", r.Status, r.Invoke.StatusCode, r.Invoke.Type)
		}
		return fmt.Sprintf("answer: http %d", r.Status)
	}
	switch {
	case f[0] == "msg" && len(f) >= 3:
		return post(fake.Message(appID, f[1], "", strings.Join(f[2:], " ")))
	case f[0] == "click" && len(f) >= 4:
		a, ok := fake.Activity(f[2])
		if !ok {
			return "error: no activity " + f[2]
		}
		var data map[string]any
		for _, b := range teamstest.Buttons(a.Card()) {
			if b.Verb == f[3] {
				data = b.Data
			}
		}
		if data == nil {
			return "error: no " + f[3] + " button on activity " + f[2]
		}
		for _, kv := range f[4:] {
			k, v, _ := strings.Cut(kv, "=")
			data[k] = v
		}
		return post(fake.Invoke(appID, f[1], "", f[3], data, f[2]))
	case f[0] == "cards" && len(f) == 2:
		var b strings.Builder
		for _, a := range fake.ActivitiesIn(fake.PersonalConversation(f[1])) {
			if a.Card() != nil {
				b.WriteString(describe(a) + "\n")
			}
		}
		return strings.TrimSuffix(b.String(), "\n")
	default:
		return commands
	}
}

// describe is one line about an activity: id, conversation, title or
// text, and the verbs of its buttons.
func describe(a teamstest.Activity) string {
	what, _ := a.Body["text"].(string)
	if c := a.Card(); c != nil {
		what = teamstest.Title(c)
		var verbs []string
		for _, b := range teamstest.Buttons(c) {
			verbs = append(verbs, b.Verb)
		}
		if len(verbs) > 0 {
			what += " [" + strings.Join(verbs, " ") + "]"
		}
	}
	verb := "sent"
	if a.Updates > 0 {
		verb = fmt.Sprintf("updated(%d)", a.Updates)
	}
	return fmt.Sprintf("%s %s in %s: %s", verb, a.ID, a.Conversation, what)
}

// Command dingtalkfake runs the in-process DingTalk fake (dingtalktest) on
// a fixed address, to try flowbot's DingTalk adapter by hand, with no
// DingTalk account.
//
// Usage:
//
//	dingtalkfake [-addr 127.0.0.1:9998]
//
// It prints the dingtalk: block to put in the config of `flowbot serve
// --config` (one Stream-mode app whose base_url is the fake), then reads
// commands from stdin, one a line:
//
//	msg <staff_id> <text...>                               deliver a 1:1 message over the Stream connection
//	click <staff_id> <out_track_id> <action> [key=value...]  click the button with that action on a card, with the card's inputs
//	cards <staff_id>                                        list the cards shown to staff_id: outTrackId, title, buttons
//	help                                                    show the commands
//
// Messages the bot shows are printed as they arrive. Users are known to
// the bot by their staff id (platforms: {dingtalk: user0004} in the org
// file). Stop it with Ctrl-D or Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/internal/fakecli"
)

// The fake's one app.
const (
	appKey    = "dingfakeapp0001"
	appSecret = "fake-app-secret"
)

const commands = `commands:
  msg <staff_id> <text...>
  click <staff_id> <out_track_id> <action> [key=value...]
  cards <staff_id>
  help`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "dingtalkfake:", err)
		os.Exit(2)
	}
}

// run parses args, starts the fake and serves commands from in until it
// ends or ctx is done.
func run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("dingtalkfake", flag.ContinueOnError)
	fs.SetOutput(errOut)
	addr := fs.String("addr", "127.0.0.1:9998", "address the fake listens on")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "Usage: dingtalkfake [-addr host:port]")
		fmt.Fprintln(errOut, "Runs a fake DingTalk (Stream gateway and OpenAPI) for `flowbot serve` and reads commands from stdin.")
		fs.PrintDefaults()
		fmt.Fprintln(errOut, commands)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	w := fakecli.NewWriter(out)
	var srv *dingtalktest.Server
	srv, err := dingtalktest.NewServerAt(*addr, dingtalktest.WithSentHook(func(m dingtalktest.Sent) {
		w.Printf("← bot to %s%s: %s\n", m.UserID, m.ChatID, describe(srv, m))
	}))
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.AddApp(dingtalktest.App{Key: appKey, Secret: appSecret})
	w.Printf("dingtalkfake: base_url %s\n\nPut this in the config of `flowbot serve --config`:\n\n%s\n%s\n", srv.URL, configBlock(srv.URL), commands)

	return fakecli.Serve(ctx, in, func(line string) {
		if msg := execute(srv, line); msg != "" {
			w.Printf("%s\n", msg)
		}
	})
}

func configBlock(base string) string {
	return fmt.Sprintf(`dingtalk:
  apps:
    - app_key: %s
      app_secret: %s
      mode: stream
      base_url: %s
      card_template_id: flowbot-approval.schema
`, appKey, appSecret, base)
}

// describe is a one-line view of a shown message.
func describe(srv *dingtalktest.Server, m dingtalktest.Sent) string {
	if m.Card == "" {
		return strings.ReplaceAll(m.Text, "\n", " ⏎ ")
	}
	c, ok := srv.Card(m.Card)
	if !ok {
		return "card " + m.Card
	}
	return cardLine(c)
}

func cardLine(c dingtalktest.Card) string {
	var btns []string
	for i := range 6 {
		k := "btn" + strconv.Itoa(i)
		if c.Params[k+"_show"] == "true" {
			btns = append(btns, c.Params[k+"_label"]+"("+action(c.Params[k])+")")
		}
	}
	return fmt.Sprintf("card %s [%s] %s buttons: %s", c.OutTrackID, c.Params["color"], c.Params["title"], strings.Join(btns, " "))
}

// action reads the action of a button token (as DingTalk would show
// nothing of it; only for the operator).
func action(tok string) string {
	_, rest, ok := strings.Cut(tok, `"a":"`)
	if !ok {
		return "?"
	}
	a, _, _ := strings.Cut(rest, `"`)
	return a
}

// awaitConn waits a little for flowbot's Stream connection: one that is
// being opened (or reopened after a disconnect) is there within moments.
func awaitConn(srv *dingtalktest.Server) bool {
	for range 100 {
		if srv.Connected(appKey) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// execute runs one command line and returns what to print.
func execute(srv *dingtalktest.Server, line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return ""
	}
	switch f[0] {
	case "help":
		return commands
	case "msg":
		if len(f) < 3 {
			return "usage: msg <staff_id> <text...>"
		}
		text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line)[3:], " "))
		text = strings.TrimSpace(strings.TrimPrefix(text, f[1]))
		if !awaitConn(srv) {
			return "error: flowbot is not connected to the fake's Stream gateway (is it running with the config block above?)"
		}
		ack, err := srv.Callback(appKey, "/v1.0/im/bot/messages/get", "", srv.MessageData(appKey, dingtalktest.Message{StaffID: f[1], Text: text}))
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("→ delivered, ack %d %s", ack.Code, ack.Status())
	case "cards":
		if len(f) != 2 {
			return "usage: cards <staff_id>"
		}
		var out []string
		for _, s := range srv.Sent() {
			if s.UserID == f[1] && s.Card != "" {
				c, _ := srv.Card(s.Card)
				out = append(out, cardLine(c))
			}
		}
		if len(out) == 0 {
			return "no cards for " + f[1]
		}
		return strings.Join(out, "\n")
	case "click":
		if len(f) < 4 {
			return "usage: click <staff_id> <out_track_id> <action> [key=value...]"
		}
		c, ok := srv.Card(f[2])
		if !ok {
			return "no card " + f[2]
		}
		slot := -1
		for i := range 6 {
			k := "btn" + strconv.Itoa(i)
			if c.Params[k+"_show"] == "true" && action(c.Params[k]) == f[3] {
				slot = i
			}
		}
		if slot < 0 {
			return "card " + f[2] + " has no " + f[3] + " button"
		}
		inputs := map[string]string{}
		for _, kv := range f[4:] {
			k, v, _ := strings.Cut(kv, "=")
			inputs[k] = v
		}
		if !awaitConn(srv) {
			return "error: flowbot is not connected to the fake's Stream gateway (is it running with the config block above?)"
		}
		ack, ans, err := srv.ClickStream(appKey, dingtalktest.Click{OutTrackID: f[2], UserID: f[1], Button: slot, Inputs: inputs})
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("→ clicked, ack %d, toast %q, card now: %s", ack.Code, ans.CardData.CardParamMap["toast"], ans.CardData.CardParamMap["title"])
	}
	return "unknown command " + strconv.Quote(f[0]) + "\n" + commands
}

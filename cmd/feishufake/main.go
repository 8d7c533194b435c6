// Command feishufake runs the in-process Feishu fake (feishutest) on a
// fixed address, to try flowbot's Feishu adapter by hand, with no Feishu
// account.
//
// Usage:
//
//	feishufake [-addr 127.0.0.1:9999] [-webhook http://127.0.0.1:8080/webhook/feishu]
//
// It prints the fake's base_url and the feishu: block to put in the
// config of `flowbot serve --config` (app id, secret, encrypt key and
// verification token of its one app, mode http), then reads commands from
// stdin, one a line:
//
//	msg <open_id> <text...>                          deliver a signed p2p message from open_id
//	click <open_id> <message_id> <action> [key=value...]  click the button with that action on a recorded card, with the card's inputs
//	cards <open_id>                                  list the cards sent to open_id: message id, title, buttons
//	help                                             show the commands
//
// Messages the bot sends are printed as they arrive. Users are known to
// the bot by their open_id (platforms: {feishu: ou_...} in the org file).
// Stop it with Ctrl-D or Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/internal/fakecli"
)

// The fake's one app.
const (
	appID             = "cli_fakefeishu0001"
	appSecret         = "fake-app-secret"
	encryptKey        = "fake-encrypt-key"
	verificationToken = "fake-verification-token"
)

const commands = `commands:
  msg <open_id> <text...>
  click <open_id> <message_id> <action> [key=value...]
  cards <open_id>
  help`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "feishufake:", err)
		os.Exit(2)
	}
}

// run parses args, starts the fake and serves commands from in until it
// ends or ctx is done.
func run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("feishufake", flag.ContinueOnError)
	fs.SetOutput(errOut)
	addr := fs.String("addr", "127.0.0.1:9999", "address the fake listens on")
	webhook := fs.String("webhook", "http://127.0.0.1:8080/webhook/feishu", "flowbot's Feishu webhook, where events are delivered")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "Usage: feishufake [-addr host:port] [-webhook url]")
		fmt.Fprintln(errOut, "Runs a fake Feishu open platform for `flowbot serve` and reads commands from stdin.")
		fs.PrintDefaults()
		fmt.Fprintln(errOut, commands)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	mu := fakecli.NewWriter(out)
	srv, err := feishutest.NewServerAt(*addr, feishutest.WithMessageHook(func(m feishutest.Message) {
		mu.Printf("← bot to %s: %s\n", m.ReceiveID, describe(m))
	}))
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.AddApp(feishutest.App{ID: appID, Secret: appSecret, EncryptKey: encryptKey, VerificationToken: verificationToken, Webhook: *webhook})
	mu.Printf("feishufake: base_url %s, delivering events to %s\n\n", srv.URL, *webhook)
	mu.Printf("Put this in the config of `flowbot serve --config`:\n\n%s\n%s\n", configBlock(srv.URL), commands)

	return fakecli.Serve(ctx, in, func(line string) {
		if msg := execute(srv, line); msg != "" {
			mu.Printf("%s\n", msg)
		}
	})
}

func configBlock(baseURL string) string {
	return fmt.Sprintf(`feishu:
  apps:
    - app_id: %s
      app_secret: %s
      encrypt_key: %s
      verification_token: %s
      mode: http
      base_url: %s
`, appID, appSecret, encryptKey, verificationToken, baseURL)
}

// execute runs one command line and returns what to print.
func execute(srv *feishutest.Server, line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return ""
	}
	switch f[0] {
	case "msg":
		if len(f) < 3 {
			return "usage: msg <open_id> <text...>"
		}
		_, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		_, text, _ := strings.Cut(strings.TrimSpace(rest), " ")
		text = strings.TrimSpace(text)
		r, err := srv.TryDeliver(feishutest.Delivery{App: appID, OpenID: f[1], ChatID: feishutest.P2PChatID(f[1]), Text: text})
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("→ delivered %s: HTTP %d", r.EventID, r.Status)
	case "click":
		if len(f) < 4 {
			return "usage: click <open_id> <message_id> <action> [key=value...]"
		}
		m, ok := srv.Message(f[2])
		if !ok || m.Card() == nil {
			return fmt.Sprintf("error: no card %s (see: cards %s)", f[2], f[1])
		}
		var value map[string]any
		for _, b := range feishutest.Buttons(m.Card()) {
			if b.Value["a"] == f[3] {
				value = b.Value
			}
		}
		if value == nil {
			return fmt.Sprintf("error: card %s has no %q button", f[2], f[3])
		}
		form := map[string]any{}
		for _, kv := range f[4:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Sprintf("error: %q is not key=value", kv)
			}
			form[k] = v
		}
		r, err := srv.TryClick(feishutest.Click{App: appID, OpenID: f[1], MessageID: f[2], Value: value, FormValue: form})
		if err != nil {
			return "error: " + err.Error()
		}
		out := fmt.Sprintf("→ clicked %s on %s: HTTP %d", f[3], f[2], r.Status)
		if r.Toast != nil {
			out += fmt.Sprintf(", toast (%s) %q", r.Toast.Type, r.Toast.Content)
		}
		if r.Card != nil {
			out += ", card now " + describeCard(r.Card)
		}
		return out
	case "cards":
		if len(f) != 2 {
			return "usage: cards <open_id>"
		}
		var sb strings.Builder
		for _, m := range srv.Messages() {
			if m.Card() == nil || (m.ReceiveID != f[1] && m.ChatID != feishutest.P2PChatID(f[1])) {
				continue
			}
			fmt.Fprintf(&sb, "%s  %s\n", m.ID, describeCard(m.Card()))
		}
		if sb.Len() == 0 {
			return "no cards sent to " + f[1]
		}
		return strings.TrimSuffix(sb.String(), "\n")
	case "help", "-h", "?":
		return commands
	}
	return fmt.Sprintf("unknown command %q\n%s", f[0], commands)
}

func describe(m feishutest.Message) string {
	if c := m.Card(); c != nil {
		return fmt.Sprintf("card %s %s", m.ID, describeCard(c))
	}
	return fmt.Sprintf("%q", m.Text())
}

// describeCard is a card's title and buttons: "title [label:action ...]".
func describeCard(c map[string]any) string {
	title := ""
	if h, ok := c["header"].(map[string]any); ok {
		if t, ok := h["title"].(map[string]any); ok {
			title, _ = t["content"].(string)
		}
	}
	var btns []string
	for _, b := range feishutest.Buttons(c) {
		btns = append(btns, fmt.Sprintf("%s:%v", b.Label, b.Value["a"]))
	}
	sort.Strings(btns)
	return fmt.Sprintf("%q [%s]", title, strings.Join(btns, " "))
}

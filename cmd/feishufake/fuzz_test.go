package main

import (
	"testing"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// FuzzExecute: no command line panics the fake (nothing listens on its
// webhook, so deliveries fail cleanly).
func FuzzExecute(f *testing.F) {
	for _, s := range []string{"msg ou_a hi", "click ou_a om_1 approve k=v =x", "cards ou_a", "help", "  ", "msg"} {
		f.Add(s)
	}
	srv := feishutest.NewServer()
	f.Cleanup(srv.Close)
	srv.AddApp(feishutest.App{ID: appID, Secret: appSecret, EncryptKey: encryptKey, VerificationToken: verificationToken, Webhook: "http://127.0.0.1:1/webhook"})
	f.Fuzz(func(t *testing.T, line string) {
		_ = execute(srv, line)
	})
}

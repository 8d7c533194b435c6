package main

import (
	"context"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/bots"
)

// wireFeishu starts the Feishu adapter when apps are configured: its
// webhook on /webhook/feishu, its long connections, and its Messenger.
func (a *app) wireFeishu(ctx context.Context, h handler, ms map[string]bots.Messenger) error {
	if len(a.cfg.Feishu.Apps) == 0 {
		return nil
	}
	var apps []feishu.App
	for _, c := range a.cfg.Feishu.Apps {
		apps = append(apps, feishu.App{
			ID: c.AppID, Secret: c.AppSecret, EncryptKey: c.EncryptKey, VerificationToken: c.VerificationToken,
			Mode: c.Mode, BaseURL: c.BaseURL, ReplayWindow: c.ReplayWindow, BotOpenID: c.BotOpenID,
		})
	}
	opts := []feishu.Option{feishu.WithLogger(a.log), feishu.WithInbox(a.bot)}
	if a.dirEvents.s != nil {
		opts = append(opts, feishu.WithDirectory(a.dirEvents))
	}
	ad, err := feishu.New(feishu.Config{Apps: apps, CloseGrace: a.cfg.HTTP.ShutdownGrace, Rate: feishu.RateLimits{
		AppPerSecond: a.cfg.Feishu.Rate.AppPerSecond, AppPerMinute: a.cfg.Feishu.Rate.AppPerMinute, ChatPerSecond: a.cfg.Feishu.Rate.ChatPerSecond,
	}}, h, opts...)
	if err != nil {
		return err // already says "feishu: ..."
	}
	a.adapters = append(a.adapters, ad.Close)
	a.starters = append(a.starters, ad.Start)
	ms["feishu"] = ad
	a.mux.Handle("POST /webhook/feishu", ad)
	return nil
}

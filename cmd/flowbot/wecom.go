package main

import (
	"context"

	"github.com/flowbot/flowbot/bots"
)

// WeComConfig configures the WeCom adapter (the `wecom:` section).
type WeComConfig struct{}

// validate names the bad keys of the wecom section.
func (c WeComConfig) validate(bad func(key, format string, a ...any)) {}

// wireWeCom starts the WeCom adapter when it is configured.
func (a *app) wireWeCom(ctx context.Context, h handler, ms map[string]bots.Messenger) error {
	return nil
}

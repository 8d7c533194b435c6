package main

import (
	"context"

	"github.com/flowbot/flowbot/bots"
)

// DingTalkConfig configures the DingTalk adapter (the `dingtalk:` section).
type DingTalkConfig struct{}

// validate names the bad keys of the dingtalk section.
func (c DingTalkConfig) validate(bad func(key, format string, a ...any)) {}

// wireDingTalk starts the DingTalk adapter when it is configured.
func (a *app) wireDingTalk(ctx context.Context, h handler, ms map[string]bots.Messenger) error {
	return nil
}

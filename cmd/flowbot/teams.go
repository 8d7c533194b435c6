package main

import (
	"context"

	"github.com/flowbot/flowbot/bots"
)

// TeamsConfig configures the Microsoft Teams adapter (the `teams:` section).
type TeamsConfig struct{}

// validate names the bad keys of the teams section.
func (c TeamsConfig) validate(bad func(key, format string, a ...any)) {}

// wireTeams starts the Microsoft Teams adapter when it is configured.
func (a *app) wireTeams(ctx context.Context, h handler, ms map[string]bots.Messenger) error {
	return nil
}

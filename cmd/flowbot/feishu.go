package main

import (
	"context"

	"github.com/flowbot/flowbot/bots"
)

// wireFeishu is replaced when the Feishu adapter lands.
func (a *app) wireFeishu(ctx context.Context, h handler, ms map[string]bots.Messenger) error {
	return nil
}

package postgres_test

import (
	"testing"

	"github.com/flowbot/flowbot/api/tokens"
	"github.com/flowbot/flowbot/api/tokens/tokenstest"
)

func TestTokenStore(t *testing.T) {
	t.Parallel()
	tokenstest.Run(t, func(t *testing.T) tokens.Store { return mustOpen(t).Tokens() })
}

package sqlite_test

import (
	"testing"

	"github.com/flowbot/flowbot/api/tokens"
	"github.com/flowbot/flowbot/api/tokens/tokenstest"
	"github.com/flowbot/flowbot/internal/testkit"
)

func TestTokenStore(t *testing.T) {
	t.Parallel()
	tokenstest.Run(t, func(t *testing.T) tokens.Store { return testkit.OpenSQLite(t).Tokens() })
}

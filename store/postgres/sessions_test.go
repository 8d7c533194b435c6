package postgres_test

import (
	"testing"

	"github.com/flowbot/flowbot/signin"
	"github.com/flowbot/flowbot/signin/signintest"
)

func TestSessionStore(t *testing.T) {
	t.Parallel()
	signintest.Run(t, func(t *testing.T) signin.Store { return mustOpen(t).Sessions() })
}

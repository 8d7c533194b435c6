package seen_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/internal/seen"
)

func TestSet(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	s := seen.New(func() time.Time { return now }, time.Minute)
	require.True(t, s.First("m1"), "a new id")
	require.False(t, s.First("m1"), "a redelivery within the TTL")
	s.Forget("m1")
	require.True(t, s.First("m1"), "forgotten after a failure: handled again")
	now = now.Add(time.Minute)
	require.True(t, s.First("m1"), "remembered only for the TTL")
	for i := range 100002 { // past the sweep size: expired keys go
		s.First(strconv.Itoa(i))
	}
	now = now.Add(2 * time.Minute)
	require.True(t, s.First("after"))
	require.False(t, s.First("after"))
}
